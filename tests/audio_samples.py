"""Small audio files made in the tests: numpy signals written as WAV (stdlib `wave`) or encoded with PyAV's
bundled encoders (MP3, OGG Vorbis/Opus, M4A/AAC). A few seconds each; nothing large on disk."""

from __future__ import annotations

import struct
import wave
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

# (container format, encoder, sample format the encoder takes)
ENCODERS = {
    "mp3": ("mp3", "libmp3lame", "s16p"),
    "ogg": ("ogg", "libopus", "s16"),
    "oga": ("ogg", "vorbis", "fltp"),
    "m4a": ("ipod", "aac", "fltp"),
}


def music(seconds: float, rate: int = 44_100, bpm: float = 120.0, channels: int = 2, seed: int = 0) -> np.ndarray:
    """(n, channels) float32 in −1..1: a soft chord with a decaying kick on every beat, a little noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    chord = sum(np.sin(2 * np.pi * f * t) for f in (220.0, 277.18, 329.63)) / 3 * 0.15
    kick = np.zeros_like(t)
    period = 60.0 / bpm
    for start in np.arange(0.0, seconds, period):
        i = int(start * rate)
        tail = t[: len(t) - i]
        kick[i:] += np.sin(2 * np.pi * 60 * tail) * np.exp(-tail * 30) * 0.6
    mono = chord + kick + rng.normal(0, 0.003, len(t))
    out = np.stack([mono * (1.0 - 0.1 * c) for c in range(channels)], axis=1)
    return out.astype(np.float32)


def clicks(seconds: float, bpm: float, rate: int = 48_000, offset: float = 0.25) -> tuple[np.ndarray, np.ndarray]:
    """((n, 2) float32 click track, click times in seconds): 2 ms bursts of noise at exactly `bpm`."""
    rng = np.random.default_rng(1)
    n = int(seconds * rate)
    signal = np.zeros(n, np.float32)
    times = np.arange(offset, seconds - 0.01, 60.0 / bpm)
    burst = (rng.uniform(-1, 1, int(0.002 * rate)) * 0.8).astype(np.float32)
    for at in times:
        i = round(at * rate)
        signal[i : i + len(burst)] += burst[: n - i]
    return np.stack([signal, signal], axis=1), times


def write_wav(path: Path, samples: np.ndarray, rate: int = 44_100) -> Path:
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(pcm.shape[1])
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return path


def encode(path: Path, samples: np.ndarray, rate: int = 44_100, kind: str | None = None) -> Path:
    """Encode with PyAV; `kind` (default: the suffix) picks the container and the encoder of ENCODERS."""
    container_format, codec, sample_format = ENCODERS[kind or path.suffix.lstrip(".")]
    encoder_rate = 48_000 if codec == "libopus" and rate not in (8000, 12000, 16000, 24000, 48000) else rate
    layout = "stereo" if samples.shape[1] == 2 else "mono"
    with av.open(str(path), mode="w", format=container_format) as out:
        stream = out.add_stream(codec, rate=encoder_rate, layout=layout)
        if codec == "vorbis":
            stream.codec_context.options = {"strict": "experimental"}
        resampler = av.AudioResampler(format=sample_format, layout=layout, rate=encoder_rate)
        planar = np.ascontiguousarray(samples.T.astype(np.float32))
        step = 1024
        for start in range(0, planar.shape[1], step):
            frame = av.AudioFrame.from_ndarray(planar[:, start : start + step], format="fltp", layout=layout)
            frame.sample_rate = rate
            frame.pts = start
            frame.time_base = Fraction(1, rate)
            for converted in resampler.resample(frame):
                for packet in stream.encode(converted):
                    out.mux(packet)
        for converted in resampler.resample(None):
            for packet in stream.encode(converted):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def wav_header_declaring(path: Path, seconds: float, rate: int = 8000, data_seconds: float = 1.0) -> Path:
    """A mono 16-bit WAV whose header declares `seconds` of audio but which holds only `data_seconds` of it: a
    long file's header without the long file on disk."""
    declared = int(seconds * rate) * 2
    data = (np.sin(np.arange(int(data_seconds * rate)) / rate * 2 * np.pi * 440) * 8000).astype("<i2").tobytes()
    header = b"RIFF" + struct.pack("<I", 36 + declared) + b"WAVE"
    header += b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
    header += b"data" + struct.pack("<I", declared)
    path.write_bytes(header + data)
    return path


def mp3_declaring(path: Path, seconds: float) -> Path:
    """A one-second MP3 (8 kHz mono, a few KB) whose LAME header counts frames for `seconds`: what a long
    file's header says, without the long file on disk."""
    encode(path, music(1.0, rate=8000, channels=1), rate=8000)
    data = bytearray(path.read_bytes())
    at = data.find(b"Info")
    at = at if at >= 0 else data.find(b"Xing")
    flags = struct.unpack(">I", data[at + 4 : at + 8])[0]
    assert at >= 0 and flags & 1, "LAME wrote no frame count"
    frames = int(np.ceil(seconds * 8000 / 576))  # MPEG-2.5 layer III: 576 samples a frame
    data[at + 8 : at + 12] = struct.pack(">I", frames)
    path.write_bytes(bytes(data))
    return path


def truncated(path: Path, keep: float = 0.5) -> Path:
    """The file cut to its first `keep` part, as an interrupted upload leaves it."""
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path
