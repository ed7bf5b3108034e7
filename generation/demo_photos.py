"""Sample product photos for the demo merchant, drawn procedurally (no binary files in git, no downloads).

Each photo is what a merchant would upload: a mug on white with a soft contact shadow (JPEG), a sneaker on a light
studio gradient (JPEG), a handbag as a PNG with a transparent background, and a water bottle on white (JPEG).
The products are shaded (cylinder and soft-box lighting), carry fine printed detail and stitching, so that the
pipeline's fidelity checks have something to notice. Every maker also returns the true product mask.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

WIDTH, HEIGHT = 800, 1000
SUPERSAMPLE = 2  # shapes are drawn at 2× and downscaled, so edges are anti-aliased like a real photo


@dataclass(frozen=True)
class DemoPhoto:
    slug: str
    title: str
    sku: str
    category: str
    filename: str
    backdrop: str  # "alpha" | "white" | "gradient"
    image: Image.Image
    mask: np.ndarray  # (H, W) bool, the true product

    def encode(self) -> bytes:
        buf = io.BytesIO()
        if self.filename.endswith(".png"):
            self.image.save(buf, "PNG", optimize=True)
        else:
            self.image.convert("RGB").save(buf, "JPEG", quality=92, subsampling=0)
        return buf.getvalue()


def _canvas_mask(draw_fn) -> np.ndarray:
    """A float coverage mask (0..1, H×W) from a drawing function working on a 2× canvas."""
    big = Image.new("L", (WIDTH * SUPERSAMPLE, HEIGHT * SUPERSAMPLE), 0)
    draw_fn(ImageDraw.Draw(big), SUPERSAMPLE)
    return np.asarray(big.resize((WIDTH, HEIGHT), Image.Resampling.LANCZOS), np.float32) / 255.0


def _grid() -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    return yy, xx


def _cylinder(xx: np.ndarray, cx: float, half_width: float, key: float = -0.35) -> np.ndarray:
    """Lambert shading of a vertical cylinder lit from the upper left, with a soft-box highlight."""
    u = np.clip((xx - cx) / half_width, -1.0, 1.0)
    normal_x, normal_z = u, np.sqrt(1.0 - u * u)
    light = np.array([key, 0.0, 1.0]) / np.linalg.norm([key, 0.0, 1.0])
    diffuse = np.clip(normal_x * light[0] + normal_z * light[2], 0.0, 1.0)
    highlight = np.exp(-(((u - key * 0.9) / 0.09) ** 2))
    return 0.28 + 0.72 * diffuse, highlight


def _rgb(colour: tuple[int, int, int]) -> np.ndarray:
    return np.array(colour, np.float32)


def _paint(base: np.ndarray, coverage: np.ndarray, colour: np.ndarray) -> np.ndarray:
    c = coverage[..., None]
    return base * (1.0 - c) + colour * c


def _soften(colour: Image.Image, coverage: Image.Image, radius: float = 0.8) -> tuple[np.ndarray, np.ndarray]:
    """Anti-aliases details drawn at 1×: blur colour premultiplied by coverage, then divide (no dark fringes)."""
    cov = np.asarray(coverage.filter(ImageFilter.GaussianBlur(radius)), np.float32) / 255
    premultiplied = np.asarray(colour, np.float32) * (np.asarray(coverage, np.float32)[..., None] / 255)
    blurred = np.asarray(
        Image.fromarray(premultiplied.clip(0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(radius)),
        np.float32,
    )
    return blurred / np.maximum(cov, 1e-3)[..., None], cov


def _text_strokes(draw: ImageDraw.ImageDraw, box, rng, colour, rows: int, width: int = 2) -> None:
    """Small printed "text": words as short strokes, like the fine print on a label."""
    x0, y0, x1, y1 = box
    step = (y1 - y0) / rows
    for r in range(rows):
        y = int(y0 + step * (r + 0.5))
        x = x0
        while x < x1 - 10:
            word = int(rng.integers(10, 38))
            end = min(x + word, x1)
            draw.line((x, y, end, y), fill=colour, width=width)
            x = end + int(rng.integers(6, 12))


# --- products ---------------------------------------------------------------------------------------------------


def _mug(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    cx, top, bottom, half = 360, 330, 760, 175

    def body(d, s):
        d.rounded_rectangle(((cx - half) * s, top * s, (cx + half) * s, bottom * s), radius=28 * s, fill=255)
        d.ellipse(((cx - half) * s, (top - 38) * s, (cx + half) * s, (top + 38) * s), fill=255)

    def handle(d, s):
        d.ellipse(((cx + half - 60) * s, 410 * s, (cx + half + 120) * s, 660 * s), fill=255)
        d.ellipse(((cx + half - 10) * s, 470 * s, (cx + half + 62) * s, 600 * s), fill=0)
        d.rectangle(((cx + half - 60) * s, 400 * s, (cx + half - 5) * s, 670 * s), fill=0)

    body_cov, handle_cov = _canvas_mask(body), _canvas_mask(handle)
    yy, xx = _grid()
    glaze = _rgb((32, 118, 128))
    shade, spec = _cylinder(xx, cx, half)
    rgb = np.zeros((HEIGHT, WIDTH, 3), np.float32)
    rgb = _paint(rgb, handle_cov, glaze * (0.55 + 0.25 * np.clip((yy - 410) / 250, 0, 1))[..., None])
    body_rgb = glaze * shade[..., None] + 210 * spec[..., None]
    rgb = _paint(rgb, body_cov, body_rgb)
    # The opening: a dark glazed interior seen at an angle, with a lighter rim.
    rim = _canvas_mask(
        lambda d, s: d.ellipse(((cx - half) * s, (top - 38) * s, (cx + half) * s, (top + 38) * s), fill=255)
    )
    inner = _canvas_mask(
        lambda d, s: d.ellipse(((cx - half + 14) * s, (top - 30) * s, (cx + half - 14) * s, (top + 30) * s), fill=255)
    )
    rgb = _paint(rgb, rim, _rgb((70, 160, 168)))
    interior = _rgb((236, 232, 222)) * (0.55 + 0.45 * np.clip((yy - (top - 30)) / 60, 0, 1))[..., None]
    rgb = _paint(rgb, inner, interior)
    # A printed mountain logo and a line of small text, wrapped by the cylinder's shading.
    art = Image.new("RGB", (WIDTH, HEIGHT), (0, 0, 0))
    art_cov = Image.new("L", (WIDTH, HEIGHT), 0)
    da, dm = ImageDraw.Draw(art), ImageDraw.Draw(art_cov)
    for d, col in ((da, (250, 246, 236)), (dm, 255)):
        d.polygon([(270, 590), (330, 500), (365, 545), (400, 480), (460, 590)], fill=col)
        d.ellipse((405, 470, 435, 500), fill=col)
    _text_strokes(da, (270, 615, 460, 650), rng, (250, 246, 236), rows=2)
    _text_strokes(dm, (270, 615, 460, 650), np.random.default_rng(seed), 255, rows=2)
    art_colour, art_alpha = _soften(art, art_cov)
    rgb = _paint(rgb, art_alpha * body_cov, art_colour * (shade[..., None] * 0.8 + 0.25))
    coverage = np.maximum(body_cov, handle_cov)
    return rgb, coverage


def _sneaker(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    yy, xx = _grid()
    # A mid-top sneaker in profile, heel on the left: heel counter, collar, tongue, laced vamp, rounded toe.
    upper_pts = [
        (135, 640),
        (126, 560),
        (138, 478),
        (200, 466),
        (262, 500),
        (318, 470),
        (346, 378),
        (404, 366),
        (424, 402),
        (500, 446),
        (600, 492),
        (668, 532),
        (704, 584),
        (712, 640),
    ]
    sole_box = (110, 620, 715, 700)

    def upper(d, s):
        d.polygon([(x * s, y * s) for x, y in upper_pts], fill=255)

    def sole(d, s):
        d.rounded_rectangle(tuple(v * s for v in sole_box), radius=34 * s, fill=255)

    up_cov, sole_cov = _canvas_mask(upper), _canvas_mask(sole)
    navy = _rgb((58, 62, 72))  # charcoal suede
    # Suede-like texture: fine noise, blurred a little, and soft light from above.
    grain = np.asarray(
        Image.fromarray((rng.normal(128, 60, (HEIGHT, WIDTH))).clip(0, 255).astype(np.uint8)).filter(
            ImageFilter.GaussianBlur(5.0)
        ),
        np.float32,
    )
    light = 0.75 + 0.35 * np.clip((640 - yy) / 260, 0, 1)
    upper_rgb = navy * (light * (0.98 + 0.03 * (grain - 128) / 128))[..., None]
    rgb = _paint(np.zeros((HEIGHT, WIDTH, 3), np.float32), up_cov, upper_rgb)
    # Toe cap and heel counter in tan leather, a white side stripe, eyelets and laces.
    overlay = Image.new("RGB", (WIDTH, HEIGHT), (0, 0, 0))
    cov = Image.new("L", (WIDTH, HEIGHT), 0)
    do, dc = ImageDraw.Draw(overlay), ImageDraw.Draw(cov)
    parts = [
        ([(590, 488), (668, 532), (704, 584), (712, 640), (598, 640), (576, 560)], (124, 128, 136)),
        ([(135, 640), (126, 560), (138, 478), (200, 466), (222, 640)], (124, 128, 136)),
        (
            [(250, 612), (330, 548), (470, 500), (560, 520), (530, 548), (450, 536), (340, 580), (282, 628)],
            (226, 104, 44),
        ),
    ]
    for pts, col in parts:
        do.polygon(pts, fill=col)
        dc.polygon(pts, fill=255)
    for i in range(6):
        x, y = 404 + i * 30, 404 + i * 16
        do.ellipse((x - 6, y - 6, x + 6, y + 6), fill=(200, 200, 206))
        dc.ellipse((x - 6, y - 6, x + 6, y + 6), fill=255)
        if i < 5:
            do.line((x, y, x + 36, y + 4), fill=(236, 236, 240), width=5)
            do.line((x + 30, y + 16, x - 4, y + 10), fill=(236, 236, 240), width=5)
            dc.line((x, y, x + 36, y + 4), fill=255, width=5)
            dc.line((x + 30, y + 16, x - 4, y + 10), fill=255, width=5)
    # Stitching along the toe cap.
    for t in range(0, 20):
        x = 594 + t * 5.4
        y = 500 + t * 6.6
        do.line((x, y, x + 3, y + 5), fill=(236, 222, 200), width=2)
        dc.line((x, y, x + 3, y + 5), fill=255, width=2)
    part_colour, part_alpha = _soften(overlay, cov, radius=1.5)
    rgb = _paint(rgb, part_alpha * up_cov, part_colour * light[..., None] * 0.95)
    # Gum sole with a cream midsole band and a tread line.
    sole_rgb = np.where(
        (yy < 652)[..., None], _rgb((222, 204, 168)), _rgb((166, 112, 62)) * (0.9 + 0.1 * np.sin(xx / 5.0))[..., None]
    )
    sole_rgb = sole_rgb * (0.85 + 0.15 * np.clip((700 - yy) / 80, 0, 1))[..., None]
    rgb = _paint(rgb, sole_cov, sole_rgb)
    tread = np.exp(-(((yy - 652) / 2.0) ** 2)) * sole_cov  # a soft groove between midsole and outsole
    rgb = _paint(rgb, tread * 0.8, _rgb((120, 84, 50)))
    return rgb, np.maximum(up_cov, sole_cov)


def _handbag(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    yy, xx = _grid()
    body_pts = [(190, 470), (610, 470), (680, 830), (120, 830)]

    def body(d, s):
        d.polygon([(x * s, y * s) for x, y in body_pts], fill=255)
        d.rounded_rectangle((120 * s, 780 * s, 680 * s, 840 * s), radius=24 * s, fill=255)

    def handle(d, s):
        d.ellipse((250 * s, 250 * s, 550 * s, 640 * s), fill=255)
        d.ellipse((280 * s, 280 * s, 520 * s, 610 * s), fill=0)
        d.rectangle((0, 480 * s, WIDTH * s, HEIGHT * s), fill=0)

    body_cov, handle_cov = _canvas_mask(body), _canvas_mask(handle)
    leather = _rgb((122, 62, 34))
    pebble = np.asarray(
        Image.fromarray(rng.normal(128, 60, (HEIGHT, WIDTH)).clip(0, 255).astype(np.uint8)).filter(
            ImageFilter.GaussianBlur(5.0)
        ),
        np.float32,
    )
    light = 0.7 + 0.45 * np.exp(-(((xx - 330) / 260) ** 2 + ((yy - 560) / 300) ** 2))
    body_rgb = leather * (light * (0.97 + 0.03 * (pebble - 128) / 128))[..., None]
    handle_rgb = _rgb((96, 48, 26)) * (0.8 + 0.3 * np.clip((xx - 250) / 300, 0, 1))[..., None]
    rgb = _paint(np.zeros((HEIGHT, WIDTH, 3), np.float32), handle_cov, handle_rgb)
    rgb = _paint(rgb, body_cov, body_rgb)
    # A flap with stitching, a brass clasp and small embossed text.
    detail = Image.new("RGB", (WIDTH, HEIGHT), (0, 0, 0))
    cov = Image.new("L", (WIDTH, HEIGHT), 0)
    dd, dc = ImageDraw.Draw(detail), ImageDraw.Draw(cov)
    flap = [(196, 470), (604, 470), (630, 610), (400, 660), (170, 610)]
    dd.polygon(flap, fill=(104, 52, 28))
    dc.polygon(flap, fill=255)
    for i in range(len(flap)):
        (x0, y0), (x1, y1) = flap[i], flap[(i + 1) % len(flap)]
        n = int(max(abs(x1 - x0), abs(y1 - y0)) / 9)
        for k in range(1, n):
            t0, t1 = k / n, (k + 0.45) / n
            cx0, cy0 = x0 + (x1 - x0) * t0, y0 + (y1 - y0) * t0 + 9
            cx1, cy1 = x0 + (x1 - x0) * t1, y0 + (y1 - y0) * t1 + 9
            dd.line((cx0, cy0, cx1, cy1), fill=(230, 200, 150), width=2)
            dc.line((cx0, cy0, cx1, cy1), fill=255, width=2)
    dd.rounded_rectangle((368, 620, 432, 684), radius=10, fill=(214, 170, 72))
    dc.rounded_rectangle((368, 620, 432, 684), radius=10, fill=255)
    dd.ellipse((388, 640, 412, 664), fill=(150, 112, 40))
    _text_strokes(dd, (300, 730, 500, 760), rng, (150, 86, 52), rows=1)
    _text_strokes(dc, (300, 730, 500, 760), np.random.default_rng(seed), 255, rows=1)
    det_colour, det_alpha = _soften(detail, cov)
    rgb = _paint(rgb, det_alpha * body_cov, det_colour * light[..., None])
    return rgb, np.maximum(body_cov, handle_cov)


def _bottle(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    yy, xx = _grid()
    cx, half = 400, 120

    def body(d, s):
        d.rounded_rectangle(((cx - half) * s, 300 * s, (cx + half) * s, 860 * s), radius=60 * s, fill=255)
        d.rounded_rectangle(((cx - 70) * s, 240 * s, (cx + 70) * s, 330 * s), radius=30 * s, fill=255)

    def cap(d, s):
        d.rounded_rectangle(((cx - 78) * s, 130 * s, (cx + 78) * s, 250 * s), radius=18 * s, fill=255)
        d.rounded_rectangle(((cx - 30) * s, 95 * s, (cx + 30) * s, 140 * s), radius=12 * s, fill=255)

    body_cov, cap_cov = _canvas_mask(body), _canvas_mask(cap)
    shade, spec = _cylinder(xx, cx, half, key=-0.45)
    steel = _rgb((58, 96, 74))  # powder-coated green
    body_rgb = steel * shade[..., None] + 160 * spec[..., None]
    # Bamboo cap: wood grain stripes.
    grain = 0.85 + 0.15 * np.sin(xx / 3.1 + 3 * np.sin(yy / 40.0)) + rng.normal(0, 0.02, (HEIGHT, WIDTH))
    cap_shade, cap_spec = _cylinder(xx, cx, 78, key=-0.45)
    cap_rgb = _rgb((196, 158, 104)) * (grain * cap_shade)[..., None] + 60 * cap_spec[..., None]
    rgb = _paint(np.zeros((HEIGHT, WIDTH, 3), np.float32), body_cov, body_rgb)
    rgb = _paint(rgb, cap_cov, cap_rgb)
    # A white screen-printed label: a wave mark, a brand bar and small text.
    art = Image.new("L", (WIDTH, HEIGHT), 0)
    da = ImageDraw.Draw(art)
    da.rectangle((cx - 70, 470, cx + 70, 490), fill=255)
    for k in range(3):
        da.arc((cx - 60, 520 + k * 18, cx + 60, 580 + k * 18), 200, 340, fill=255, width=4)
    _text_strokes(da, (cx - 80, 640, cx + 80, 720), rng, 255, rows=4)
    art_cov = np.asarray(art.filter(ImageFilter.GaussianBlur(0.8)), np.float32) / 255 * body_cov
    rgb = _paint(rgb, art_cov, _rgb((246, 246, 240)) * (0.6 + 0.4 * shade)[..., None])
    return rgb, np.maximum(body_cov, cap_cov)


# --- backdrops --------------------------------------------------------------------------------------------------


def _contact_shadow(coverage: np.ndarray, strength: float = 0.32) -> np.ndarray:
    """A soft shadow under the product: a blurred ellipse at its base, plus a faint one cast to the right."""
    ys, xs = np.nonzero(coverage > 0.5)
    bottom, left, right = int(ys.max()), int(xs.min()), int(xs.max())
    img = Image.new("L", (WIDTH, HEIGHT), 0)
    d = ImageDraw.Draw(img)
    d.ellipse((left - 10, bottom - 18, right + 30, bottom + 22), fill=255)
    near = np.asarray(img.filter(ImageFilter.GaussianBlur(9)), np.float32) / 255
    img2 = Image.new("L", (WIDTH, HEIGHT), 0)
    ImageDraw.Draw(img2).ellipse((left + 20, bottom - 40, right + 120, bottom + 40), fill=150)
    far = np.asarray(img2.filter(ImageFilter.GaussianBlur(28)), np.float32) / 255
    return np.clip(near * strength + far * strength * 0.5, 0, 1) * (1 - coverage)


def _on_backdrop(rgb: np.ndarray, coverage: np.ndarray, backdrop: np.ndarray, seed: int) -> Image.Image:
    rng = np.random.default_rng(seed + 101)
    bg = backdrop * (1.0 - _contact_shadow(coverage))[..., None] + rng.normal(0, 1.0, backdrop.shape)
    out = _paint(bg, coverage, rgb + rng.normal(0, 0.8, rgb.shape))
    return Image.fromarray(out.clip(0, 255).astype(np.uint8), "RGB")


def _white() -> np.ndarray:
    return np.full((HEIGHT, WIDTH, 3), 252.0, np.float32)


def _gradient() -> np.ndarray:
    yy, xx = _grid()
    t = (0.75 * yy / HEIGHT + 0.25 * xx / WIDTH)[..., None]
    top, bottom = _rgb((244, 241, 236)), _rgb((222, 216, 208))
    return top * (1 - t) + bottom * t


def demo_photos(seed: int = 7) -> list[DemoPhoto]:
    """The demo merchant's catalogue, in a fixed order (the first three cover the three kinds of backdrop)."""
    photos = []
    mug_rgb, mug_cov = _mug(seed)
    photos.append(
        DemoPhoto(
            "mug",
            "Ceramic mug — Alpine teal",
            "DEMO-MUG-01",
            "home",
            "mug-on-white.jpg",
            "white",
            _on_backdrop(mug_rgb, mug_cov, _white(), seed),
            mug_cov > 0.5,
        )
    )
    bag_rgb, bag_cov = _handbag(seed)
    alpha = (bag_cov * 255).round().astype(np.uint8)
    bag = Image.fromarray(np.dstack([bag_rgb.clip(0, 255).astype(np.uint8), alpha]), "RGBA")
    photos.append(
        DemoPhoto(
            "handbag",
            "Leather handbag — Cognac",
            "DEMO-BAG-01",
            "accessories",
            "handbag.png",
            "alpha",
            bag,
            bag_cov > 0.5,
        )
    )
    shoe_rgb, shoe_cov = _sneaker(seed)
    photos.append(
        DemoPhoto(
            "sneaker",
            "Suede sneaker — Charcoal and gum",
            "DEMO-SNK-01",
            "footwear",
            "sneaker-studio.jpg",
            "gradient",
            _on_backdrop(shoe_rgb, shoe_cov, _gradient(), seed),
            shoe_cov > 0.5,
        )
    )
    bottle_rgb, bottle_cov = _bottle(seed)
    photos.append(
        DemoPhoto(
            "bottle",
            "Insulated bottle — Forest 750 ml",
            "DEMO-BTL-01",
            "sports",
            "bottle-on-white.jpg",
            "white",
            _on_backdrop(bottle_rgb, bottle_cov, _white(), seed),
            bottle_cov > 0.5,
        )
    )
    return photos
