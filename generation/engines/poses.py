"""Pose keyframes of the human model for model variants, in frame pixels around the product's placement.

A template describes one way a person shows a product as a few keyframes of the 18 OpenPose/COCO body keypoints
in *body units* (1.0 = the body's height, x to the image's right, y down) relative to an anchor: the point where
the product's centre sits (between the hands at chest height, on an open palm, beside the legs, on the torso).
For every frame the anchor goes to the product's centre under the layout's placement and the body is scaled so
that the product has the size the template expects relative to the body; so the person is placed around the
product wherever the layout put it, and follows its camera motion.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# OpenPose-18 order, the one controlnet-aux's draw_bodypose expects. "r_" is the person's right (image left).
KEYPOINTS = (
    "nose",
    "neck",
    "r_shoulder",
    "r_elbow",
    "r_wrist",
    "l_shoulder",
    "l_elbow",
    "l_wrist",
    "r_hip",
    "r_knee",
    "r_ankle",
    "l_hip",
    "l_knee",
    "l_ankle",
    "r_eye",
    "l_eye",
    "r_ear",
    "l_ear",
)
K = {name: i for i, name in enumerate(KEYPOINTS)}

# A person standing, facing the camera: feet at y = 0, top of the head at y = -1.
_STANDING = {
    "nose": (0.0, -0.90),
    "neck": (0.0, -0.81),
    "r_shoulder": (-0.10, -0.80),
    "r_elbow": (-0.13, -0.63),
    "r_wrist": (-0.14, -0.47),
    "l_shoulder": (0.10, -0.80),
    "l_elbow": (0.13, -0.63),
    "l_wrist": (0.14, -0.47),
    "r_hip": (-0.06, -0.48),
    "r_knee": (-0.065, -0.26),
    "r_ankle": (-0.065, -0.03),
    "l_hip": (0.06, -0.48),
    "l_knee": (0.065, -0.26),
    "l_ankle": (0.065, -0.03),
    "r_eye": (-0.02, -0.925),
    "l_eye": (0.02, -0.925),
    "r_ear": (-0.045, -0.915),
    "l_ear": (0.045, -0.915),
}


def _pose(**changes: tuple[float, float]) -> np.ndarray:
    points = dict(_STANDING)
    points.update(changes)
    return np.array([points[name] for name in KEYPOINTS], np.float64)


def _shift(pose: np.ndarray, dx: float = 0.0, dy: float = 0.0, names: tuple[str, ...] = KEYPOINTS) -> np.ndarray:
    out = pose.copy()
    for name in names:
        out[K[name]] += (dx, dy)
    return out


_HEAD = ("nose", "r_eye", "l_eye", "r_ear", "l_ear")


@dataclass(frozen=True)
class PoseTemplate:
    name: str
    description: str  # goes into the prompt
    anchor: tuple[float, float]  # where the product's centre sits, in the keyframes' body units
    product_size: float  # the product's height relative to the body's height in this pose
    keyframes: tuple[tuple[float, np.ndarray], ...]  # (time 0..1, (18, 2) keypoints in body units)

    def at(self, t: float) -> np.ndarray:
        """Keypoints at time t (0..1), eased between keyframes, relative to the anchor."""
        times = [k[0] for k in self.keyframes]
        t = float(np.clip(t, times[0], times[-1]))
        j = max(0, min(len(times) - 2, int(np.searchsorted(times, t, side="right")) - 1))
        t0, p0 = self.keyframes[j]
        t1, p1 = self.keyframes[j + 1]
        u = 0.0 if t1 <= t0 else (t - t0) / (t1 - t0)
        u = 0.5 - 0.5 * np.cos(np.pi * u)  # ease in and out, so limbs do not jerk at keyframes
        return (1 - u) * p0 + u * p1 - np.asarray(self.anchor)


def _holding() -> PoseTemplate:
    # Both hands at the product's sides at chest height, elbows bent outwards; a gentle sway and head tilt.
    base = _pose(r_elbow=(-0.16, -0.61), r_wrist=(-0.07, -0.67), l_elbow=(0.16, -0.61), l_wrist=(0.07, -0.67))
    sway = _shift(_shift(base, dx=0.012), dx=0.01, dy=0.004, names=_HEAD)
    return PoseTemplate(
        "holding",
        "holding the product with both hands at chest height",
        anchor=(0.0, -0.67),
        product_size=0.2,
        keyframes=((0.0, base), (0.5, sway), (1.0, base)),
    )


def _presenting() -> PoseTemplate:
    # The right forearm held out, palm up at waist-to-chest height, the product resting on it; the hand rises.
    low = _pose(r_elbow=(-0.17, -0.57), r_wrist=(-0.25, -0.585))
    high = _shift(_pose(r_elbow=(-0.17, -0.59), r_wrist=(-0.25, -0.615)), dx=0.005, dy=-0.005, names=_HEAD)
    return PoseTemplate(
        "presenting",
        "presenting the product on an open palm",
        anchor=(-0.25, -0.66),
        product_size=0.1,
        keyframes=((0.0, low), (0.6, high), (1.0, high)),
    )


def _beside() -> PoseTemplate:
    # Standing next to a large item, the near hand resting on its top edge, turning slightly towards it.
    base = _pose(l_elbow=(0.17, -0.62), l_wrist=(0.24, -0.56))
    turned = _shift(_pose(l_elbow=(0.17, -0.62), l_wrist=(0.24, -0.55)), dx=0.012, names=(*_HEAD, "neck"))
    return PoseTemplate(
        "beside",
        "standing beside the product",
        anchor=(0.42, -0.27),
        product_size=0.5,
        keyframes=((0.0, base), (0.5, turned), (1.0, base)),
    )


def _wearing() -> PoseTemplate:
    # The garment on the torso: anchor between shoulders and hips; a slow quarter turn narrows the shoulders.
    front = _pose(r_wrist=(-0.15, -0.47), l_wrist=(0.15, -0.47))
    turn = _pose(
        r_shoulder=(-0.085, -0.80),
        l_shoulder=(0.085, -0.80),
        r_hip=(-0.05, -0.48),
        l_hip=(0.05, -0.48),
        r_elbow=(-0.115, -0.63),
        l_elbow=(0.115, -0.63),
        r_wrist=(-0.125, -0.47),
        l_wrist=(0.125, -0.47),
    )
    return PoseTemplate(
        "wearing",
        "wearing the product",
        anchor=(0.0, -0.64),
        product_size=0.36,
        keyframes=((0.0, front), (0.5, turn), (1.0, front)),
    )


def _walking() -> PoseTemplate:
    # Walking past the product from left to right behind it: the body travels while the legs and arms alternate.
    def step(phase: float, dx: float) -> np.ndarray:
        s = 0.06 * phase  # stride: +1 right leg forward, -1 left leg forward
        p = _pose(
            r_knee=(-0.065 + s * 0.5, -0.26),
            r_ankle=(-0.065 + s, -0.03),
            l_knee=(0.065 - s * 0.5, -0.26),
            l_ankle=(0.065 - s, -0.03),
            r_wrist=(-0.14 - s * 0.6, -0.47),
            l_wrist=(0.14 + s * 0.6, -0.47),
        )
        return _shift(p, dx=dx)

    frames = tuple((t, step((-1.0) ** i, -0.45 + 0.9 * t)) for i, t in enumerate(np.linspace(0.0, 1.0, 7)))
    return PoseTemplate(
        "walking",
        "walking past the product",
        anchor=(0.0, -0.55),
        product_size=0.22,
        keyframes=frames,
    )


TEMPLATES: dict[str, PoseTemplate] = {t.name: t for t in (_holding(), _presenting(), _beside(), _wearing(), _walking())}

# Product categories (generation.models.Product.Category) → template; the aspect ratio may change the choice.
_BY_CATEGORY = {
    "apparel": "wearing",
    "accessories": "presenting",
    "beauty": "presenting",
    "home": "beside",
    "sports": "beside",
}


def choose_template(category: str, aspect_ratio: str) -> PoseTemplate:
    """The pose for a product category and frame shape: wide frames leave room for someone walking past."""
    name = _BY_CATEGORY.get(category, "holding")
    if name == "holding" and aspect_ratio == "16:9":
        name = "walking"
    return TEMPLATES[name]


def aspect_of(width: int, height: int) -> str:
    ratio = width / height
    return min(("9:16", 9 / 16), ("1:1", 1.0), ("16:9", 16 / 9), ("4:5", 0.8), key=lambda a: abs(a[1] - ratio))[0]


def layout_fill(template: PoseTemplate, frame_size: tuple[int, int], body_fill: float = 0.9) -> float:
    """The layout's product `fill` for this pose so that a whole person (body_fill of the frame height) fits."""
    width, height = frame_size
    return float(min(0.62, template.product_size * body_fill * height / min(width, height)))


@dataclass
class PoseTrack:
    template: PoseTemplate
    keypoints: np.ndarray  # (frames, 18, 2) frame pixels (x, y), pixel centres at integer coordinates
    body_height: np.ndarray  # (frames,) the body's height in frame pixels


def plan_pose(
    *,
    placements: np.ndarray,
    product_bbox: tuple[int, int, int, int],
    template: PoseTemplate,
    frame_size: tuple[int, int],
) -> PoseTrack:
    """Per-frame keypoints in frame pixels: the template's anchor on the product's centre under each placement."""
    x0, y0, x1, y1 = product_bbox
    centre = np.array([(x0 + x1 - 1) / 2.0, (y0 + y1 - 1) / 2.0, 1.0])
    n = len(placements)
    height = frame_size[1]
    keypoints = np.zeros((n, len(KEYPOINTS), 2), np.float64)
    body = np.zeros(n, np.float64)
    for i, placement in enumerate(placements):
        scale = float(np.sqrt(abs(np.linalg.det(placement[:, :2]))))
        # The body follows the product's size (push-in moves the person with it), within sane framing limits.
        body[i] = float(np.clip(scale * (y1 - y0) / template.product_size, 0.5 * height, 4.0 * height))
        anchor = placement @ centre
        keypoints[i] = anchor + template.at(i / max(1, n - 1)) * body[i]
    return PoseTrack(template=template, keypoints=keypoints, body_height=body)
