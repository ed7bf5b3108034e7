"""The storyboard's thumbnails: one small JPEG per shot, the product where the shot's middle placement puts it,
the end card with its text."""

import cv2
import numpy as np
import pytest

from generation.pipeline.ads.photos import AdPhoto
from generation.pipeline.ads.storyboard import plan_storyboard
from generation.pipeline.ads.thumbnails import THUMB_WIDTH, middle_frame, storyboard_thumbnails
from tests import synthetic


@pytest.fixture(scope="module")
def planned():
    photos = []
    for seed, shape in enumerate(("bottle", "box")):
        image, mask = synthetic.studio_photo(shape, width=360, height=450, seed=seed)
        rgb = np.asarray(image)
        photos.append(AdPhoto(rgb, mask.astype(np.uint8) * 255, None, "", {"needs_review": False}))
    board = plan_storyboard([p.rgb for p in photos], [p.mask for p in photos], seconds=6, seed=2, title="Tote",
                            price="24.00", currency="USD")  # fmt: skip
    return board, photos


def test_one_jpeg_per_shot_in_order_at_the_ads_shape(planned):
    board, photos = planned
    thumbs = storyboard_thumbnails(board, photos)
    assert len(thumbs) == len(board.shots) >= 3
    for data in thumbs:
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        assert image.shape == (round(THUMB_WIDTH * board.height / board.width), THUMB_WIDTH, 3)


def test_the_product_sits_where_the_middle_placement_puts_it(planned):
    board, photos = planned
    for shot in board.shots[:-1]:
        photo = photos[shot.photo]
        frame = middle_frame(board, shot, photo)
        plain = middle_frame(board, shot, None)
        changed = np.abs(frame.astype(int) - plain.astype(int)).sum(axis=2) > 24
        ys, xs = np.nonzero(changed)
        m = shot.placements[shot.frames // 2]
        my, mx = np.nonzero(photo.mask)
        xa, xb, ya, yb = mx.min(), mx.max() + 1, my.min(), my.max() + 1
        corners = np.array([[xa, ya, 1], [xb, ya, 1], [xa, yb, 1], [xb, yb, 1]], float) @ m.T
        (ex0, ey0), (ex1, ey1) = corners.min(axis=0), corners.max(axis=0)
        assert abs(xs.min() - max(0, ex0)) <= 3 and abs(xs.max() + 1 - min(board.width, ex1)) <= 3, shot.kind
        assert abs(ys.min() - max(0, ey0)) <= 3 and abs(ys.max() + 1 - min(board.height, ey1)) <= 3, shot.kind


def test_the_end_card_has_its_text(planned):
    board, photos = planned
    card = board.shots[-1]
    assert card.kind == "endcard"
    frame = middle_frame(board, card, photos[card.photo])
    x0, y0, x1, y1 = board.endcard_layout["text_rect"]
    text = frame[y0:y1, x0:x1].astype(int)
    assert (text.max(axis=2) < 80).sum() > 50  # dark ink drawn on the light card
