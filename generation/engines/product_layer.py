"""The product's exact pixels at a placement: what the fidelity lock composites into every rendered frame, and what
the DiT's conditions keep.

Wherever the photo's bilinear sample is made of product pixels only, the frame gets exactly
`cv2.warpAffine(photo, placement, INTER_LINEAR)` (OpenCV's pixel-centre convention) — bit for bit, so an
independent checker that warps the photo itself sees the merchant's pixels. Only the silhouette, where the
sample would mix in the photo's backdrop, is blended: from premultiplied colour (the product's own colour, never
the backdrop's, so no halo) with the bilinear coverage as alpha, softened outwards by a small Gaussian so the
edge is a clean 1–2 px feather on every scale without touching a single exact pixel inside. The coverage is the
cutout's boundary matte when it has one (soft along the silhouette, exactly 1 inside), so a product scaled up shows
the photographed edge rather than the binary mask's pixel steps.

Speed: everything is computed in the product's box in the frame (plus a margin), not in the full frame; the
colour through a warp anchored at the frame's corner, which keeps it bit-identical to a full-frame warpAffine
(see `warp_box_exact`).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

FEATHER_SIGMA = 0.7  # px in the frame; the soft tail outside the bilinear edge
INSIDE = 0.999  # coverage at or above this is "all product": the photo's exact pixels
PAD = 2  # zero pixels around the product's crop of the photo, so bilinear samples never run off it
MARGIN = 4  # px around the product's warped box: room for the bilinear edge and the feather's tail

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 (end exclusive)


@dataclass
class ProductSource:
    """The product prepared once per video: the photo, and around the product's box (padded by 2 px of zeros)
    the mask and the premultiplied colour, sharp and softened, for sampling the silhouette."""

    photo: np.ndarray  # (H, W, 3) uint8, contiguous
    box: Box  # the product's box in photo pixels (clipped to the photo)
    cover: np.ndarray  # (h + 4, w + 4) float32 0/1 mask of `box`, zero-padded
    premult: np.ndarray  # (h + 4, w + 4, 3) float32 colour × mask
    soft_cover: np.ndarray  # the two above blurred: the product's colour next to its silhouette
    soft_premult: np.ndarray
    alpha: np.ndarray  # (h + 4, w + 4) float32 the coverage drawn: the boundary matte, else `cover`

    @classmethod
    def prepare(cls, photo_rgb: np.ndarray, mask: np.ndarray, matte: np.ndarray | None = None) -> ProductSource:
        """`matte` (0..1, exactly 1 inside) softens the silhouette's coverage; colours stay the product's own."""
        if photo_rgb.shape[:2] != mask.shape[:2]:
            raise ValueError(f"photo {photo_rgb.shape[:2]} and mask {mask.shape[:2]} differ in size")
        binary = mask > 0
        ys, xs = np.nonzero(binary if matte is None else binary | (matte > 0))
        if not len(xs):
            raise ValueError("the product mask is empty")
        box = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
        x0, y0, x1, y1 = box
        cover = np.pad(binary[y0:y1, x0:x1].astype(np.float32), PAD)
        premult = np.pad(photo_rgb[y0:y1, x0:x1].astype(np.float32), ((PAD, PAD), (PAD, PAD), (0, 0)))
        premult *= cover[..., None]
        soft_cover = cv2.GaussianBlur(cover, (0, 0), 1.0)
        soft_premult = cv2.GaussianBlur(premult, (0, 0), 1.0)
        alpha = cover if matte is None else np.pad(matte[y0:y1, x0:x1].astype(np.float32), PAD)
        return cls(np.ascontiguousarray(photo_rgb), box, cover, premult, soft_cover, soft_premult, alpha)

    def corners(self) -> np.ndarray:
        """The corners of the box grown by one pixel (the bilinear reach), photo pixel coordinates, (4, 2)."""
        x0, y0, x1, y1 = self.box
        return np.array([[x0 - 1, y0 - 1], [x1, y0 - 1], [x1, y1], [x0 - 1, y1]], np.float64)

    def sample(self, u: np.ndarray, v: np.ndarray, soft: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Bilinear (premultiplied colour (K, 3), coverage (K,)) at photo coordinates (u, v)."""
        cover, premult = (self.soft_cover, self.soft_premult) if soft else (self.cover, self.premult)
        h, w = cover.shape
        x = np.clip(u - self.box[0] + PAD, 0, w - 1.001)
        y = np.clip(v - self.box[1] + PAD, 0, h - 1.001)
        ix, iy = np.floor(x).astype(np.intp), np.floor(y).astype(np.intp)
        fx, fy = (x - ix).astype(np.float32), (y - iy).astype(np.float32)
        w00, w01 = (1 - fx) * (1 - fy), fx * (1 - fy)
        w10, w11 = (1 - fx) * fy, fx * fy
        c = w00 * cover[iy, ix] + w01 * cover[iy, ix + 1] + w10 * cover[iy + 1, ix] + w11 * cover[iy + 1, ix + 1]
        p = (
            w00[:, None] * premult[iy, ix]
            + w01[:, None] * premult[iy, ix + 1]
            + w10[:, None] * premult[iy + 1, ix]
            + w11[:, None] * premult[iy + 1, ix + 1]
        )
        return p, c


@dataclass
class ProductLayer:
    """The product in one frame: where (box), the exact colour and the alpha it was composited with."""

    box: Box
    colour: np.ndarray  # (h, w, 3) uint8
    alpha: np.ndarray  # (h, w) float32 0..1; 1 exactly where the colour is the photo's own pixels


def frame_box(source: ProductSource, placement: np.ndarray, frame_size: tuple[int, int], margin: int = MARGIN) -> Box:
    """The product's box in the frame, with a margin, on even coordinates (whole 4:2:0 chroma blocks)."""
    width, height = frame_size
    pts = source.corners() @ placement[:, :2].T + placement[:, 2]
    x0 = int(np.floor(pts[:, 0].min())) - margin
    y0 = int(np.floor(pts[:, 1].min())) - margin
    x1 = int(np.ceil(pts[:, 0].max())) + margin + 1
    y1 = int(np.ceil(pts[:, 1].max())) + margin + 1
    x0, y0 = max(0, x0 - x0 % 2), max(0, y0 - y0 % 2)
    x1, y1 = min(width, x1 + x1 % 2), min(height, y1 + y1 % 2)
    return x0, y0, max(x0, x1), max(y0, y1)


def shifted(placement: np.ndarray, origin: tuple[int, int], box: Box) -> np.ndarray:
    """The placement for a crop of the photo at `origin`, drawn into the frame's `box`."""
    m = np.asarray(placement, np.float64).copy()
    m[:, 2] = m[:, 2] + m[:, :2] @ np.asarray(origin, np.float64) - np.asarray(box[:2], np.float64)
    return m


def warp_box_exact(photo_rgb: np.ndarray, placement: np.ndarray, box: Box, frame_size: tuple[int, int]):
    """`cv2.warpAffine(photo, placement, frame_size, INTER_LINEAR, BORDER_REPLICATE)[box]`, bit for bit.

    OpenCV computes source coordinates in float32 from the destination pixel's (x, y), so a warp into a box
    with a translated matrix is not bit-identical (measured: ~0.1% of pixels 1 level off). A destination that
    starts at the frame's top-left corner is: every pixel keeps its (x, y). We warp only up to the box's right
    and bottom edges; the right edge is rounded up to a multiple of 32 px so the SIMD loop covers the same
    columns as in the full frame (its scalar tail uses another formula).
    """
    width = frame_size[0]
    x0, y0, x1, y1 = box
    right = min(width, -(-x1 // 32) * 32)
    partial = cv2.warpAffine(
        photo_rgb,
        np.asarray(placement, np.float64),
        (right, y1),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )
    return partial[y0:y1, x0:x1]


def warp_crop(src: np.ndarray, origin: tuple[int, int], placement: np.ndarray, box: Box) -> np.ndarray:
    """A crop of the photo (mask, premultiplied colour) warped into the frame's `box`; zero outside it."""
    x0, y0, x1, y1 = box
    return cv2.warpAffine(
        src,
        shifted(placement, origin, box),
        (x1 - x0, y1 - y0),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0,
    )


class FidelityLock:
    """Composites the product into frames; prepare once per video, then `apply` per frame."""

    def __init__(
        self, photo_rgb: np.ndarray, mask: np.ndarray, frame_size: tuple[int, int], matte: np.ndarray | None = None
    ):
        self.source = ProductSource.prepare(photo_rgb, mask, matte)
        self.frame_size = frame_size

    def layer(self, placement: np.ndarray) -> ProductLayer:
        placement = np.asarray(placement, np.float64)
        src = self.source
        box = frame_box(src, placement, self.frame_size)
        x0, y0, x1, y1 = box
        if x1 <= x0 or y1 <= y0:  # the product is entirely outside the frame
            return ProductLayer(box, np.zeros((0, 0, 3), np.uint8), np.zeros((0, 0), np.float32))
        colour = warp_box_exact(src.photo, placement, box, self.frame_size)
        cover = warp_crop(src.alpha, (src.box[0] - PAD, src.box[1] - PAD), placement, box)
        # Outward only: inside the bilinear edge the coverage stays; outside it a soft tail continues.
        alpha = np.maximum(cover, cv2.GaussianBlur(cover, (0, 0), FEATHER_SIGMA))
        alpha[cover >= INSIDE] = 1.0
        alpha[alpha < 1e-3] = 0.0
        ey, ex = np.nonzero((alpha > 0) & (alpha < 1.0))
        if len(ey):
            # The silhouette's colour: the product's own (premultiplied, so the photo's backdrop never bleeds in),
            # sampled sparsely at the few thousand edge pixels rather than warped for the whole box.
            inv = cv2.invertAffineTransform(placement)
            fx, fy = ex + float(x0), ey + float(y0)
            u = inv[0, 0] * fx + inv[0, 1] * fy + inv[0, 2]
            v = inv[1, 0] * fx + inv[1, 1] * fy + inv[1, 2]
            premult, cov = src.sample(u, v)
            soft_premult, soft_cov = src.sample(u, v, soft=True)
            sharp = cov > 0.05
            edge_colour = np.where(
                sharp[:, None],
                premult / np.maximum(cov, 1e-6)[:, None],
                soft_premult / np.maximum(soft_cov, 1e-6)[:, None],
            )
            colour = colour.copy()
            colour[ey, ex] = np.clip(edge_colour + 0.5, 0, 255).astype(np.uint8)
        return ProductLayer(box, colour, alpha)

    def apply(self, frame: np.ndarray, placement: np.ndarray) -> ProductLayer:
        """Composite the product into `frame` (H, W, 3 uint8) in place; returns the layer it composited."""
        layer = self.layer(placement)
        x0, y0, x1, y1 = layer.box
        if x1 > x0 and y1 > y0:
            view = frame[y0:y1, x0:x1]
            # Inside: the photo's pixels, copied bit for bit. The silhouette: blended, pixel by pixel.
            cv2.copyTo(layer.colour, (layer.alpha >= 1.0).view(np.uint8), view)
            ey, ex = np.nonzero((layer.alpha > 0) & (layer.alpha < 1.0))
            if len(ey):
                a = layer.alpha[ey, ex][:, None]
                base = view[ey, ex].astype(np.float32)
                view[ey, ex] = np.rint(base + a * (layer.colour[ey, ex].astype(np.float32) - base)).astype(np.uint8)
        return layer


def warp_product(photo_rgb: np.ndarray, mask: np.ndarray, placement: np.ndarray, frame_size: tuple[int, int]):
    """(colour, alpha) of the product in one full frame: uint8 (H, W, 3) and float32 (H, W) in 0..1."""
    width, height = frame_size
    layer = FidelityLock(photo_rgb, mask, frame_size).layer(placement)
    colour = np.zeros((height, width, 3), np.uint8)
    alpha = np.zeros((height, width), np.float32)
    x0, y0, x1, y1 = layer.box
    colour[y0:y1, x0:x1] = layer.colour
    alpha[y0:y1, x0:x1] = layer.alpha
    return colour, alpha
