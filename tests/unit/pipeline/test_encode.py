"""Encode: H.264 High, yuv420p, BT.601 limited range tagged, +faststart; the 4:2:0 conversion aimed at the RGB
decoders show; OpenCV and PyAV decode the same pixels."""

import av
import cv2
import numpy as np
import pytest

from generation.pipeline import encode
from generation.pipeline.fidelity import lock_frames
from generation.pipeline.qa import psnr
from tests import synthetic


def _frames(n=6, size=(320, 480)):
    product = np.array(synthetic.product_png_alpha(320, 400)[0])
    rgb, mask = product[..., :3], (product[..., 3] > 0).astype(np.uint8) * 255
    frames = np.empty((n, size[1], size[0], 3), np.uint8)
    frames[:] = np.linspace(60, 200, size[0], dtype=np.uint8)[None, :, None]
    placements = np.stack([np.array([[0.9, 0.0, 20.0 + i], [0.0, 0.9, 40.0 + i / 2]]) for i in range(n)])
    layers = lock_frames(frames, rgb, mask, placements)
    return frames, layers


def _top_level_boxes(path):
    data = path.read_bytes()
    boxes, i = [], 0
    while i + 8 <= len(data):
        size = int.from_bytes(data[i : i + 4], "big")
        boxes.append(data[i + 4 : i + 8].decode("latin-1"))
        if size == 1:
            size = int.from_bytes(data[i + 8 : i + 16], "big")
        i += max(size, 8)
    return boxes


def test_sharp_yuv_beats_plain_conversion_on_the_product():
    frames, layers = _frames(1)
    frame, layer = frames[0], layers[0]
    x0, y0, x1, y1 = layer.box
    inside = layer.alpha >= 1
    shown_plain = encode._rgb_frame(encode._plain_yuv420(frame))[y0:y1, x0:x1]
    shown_sharp = encode._rgb_frame(encode.rgb_to_yuv420(frame, box=layer.box, weight=layer.alpha))[y0:y1, x0:x1]
    want = frame[y0:y1, x0:x1]
    gain = psnr(shown_sharp[inside], want[inside]) - psnr(shown_plain[inside], want[inside])
    assert gain > 1.0, gain


def test_mp4_is_h264_high_yuv420p_faststart_bt601_and_decoders_agree(tmp_path):
    frames, layers = _frames(6)
    path = encode.encode_mp4(frames, tmp_path / "v.mp4", fps=16, layers=layers)
    boxes = _top_level_boxes(path)
    assert boxes.index("moov") < boxes.index("mdat")
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264" and stream.codec_context.profile == "High"
        assert stream.codec_context.pix_fmt == "yuv420p"
        assert (stream.codec_context.width, stream.codec_context.height) == (320, 480)
        first = next(container.decode(video=0))
        assert first.colorspace == 6 and first.color_range == 1  # BT.601 (smpte170m), limited range
    decoded = encode.decode_mp4(path)
    assert decoded.shape == frames.shape
    capture = cv2.VideoCapture(str(path))
    ok, bgr = capture.read()
    capture.release()
    assert ok
    # OpenCV converts with the same BT.601 limited-range matrix we encoded for: the same pixels.
    assert np.abs(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB).astype(int) - decoded[0]).max() <= 1
    # And the codec costs the product little beyond what 4:2:0 itself costs (its ceiling, with no codec at all).
    x0, y0, x1, y1 = layers[0].box
    inside = layers[0].alpha >= 1
    want = frames[0][y0:y1, x0:x1][inside]
    ceiling = encode._rgb_frame(encode.rgb_to_yuv420(frames[0], box=layers[0].box, weight=layers[0].alpha))
    got = psnr(decoded[0][y0:y1, x0:x1][inside], want)
    assert got >= psnr(ceiling[y0:y1, x0:x1][inside], want) - 0.6 and got > 36.0


def test_odd_sizes_are_refused(tmp_path):
    with pytest.raises(ValueError, match="even"):
        encode.encode_mp4([np.zeros((101, 100, 3), np.uint8)], tmp_path / "odd.mp4", fps=16)


def test_poster_and_preview(tmp_path):
    frames, _ = _frames(5)
    poster = encode.write_poster(frames[2], tmp_path / "p.jpg")
    preview = encode.write_preview(frames, tmp_path / "p.mp4", fps=16)
    assert poster.read_bytes()[:2] == b"\xff\xd8"
    small = encode.decode_mp4(preview)
    assert small.shape[0] == 5 and max(small.shape[1:3]) <= encode.PREVIEW_MAX_SIDE
