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


# ---------------------------------------------------------------------------------------------------------------
# Additions for the ingest and cutout tests: colour profiles, hostile files, varied studio photos, busy scenes.

_BRADFORD = np.array([[0.8951, 0.2664, -0.1614], [-0.7502, 1.7135, 0.0367], [0.0389, -0.0685, 1.0296]])
_D50 = np.array([0.9642, 1.0, 0.8249])
_D65_XY = (0.3127, 0.3290)
ADOBE_RGB = {"primaries": ((0.64, 0.33), (0.21, 0.71), (0.15, 0.06)), "gamma": 563 / 256}
DISPLAY_P3 = {"primaries": ((0.680, 0.320), (0.265, 0.690), (0.150, 0.060)), "gamma": 2.2}


def _xyz(xy: tuple[float, float]) -> np.ndarray:
    x, y = xy
    return np.array([x / y, 1.0, (1 - x - y) / y])


def icc_rgb_profile(description: str, primaries, gamma: float, white=_D65_XY) -> bytes:
    """A minimal ICC v2 matrix/TRC display profile (what Adobe RGB or Display P3 files embed), built by hand.

    Pillow's ImageCms can only create sRGB/Lab/XYZ profiles, so the wide-gamut ones the tests need are written
    here from their primaries: D65 white, Bradford-adapted to the D50 connection space as ICC requires.
    """
    w = _xyz(white)
    prim = np.stack([_xyz(p) for p in primaries], axis=1)
    m = prim * np.linalg.solve(prim, w)  # RGB → XYZ (D65)
    cone_src, cone_dst = _BRADFORD @ w, _BRADFORD @ _D50
    adapt = np.linalg.inv(_BRADFORD) @ np.diag(cone_dst / cone_src) @ _BRADFORD
    m50 = adapt @ m

    def s15(v: float) -> bytes:
        return round(v * 65536).to_bytes(4, "big", signed=True)

    def xyz_tag(v) -> bytes:
        return b"XYZ \0\0\0\0" + b"".join(s15(float(c)) for c in v)

    def curve(g: float) -> bytes:
        return b"curv\0\0\0\0" + (1).to_bytes(4, "big") + round(g * 256).to_bytes(2, "big") + b"\0\0"

    def desc(text: str) -> bytes:
        raw = text.encode("ascii") + b"\0"
        return b"desc\0\0\0\0" + len(raw).to_bytes(4, "big") + raw + b"\0" * 12 + b"\0" * 67

    tags = [
        (b"desc", desc(description)),
        (b"cprt", b"text\0\0\0\0" + b"public domain\0"),
        (b"wtpt", xyz_tag(_D50)),
        (b"rXYZ", xyz_tag(m50[:, 0])),
        (b"gXYZ", xyz_tag(m50[:, 1])),
        (b"bXYZ", xyz_tag(m50[:, 2])),
        (b"rTRC", curve(gamma)),
        (b"gTRC", curve(gamma)),
        (b"bTRC", curve(gamma)),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, body = b"", b""
    for sig, data in tags:
        data += b"\0" * (-len(data) % 4)
        table += sig + (offset + len(body)).to_bytes(4, "big") + len(data).to_bytes(4, "big")
        body += data
    size = offset + len(body)
    header = (
        size.to_bytes(4, "big")
        + b"lcms"
        + bytes([2, 0x10, 0, 0])
        + b"mntrRGB XYZ "
        + bytes(12)  # date
        + b"acsp"
        + b"APPL"
        + bytes(4 + 4 + 4 + 8 + 4)
        + b"".join(s15(float(c)) for c in _D50)
        + b"lcms"
        + bytes(16 + 28)
    )
    assert len(header) == 128
    return header + len(tags).to_bytes(4, "big") + table + body


def png_declaring(width: int, height: int) -> bytes:
    """A tiny, well-formed PNG whose header declares width×height pixels (a decompression bomb's calling card)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\0" * (width + 1) * 4, 9)  # a few rows of zeros; the rest would inflate the same way
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def _shape_mask(shape: str, width: int, height: int, box: tuple[int, int, int, int]) -> np.ndarray:
    """A product silhouette inside box = (x0, y0, x1, y1) on a width×height canvas."""
    x0, y0, x1, y1 = box
    bw, bh = x1 - x0, y1 - y0
    img = Image.new("L", (width, height), 0)
    d = ImageDraw.Draw(img)
    if shape == "bottle":
        neck = bw // 3
        d.rounded_rectangle((x0, y0 + int(bh * 0.25), x1, y1), radius=max(2, bw // 5), fill=255)
        cx = (x0 + x1) // 2
        d.rectangle((cx - neck // 2, y0 + int(bh * 0.05), cx + neck // 2, y0 + int(bh * 0.3)), fill=255)
        d.rounded_rectangle((cx - neck // 2 - 4, y0, cx + neck // 2 + 4, y0 + int(bh * 0.08)), radius=3, fill=255)
    elif shape == "box":
        d.rectangle(box, fill=255)
    elif shape == "round":
        d.ellipse(box, fill=255)
    elif shape == "shoe":
        # sole, heel counter and a sloped toe: an irregular, wide, low silhouette
        d.polygon(
            [
                (x0, y1),
                (x0, y0 + int(bh * 0.15)),
                (x0 + int(bw * 0.3), y0),
                (x0 + int(bw * 0.45), y0 + int(bh * 0.35)),
                (x0 + int(bw * 0.8), y0 + int(bh * 0.5)),
                (x1, y0 + int(bh * 0.75)),
                (x1, y1),
            ],
            fill=255,
        )
        d.ellipse((x1 - int(bw * 0.25), y0 + int(bh * 0.5), x1, y1), fill=255)
    elif shape == "mug":
        body_x1 = x0 + int(bw * 0.72)
        d.rounded_rectangle((x0, y0, body_x1, y1), radius=max(2, bw // 14), fill=255)
        hy0, hy1 = y0 + int(bh * 0.2), y0 + int(bh * 0.72)
        d.ellipse((body_x1 - int(bw * 0.12), hy0, x1, hy1), fill=255)
        thick = max(4, int(bw * 0.07))
        d.ellipse((body_x1 - int(bw * 0.05), hy0 + thick, x1 - thick, hy1 - thick), fill=0)  # the handle's hole
        d.rectangle((x0 + thick, y0, body_x1 - thick, y1), fill=255)
    else:
        raise ValueError(shape)
    return np.array(img) > 127


def studio_photo(
    shape: str = "bottle",
    colour: tuple[int, int, int] = (200, 40, 50),
    *,
    width: int = 720,
    height: int = 900,
    background: str = "white",
    shadow: float = 0.35,
    centre: tuple[float, float] = (0.5, 0.5),
    extent: tuple[float, float] = (0.36, 0.6),
    seed: int = 0,
    noise: float = 1.2,
):
    """A product photo on a studio backdrop with its true mask. The product is shaded like a lit solid (so even a
    near-white product has a visible edge), carries a small printed detail, and casts a soft contact shadow whose
    blur scales with the photo (as a real soft box's does)."""
    rng = np.random.default_rng(seed)
    bw, bh = int(width * extent[0]), int(height * extent[1])
    cx, cy = int(width * centre[0]), int(height * centre[1])
    box = (cx - bw // 2, cy - bh // 2, cx + bw // 2, cy + bh // 2)
    mask = _shape_mask(shape, width, height, box)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    # light from the upper left: darker towards the right and bottom, and a cylinder-like falloff at the sides
    u = ((xx - box[0]) / max(bw, 1)).clip(0, 1)
    v = ((yy - box[1]) / max(bh, 1)).clip(0, 1)
    shade = 0.97 - 0.22 * u**2 - 0.08 * v - 0.18 * (2 * u - 1) ** 8
    product = np.asarray(colour, np.float32)[None, None, :] * shade[..., None]
    # printed detail: a few dark strokes, as on a label
    art = Image.new("L", (width, height), 0)
    da = ImageDraw.Draw(art)
    for i in range(4):
        y = box[1] + int(bh * (0.45 + 0.06 * i))
        length = int(bw * rng.uniform(0.2, 0.45))
        da.line((cx - length // 2, y, cx + length // 2, y), fill=255, width=max(2, width // 360))
    art_mask = (np.array(art) > 127) & mask
    product[art_mask] = (35, 40, 70)

    if background == "white":
        bg = np.full((height, width, 3), 252.0, np.float32)
    elif background == "gradient":
        t = (0.6 * yy / height + 0.4 * xx / width)[..., None]
        top, bottom = np.array([240, 238, 246], np.float32), np.array([212, 218, 232], np.float32)
        bg = top * (1 - t) + bottom * t
    elif background == "grey":
        r = np.hypot((xx - width / 2) / width, (yy - height / 2) / height)[..., None]
        bg = np.array([205, 205, 208], np.float32) * (1.0 - 0.25 * r**2)  # a vignetted grey sweep
    else:
        raise ValueError(background)
    if shadow:
        ys, xs = np.nonzero(mask)
        bottom, left, right = ys.max(), xs.min(), xs.max()
        sh = Image.new("L", (width, height), 0)
        half = max(6, int(height * 0.025))
        ImageDraw.Draw(sh).ellipse((left - half, bottom - half, right + 2 * half, bottom + half), fill=255)
        soft = np.array(sh.filter(ImageFilter.GaussianBlur(max(3, height * 0.012)))).astype(np.float32) / 255.0
        soft[mask] = 0
        bg *= 1.0 - shadow * soft[..., None]
    bg += rng.normal(0, noise, bg.shape)
    out = np.where(mask[..., None], product + rng.normal(0, noise, product.shape), bg)
    return Image.fromarray(out.clip(0, 255).astype(np.uint8)), mask


def busy_scene(width: int = 720, height: int = 900, seed: int = 0):
    """A product photographed in a cluttered room: no plain backdrop anywhere (true mask returned for reference)."""
    rng = np.random.default_rng(seed)
    img = Image.new("RGB", (width, height))
    d = ImageDraw.Draw(img)
    for _ in range(160):
        x, y = rng.integers(-50, width), rng.integers(-50, height)
        sw, shh = rng.integers(20, 220, size=2)
        colour = tuple(int(c) for c in rng.integers(0, 255, size=3))
        if rng.random() < 0.5:
            d.rectangle((x, y, x + sw, y + shh), fill=colour)
        else:
            d.ellipse((x, y, x + sw, y + shh), fill=colour)
    arr = np.array(img).astype(np.float32) + rng.normal(0, 6, (height, width, 3))
    product, mask = _product_layer(width, height, seed)
    arr = np.where(mask[..., None], product.astype(np.float32), arr)
    return Image.fromarray(arr.clip(0, 255).astype(np.uint8)), mask
