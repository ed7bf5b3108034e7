"""The CPU compositor engine, on small frames (160×288) so the whole module runs in a few seconds."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from generation.engines.base import RenderRequest
from generation.engines.compositor import CompositorEngine, background_cameras
from generation.pipeline import layout, qa
from generation.pipeline.errors import JobCanceled
from generation.presets import MARKETS_BY_SLUG, SCENE_STYLES, SCENES_BY_SLUG, ScenePreset, scene_palette
from tests import synthetic

W, H = 160, 288
WARM = ("#e8c5a8", "#c99b7a", "#8a5a3c")
COOL = ("#a8c5e8", "#7a9bc9", "#3c5a8a")

# Mean absolute difference of consecutive frames outside the product, 8-bit levels (the QA "flicker").
# 1.5 is what independent per-frame noise of σ ≈ 1.3 levels would measure (E|a−b| = 2σ/√π): invisible, and
# far below the ≥ 15 levels of a slideshow cut to another shot, which the flicker test measures too, so the
# bound is shown to bite.
FLICKER_BOUND = 1.5


@pytest.fixture(scope="module")
def product():
    image, mask = synthetic.product_on_white(240, 300)
    return np.array(image), (mask * 255).astype(np.uint8)


def make_request(
    product, *, style="studio", palette=WARM, frames=9, motion="push-in", seed=3, slug=None, size=(W, H), **options
):
    photo, mask = product
    plan = layout.plan_layout(mask=mask, frame_size=size, frames=frames, motion=motion, seed=0)
    scene = ScenePreset(slug or style, style, style, "", palette)
    return RenderRequest(
        photo_rgb=photo,
        mask=mask,
        layout=plan,
        width=size[0],
        height=size[1],
        fps=16,
        frames=frames,
        market=MARKETS_BY_SLUG["us"],
        scene=scene,
        palette=palette,
        seed=seed,
        options=options,
    )


def render(product, **kwargs) -> np.ndarray:
    return CompositorEngine().render(make_request(product, **kwargs))


def flicker(frames: np.ndarray, request: RenderRequest) -> float:
    """The QA definition (generation.pipeline.qa): outside the product's warped mask, dilated by 4 px."""
    diffs, previous = [], None
    for i, frame in enumerate(frames):
        region = qa.product_region(request.mask, request.layout.placements[i], (W, H))
        outside = ~cv2.dilate(region.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
        grey = frame.astype(np.int16)
        if previous is not None:
            both = outside & previous[1]
            diffs.append(np.abs(grey[both] - previous[0][both]).mean())
        previous = (grey, outside)
    return float(np.mean(diffs))


def palette_points(palette: tuple[str, ...]) -> list[np.ndarray]:
    colours = [np.array([int(c[i : i + 2], 16) for i in (1, 3, 5)], np.float64) for c in palette]
    return [*colours, np.mean(colours, axis=0)]


@pytest.mark.parametrize("style", SCENE_STYLES)
def test_every_style_renders_frames_of_the_requested_shape(product, style):
    frames = render(product, style=style)
    assert frames.shape == (9, H, W, 3)
    assert frames.dtype == np.uint8
    assert frames[0].std() > 2.0  # a scene, not a flat fill


@pytest.mark.parametrize("style", SCENE_STYLES)
@pytest.mark.parametrize("motion", ["orbit-sway", "reveal"])
def test_landscape_frames_and_the_other_motions_render_too(product, style, motion):
    frames = render(product, style=style, motion=motion, size=(H, W))
    assert frames.shape == (9, W, H, 3)
    assert frames[0].std() > 2.0


@pytest.mark.parametrize("style", SCENE_STYLES)
def test_the_palette_sets_the_colours(product, style):
    warm = render(product, style=style, palette=WARM)[0].reshape(-1, 3).mean(axis=0)
    cool = render(product, style=style, palette=COOL)[0].reshape(-1, 3).mean(axis=0)
    assert warm[0] > warm[2] + 20 and cool[2] > cool[0] + 20
    for mean, palette, other in ((warm, WARM, COOL), (cool, COOL, WARM)):
        # Near one of the palette's colours or their average (a scene mixes them: walls light, details dark).
        near = min(np.linalg.norm(mean - c) for c in palette_points(palette))
        assert near < 45, (style, mean, palette)
        assert near < min(np.linalg.norm(mean - c) for c in palette_points(other))


def test_markets_render_the_same_scene_in_their_own_palette(product):
    scene = SCENES_BY_SLUG["studio-sweep"]
    us = render(product, palette=scene_palette(MARKETS_BY_SLUG["us"], scene))
    es = render(product, palette=scene_palette(MARKETS_BY_SLUG["es"], scene))
    us_mean, es_mean = us.reshape(-1, 3).mean(axis=0), es.reshape(-1, 3).mean(axis=0)
    assert es_mean[0] - es_mean[2] > us_mean[0] - us_mean[2] + 5  # Spain's studio is warmer


@pytest.mark.parametrize("style", SCENE_STYLES)
def test_frames_are_deterministic_per_seed(product, style):
    first = render(product, style=style, seed=11)
    assert np.array_equal(first, render(product, style=style, seed=11))
    other = render(product, style=style, seed=12)
    assert np.abs(first.astype(np.int16) - other).mean() > 1.0


def test_the_background_moves_with_the_camera_but_less_than_the_product(product):
    # Pan: the product crosses 20 % of the frame; the background should follow by the parallax factor (0.4).
    request = make_request(product, style="wood", frames=9, motion="pan", light=False, grain=0, shadow=False)
    frames = CompositorEngine().render(request)
    first, last = (cv2.cvtColor(f, cv2.COLOR_RGB2GRAY).astype(np.float32) for f in (frames[0], frames[-1]))
    (shift_x, shift_y), _ = cv2.phaseCorrelate(first, last)
    product_shift = request.layout.placements[-1][0, 2] - request.layout.placements[0][0, 2]
    assert abs(product_shift) > 0.15 * W
    assert np.sign(shift_x) == np.sign(product_shift)
    assert 0.25 < shift_x / product_shift < 0.6
    assert abs(shift_y) < 2.0


def test_a_push_in_scales_the_background_less_than_the_product():
    placements = layout.plan_layout(
        mask=np.pad(np.full((50, 30), 255, np.uint8), 20), frame_size=(W, H), frames=9, motion="push-in"
    ).placements
    cams = background_cameras(placements, (35.0, 45.0), (0.4, 0.5, 0.4))
    product_scale = placements[-1][0, 0] / placements[0][0, 0]
    background_scale = cams[-1][0, 0]
    assert product_scale > 1.05
    assert 1.0 < background_scale < product_scale
    assert background_scale == pytest.approx(product_scale**0.5)


@pytest.mark.parametrize("style", SCENE_STYLES)
@pytest.mark.parametrize("motion", ["push-in", "pan"])
def test_consecutive_frames_do_not_flicker_outside_the_product(product, style, motion):
    request = make_request(product, style=style, frames=33, motion=motion)
    frames = CompositorEngine().render(request)
    measured = flicker(frames, request)
    assert measured < FLICKER_BOUND, (style, motion, measured)
    # The metric can fail: the background changed between the first and last frame, and a cut is far above it.
    assert np.abs(frames[0].astype(np.int16) - frames[-1]).mean() > 1.5
    other_shot = SCENE_STYLES[(SCENE_STYLES.index(style) + 1) % len(SCENE_STYLES)]
    cut = np.stack([frames[0], render(product, style=other_shot, palette=COOL, frames=33, motion=motion)[1]])
    assert flicker(cut, request) > 10 * FLICKER_BOUND


def test_film_grain_is_steady_over_time(product):
    grainy = make_request(product, style="gradient", frames=17, grain=2.0)
    clean = make_request(product, style="gradient", frames=17, grain=0.0)
    grainy_frames, clean_frames = CompositorEngine().render(grainy), CompositorEngine().render(clean)
    assert np.abs(grainy_frames[0].astype(np.int16) - clean_frames[0]).mean() > 0.8  # there is grain
    assert flicker(grainy_frames, grainy) - flicker(clean_frames, clean) < 0.1  # and it does not flicker


def _bottom_band(request: RenderRequest, i: int) -> tuple[slice, slice, int]:
    region = qa.product_region(request.mask, request.layout.placements[i], (W, H))
    ys, xs = np.nonzero(region)
    bottom, left, right = ys.max(), xs.min(), xs.max()
    inset = (right - left) // 5
    return slice(bottom + 3, bottom + 3 + int(0.03 * H)), slice(left + inset, right - inset), (left + right) // 2


@pytest.mark.parametrize("style", ["studio", "wood", "room"])
def test_the_contact_shadow_darkens_the_floor_just_below_the_product(product, style):
    with_shadow = make_request(product, style=style, motion="pan")
    without = make_request(product, style=style, motion="pan", shadow=False)
    lit, shaded = CompositorEngine().render(without), CompositorEngine().render(with_shadow)
    for i in (0, 8):
        rows, cols, centre = _bottom_band(with_shadow, i)
        darker = lit[i].astype(np.float64) - shaded[i]
        assert darker[rows, cols].mean() > 10, (style, i)
        # Further away (top of frame, far below) the shadow changes nothing.
        assert np.abs(darker[: H // 4]).max() == 0
        # It follows the product: the darkest column of the band is under the product's middle in every frame.
        profile = darker[rows].mean(axis=(0, 2))
        assert abs(int(np.argmax(profile)) - centre) < 0.12 * W


def test_progress_is_reported_monotonically_up_to_one(product):
    seen: list[float] = []
    request = make_request(product)
    request.on_progress = seen.append
    CompositorEngine().render(request)
    assert len(seen) >= request.frames
    assert seen == sorted(seen)
    assert seen[0] >= 0.0 and seen[-1] == 1.0


def test_a_cancel_raised_by_the_progress_callback_stops_the_render(product):
    calls: list[float] = []

    def cancel_halfway(fraction: float) -> None:
        calls.append(fraction)
        if fraction >= 0.5:
            raise JobCanceled("canceled")

    request = make_request(product, frames=17)
    request.on_progress = cancel_halfway
    with pytest.raises(JobCanceled):
        CompositorEngine().render(request)
    assert calls[-1] < 0.7  # stopped right there, not after the last frame


def test_a_scene_style_the_engine_does_not_know_falls_back_to_the_studio(product):
    frames = render(product, style="custom-from-admin")
    assert np.array_equal(frames, render(product, style="studio", slug="custom-from-admin"))


def test_a_layout_that_does_not_match_the_frame_count_is_refused(product):
    request = make_request(product, frames=9)
    request.frames = 13
    with pytest.raises(ValueError, match="placements"):
        CompositorEngine().render(request)
