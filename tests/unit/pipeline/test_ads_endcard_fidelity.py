"""The end card keeps a small photo's product exact: a 6 s 9:16 480p ad from two 480×600 photos with fine,
coloured print. Only the end card is rendered and encoded (the cheapest check), then decoded with PyAV and
measured here against the photo warped with cv2 by the storyboard's placements, none of QA's code used."""

from dataclasses import replace

import av
import cv2
import numpy as np
import pytest

from generation.pipeline import encode
from generation.pipeline.ads import render
from generation.pipeline.ads.photos import AdPhoto
from generation.pipeline.ads.storyboard import plan_storyboard
from tests import synthetic

MIN_PSNR = 38.0


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 99.0 if mse == 0 else 10 * np.log10(255.0**2 / mse)


@pytest.fixture(scope="module")
def card(tmp_path_factory):
    photos = []
    for seed in (0, 1):
        image, mask = synthetic.product_png_alpha(480, 600, seed=seed)
        rgb = np.asarray(image.convert("RGB"))
        photos.append(AdPhoto(rgb, np.where(mask, 255, 0).astype(np.uint8), None, "0" * 64, {"needs_review": False}))
    board = plan_storyboard([p.rgb for p in photos], [p.mask for p in photos], seconds=6, seed=0, title="Bottle",
                            price="9.99")  # fmt: skip
    shot = board.shots[-1]
    assert shot.kind == "endcard"
    # The storyboard cut down to its end card, rendered and encoded as render_ad does (the lock's layers included).
    alone = replace(shot, start=0, end=shot.frames, transition_in="cut")
    only = replace(board, shots=[alone], transitions=[], frames=shot.frames)
    frames, layers = render.render_frames(only, photos)
    path = encode.encode_mp4(frames, tmp_path_factory.mktemp("card") / "card.mp4", fps=board.fps, layers=layers)
    with av.open(str(path)) as container:
        decoded = np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])
    return board, shot, photos[0], decoded


def test_the_end_card_keeps_a_small_photos_product_above_the_bar(card):
    board, shot, photo, decoded = card
    size = (board.width, board.height)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    worst = 99.0
    for frame, m in zip(decoded, shot.placements, strict=True):
        want = cv2.warpAffine(photo.rgb, m, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        region = cv2.erode(cv2.warpAffine(photo.mask, m, size, flags=cv2.INTER_NEAREST), kernel) > 0
        assert region.sum() > 20_000  # the product is there, at a size one can see
        worst = min(worst, _psnr(frame[region], want[region]))
    assert worst >= MIN_PSNR, worst


def test_the_card_enlarges_only_as_far_as_its_area_holds(card):
    board, shot, photo, _ = card
    x0, y0, x1, y1 = board.endcard_layout["product_area"]
    ys, xs = np.nonzero(photo.mask)
    corners = np.array([[xs.min(), ys.min(), 1], [xs.max(), ys.max(), 1]], np.float64)
    for m in shot.placements:
        (px0, py0), (px1, py1) = corners @ m.T
        assert x0 - 1 <= px0 and px1 <= x1 and y0 - 1 <= py0 and py1 <= y1
