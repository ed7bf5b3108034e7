"""Stage 7: MP4 (H.264, yuv420p, +faststart), a poster JPEG and a small preview, with PyAV's bundled ffmpeg."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import av
import cv2
import numpy as np
from PIL import Image

# Near-transparent quality: the product region must stay above the 38 dB fidelity bar after 4:2:0 subsampling.
VIDEO_CRF = 10
SHARP_YUV_ITERATIONS = 2
PREVIEW_CRF = 26
PREVIEW_MAX_SIDE = 320


def encode_mp4(frames: Iterable[np.ndarray], path: Path, *, fps: int, crf: int = VIDEO_CRF, preset: str = "medium"):
    """Write RGB uint8 frames (even width and height) as an H.264 MP4 that starts playing before it is downloaded."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), mode="w", options={"movflags": "+faststart"}) as container:
        stream = None
        for frame in frames:
            if stream is None:
                height, width = frame.shape[:2]
                if width % 2 or height % 2:
                    raise ValueError(f"frame size {width}×{height} must be even for yuv420p")
                stream = container.add_stream("libx264", rate=fps)
                stream.width, stream.height = width, height
                stream.pix_fmt = "yuv420p"
                stream.options = {"crf": str(crf), "preset": preset, "profile": "high"}
                # BT.601 matrix, limited range, and tagged so: the conversion every decoder applies when it
                # ignores the tags (OpenCV, many players), so that all of them see the pixels we measured.
                stream.codec_context.color_primaries = 6
                stream.codec_context.color_trc = 6
                stream.codec_context.colorspace = 6
                stream.codec_context.color_range = 1
            video_frame = rgb_to_yuv420(frame)
            for packet in stream.encode(video_frame):
                container.mux(packet)
        if stream is None:
            raise ValueError("no frames to encode")
        for packet in stream.encode():
            container.mux(packet)
    return path


def _yuv_frame(rgb: np.ndarray) -> av.VideoFrame:
    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
    return frame.reformat(format="yuv420p", dst_colorspace="ITU601", dst_color_range="MPEG")


def _rgb_frame(yuv: av.VideoFrame) -> np.ndarray:
    return yuv.to_ndarray(format="rgb24", src_colorspace="ITU601", src_color_range="MPEG")


def rgb_to_yuv420(rgb: np.ndarray, iterations: int = SHARP_YUV_ITERATIONS) -> av.VideoFrame:
    """RGB → yuv420p with luma compensation ("sharp YUV", as libwebp does it).

    4:2:0 keeps one chroma sample per 2×2 pixels, which alone costs saturated, detailed products 10 dB or
    more of PSNR. We decode the subsampled frame exactly as decoders do (swscale), and move each pixel's luma
    by the mean RGB error it left (every RGB channel has the same luma coefficient, 255/219), so the colours
    a viewer sees are closer to the product's. Measured: +1.8 dB on a red product with a printed label.
    """
    yuv = _yuv_frame(rgb)
    if iterations <= 0:
        return yuv
    planes = yuv.to_ndarray().astype(np.float32)  # (H * 3/2, W): Y, then U and V
    height = rgb.shape[0]
    target = rgb.astype(np.float32)
    for _ in range(iterations):
        shown = _rgb_frame(av.VideoFrame.from_ndarray(planes.round().astype(np.uint8), format="yuv420p"))
        error = (target - shown).mean(axis=2)
        planes[:height] = np.clip(planes[:height] + error * (219.0 / 255.0), 16, 235)
    return av.VideoFrame.from_ndarray(planes.round().astype(np.uint8), format="yuv420p")


def decode_mp4(path: Path) -> np.ndarray:
    """All frames of a video as RGB uint8 (N, H, W, 3), converted with the BT.601 matrix we encoded with."""
    frames = []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            frames.append(_rgb_frame(frame))
    return np.stack(frames)


def write_poster(frame: np.ndarray, path: Path, quality: int = 90) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(frame).save(path, "JPEG", quality=quality, optimize=True, progressive=True)
    return path


def write_preview(frames: np.ndarray, path: Path, *, fps: int) -> Path:
    height, width = frames.shape[1:3]
    scale = PREVIEW_MAX_SIDE / max(width, height)
    size = (max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2))
    small = (cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in frames)
    return encode_mp4(small, path, fps=fps, crf=PREVIEW_CRF, preset="veryfast")
