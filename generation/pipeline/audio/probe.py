"""Is an upload usable music? Decode it with PyAV (its bundled ffmpeg) and check format, codec, length and size.

The container and codec must be on the allow-list (MP3, WAV, M4A/AAC, OGG Vorbis/Opus): the file name is never
trusted. A length above the limit is refused from the container's declared duration, before decoding; a stream
that declares none is decoded only up to the limit. Everything else is decoded once, so that a truncated or
corrupt file is refused at upload rather than when an ad is rendered.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
from django.utils.translation import gettext as _

from ..errors import BadInputError

MAX_SECONDS = 600.0
MAX_BYTES = 50 * 1024 * 1024

# ffmpeg's demuxer names: "mov,mp4,m4a,3gp,3g2,mj2" is the one demuxer for MP4 and M4A; "aac" is raw ADTS.
ALLOWED_FORMATS = frozenset({"mp3", "wav", "mov,mp4,m4a,3gp,3g2,mj2", "aac", "ogg"})
ALLOWED_CODECS = frozenset(
    {"mp3", "mp3float", "aac", "vorbis", "opus", "libopus"}
    | {f"pcm_{kind}" for kind in ("s16le", "s24le", "s32le", "f32le", "f64le", "u8", "alaw", "mulaw")}
)
# A decoded length this much below the declared one means the file was cut short (a broken upload).
_TRUNCATED_RATIO = 0.95
_TRUNCATED_SLACK_SECONDS = 0.1
# Quieter than this everywhere (−80 dBFS peak) is silence: nothing to play under an ad.
_SILENCE_PEAK = 1e-4


class AudioInvalid(BadInputError):
    """The file is not music we can use; `.code`: audio_invalid, audio_too_long, audio_too_large, audio_silent."""

    code = "audio_invalid"


@dataclass(frozen=True)
class TrackInfo:
    seconds: float
    sample_rate: int
    channels: int
    codec: str
    format: str


def _invalid(reason: str | None = None) -> AudioInvalid:
    message = _("The file is not audio we can play (MP3, WAV, M4A/AAC or OGG).")
    return AudioInvalid(message, "audio_invalid", params={"reason": reason} if reason else None)


def _too_long(max_seconds: float) -> AudioInvalid:
    return AudioInvalid(
        _("The track is longer than %(minutes)s minutes.") % {"minutes": f"{max_seconds / 60:g}"},
        "audio_too_long",
        params={"max_seconds": max_seconds},
    )


def declared_seconds(container, stream) -> float | None:
    """The length the container or the stream header states, without decoding; None when neither does."""
    if stream.duration is not None and stream.time_base is not None and stream.duration > 0:
        return float(stream.duration * stream.time_base)
    if container.duration is not None and container.duration > 0:
        return container.duration / av.time_base
    return None


def probe_track(path: str | Path, *, max_seconds: float = MAX_SECONDS, max_bytes: int = MAX_BYTES) -> TrackInfo:
    """The track's length, rate, channels, codec and container; raises AudioInvalid for anything unusable."""
    path = Path(path)
    size = os.path.getsize(path)
    if size > max_bytes:
        raise AudioInvalid(
            _("The file is larger than %(limit)d MB.") % {"limit": max_bytes // (1024 * 1024)},
            "audio_too_large",
            params={"max_bytes": max_bytes},
        )
    if size == 0:
        raise _invalid("empty file")
    try:
        container = av.open(str(path), mode="r")
    except (av.FFmpegError, UnicodeDecodeError, ValueError, OSError) as exc:
        raise _invalid(f"not a media file: {exc}"[:200]) from None
    with container:
        fmt = container.format.name
        streams = [s for s in container.streams if s.type == "audio"]
        if fmt not in ALLOWED_FORMATS or not streams:
            raise _invalid(f"format {fmt} without allowed audio" if streams else f"no audio stream in {fmt}")
        stream = streams[0]
        codec = stream.codec_context.name
        if codec not in ALLOWED_CODECS:
            raise _invalid(f"codec {codec}")
        declared = declared_seconds(container, stream)
        if declared is not None and declared > max_seconds:
            raise _too_long(max_seconds)
        cut = _cut_short(path, fmt, size)
        if cut:
            raise _invalid(cut)
        decoded, peak, rate, channels = _decode_all(container, stream, max_seconds)
    if decoded <= 0 or rate <= 0:
        raise _invalid("no audio could be decoded")
    if declared is not None and decoded < declared * _TRUNCATED_RATIO - _TRUNCATED_SLACK_SECONDS:
        raise _invalid(f"truncated: {decoded:.2f} s of {declared:.2f} s")
    if peak < _SILENCE_PEAK:
        raise AudioInvalid(_("The track is silent."), "audio_silent")
    return TrackInfo(seconds=round(decoded, 3), sample_rate=rate, channels=channels, codec=codec, format=fmt)


def _cut_short(path: Path, fmt: str, size: int) -> str | None:
    """Why a WAV or an OGG file ends early, from its own framing; None when it is whole.

    ffmpeg plays both formats up to wherever they stop (it trusts the file's size over a WAV's data chunk and
    takes an OGG's length from its last page), so the decoded length alone cannot tell a cut file.
    """
    with open(path, "rb") as f:
        if fmt == "wav":
            head = f.read(4096)
            at = 12
            while at + 8 <= len(head):
                chunk, length = head[at : at + 4], int.from_bytes(head[at + 4 : at + 8], "little")
                if chunk == b"data":
                    # 0 and 0xFFFFFFFF: a streaming writer's placeholders for "unknown".
                    if length not in (0, 0xFFFFFFFF) and at + 8 + length > size:
                        return f"WAV data chunk of {length} bytes, file ends after {size - at - 8}"
                    return None
                at += 8 + length + (length & 1)
            return None
        if fmt == "ogg":
            f.seek(max(0, size - 65_536))
            tail = f.read()
            last = tail.rfind(b"OggS")
            # Byte 5 of a page header: flag 0x04 marks the stream's last page, which every encoder writes.
            if last < 0 or last + 5 >= len(tail) or not tail[last + 5] & 0x04:
                return "OGG stream without its last page"
    return None


def _decode_all(container, stream, max_seconds: float) -> tuple[float, float, int, int]:
    """(decoded seconds, peak amplitude, sample rate, channels); stops as soon as the limit is passed."""
    samples = 0
    peak = 0.0
    rate = stream.codec_context.sample_rate or 0
    channels = stream.codec_context.channels or 0
    try:
        for frame in container.decode(stream):
            rate = frame.sample_rate or rate
            channels = len(frame.layout.channels) or channels
            samples += frame.samples
            if rate and samples / rate > max_seconds:
                raise _too_long(max_seconds)
            if peak < _SILENCE_PEAK:
                data = frame.to_ndarray()
                if data.dtype.kind in "iu":
                    info = np.iinfo(data.dtype)
                    data = (data.astype(np.float32) - (info.max + info.min + 1) / 2) / (info.max + 1)
                if data.size:
                    peak = max(peak, float(np.abs(data).max()))
    except av.FFmpegError as exc:
        raise _invalid(f"decoding failed: {exc}"[:200]) from None
    return (samples / rate if rate else 0.0), peak, rate, channels
