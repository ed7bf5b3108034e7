"""The three VACE inputs, asserted on the arrays (no model needed)."""

import cv2
import numpy as np
import pytest

from generation.engines import conditions, poses
from generation.engines.product_layer import warp_product

# draw_bodypose's colours per keypoint (OpenPose order); limbs use 0.6 of these.
POSE_COLOURS = np.array(
    [
        [255, 0, 0], [255, 85, 0], [255, 170, 0], [255, 255, 0], [170, 255, 0], [85, 255, 0], [0, 255, 0],
        [0, 255, 85], [0, 255, 170], [0, 255, 255], [0, 170, 255], [0, 85, 255], [0, 0, 255], [85, 0, 255],
        [170, 0, 255], [255, 0, 255], [255, 0, 170], [255, 0, 85],
    ]
)  # fmt: skip


def eroded_product(request, erode_px=conditions.ERODE_PX):
    """Independent reference: the product mask warped per frame (nearest) and eroded with an elliptical kernel."""
    out = []
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * erode_px + 1,) * 2)
    for p in request.layout.placements:
        warped = cv2.warpAffine(request.mask, p, (request.width, request.height), flags=cv2.INTER_NEAREST)
        out.append(cv2.erode(warped, kernel) > 0)
    return np.array(out)


def test_shapes_and_dtypes(make_request):
    request = make_request(width=96, height=160, frames=9)
    cond = conditions.build_conditions(request)
    assert cond.video.shape == (9, 160, 96, 3) and cond.video.dtype == np.uint8
    assert cond.mask.shape == (9, 160, 96) and cond.mask.dtype == np.uint8
    assert set(np.unique(cond.mask)) == {0, 255}
    x0, y0, x1, y1 = request.layout.product_bbox
    assert cond.reference_image.shape == (y1 - y0, x1 - x0, 3)


def test_mask_polarity_black_exactly_on_eroded_product(make_request):
    request = make_request(width=96, height=160, frames=9, motion="orbit-sway")
    cond = conditions.build_conditions(request)
    keep = eroded_product(request)
    assert keep.any(axis=(1, 2)).all()
    # VACE: black = keep (exactly the eroded product), white = generate (everything else, including the rim).
    np.testing.assert_array_equal(cond.mask == 0, keep)
    np.testing.assert_array_equal(cond.mask == 255, ~keep)
    rim = (eroded_product(request, erode_px=0)) & ~keep
    assert rim.any() and (cond.mask[rim] == 255).all()
    # The kept pixels are the real product, warped by each frame's placement.
    for i, p in enumerate(request.layout.placements):
        colour, _ = warp_product(request.photo_rgb, request.mask, p, (request.width, request.height))
        np.testing.assert_array_equal(cond.video[i][keep[i]], colour[keep[i]])


def test_reference_image_is_the_cutout_on_white(make_request):
    request = make_request()
    ref = conditions.build_conditions(request).reference_image
    x0, y0, x1, y1 = request.layout.product_bbox
    inside = request.mask[y0:y1, x0:x1] > 0
    np.testing.assert_array_equal(ref[inside], request.photo_rgb[y0:y1, x0:x1][inside])
    assert (ref[~inside] == 255).all()
    # The photo's own backdrop (near-white with noise and a shadow) is gone, not just similar.
    assert (request.photo_rgb[y0:y1, x0:x1][~inside] != 255).any()


def test_pose_skeleton_drawn_where_the_layout_put_the_person(make_request):
    request = make_request(width=160, height=160, frames=9, look="casual-20s", category="other", motion="pan")
    cond = conditions.build_conditions(request)
    assert cond.control == "pose" and cond.pose is not None and cond.pose.template.name == "holding"
    keep = cond.mask == 0
    bbox = request.layout.product_bbox
    centre = np.array([(bbox[0] + bbox[2] - 1) / 2, (bbox[1] + bbox[3] - 1) / 2, 1.0])
    checked = 0
    for i in range(request.frames):
        kp = cond.pose.keypoints[i]
        # Holding at chest height: the wrists flank the product's centre as the layout placed it in this frame.
        product_centre = request.layout.placements[i] @ centre
        wrists = kp[[poses.K["r_wrist"], poses.K["l_wrist"]]]
        assert np.abs(wrists.mean(axis=0) - product_centre).max() < 0.05 * request.height
        assert wrists[0, 0] < product_centre[0] < wrists[1, 0]
        frame = cond.video[i].astype(int)
        for x, y in kp:
            xi, yi = round(x), round(y)
            if not (3 <= xi < request.width - 3 and 3 <= yi < request.height - 3) or keep[i, yi, xi]:
                continue
            # A joint is drawn there (its colour is blended by the area resampling from the 1024-px canvas).
            assert frame[yi - 1 : yi + 2, xi - 1 : xi + 2].max() > 60, (i, x, y)
            checked += 1
        # Not elsewhere: every coloured pixel of the generated region lies on the skeleton (limbs ≤ 4 px wide).
        painted = (frame.sum(-1) > 0) & ~keep[i]
        ys, xs = np.nonzero(painted)
        dist = np.full(len(xs), np.inf)
        for a, b in zip(*LIMBS, strict=True):
            dist = np.minimum(dist, segment_distance(np.stack([xs, ys], 1), kp[a], kp[b]))
        assert painted.sum() > 50 and dist.max() <= 6.0
    assert checked >= request.frames * 3


LIMBS = (
    [1, 1, 2, 3, 5, 6, 1, 8, 9, 1, 11, 12, 1, 0, 14, 0, 15],
    [2, 5, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13, 0, 14, 16, 15, 17],
)


def segment_distance(points, a, b):
    ab = b - a
    t = np.clip(((points - a) @ ab) / max(1e-9, ab @ ab), 0, 1)
    return np.linalg.norm(points - (a + t[:, None] * ab), axis=1)


def test_gray_where_the_scene_is_generated_with_no_signal(make_request):
    request = make_request(width=96, height=160, frames=5, motion="push-in")
    cond = conditions.build_conditions(request)
    assert cond.control == "gray" and cond.pose is None
    assert (cond.video[cond.mask == 255] == 128).all()


@pytest.mark.parametrize(
    ("category", "aspect", "expected"),
    [
        ("apparel", "9:16", "wearing"),
        ("beauty", "9:16", "presenting"),
        ("accessories", "1:1", "presenting"),
        ("home", "16:9", "beside"),
        ("food", "9:16", "holding"),
        ("electronics", "16:9", "walking"),
    ],
)
def test_template_choice_by_category_and_aspect(category, aspect, expected):
    assert poses.choose_template(category, aspect).name == expected


@pytest.mark.parametrize("name", sorted(poses.TEMPLATES))
def test_every_template_follows_the_product(name, make_request):
    request = make_request(width=160, height=160, frames=9, motion="pan")
    template = poses.TEMPLATES[name]
    track = poses.plan_pose(
        placements=request.layout.placements,
        product_bbox=request.layout.product_bbox,
        template=template,
        frame_size=(160, 160),
    )
    assert track.keypoints.shape == (9, 18, 2) and np.isfinite(track.keypoints).all()
    x0, y0, x1, y1 = request.layout.product_bbox
    centre = np.array([(x0 + x1 - 1) / 2, (y0 + y1 - 1) / 2, 1.0])
    for i in range(9):
        # The anchor is the product's centre in every frame; keypoints are anchor + pose × body height.
        anchor = request.layout.placements[i] @ centre
        expected = anchor + template.at(i / 8) * track.body_height[i]
        np.testing.assert_allclose(track.keypoints[i], expected)
    # The product moves (pan), and the person moves with it.
    neck = track.keypoints[:, poses.K["neck"]]
    assert abs(neck[-1, 0] - neck[0, 0]) > 1.0


def test_walking_template_crosses_the_product():
    t = poses.TEMPLATES["walking"]
    start, end = t.at(0.0)[poses.K["neck"], 0], t.at(1.0)[poses.K["neck"], 0]
    assert start < -0.3 and end > 0.3  # from left of the product to its right, in body units
    legs = [t.at(s)[poses.K["r_ankle"], 0] - t.at(s)[poses.K["l_ankle"], 0] for s in (0.0, 1 / 6)]
    assert legs[0] * legs[1] < 0 or abs(legs[0] - legs[1]) > 0.05  # the stride alternates


def test_prompt_from_look_scene_title_and_category(make_request):
    request = make_request(look="active", category="sports")
    cond = conditions.build_conditions(request)
    assert "Red bottle" in cond.prompt and "sports product" in cond.prompt
    assert request.look.descriptors in cond.prompt and request.scene.prompt in cond.prompt
    assert "standing beside the product" in cond.prompt
    assert "garbled text" in cond.negative_prompt and "distorted product" in cond.negative_prompt
    plain = conditions.build_conditions(make_request())
    assert "person" not in plain.prompt


def test_prompt_is_descriptive_sentences(make_request):
    request = make_request(look="active", category="sports")
    prompt = conditions.build_conditions(request).prompt
    sentences = [s for s in prompt.split(". ") if s]
    assert len(sentences) >= 4 and prompt.endswith(".")
    assert f"online shop in {request.market.name}" in prompt
    assert f"A person, {request.look.descriptors}, is standing beside the product." in prompt


def test_the_official_negative_prompt_is_extended_not_replaced(make_request):
    negative = conditions.build_conditions(make_request()).negative_prompt
    # Wan2.1 shared_config.sample_neg_prompt first, whole ("static", "overall gray", "overexposed", "still picture"),
    # then ours.
    assert negative.startswith(conditions.OFFICIAL_NEGATIVE_PROMPT)
    assert all(term in negative for term in ("静态", "整体发灰", "过曝", "静止不动的画面"))
    assert negative.endswith(conditions.PRODUCT_NEGATIVE_PROMPT)
