"""No silent damage: an automatic cutout that loses product pixels is refused or marked for review, never good."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from generation.pipeline.cutout import CutoutError, compute_cutout, confidence
from generation.pipeline.ingest import ingest_photo
from tests import incontext


def pale_plant(width: int = 1000, height: int = 1200, leaf=(222, 232, 214), shade=(0.97, 1.02), seed: int = 0):
    """A white pot (lit from the right: `shade` is its brightness left → right) with pale leaves on a near-white
    backdrop; (rgb, truth). With the default shade the pot's left side melts into the backdrop."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    backdrop = np.stack([246 - 4 * yy / height, 246 - 4 * yy / height, 244 - 4 * yy / height], -1)
    pot_img = Image.new("L", (width, height), 0)
    pot = (int(width * 0.32), int(height * 0.55), int(width * 0.68), int(height * 0.88))
    ImageDraw.Draw(pot_img).rounded_rectangle(pot, radius=20, fill=255)
    leaves_img = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(leaves_img)
    for dx, top, w in [(-120, 0.22, 70), (-40, 0.12, 60), (50, 0.15, 65), (130, 0.25, 70), (0, 0.30, 90)]:
        draw.ellipse((width // 2 + dx - w // 2, int(height * top), width // 2 + dx + w // 2, int(height * 0.58)), 255)
    pot_mask = np.array(pot_img) > 127
    leaf_mask = (np.array(leaves_img) > 127) & ~pot_mask
    img = backdrop.copy()
    light = (shade[0] + (shade[1] - shade[0]) * (xx - pot[0]) / (pot[2] - pot[0]))[..., None]
    img[pot_mask] = (np.array([252, 252, 251], np.float32) * light)[pot_mask]
    img[leaf_mask] = (np.array(leaf, np.float32) * (0.98 + 0.04 * np.sin(xx / 9))[..., None])[leaf_mask]
    img += rng.normal(0, 1.5, img.shape)
    return img.clip(0, 255).astype(np.uint8), pot_mask | leaf_mask


@pytest.mark.parametrize("leaf", [(222, 232, 214), (235, 240, 232)])
def test_a_pale_product_on_white_is_never_delivered_with_parts_missing(leaf):
    rgb, truth = pale_plant(leaf=leaf)
    try:
        result = compute_cutout(ingest_photo(incontext.jpeg(rgb, 92)))
    except CutoutError as exc:  # refused outright is fine too
        assert exc.code in {"background_not_plain", "empty_mask"}
        return
    lost = float((truth & (result.mask == 0)).sum() / truth.sum())
    assert lost < 0.02 or result.needs_review, (lost, result.confidence)


@pytest.mark.parametrize("leaf", [(222, 232, 214), (228, 236, 222)])
def test_pale_leaves_with_their_own_silhouette_are_cut_whole(leaf):
    # The pot is a shaded white (10–20 % darker than the backdrop); the leaves differ from the white backdrop by
    # 10–25 levels, too little for the colour classes, but their outline is a sharp edge.
    rgb, truth = pale_plant(leaf=leaf, shade=(0.8, 0.9))
    result = compute_cutout(ingest_photo(incontext.jpeg(rgb, 92)))
    assert incontext.iou(result.mask, truth) >= 0.95
    assert not result.needs_review


@pytest.mark.parametrize("name", ["tote-on-wood", "sneaker-on-carpet", "camera-on-bench"])
def test_an_in_context_photo_is_refused_or_marked_by_the_classical_path(name):
    rgb, truth = incontext.case(name)
    try:
        result = compute_cutout(ingest_photo(incontext.jpeg(rgb)))
    except CutoutError as exc:
        assert exc.code == "background_not_plain"
        return
    assert result.needs_review or incontext.iou(result.mask, truth) >= 0.95


@pytest.mark.parametrize(
    "name", ["01-sneaker-white-bg.jpg", "02-tote-white-bg-small-text.jpg", "05-camera-small-print.jpg"]
)
def test_real_studio_shots_are_cut_with_confidence(name):
    result = compute_cutout(ingest_photo(incontext.FIXTURES / name))
    assert result.method == "segmented"
    assert not result.needs_review
    assert 0.6 <= result.confidence <= 1.0


def _guided_score(mask: np.ndarray) -> float:
    # the image is the mask itself: every outline lies on a colour edge, only the pieces can lower the score
    image = np.repeat(mask[:, :, None].astype(np.uint8) * 200, 3, axis=2)
    return confidence.guided(mask, image, (0, 0, mask.shape[1], mask.shape[0]), (True, True, True, True))


def _product(height: int = 400, width: int = 300) -> np.ndarray:
    mask = np.zeros((height, width), bool)
    mask[40:360, 60:240] = True
    return mask


def test_small_pieces_apart_from_the_product_lower_the_guided_confidence():
    mask = _product()
    mask[20:30, 10:40] = mask[370:385, 250:270] = mask[100:120, 260:280] = True  # 1.7 % of the mask, in pieces
    assert _guided_score(_product()) == 1.0
    assert _guided_score(mask) < confidence.GUIDED_THRESHOLD


def test_a_product_in_two_large_parts_keeps_its_guided_confidence():
    mask = np.zeros((400, 400), bool)
    mask[40:360, 20:180] = mask[60:360, 220:380] = True  # a pair of shoes
    assert _guided_score(mask) == 1.0


def test_specks_apart_from_the_product_keep_its_guided_confidence():
    mask = _product()
    for x in range(10, 290, 20):
        mask[10:12, x : x + 2] = True  # 4 px each, under SPECK of the product
    assert _guided_score(mask) == 1.0
