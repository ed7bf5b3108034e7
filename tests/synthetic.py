"""Synthetic product photos with known masks, made in the tests (no binary fixtures in git).

Each maker returns (image, mask): a PIL image as a merchant would upload it, and the true product mask
(bool, H×W) that cutout results are scored against. Products are textured (shading, stripes, a printed
label with fine detail) so that fidelity checks would notice blurring, shifts or colour changes.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFilter


def _product_layer(width: int, height: int, seed: int = 0, hue: tuple[int, int, int] = (200, 40, 50)):
    """An RGB product drawing and its mask on a canvas of the given size (a bottle with a label)."""
    rng = np.random.default_rng(seed)
    mask_img = Image.new("L", (width, height), 0)
    d = ImageDraw.Draw(mask_img)
    cx = width // 2
    body_w, body_h = int(width * 0.36), int(height * 0.52)
    top = int(height * 0.26)
    d.rounded_rectangle((cx - body_w // 2, top, cx + body_w // 2, top + body_h), radius=body_w // 5, fill=255)
    neck_w = body_w // 3
    d.rectangle((cx - neck_w // 2, top - int(height * 0.1), cx + neck_w // 2, top + 5), fill=255)
    d.ellipse(
        (cx - neck_w // 2 - 6, top - int(height * 0.13), cx + neck_w // 2 + 6, top - int(height * 0.08)), fill=255
    )
    mask = np.array(mask_img) > 127

    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    # cylinder shading across x, plus a highlight stripe
    shade = 0.55 + 0.45 * np.cos((xx - cx) / (body_w / 2) * (np.pi / 2.2)).clip(0, 1)
    highlight = np.exp(-(((xx - (cx - body_w * 0.18)) / (body_w * 0.05)) ** 2)) * 0.35
    rgb = np.zeros((height, width, 3), np.float32)
    for c in range(3):
        rgb[..., c] = hue[c] * shade + 255 * highlight
    # fine horizontal ribs
    rgb *= (1.0 - 0.06 * (np.sin(yy / 3.0) > 0))[..., None]
    img = Image.fromarray(rgb.clip(0, 255).astype(np.uint8))
    dl = ImageDraw.Draw(img)
    # label with a pattern and "text" strokes
    lx0, ly0 = cx - int(body_w * 0.38), top + int(body_h * 0.3)
    lx1, ly1 = cx + int(body_w * 0.38), top + int(body_h * 0.7)
    dl.rectangle((lx0, ly0, lx1, ly1), fill=(245, 240, 225))
    for i in range(6):
        y = ly0 + 8 + i * max(4, (ly1 - ly0 - 16) // 6)
        length = int((lx1 - lx0 - 16) * rng.uniform(0.4, 1.0))
        dl.line((lx0 + 8, y, lx0 + 8 + length, y), fill=(20, 30, 90), width=2)
    dl.ellipse((lx1 - 40, ly0 + 6, lx1 - 8, ly0 + 38), outline=(30, 120, 60), width=3)
    arr = np.array(img)
    arr[~mask] = 0
    return arr, mask


def _shadow(mask: np.ndarray, strength: float = 0.35) -> np.ndarray:
    """A soft contact shadow below the product (a darkening factor per pixel, 0..strength)."""
    h, w = mask.shape
    ys, xs = np.nonzero(mask)
    bottom = ys.max()
    img = Image.new("L", (w, h), 0)
    ImageDraw.Draw(img).ellipse((xs.min() - 10, bottom - 12, xs.max() + 40, bottom + 26), fill=255)
    blurred = np.array(img.filter(ImageFilter.GaussianBlur(10))).astype(np.float32) / 255.0
    blurred[mask] = 0
    return blurred * strength


def product_on_white(width: int = 720, height: int = 900, seed: int = 0, shadow: bool = True):
    product, mask = _product_layer(width, height, seed)
    bg = np.full((height, width, 3), 255.0, np.float32)
    if shadow:
        bg *= 1.0 - _shadow(mask)[..., None]
    rng = np.random.default_rng(seed + 1)
    bg += rng.normal(0, 1.2, bg.shape)  # sensor noise
    out = np.where(mask[..., None], product.astype(np.float32), bg)
    return Image.fromarray(out.clip(0, 255).astype(np.uint8)), mask


def product_on_gradient(width: int = 720, height: int = 900, seed: int = 0, shadow: bool = True):
    product, mask = _product_layer(width, height, seed, hue=(40, 90, 190))
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    t = (0.6 * yy / height + 0.4 * xx / width)[..., None]
    top, bottom = np.array([238, 236, 245], np.float32), np.array([214, 220, 236], np.float32)
    bg = top * (1 - t) + bottom * t
    if shadow:
        bg *= 1.0 - _shadow(mask)[..., None]
    rng = np.random.default_rng(seed + 2)
    bg += rng.normal(0, 1.2, bg.shape)
    out = np.where(mask[..., None], product.astype(np.float32), bg)
    return Image.fromarray(out.clip(0, 255).astype(np.uint8)), mask


def product_png_alpha(width: int = 640, height: int = 800, seed: int = 0):
    product, mask = _product_layer(width, height, seed, hue=(30, 150, 90))
    alpha = (mask * 255).astype(np.uint8)
    rgba = np.dstack([product, alpha])
    return Image.fromarray(rgba, "RGBA"), mask


def iou(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.astype(bool), b.astype(bool)
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 1.0
