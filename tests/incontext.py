"""In-context product photos with an exact truth: real products pasted onto real busy backgrounds.

The products come with exact masks: the tote's own alpha (03), and the sneaker (01) and camera (05) cut from their
studio shots (their classical cutout *is* the truth here, since exactly those pixels are pasted). The backgrounds
are the object-free parts of real photos (wood planks beside the shoes of 04, the carpet above the sweatshirt of
10, the bench of 12), mirrored out to the photo's size; the desk of 06 is used whole, mugs and all.
"""

from __future__ import annotations

import functools
import io
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from generation.pipeline import cutout
from generation.pipeline.ingest import ingest_photo
from tests import synthetic

FIXTURES = Path(__file__).parent / "fixtures" / "realworld"

# The six in-context cases: product on background, and where the product's centre goes (fractions of the photo).
CASES = {
    "tote-on-wood": ("tote", "wood", (0.5, 0.5)),
    "sneaker-on-carpet": ("sneaker", "carpet", (0.5, 0.5)),
    "camera-on-bench": ("camera", "bench", (0.5, 0.5)),
    "sneaker-on-wood": ("sneaker", "wood", (0.45, 0.55)),
    "tote-on-bench": ("tote", "bench", (0.55, 0.45)),
    "camera-on-carpet": ("camera", "carpet", (0.5, 0.55)),
}


@functools.cache
def product(name: str) -> tuple[np.ndarray, np.ndarray]:
    """(rgb, mask) cropped to the product's box: the exact pixels and the exact mask."""
    if name == "tote":
        rgba = np.array(Image.open(FIXTURES / "03-canvas-tote-transparent.png").convert("RGBA"))
        rgb, mask = rgba[..., :3], rgba[..., 3] > 127
    else:
        path = FIXTURES / {"sneaker": "01-sneaker-white-bg.jpg", "camera": "05-camera-small-print.jpg"}[name]
        rgb = np.array(Image.open(path).convert("RGB"))
        mask = cutout.compute_cutout(ingest_photo(path)).mask > 0
    ys, xs = np.nonzero(mask)
    box = (slice(ys.min(), ys.max() + 1), slice(xs.min(), xs.max() + 1))
    return np.ascontiguousarray(rgb[box]), np.ascontiguousarray(mask[box])


def _mirrored(image: np.ndarray, width: int, height: int) -> np.ndarray:
    h, w = image.shape[:2]
    return np.pad(image, ((0, max(0, height - h)), (0, max(0, width - w)), (0, 0)), mode="symmetric")[:height, :width]


@functools.cache
def background(name: str) -> np.ndarray:
    if name == "wood":  # the planks left and right of the shoes
        photo = np.array(Image.open(FIXTURES / "04-sneakers-wood-texture.jpg").convert("RGB"))
        return _mirrored(np.concatenate([photo[:, :460], photo[:, 1120:]], axis=1), 1600, 1067)
    if name == "carpet":  # the band of carpet above the sweatshirt, at the size of a 1600 px photo
        photo = np.array(Image.open(FIXTURES / "10-sweatshirt-patterned-carpet.jpg").convert("RGB"))[:66]
        return _mirrored(cv2.resize(photo, (1600, 264), interpolation=cv2.INTER_CUBIC), 1600, 1200)
    if name == "bench":
        photo = np.array(Image.open(FIXTURES / "12-wood-bench-crop.jpg").convert("RGB"))
        return _mirrored(photo, 1400, 1400)
    if name == "desk":  # the whole photo, mugs and keyboard included, at 1600 px
        photo = np.array(Image.open(FIXTURES / "06-mugs-in-context-logo.jpg").convert("RGB"))
        return cv2.resize(photo, (1600, 1070), interpolation=cv2.INTER_CUBIC)
    raise ValueError(name)


def compose(
    product_name: str, background_name: str, centre: tuple[float, float] = (0.5, 0.5), share: float = 0.6
) -> tuple[np.ndarray, np.ndarray]:
    """(photo rgb, truth mask): the product scaled to `share` of the photo's height or width, pasted hard."""
    rgb, mask = product(product_name)
    return paste(rgb, mask, background(background_name), centre, share)


def paste(
    rgb: np.ndarray, mask: np.ndarray, backdrop: np.ndarray, centre: tuple[float, float], share: float
) -> tuple[np.ndarray, np.ndarray]:
    out = backdrop.copy()
    height, width = out.shape[:2]
    scale = share * min(height / mask.shape[0], width / mask.shape[1])
    pw, ph = round(mask.shape[1] * scale), round(mask.shape[0] * scale)
    rgb = cv2.resize(rgb, (pw, ph), interpolation=cv2.INTER_AREA)
    mask = cv2.resize(mask.astype(np.uint8) * 255, (pw, ph), interpolation=cv2.INTER_AREA) > 127
    x0, y0 = round(centre[0] * width - pw / 2), round(centre[1] * height - ph / 2)
    truth = np.zeros((height, width), bool)
    out[y0 : y0 + ph, x0 : x0 + pw][mask] = rgb[mask]
    truth[y0 : y0 + ph, x0 : x0 + pw] = mask
    return out, truth


def blue_bottle(width: int = 500, height: int = 900) -> tuple[np.ndarray, np.ndarray]:
    """A plain blue bottle with a lit side (a product of one known colour, for the tiny learned model)."""
    mask = synthetic._shape_mask("bottle", width, height, (10, 10, width - 10, height - 10))
    shade = np.linspace(0.75, 1.15, width, dtype=np.float32)[None, :, None]
    rgb = (np.array([40, 90, 200], np.float32) * shade).clip(0, 255).astype(np.uint8)
    return np.broadcast_to(rgb, (height, width, 3)).copy(), mask


def case(name: str) -> tuple[np.ndarray, np.ndarray]:
    product_name, background_name, centre = CASES[name]
    return compose(product_name, background_name, centre)


def padded_box(truth: np.ndarray, pad: float = 0.06) -> tuple[int, int, int, int]:
    """The rough box a merchant drags: the product's box grown by `pad` of its size on each side."""
    ys, xs = np.nonzero(truth)
    height, width = truth.shape
    x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
    dx, dy = pad * (x1 - x0), pad * (y1 - y0)
    return (
        max(0, round(x0 - dx)),
        max(0, round(y0 - dy)),
        min(width, round(x1 + dx)),
        min(height, round(y1 + dy)),
    )


def jpeg(rgb: np.ndarray, quality: int = 95) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def iou(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a > 0, b > 0
    return float((a & b).sum() / max(1, (a | b).sum()))


def busy_scene_photo(organization, *, checksum: str, **size: int):
    """A stored in-context photo (a product on a cluttered desk) that still needs a cutout, and its true mask."""
    from django.core.files.base import ContentFile

    from tests.factories import PhotoFactory

    image, truth = synthetic.busy_scene(seed=0, **size)
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=92)
    photo = PhotoFactory(
        product__organization=organization,
        file=ContentFile(buf.getvalue(), name="desk.jpg"),
        width=image.width,
        height=image.height,
        checksum=checksum,
        mask_source="",
        cutout_needs_review=True,
    )
    return photo, truth
