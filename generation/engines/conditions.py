"""The DiT engine's conditions: the three inputs of Wan VACE, built from a render request. Pure arrays in, arrays out.

- `video`: the real product pixels where the product is kept, the control signal elsewhere, one of the signals VACE
  was trained on: the OpenPose body skeleton drawn from the pose keyframes when a model look is requested (drawn as
  VACE's pose annotator draws it, `pose_frames`), else gray 128 (no signal: VACE's plain in/outpainting, where
  Wan-Video/Wan2.1 `wan/vace.py` `WanVace.prepare_source` fills a missing source with zeros in [-1, 1]).
- `mask`: VACE's convention, black (0) = keep, white (255) = generate. Black exactly on the product's warped mask
  eroded by `erode_px`, so the model repaints the silhouette's anti-aliased rim and blends it into the scene; the
  fidelity lock puts the exact pixels back afterwards.
- `reference_image`: the product cut out on white, cropped to its box (VACE pads it onto a white canvas).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from django.conf import settings

from .base import RenderRequest
from .controlnet_aux_compat import Keypoint, draw_bodypose
from .poses import PoseTrack, aspect_of, choose_template, plan_pose
from .product_layer import warp_product

KEEP, GENERATE = 0, 255
ERODE_PX = 2
NO_SIGNAL = 128  # the gray of "generate freely"; VACE's own fill is 127.5 (frameref.py REF_COLOR)
# ali-vilab/VACE `vace/annotators/pose.py` PoseAnnotator: the image is resized to a 1024-px short side
# (RESIZE_SIZE, via dwpose `resize_image`, sides rounded to multiples of 64) and the skeleton drawn at that size.
POSE_CANVAS_SHORT_SIDE = 1024

# Wan2.1's own negative prompt, verbatim (Wan-Video/Wan2.1 `wan/configs/shared_config.py` `sample_neg_prompt`,
# which `WanVace.generate` in `wan/vace.py` uses when none is given): vivid colours, overexposed, static, blurry
# detail, subtitles, style, artwork, painting, still, overall gray, worst quality, low quality, JPEG artefacts,
# ugly, incomplete, extra fingers, badly drawn hands and faces, deformed, disfigured limbs, fused fingers,
# motionless picture, cluttered background, three legs, crowded background, walking backwards.
OFFICIAL_NEGATIVE_PROMPT = (
    "色调艳丽，过曝，静态，细节模糊不清，字幕，风格，作品，画作，画面，静止，整体发灰，最差质量，低质量，JPEG压缩残留，"
    "丑陋的，残缺的，多余的手指，画得不好的手部，画得不好的脸部，畸形的，毁容的，形态畸形的肢体，手指融合，静止不动的画面，"
    "杂乱的背景，三条腿，背景人很多，倒着走"
)
# Ours, after it: what goes wrong with a product.
PRODUCT_NEGATIVE_PROMPT = (
    "distorted product, deformed product, warped or melted packaging, altered logo, garbled text, misspelled text, "
    "extra letters, unreadable label, duplicate product, extra limbs, flicker, watermark"
)
NEGATIVE_PROMPT = f"{OFFICIAL_NEGATIVE_PROMPT}，{PRODUCT_NEGATIVE_PROMPT}"


@dataclass
class VaceConditions:
    video: np.ndarray  # (frames, H, W, 3) uint8
    mask: np.ndarray  # (frames, H, W) uint8, 0 = keep, 255 = generate
    reference_image: np.ndarray  # (h, w, 3) uint8, the product on white, cropped to its box
    prompt: str
    negative_prompt: str
    control: str  # "pose" or "gray"
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


def pose_canvas_size(width: int, height: int, short_side: int = POSE_CANVAS_SHORT_SIDE) -> tuple[int, int]:
    """(W, H) of the annotator's canvas: dwpose `resize_image` (`vace/annotators/dwpose/wholebody.py`)."""
    k = float(short_side) / min(width, height)
    return int(np.round(width * k / 64.0)) * 64, int(np.round(height * k / 64.0)) * 64


def pose_frames(track: PoseTrack, frame_size: tuple[int, int], channel_order: str | None = None) -> np.ndarray:
    """(frames, H, W, 3) uint8: the OpenPose body skeleton of each frame on black, as VACE's pose annotator draws it.

    `PoseAnnotator.process` draws on the 1024-px canvas (stick half-width 4 px, joints of radius 4, limbs at 60 %
    colour: dwpose `util.draw_bodypose`, which controlnet-aux's `draw_bodypose` reproduces for one person), then
    resizes to the frame with area resampling when shrinking (Lanczos when enlarging) and reverses the channel order
    (`detected_map_body[..., ::-1]`) before the map is saved as an RGB video. `channel_order` "bgr" keeps that
    reversal (the annotator's output, the default), "rgb" the drawing's own order
    (settings.SHOPVIDEO_DIT_POSE_CHANNELS).
    """
    order = channel_order or getattr(settings, "SHOPVIDEO_DIT_POSE_CHANNELS", "bgr")
    if order not in ("bgr", "rgb"):
        raise ValueError(f"pose channel order must be bgr or rgb, not {order!r}")
    width, height = frame_size
    canvas_w, canvas_h = pose_canvas_size(width, height)
    shrink = width * height <= canvas_w * canvas_h
    interpolation = cv2.INTER_AREA if shrink else cv2.INTER_LANCZOS4
    out = np.zeros((len(track.keypoints), height, width, 3), np.uint8)
    for i, points in enumerate(track.keypoints):
        canvas = np.zeros((canvas_h, canvas_w, 3), np.uint8)
        # draw_bodypose takes coordinates normalised by the canvas size.
        draw_bodypose(canvas, [Keypoint(float(x) / width, float(y) / height) for x, y in points])
        frame = cv2.resize(canvas, (width, height), interpolation=interpolation)
        out[i] = frame[..., ::-1] if order == "bgr" else frame
    return out


def build_prompt(request: RenderRequest, pose_description: str | None) -> str:
    """Descriptive sentences, as the VACE user guide asks ("Use descriptive prompt instead of instructions",
    ali-vilab/VACE `UserGuide.md`): the product, the scene, the person of the look, the camera."""
    product = request.product_title.strip() or "the product"
    category = request.product_category.replace("_", " ")
    kind = f", a {category} product," if category and category != "other" else ""
    sentences = [
        f"A photorealistic commercial video of {product}{kind} for an online shop in {request.market.name}.",
        f"The setting is {request.scene.prompt}.",
    ]
    if request.look is not None:
        sentences.append(f"A person, {request.look.descriptors}, is {pose_description or 'with the product'}.")
    sentences.append(
        "The camera moves slowly and smoothly, the product stays sharp and in focus, and the motion is natural."
    )
    return " ".join(sentences)


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
        video = np.full((request.frames, request.height, request.width, 3), NO_SIGNAL, np.uint8)
        control = "gray"
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
