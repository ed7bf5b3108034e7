"""Put the prepared music under a finished video: the H.264 stream is copied packet for packet (never decoded,
never re-encoded: the product's pixels stay exactly as encoded), the music is encoded to AAC beside it."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from .prepare import SAMPLE_RATE, PreparedTrack

AAC_BIT_RATE = 160_000
AAC_FRAME = 1024


def video_seconds(path: str | Path) -> float:
    """The video stream's length from its packets' timestamps (first presentation to the last frame's end)."""
    with av.open(str(path), mode="r") as container:
        stream = container.streams.video[0]
        start, end = None, None
        for packet in container.demux(stream):
            if packet.pts is None:
                continue
            start = packet.pts if start is None else min(start, packet.pts)
            stop = packet.pts + (packet.duration or 0)
            end = stop if end is None else max(end, stop)
        if start is None or end is None:
            raise ValueError(f"{path} has no video packets")
        return float((end - start) * stream.time_base)


def _fit(samples: np.ndarray, n: int) -> np.ndarray:
    """Exactly n samples: cut, or end on silence (the prepared track already fades out)."""
    if len(samples) >= n:
        return samples[:n]
    return np.concatenate([samples, np.zeros((n - len(samples), samples.shape[1]), np.float32)])


def _encode_aac(stream, samples: np.ndarray) -> list:
    packets = []
    planar = np.ascontiguousarray(samples.T.astype(np.float32))
    for start in range(0, planar.shape[1], AAC_FRAME):
        frame = av.AudioFrame.from_ndarray(planar[:, start : start + AAC_FRAME], format="fltp", layout="stereo")
        frame.sample_rate = SAMPLE_RATE
        frame.pts = start
        frame.time_base = Fraction(1, SAMPLE_RATE)
        packets.extend(stream.encode(frame))
    packets.extend(stream.encode(None))
    return packets


def mux_audio(video_path: str | Path, prepared: PreparedTrack, out_path: str | Path) -> Path:
    """`out_path`: the video's own H.264 packets plus the music as AAC (48 kHz stereo), as long as the video."""
    if prepared.sample_rate != SAMPLE_RATE:
        raise ValueError(f"prepared audio must be {SAMPLE_RATE} Hz, not {prepared.sample_rate}")
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    seconds = video_seconds(video_path)
    samples = _fit(prepared.samples, round(seconds * SAMPLE_RATE))
    with (
        av.open(str(video_path), mode="r") as source,
        av.open(str(out_path), mode="w", format="mp4", options={"movflags": "+faststart"}) as out,
    ):
        video_in = source.streams.video[0]
        video_out = out.add_stream_from_template(video_in)
        audio_out = out.add_stream("aac", rate=SAMPLE_RATE, layout="stereo")
        audio_out.bit_rate = AAC_BIT_RATE
        audio_out.time_base = Fraction(1, SAMPLE_RATE)
        audio_packets = _encode_aac(audio_out, samples)
        # Interleave by time, so that a player streaming the file finds sound and picture together.
        queue = iter(audio_packets)
        pending = next(queue, None)
        for packet in source.demux(video_in):
            if packet.dts is None:
                continue
            at = packet.dts * video_in.time_base
            while pending is not None and (pending.dts or 0) * audio_out.time_base <= at:
                out.mux(pending)
                pending = next(queue, None)
            packet.stream = video_out
            out.mux(packet)
        while pending is not None:
            out.mux(pending)
            pending = next(queue, None)
    return out_path
