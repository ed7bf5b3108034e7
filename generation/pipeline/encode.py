"""Stage 7: MP4 (H.264, yuv420p, +faststart), a poster JPEG and a small preview, with PyAV's bundled ffmpeg."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import av
import cv2
import numpy as np
from PIL import Image

from .fidelity import ProductLayer

# x264 settings, chosen by measurement (tests/synthetic.py bottles, 480×832, 41 frames, product-region PSNR min):
#   crf 10 medium, defaults:                      40.35 dB (white) / 38.27 dB (alpha), 1945 KB, 4.6 s
#   crf 10 medium, aq-mode=0:psy-rd=0,0:          40.51 / 38.37 dB,  289 KB
#   … + chroma-qp-offset=-4:                      40.71 / 38.45 dB,  335 KB
#   crf 8 medium, same params:                    40.87 / 38.51 dB,  466 KB
#   crf 10 fast, same params:                     40.68 / 38.43 dB,  366 KB, ~35% faster than medium
# Psychovisual RD and adaptive quantisation move bits towards perceived texture (and film grain), away from the
# flat, exact pixels we measure: turning them off raises PSNR and cuts the file 6× on a lightly noisy backdrop.
# A negative chroma QP offset gives chroma, where 4:2:0 already costs us the most, finer quantisation. The
# remaining gap to the 4:2:0 ceiling (no codec at all) is ~0.2 dB; lower CRFs buy little for much larger files.
# Preset, measured on bench/ad_bench.py's 15 s 480p ad (240 frames; x264's CPU seconds, the product's PSNR min):
#   fast:                   ~3.4 CPU-s, 43.53 dB, 5.6 MB
#   veryfast:               ~1.7 CPU-s, 42.20 dB, 5.6 MB (it turns trellis quantisation off)
#   veryfast, trellis=1:    ~1.7 CPU-s, 43.49 dB, 5.6 MB
#   superfast, trellis=1:   ~1.7 CPU-s, 45.3 dB, 10 MB (twice the file)
# Trellis (rate-distortion optimal rounding of the coefficients) is what keeps the product's dB; the slower motion
# search and sub-pixel refinement of "fast" buy nothing measurable at CRF 10.
VIDEO_CRF = 10
VIDEO_PRESET = "veryfast"
X264_PARAMS = "aq-mode=0:psy-rd=0,0:chroma-qp-offset=-4:trellis=1"
SHARP_YUV_ITERATIONS = 2
# x264's threads: "FRAME" (whole frames in parallel, each call returns at once) lets x264 work while Python renders
# and converts the next frames; "SLICE" (PyAV's default) splits each frame and blocks until it is done.
X264_THREAD_TYPE = "FRAME"
PREVIEW_CRF = 26
PREVIEW_MAX_SIDE = 320


def encode_mp4(
    frames: Iterable[np.ndarray],
    path: Path,
    *,
    fps: int,
    crf: int = VIDEO_CRF,
    preset: str = VIDEO_PRESET,
    x264_params: str = X264_PARAMS,
    layers: Sequence[ProductLayer] | None = None,
    sharp: bool = True,
    thread_type: str = X264_THREAD_TYPE,
) -> Path:
    """Write RGB uint8 frames (even width and height) as an H.264 MP4 that starts playing before it is downloaded.

    `layers` (from the fidelity lock, one per frame) say where the product is, so that the 4:2:0 conversion spends
    its care there (see `rgb_to_yuv420`).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), mode="w", format="mp4", options={"movflags": "+faststart"}) as container:
        stream = None
        for i, frame in enumerate(frames):
            if stream is None:
                height, width = frame.shape[:2]
                if width % 2 or height % 2:
                    raise ValueError(f"frame size {width}×{height} must be even for yuv420p")
                stream = container.add_stream("libx264", rate=fps)
                stream.width, stream.height = width, height
                stream.pix_fmt = "yuv420p"
                options = {"crf": str(crf), "preset": preset, "profile": "high"}
                if x264_params:
                    options["x264-params"] = x264_params
                stream.options = options
                stream.codec_context.thread_type = thread_type
                stream.codec_context.thread_count = 0  # x264 picks (1.5 × cores)
                # BT.601 matrix, limited range, and tagged so: the conversion every decoder applies when it
                # ignores the tags (OpenCV, many players), so that all of them see the pixels we measured.
                stream.codec_context.color_primaries = 6
                stream.codec_context.color_trc = 6
                stream.codec_context.colorspace = 6
                stream.codec_context.color_range = 1
            layer = layers[i] if layers is not None else None
            if not sharp:
                video_frame = _plain_yuv420(frame)
            elif layer is not None:
                video_frame = rgb_to_yuv420(frame, box=layer.box, weight=layer.alpha)
            else:
                video_frame = rgb_to_yuv420(frame)
            video_frame.pts = i
            for packet in stream.encode(video_frame):
                container.mux(packet)
        if stream is None:
            raise ValueError("no frames to encode")
        for packet in stream.encode():
            container.mux(packet)
    return path


def _plain_yuv420(rgb: np.ndarray) -> av.VideoFrame:
    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
    return frame.reformat(format="yuv420p", dst_colorspace="ITU601", dst_color_range="MPEG")


# BT.601, limited range ("MPEG"): Y = 16 + 219·y', Cb/Cr = 128 + 224·c', from R'G'B' in 0..1.
_KR, _KB = 0.299, 0.114
_KG = 1.0 - _KR - _KB
_TO_U = np.array([-_KR, -_KG, 1.0 - _KB], np.float32) * (224.0 / 255.0 / (2.0 * (1.0 - _KB)))
_TO_V = np.array([1.0 - _KR, -_KG, -_KB], np.float32) * (224.0 / 255.0 / (2.0 * (1.0 - _KR)))
# What chroma adds to the mean of R, G and B when decoded (per unit of Cb − 128 and Cr − 128).
_U_TO_MEAN = (255.0 / 224.0) * (-2.0 * (1.0 - _KB) * _KB / _KG + 2.0 * (1.0 - _KB)) / 3.0
_V_TO_MEAN = (255.0 / 224.0) * (2.0 * (1.0 - _KR) - 2.0 * (1.0 - _KR) * _KR / _KG) / 3.0
_TO_UV = np.stack([_TO_U, _TO_V])  # (2, 3) for cv2.transform
_UV_TO_MEAN = np.array([[_U_TO_MEAN, _V_TO_MEAN]], np.float32)
_MEAN_RGB = np.full((1, 3), 1.0 / 3.0, np.float32)


def _rgb_frame(yuv: av.VideoFrame) -> np.ndarray:
    return yuv.to_ndarray(format="rgb24", src_colorspace="ITU601", src_color_range="MPEG")


def rgb_to_yuv420(
    rgb: np.ndarray,
    *,
    box: tuple[int, int, int, int] | None = None,
    weight: np.ndarray | None = None,
    iterations: int = SHARP_YUV_ITERATIONS,
) -> av.VideoFrame:
    """RGB → yuv420p (BT.601, limited range) chosen for the RGB a decoder will show, not for the textbook YUV.

    Decoders (swscale, which PyAV, OpenCV and ffmpeg use) repeat each 2×2 block's chroma sample. For that the
    block's chroma that minimises the RGB error is the chroma of the block's mean colour, and then each pixel's
    luma can take back the mean RGB error it is left with (every RGB channel has the same luma gain, 255/219):
    "sharp YUV", as libwebp does it, in closed form. `iterations` passes then decode the product's box exactly as
    a decoder does and correct luma for rounding and clipping. Where the product meets the scene inside a 2×2
    block, `weight` (the product's alpha in `box`) makes the block's chroma the product's, so the product's own
    edge pixels keep their colour and the scene's pixel next to it takes the error.
    """
    height, width = rgb.shape[:2]
    if width % 2 or height % 2:
        raise ValueError(f"frame size {width}×{height} must be even for yuv420p")
    x = rgb.astype(np.float32)
    half = (width // 2, height // 2)
    mean = cv2.resize(x, half, interpolation=cv2.INTER_AREA)  # exactly the 2×2 block means
    if box is not None and weight is not None and weight.size:
        x0, y0, x1, y1 = box
        w = weight.astype(np.float32) + 1e-3
        sub_half = ((x1 - x0) // 2, (y1 - y0) // 2)
        num = cv2.resize(x[y0:y1, x0:x1] * w[..., None], sub_half, interpolation=cv2.INTER_AREA)
        den = cv2.resize(w, sub_half, interpolation=cv2.INTER_AREA)
        mean[y0 // 2 : y1 // 2, x0 // 2 : x1 // 2] = num / den[..., None]
    uv = np.clip(np.rint(cv2.transform(mean, _TO_UV) + 128.0), 16, 240)  # (h/2, w/2, 2)
    # Luma that puts each pixel's mean RGB where it belongs, given the block's (rounded) chroma.
    chroma_mean = cv2.transform(uv - 128.0, _UV_TO_MEAN)
    grey = cv2.transform(x, _MEAN_RGB)
    compensated = (grey - cv2.resize(chroma_mean, (width, height), interpolation=cv2.INTER_NEAREST)) * (
        219.0 / 255.0
    ) + 16.0
    planes = np.empty((height * 3 // 2, width), np.float32)
    planes[:height] = np.clip(compensated, 0, 255)
    planes[height : height + height // 4] = uv[..., 0].reshape(-1, width)
    planes[height + height // 4 :] = uv[..., 1].reshape(-1, width)
    if iterations > 0:
        bx0, by0, bx1, by1 = box if box is not None else (0, 0, width, height)
        if bx1 > bx0 and by1 > by0:
            _correct_luma(planes, rgb, (bx0, by0, bx1, by1), iterations)
    return av.VideoFrame.from_ndarray(np.rint(planes).astype(np.uint8), format="yuv420p")


def shown_after_yuv420(layer: ProductLayer) -> np.ndarray:
    """The product's box as a decoder shows it after the encoder's conversion (`rgb_to_yuv420`, luma correction
    included), before x264, which costs another 0.1–0.3 dB at our settings (ADR 0004): what the fidelity forecast
    measures before anything is rendered. ~20 ms at 480p. The scene is not known yet; the product's weighted
    chroma makes the blocks at its rim its own anyway."""
    height, width = layer.colour.shape[:2]
    # Whole chroma rows for PyAV's plane layout (`_correct_luma`): pad to a multiple of 4 rows and 2 columns.
    pad_y, pad_x = -height % 4, -width % 2
    colour = np.pad(layer.colour, ((0, pad_y), (0, pad_x), (0, 0)), mode="edge")
    alpha = np.pad(layer.alpha, ((0, pad_y), (0, pad_x)))
    yuv = rgb_to_yuv420(colour, box=(0, 0, width + pad_x, height + pad_y), weight=alpha)
    return _rgb_frame(yuv)[:height, :width]


def _correct_luma(planes: np.ndarray, rgb: np.ndarray, box: tuple[int, int, int, int], iterations: int) -> None:
    """Decode the box as a decoder would (its chroma blocks are whole, so it decodes alone) and move luma."""
    height, width = rgb.shape[:2]
    x0, y0, x1, y1 = box
    if (y1 - y0) % 4:  # PyAV's yuv420p array packs each chroma plane into whole rows of the box's width
        y1, y0 = (y1 + 2, y0) if y1 + 2 <= height else (y1, y0 - 2)
    bw, bh = x1 - x0, y1 - y0
    u_plane = planes[height : height + height // 4].reshape(height // 2, width // 2)
    v_plane = planes[height + height // 4 :].reshape(height // 2, width // 2)
    sub = np.empty((bh * 3 // 2, bw), np.float32)
    sub[bh : bh + bh // 4] = u_plane[y0 // 2 : y1 // 2, x0 // 2 : x1 // 2].reshape(-1, bw)
    sub[bh + bh // 4 :] = v_plane[y0 // 2 : y1 // 2, x0 // 2 : x1 // 2].reshape(-1, bw)
    target = rgb[y0:y1, x0:x1].astype(np.float32)
    luma = planes[y0:y1, x0:x1]
    for _ in range(iterations):
        sub[:bh] = luma
        shown = _rgb_frame(av.VideoFrame.from_ndarray(np.rint(sub).astype(np.uint8), format="yuv420p"))
        error = cv2.transform(target - shown, _MEAN_RGB)
        luma[...] = np.clip(luma + error * (219.0 / 255.0), 0, 255)


def decode_frames(path: Path) -> Iterator[np.ndarray]:
    """A video's frames one by one as RGB uint8 (H, W, 3), converted with the BT.601 matrix we encoded with."""
    with av.open(str(path)) as container:
        container.streams.video[0].thread_type = "AUTO"
        for frame in container.decode(video=0):
            yield _rgb_frame(frame)


def decode_mp4(path: Path) -> np.ndarray:
    """All frames of a video as RGB uint8 (N, H, W, 3), converted with the BT.601 matrix we encoded with."""
    return np.stack(list(decode_frames(path)))


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
    return encode_mp4(small, path, fps=fps, crf=PREVIEW_CRF, preset="veryfast", x264_params="", sharp=False)
