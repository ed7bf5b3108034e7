"""A small picture of each shot of a storyboard, for the merchant to read before paying.

Cheap on purpose: the shot's middle frame is the photo warped by the storyboard's own placement for that frame
(`cv2.warpAffine`, the mask as its alpha) over the scene's plain background, not an engine render; the end card
also gets its text, drawn by the end card module where the storyboard put it. The frame is drawn at the ad's size
and shrunk, so a thumbnail shows exactly the framing that will be rendered.
"""

from __future__ import annotations

import cv2
import numpy as np

from generation.presets import MARKETS_BY_SLUG, SCENES_BY_SLUG, scene_palette

from ..captions import CaptionContent
from . import endcard as endcards
from .photos import AdPhoto
from .storyboard import Shot, Storyboard

THUMB_WIDTH = 120  # px; the height follows the ad's aspect ratio
JPEG_QUALITY = 80


def _background(board: Storyboard, shot: Shot) -> np.ndarray:
    market = MARKETS_BY_SLUG[board.market]
    scene = SCENES_BY_SLUG.get(shot.scene or market.scenes[0]) or SCENES_BY_SLUG[market.scenes[0]]
    return endcards.paint_background(board.width, board.height, scene_palette(market, scene))


def middle_frame(board: Storyboard, shot: Shot, photo: AdPhoto | None) -> np.ndarray:
    """The shot's middle frame at the ad's size (H, W, 3): the product where its placement puts it."""
    frame = _background(board, shot)
    if photo is not None and shot.placements is not None and len(shot.placements):
        matrix = np.asarray(shot.placements[len(shot.placements) // 2], np.float64)
        size = (board.width, board.height)
        product = cv2.warpAffine(photo.rgb, matrix, size, flags=cv2.INTER_LINEAR, borderValue=(0, 0, 0))
        alpha = cv2.warpAffine(photo.mask, matrix, size, flags=cv2.INTER_LINEAR, borderValue=0)
        a = alpha.astype(np.float32)[..., None] / 255.0
        frame = np.clip(frame * (1.0 - a) + product * a + 0.5, 0, 255).astype(np.uint8)
    if shot.kind == "endcard":
        plan = endcards.plan_endcard(CaptionContent(**board.endcard), width=board.width, height=board.height,
                                     platform=board.platform, label_rect=board.label_rect)  # fmt: skip
        frames = frame[None].copy()
        endcards.draw_text(frames, plan, fade_frames=0)
        frame = frames[0]
    return frame


def shot_thumbnail(board: Storyboard, shot: Shot, photo: AdPhoto | None, *, width: int = THUMB_WIDTH) -> bytes:
    """The shot's middle frame shrunk to `width` px wide, as JPEG bytes."""
    frame = middle_frame(board, shot, photo)
    height = max(1, round(width * board.height / board.width))
    small = cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA)
    ok, data = cv2.imencode(".jpg", cv2.cvtColor(small, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:  # pragma: no cover - OpenCV encodes any uint8 RGB image
        raise ValueError("could not encode the thumbnail")
    return data.tobytes()


def storyboard_thumbnails(board: Storyboard, photos: list[AdPhoto], *, width: int = THUMB_WIDTH) -> list[bytes]:
    """One JPEG per shot, in the storyboard's order."""
    return [
        shot_thumbnail(board, shot, photos[shot.photo] if shot.photo is not None else None, width=width)
        for shot in board.shots
    ]
