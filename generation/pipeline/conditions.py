"""Stage 4 (DiT only): the three inputs of Wan VACE, built from a render request. Pure arrays in, arrays out.

- `video`: the real product pixels where the product is kept, the control signal elsewhere: an OpenPose skeleton
  drawn from the pose keyframes when a model look is requested, else canny edges of the scene layout.
- `mask`: VACE's convention, black (0) = keep, white (255) = generate. Black exactly on the product's warped mask
  eroded by `erode_px`, so the model repaints the silhouette's anti-aliased rim and blends it into the scene; the
  fidelity lock puts the exact pixels back afterwards.
- `reference_image`: the product cut out on white, cropped to its box (VACE pads it onto a white canvas).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import cv2
import numpy as np

from generation.controlnet_aux_compat import CannyDetector, Keypoint, draw_bodypose
from generation.engines.base import RenderRequest

from .fidelity import warp_product
from .poses import PoseTrack, aspect_of, choose_template, plan_pose

KEEP, GENERATE = 0, 255
ERODE_PX = 2

NEGATIVE_PROMPT = (
    "distorted product, deformed product, warped or melted packaging, altered logo, garbled text, misspelled text, "
    "extra letters, unreadable label, duplicate product, extra limbs, extra fingers, deformed hands, "
    "blurry, low quality, jpeg artifacts, flicker, watermark, subtitles"
)


@dataclass
class VaceConditions:
    video: np.ndarray  # (frames, H, W, 3) uint8
    mask: np.ndarray  # (frames, H, W) uint8, 0 = keep, 255 = generate
    reference_image: np.ndarray  # (h, w, 3) uint8, the product on white, cropped to its box
    prompt: str
    negative_prompt: str
    control: str  # "pose" or "canny"
    pose: PoseTrack | None = None


def keep_masks(request: RenderRequest, erode_px: int = ERODE_PX) -> np.ndarray:
    """(frames, H, W) bool: the product's warped mask per frame, eroded by erode_px."""
    size = (request.width, request.height)
    src = (request.mask > 0).astype(np.uint8) * 255
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * erode_px + 1, 2 * erode_px + 1)) if erode_px else None
    out = np.zeros((request.frames, request.height, request.width), bool)
    for i, placement in enumerate(request.layout.placements):
        warped = cv2.warpAffine(src, placement.astype(np.float64), size, flags=cv2.INTER_NEAREST, borderValue=0)
        out[i] = (cv2.erode(warped, kernel) if kernel is not None else warped) > 0
    return out


def reference_image(photo_rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The product on white, cropped to the mask's bounding box."""
    ys, xs = np.nonzero(mask)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    crop = photo_rgb[y0:y1, x0:x1].copy()
    crop[mask[y0:y1, x0:x1] == 0] = 255
    return crop


def pose_frames(track: PoseTrack, frame_size: tuple[int, int]) -> np.ndarray:
    """(frames, H, W, 3) uint8: the OpenPose skeleton of each frame on black, drawn by controlnet-aux."""
    width, height = frame_size
    out = np.zeros((len(track.keypoints), height, width, 3), np.uint8)
    for i, points in enumerate(track.keypoints):
        # draw_bodypose takes coordinates normalised by the canvas size.
        keypoints = [Keypoint(float(x) / width, float(y) / height) for x, y in points]
        draw_bodypose(out[i], keypoints)
    return out


def scene_layout_frames(request: RenderRequest) -> np.ndarray:
    """(frames, H, W, 3) uint8: the scene the compositor would paint, plus the surface the product stands on."""
    from generation.engines.compositor import CompositorEngine  # the CPU engine paints the same scene

    frames = CompositorEngine().render(dataclasses.replace(request, on_progress=lambda _: None)).copy()
    x0, _, x1, y1 = request.layout.product_bbox
    base = np.array([(x0 + x1 - 1) / 2.0, y1 - 1.0, 1.0])
    shade = np.clip(frames.astype(np.int16) - 40, 0, 255).astype(np.uint8)
    for i, placement in enumerate(request.layout.placements):
        # A table edge / floor line just under the product, so that the model grounds it instead of floating it.
        y = round(float((placement @ base)[1]) + 0.02 * request.height)
        if 0 <= y < request.height:
            frames[i, y:] = shade[i, y:]
    return frames


def canny_frames(frames: np.ndarray) -> np.ndarray:
    detector = CannyDetector()
    n, height, width = frames.shape[:3]
    out = np.empty_like(frames)
    for i in range(n):
        # The detector snaps sizes to multiples of 64; bring the edges back to the exact frame size.
        edges = detector(
            frames[i],
            low_threshold=50,
            high_threshold=150,
            detect_resolution=min(height, width),
            image_resolution=min(height, width),
            output_type="np",
        )
        out[i] = cv2.resize(edges, (width, height), interpolation=cv2.INTER_NEAREST)
    return out


def build_prompt(request: RenderRequest, pose_description: str | None) -> str:
    product = request.product_title.strip() or "the product"
    category = request.product_category.replace("_", " ")
    parts = [f"{product}, a {category} product" if category and category != "other" else product]
    if request.look is not None:
        parts.append(f"a person, {request.look.descriptors}, {pose_description or 'with the product'}")
    parts.append(request.scene.prompt)
    parts.append("photorealistic commercial product video, sharp focus on the product, smooth natural motion")
    return ", ".join(p for p in parts if p)


def build_conditions(request: RenderRequest, *, erode_px: int = ERODE_PX) -> VaceConditions:
    keep = keep_masks(request, erode_px)
    track: PoseTrack | None = None
    if request.look is not None:
        template = choose_template(request.product_category, aspect_of(request.width, request.height))
        track = plan_pose(
            placements=request.layout.placements,
            product_bbox=request.layout.product_bbox,
            template=template,
            frame_size=(request.width, request.height),
        )
        video = pose_frames(track, (request.width, request.height))
        control = "pose"
    else:
        video = canny_frames(scene_layout_frames(request))
        control = "canny"
    for i, placement in enumerate(request.layout.placements):
        colour, _ = warp_product(request.photo_rgb, request.mask, placement, (request.width, request.height))
        video[i][keep[i]] = colour[keep[i]]
    mask = np.where(keep, KEEP, GENERATE).astype(np.uint8)
    return VaceConditions(
        video=video,
        mask=mask,
        reference_image=reference_image(request.photo_rgb, request.mask),
        prompt=build_prompt(request, track.template.description if track else None),
        negative_prompt=NEGATIVE_PROMPT,
        control=control,
        pose=track,
    )
