"""Fidelity lock: the product's pixels are the photo's, bit for bit, with a clean edge that owes nothing to the
photo's backdrop; and the box-only warp is identical to OpenCV's full-frame warpAffine."""

import cv2
import numpy as np
import pytest

from generation.constants import FRAME_SIZES
from generation.pipeline.fidelity import FidelityLock, lock_frames, warp_box_exact, warp_product

SIZES = sorted({size for tier in FRAME_SIZES.values() for size in tier.values()})


def _placement(rng, scale, angle_deg, frame):
    a = np.radians(angle_deg)
    m = np.array([[np.cos(a), -np.sin(a), 0.0], [np.sin(a), np.cos(a), 0.0]]) * scale
    m[:, 2] = [frame[0] / 2 - 300 * scale + rng.uniform(-5, 5), frame[1] / 2 - 350 * scale + rng.uniform(-5, 5)]
    return m


def _photo(seed=0, backdrop=(255, 0, 255)):
    rng = np.random.default_rng(seed)
    photo = np.empty((700, 600, 3), np.uint8)
    photo[:] = backdrop
    mask = np.zeros((700, 600), np.uint8)
    cv2.ellipse(mask, (300, 350), (180, 280), 10, 0, 360, 255, -1)
    texture = rng.integers(0, 256, (700, 600, 3), np.uint8)
    photo[mask > 0] = texture[mask > 0]
    return photo, mask


@pytest.mark.parametrize("frame", SIZES)
def test_box_warp_is_bit_identical_to_full_frame_warp(frame):
    rng = np.random.default_rng(hash(frame) % 1000)
    photo = rng.integers(0, 256, (700, 600, 3), np.uint8)
    for _ in range(6):
        m = _placement(rng, rng.uniform(0.3, 2.5), rng.uniform(-6, 6), frame)
        x0, y0 = int(rng.integers(0, frame[0] // 2)), int(rng.integers(0, frame[1] // 2))
        box = (x0, y0, int(rng.integers(x0 + 1, frame[0] + 1)), int(rng.integers(y0 + 1, frame[1] + 1)))
        full = cv2.warpAffine(photo, m, frame, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        assert np.array_equal(warp_box_exact(photo, m, box, frame), full[box[1] : box[3], box[0] : box[2]])


@pytest.mark.parametrize("scale", [0.35, 0.8, 1.0, 1.6])
def test_product_pixels_are_the_photos_exactly(scale):
    rng = np.random.default_rng(3)
    photo, mask = _photo()
    frame_size = (640, 960)
    placements = np.stack([_placement(rng, scale, a, frame_size) for a in (-4.0, 0.0, 2.5)])
    frames = np.full((3, 960, 640, 3), 90, np.uint8)
    lock_frames(frames, photo, mask, placements)
    for frame, m in zip(frames, placements, strict=True):
        want = cv2.warpAffine(photo, m, frame_size, flags=cv2.INTER_LINEAR)
        nearest = cv2.warpAffine(mask, m, frame_size, flags=cv2.INTER_NEAREST)
        # Everything one pixel inside the silhouette (two when magnified, as QA measures) is exact.
        k = 3 if scale <= 1.0 else 5
        # (The frame's border counts as outside: a product cut by the frame edge has a silhouette there too.)
        inner = cv2.erode(nearest, np.ones((k, k), np.uint8), borderType=cv2.BORDER_CONSTANT, borderValue=0) > 0
        assert np.array_equal(frame[inner], want[inner])
        # Outside the product and its feather, the engine's frame is untouched.
        far = cv2.dilate(nearest, np.ones((9, 9), np.uint8)) == 0
        assert (frame[far] == 90).all()


def test_edge_owes_nothing_to_the_photos_backdrop():
    rng = np.random.default_rng(5)
    placements = np.stack([_placement(rng, s, a, (480, 832)) for s, a in ((0.5, 3.0), (1.3, -2.0))])
    results = []
    for backdrop in ((255, 0, 255), (0, 255, 0), (255, 255, 255)):
        photo, mask = _photo(backdrop=backdrop)
        frames = np.full((2, 832, 480, 3), 128, np.uint8)
        lock_frames(frames, photo, mask, placements)
        results.append(frames)
    # Same product, same mask, very different backdrops: the frames differ by at most one level (a sample with a
    # < 0.1% backdrop weight counts as inside and rounds either way), so no halo of any backdrop.
    for other in results[1:]:
        assert np.abs(results[0].astype(int) - other).max() <= 1


def test_edge_is_a_one_to_two_pixel_feather():
    photo, mask = _photo()
    m = np.array([[0.5, 0.0, 40.0], [0.0, 0.5, 60.0]])
    lock = FidelityLock(photo, mask, (480, 832))
    layer = lock.layer(m)
    alpha = layer.alpha
    partial = (alpha > 0) & (alpha < 1)
    # Along each row crossing the silhouette, between one and three pixels are partly covered on each side.
    widths = [int(partial[r].sum()) for r in range(alpha.shape[0]) if (alpha[r] >= 1).any()]
    rows = [w for w in widths[len(widths) // 3 : 2 * len(widths) // 3]]
    assert rows and all(2 <= w <= 6 for w in rows), rows
    # The soft tail reaches outside the bilinear edge but not further than ~2 px.
    outside = cv2.warpAffine((mask > 0).astype(np.float32), m, (480, 832))
    x0, y0, x1, y1 = layer.box
    beyond = (outside[y0:y1, x0:x1] == 0) & (alpha > 0)
    far = cv2.dilate((outside[y0:y1, x0:x1] > 0).astype(np.uint8), np.ones((5, 5), np.uint8)) == 0
    assert beyond.any() and not (beyond & far).any()


def test_warp_product_returns_full_frames():
    photo, mask = _photo()
    colour, alpha = warp_product(photo, mask, np.array([[0.6, 0.0, 50.0], [0.0, 0.6, 80.0]]), (480, 832))
    assert colour.shape == (832, 480, 3) and colour.dtype == np.uint8
    assert alpha.shape == (832, 480) and alpha.dtype == np.float32 and alpha.max() == 1.0 and alpha.min() == 0.0
