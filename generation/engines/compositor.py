"""The CPU engine: procedural scenes with camera motion, light and a contact shadow, everything but the product.

Each background is painted once per video on a canvas larger than the frame (compositor_scenes), then every frame
is one warpAffine of that canvas plus a few cheap per-pixel operations, so rendering stays faster than real time
on two cores. The camera is derived from the product's placements: the background follows the product's motion
with a parallax factor below one (it is further away), so a push-in or pan reads as a filmed camera move.

The product pixels themselves are composited afterwards by the pipeline's fidelity lock; this engine draws the
soft contact shadow under where the product stands, from its mask and each frame's placement.

Options (`request.options`): `shadow` (bool, default True), `light` (bool, default True: the slowly drifting
light patch), `grain` (float, default 1.0: film grain strength in 8-bit levels, 0 for none), `parallax` (float,
default 1.0: scales how much the background follows the camera; 0 keeps it still).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from .base import RenderRequest
from .compositor_scenes import SceneGeometry, SceneLayers, hex_to_rgb, paint_scene
from .compositor_scenes.noise import smoothstep

__all__ = ["CompositorEngine", "background_cameras", "hex_to_rgb"]

# Parallax: how much of the product's apparent motion the background follows (translation, log-scale, rotation).
PARALLAX_TRANSLATE = 0.4
PARALLAX_SCALE = 0.5
PARALLAX_ROTATE = 0.4
# In a reveal the product itself rises into the shot (the layout moves it, not the camera): the background
# follows only a little of that translation, as a camera tilting gently after it would.
MOTION_TRANSLATE = {"reveal": 0.1}
MAX_CANVAS_AREA = 6.0  # × frame area; wilder layouts get their parallax reduced instead of a huge canvas
CANVAS_PAD = 8  # px around the area any frame sees, so bilinear sampling never reaches the border
GAIN_ONE = 224  # uint8 gain map: this value is ×1.0 (cv2.multiply on uint8 keeps per-frame work in OpenCV)
LIGHT_GRID = 8  # the light/vignette gain is computed at 1/8 resolution, then enlarged (it is smooth)
PAINT_SHARE = 0.1  # share of the progress bar for painting the canvas; the rest is per frame


# Frame px → half-size px, pixel centres kept (x_half = (x + 0.5) / 2 − 0.5), as cv2.resize assumes.
_HALF = np.array([[0.5, 0.0, -0.25], [0.0, 0.5, -0.25], [0.0, 0.0, 1.0]])


def _affine3(m: np.ndarray) -> np.ndarray:
    out = np.eye(3)
    out[:2] = m
    return out


def _translate(x: float, y: float) -> np.ndarray:
    return np.array([[1.0, 0.0, x], [0.0, 1.0, y], [0.0, 0.0, 1.0]])


def background_cameras(
    placements: np.ndarray, anchor: tuple[float, float], parallax: tuple[float, float, float]
) -> np.ndarray:
    """(n, 3, 3) transforms from frame-0 background coordinates to frame i, following the product with parallax.

    The product's motion relative to frame 0 is M_i = P_i · P_0⁻¹; from it we take the scale, rotation and where
    the product's `anchor` (photo px) went, and move the background by a fraction of each, around the same point.
    """
    kt, ks, kr = parallax
    p0_inv = np.linalg.inv(_affine3(placements[0]))
    c0 = _affine3(placements[0]) @ np.array([anchor[0], anchor[1], 1.0])
    cams = np.empty((len(placements), 3, 3))
    for i, placement in enumerate(placements):
        rel = _affine3(placement) @ p0_inv
        a = rel[:2, :2]
        scale = math.sqrt(abs(float(np.linalg.det(a))))
        angle = math.atan2(a[1, 0], a[0, 0])
        ci = rel @ c0
        s, th = scale**ks, angle * kr
        rot = np.array([[math.cos(th), -math.sin(th), 0.0], [math.sin(th), math.cos(th), 0.0], [0.0, 0.0, 1.0]])
        target = c0[:2] + kt * (ci[:2] - c0[:2])
        cams[i] = _translate(*target) @ rot @ np.diag([s, s, 1.0]) @ _translate(-c0[0], -c0[1])
    return cams


@dataclass
class _Plan:
    """Everything decided before the first frame: canvas placement, per-frame matrices, product geometry."""

    to_frame: np.ndarray  # (n, 3, 3) canvas px → frame i px
    geometry: SceneGeometry
    bottoms: np.ndarray  # (n,) canvas y of the product's bottom in each frame


def _plan(request: RenderRequest, parallax_gain: float) -> _Plan:
    w, h = request.width, request.height
    placements = np.asarray(request.layout.placements, np.float64)
    x0, y0, x1, y1 = request.layout.product_bbox
    anchor = ((x0 + x1 - 1) / 2.0, (y0 + y1 - 1) / 2.0)
    corners = np.array([[0, 0, 1], [w, 0, 1], [0, h, 1], [w, h, 1]], np.float64).T
    translate = MOTION_TRANSLATE.get(request.layout.motion, PARALLAX_TRANSLATE)
    factors = np.array([translate, PARALLAX_SCALE, PARALLAX_ROTATE]) * parallax_gain
    for _ in range(8):
        cams = background_cameras(placements, anchor, tuple(factors))
        seen = np.concatenate([np.linalg.inv(c) @ corners for c in cams], axis=1)[:2]
        lo, hi = seen.min(axis=1) - CANVAS_PAD, seen.max(axis=1) + CANVAS_PAD
        size = np.ceil(hi - lo).astype(int)
        if size[0] * size[1] <= MAX_CANVAS_AREA * w * h:
            break
        factors = factors * 0.5
    offset = -lo  # canvas = frame-0 coordinates + offset
    to_frame = cams @ _translate(-offset[0], -offset[1])
    from_frame = np.linalg.inv(to_frame)
    # The product's bbox in canvas coordinates, frame by frame; its typical (median) place is where the floor is.
    box = np.array([[x0, y0, 1], [x1, y0, 1], [x0, y1, 1], [x1, y1, 1]], np.float64).T
    on_canvas = np.stack([from_frame[i] @ _affine3(placements[i]) @ box for i in range(len(placements))])
    bottoms = on_canvas[:, 1].max(axis=1)
    widths = on_canvas[:, 0].max(axis=1) - on_canvas[:, 0].min(axis=1)
    heights = bottoms - on_canvas[:, 1].min(axis=1)
    geometry = SceneGeometry(
        width=int(size[0]),
        height=int(size[1]),
        view_x=float(offset[0]),
        view_y=float(offset[1]),
        view_w=w,
        view_h=h,
        floor_y=float(np.median(bottoms)),
        product_x=float(np.median(on_canvas[:, 0].mean(axis=1))),
        product_w=float(np.median(widths)),
        product_h=float(np.median(heights)),
    )
    return _Plan(to_frame=to_frame, geometry=geometry, bottoms=bottoms)


@dataclass
class _ShadowStamp:
    alpha: np.ndarray  # (sh, sw) float32 0..1, the shadow's opacity in stamp pixels
    to_photo: np.ndarray  # 3×3, stamp px → photo px


def contact_shadow_stamp(mask: np.ndarray, bbox: tuple[int, int, int, int]) -> _ShadowStamp:
    """The product's shadow on the floor, in (reduced) photo coordinates, so each placement can warp it.

    Three parts, as a real soft-box shot shows them: a dark, tight contact line where the base touches the floor,
    a wider ambient-occlusion pool around it, and the silhouette projected down (flipped, squashed, slightly
    skewed away from the key light) and blurred, so a wide or irregular product gets a matching shadow.
    """
    x0, y0, x1, y1 = bbox
    bw, bh = max(1, x1 - x0), max(1, y1 - y0)
    f = min(1.0, 220.0 / max(bw, bh))  # stamp px per photo px: the shadow is soft, a small stamp is enough
    pad_x, pad_b = 0.75 * bw, 0.5 * bw + 0.12 * bh
    cw, ch = max(1, round(bw * f)), max(1, round(bh * f))
    crop = cv2.resize((mask[y0:y1, x0:x1] > 0).astype(np.float32), (cw, ch), interpolation=cv2.INTER_AREA)
    sw, sh = round((bw + 2 * pad_x) * f), round((bh + pad_b) * f)
    px = round(pad_x * f)
    silhouette = np.zeros((sh, sw), np.float32)
    silhouette[:ch, px : px + cw] = crop
    rows = np.nonzero(crop.max(axis=1) > 0.5)[0]
    yb = int(rows.max()) if rows.size else ch - 1
    band = crop[max(0, yb - max(1, round(0.06 * ch))) : yb + 1]
    cols = np.nonzero(band.max(axis=0) > 0.5)[0]
    fx0, fx1 = (int(cols.min()), int(cols.max())) if cols.size else (0, cw - 1)
    fw = float(max(fx1 - fx0 + 1, 0.15 * cw))
    fc = px + (fx0 + fx1) / 2.0

    def ellipse(cy: float, ax: float, ay: float, sigma: float) -> np.ndarray:
        layer = np.zeros((sh, sw), np.float32)
        cv2.ellipse(layer, (round(fc * 4), round(cy * 4)), (round(ax * 4), round(max(ay, 0.5) * 4)), 0, 0, 360, 1.0, -1,
                    cv2.LINE_AA, shift=2)  # fmt: skip
        return cv2.GaussianBlur(layer, (0, 0), max(sigma, 0.6))

    contact = ellipse(yb + 0.01 * fw, 0.5 * fw, 0.05 * fw + 1.0, 0.03 * fw + 0.8) * 0.9
    ambient = ellipse(yb + 0.04 * fw, 0.72 * fw, 0.16 * fw, 0.09 * fw) * 0.55
    # Silhouette flipped under the base, squashed to 16 % of its height, sheared a little, blurred wide.
    flipped = silhouette[: yb + 1][::-1]
    squash = max(1, round(flipped.shape[0] * 0.16))
    flipped = cv2.resize(flipped, (sw, squash), interpolation=cv2.INTER_AREA)
    projected = np.zeros((sh, sw), np.float32)
    rows_fit = min(squash, sh - yb)
    projected[yb : yb + rows_fit] = flipped[:rows_fit]
    shear = np.float32([[1, 0.6, -0.6 * yb], [0, 1, 0]])
    projected = cv2.warpAffine(projected, shear, (sw, sh))
    projected = cv2.GaussianBlur(projected, (0, 0), 0.04 * ch + 1.0) * 0.35
    alpha = np.clip(1.0 - (1.0 - contact) * (1.0 - ambient) * (1.0 - projected), 0.0, 1.0)
    # Keep only where the shadow is visible (under 1/4 of a grey level it is not), so each frame touches a small ROI.
    rows = np.nonzero(alpha.max(axis=1) > 0.002)[0]
    cols = np.nonzero(alpha.max(axis=0) > 0.002)[0]
    r0, r1 = (int(rows.min()), int(rows.max()) + 1) if rows.size else (0, 1)
    c0, c1 = (int(cols.min()), int(cols.max()) + 1) if cols.size else (0, 1)
    to_photo = np.array([[1.0 / f, 0.0, x0 + (c0 - px) / f], [0.0, 1.0 / f, y0 + r0 / f], [0.0, 0.0, 1.0]])
    return _ShadowStamp(alpha=np.ascontiguousarray(alpha[r0:r1, c0:c1]), to_photo=to_photo)


def _apply_shadow(frame: np.ndarray, stamp: _ShadowStamp, placement: np.ndarray, tint: np.ndarray, strength: float):
    """Darken the frame under the product: warp the stamp into just the region it covers, multiply there."""
    h, w = frame.shape[:2]
    m = _affine3(placement) @ stamp.to_photo
    sh, sw = stamp.alpha.shape
    pts = m @ np.array([[0, 0, 1], [sw, 0, 1], [0, sh, 1], [sw, sh, 1]], np.float64).T
    rx0, ry0 = max(0, int(np.floor(pts[0].min()))), max(0, int(np.floor(pts[1].min())))
    rx1, ry1 = min(w, int(np.ceil(pts[0].max())) + 1), min(h, int(np.ceil(pts[1].max())) + 1)
    if rx1 <= rx0 or ry1 <= ry0 or strength <= 0:
        return
    local = (_translate(-rx0, -ry0) @ m)[:2]
    alpha = cv2.warpAffine(stamp.alpha, local, (rx1 - rx0, ry1 - ry0), flags=cv2.INTER_LINEAR, borderValue=0)
    roi = frame[ry0:ry1, rx0:rx1]
    factor = 1.0 - (strength * alpha)[..., None] * (1.0 - tint)
    roi[:] = np.clip(roi * factor + 0.5, 0, 255).astype(np.uint8)


class _Light:
    """Vignette (fixed on screen, as a lens does) times a soft light patch that drifts across the set."""

    def __init__(self, layers: SceneLayers, plan: _Plan, width: int, height: int, frames: int, enabled: bool):
        self.width, self.height, self.frames = width, height, frames
        lw, lh = max(4, width // LIGHT_GRID), max(4, height // LIGHT_GRID)
        # Low-res pixel centres expressed in full-res pixels (cv2.resize's half-pixel convention).
        self.gx = ((np.arange(lw, dtype=np.float32) + 0.5) * width / lw - 0.5)[None, :]
        self.gy = ((np.arange(lh, dtype=np.float32) + 0.5) * height / lh - 0.5)[:, None]
        r2 = ((self.gx - (width - 1) / 2) / (width / 2)) ** 2 + ((self.gy - (height - 1) / 2) / (height / 2)) ** 2
        self.vignette = (1.0 - layers.vignette * smoothstep(0.35, 2.0, r2))[..., None]
        self.spec = layers.light
        self.tint = np.asarray(layers.light.tint, np.float32)
        self.to_frame = plan.to_frame
        self.enabled = enabled and layers.light.amount > 0
        self._static = None if self.enabled else self._enlarge(self.vignette)

    def _enlarge(self, gain: np.ndarray) -> np.ndarray:
        gain = np.broadcast_to(gain, (*gain.shape[:2], 3))  # the vignette alone is grey: one channel → three
        small = np.clip(gain * GAIN_ONE + 0.5, 0, 255).astype(np.uint8)
        return cv2.resize(small, (self.width, self.height), interpolation=cv2.INTER_LINEAR)

    def gain(self, i: int) -> np.ndarray:
        if self._static is not None:
            return self._static
        t = i / max(1, self.frames - 1)
        s = self.spec
        centre = np.array([s.start[0] + (s.end[0] - s.start[0]) * t, s.start[1] + (s.end[1] - s.start[1]) * t, 1.0])
        cx, cy, _ = self.to_frame[i] @ centre
        patch = np.exp(-((self.gx - cx) ** 2 + (self.gy - cy) ** 2) / (2.0 * s.radius**2))[..., None]
        gain = self.vignette * (1.0 + s.amount * patch) * (1.0 + (self.tint - 1.0) * patch)
        return self._enlarge(gain)


def _grain(width: int, height: int, sigma: float, seed: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Film grain as two uint8 layers (added, subtracted). Fixed per video: grain that changes every frame would
    itself be flicker, while a fixed, faint one dithers smooth gradients so that the encoder does not band them."""
    if sigma <= 0:
        return None
    rng = np.random.default_rng([int(seed) & 0xFFFFFFFF, 7])
    noise = rng.standard_normal((height, width), dtype=np.float32)
    noise = cv2.GaussianBlur(noise, (0, 0), 0.6) * (sigma * 1.9)  # clumped like film grain; σ restored after blur
    noise = np.rint(noise)
    pos = np.repeat(np.clip(noise, 0, 255).astype(np.uint8)[..., None], 3, axis=2)
    neg = np.repeat(np.clip(-noise, 0, 255).astype(np.uint8)[..., None], 3, axis=2)
    return pos, neg


class CompositorEngine:
    name = "compositor"

    def render(self, request: RenderRequest) -> np.ndarray:
        w, h, n = request.width, request.height, request.frames
        placements = np.asarray(request.layout.placements, np.float64)
        if len(placements) != n:
            raise ValueError(f"the layout has {len(placements)} placements for {n} frames")
        opts = request.options or {}
        plan = _plan(request, float(opts.get("parallax", 1.0)))
        layers = paint_scene(request.scene.style, plan.geometry, request.palette, request.seed, request.scene.slug)
        light = _Light(layers, plan, w, h, n, bool(opts.get("light", True)))
        grain = _grain(w, h, float(opts.get("grain", 1.0)), request.seed)
        stamp = contact_shadow_stamp(request.mask, request.layout.product_bbox) if opts.get("shadow", True) else None
        geo = plan.geometry
        # A product lifted off its floor line (e.g. rising into the shot) casts a fainter shadow until it lands.
        lift = np.abs(plan.bottoms - geo.floor_y) / max(geo.product_h, 1.0)
        shadow_strength = layers.shadow_strength * np.exp(-((lift / 0.12) ** 2))
        glow_to_canvas = None
        half_w, half_h = (w + 1) // 2, (h + 1) // 2
        if layers.glow is not None:
            k = 1.0 / layers.glow_scale
            glow_to_canvas = np.array([[k, 0.0, 0.5 * k - 0.5], [0.0, k, 0.5 * k - 0.5], [0.0, 0.0, 1.0]])
        request.on_progress(PAINT_SHARE)

        frames = np.empty((n, h, w, 3), np.uint8)
        for i in range(n):
            frame = frames[i]
            cv2.warpAffine(
                layers.base,
                plan.to_frame[i][:2],
                (w, h),
                dst=frame,
                flags=cv2.INTER_LINEAR,
                borderMode=cv2.BORDER_REFLECT_101,
            )
            if glow_to_canvas is not None and layers.glow is not None:
                t = i / max(1, n - 1)
                drift = _translate(layers.glow_drift[0] * t, layers.glow_drift[1] * t)
                # The glow is soft: warp it at half the frame size and enlarge (2× cheaper than a full-size warp).
                glow = cv2.warpAffine(
                    layers.glow,
                    (_HALF @ plan.to_frame[i] @ drift @ glow_to_canvas)[:2],
                    (half_w, half_h),
                    flags=cv2.INTER_LINEAR,
                )
                cv2.add(frame, cv2.resize(glow, (w, h), interpolation=cv2.INTER_LINEAR), dst=frame)
            if stamp is not None:
                _apply_shadow(frame, stamp, placements[i], layers.shadow_tint, float(shadow_strength[i]))
            cv2.multiply(frame, light.gain(i), dst=frame, scale=1.0 / GAIN_ONE)
            if grain is not None:
                cv2.add(frame, grain[0], dst=frame)
                cv2.subtract(frame, grain[1], dst=frame)
            request.on_progress(1.0 if i == n - 1 else PAINT_SHARE + (1.0 - PAINT_SHARE) * (i + 1) / n)
        # The product itself is composited by the pipeline's fidelity lock, after every engine.
        return frames
