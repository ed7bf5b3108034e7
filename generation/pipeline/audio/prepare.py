"""The ad's music bed: decode, 48 kHz stereo, fit to the ad's length, fade, −14 LUFS with true peak ≤ −1 dBTP.

Loudness is ITU-R BS.1770 integrated loudness (pyloudnorm); true peak is the peak of the signal oversampled 4×
(scipy's polyphase resampler), as BS.1770 annex 2 describes. When the gain that reaches the target loudness
would push the true peak over the ceiling, a look-ahead gain limiter pulls the peaks down (see `limit`); the
loudness is then measured again and the make-up gain and the limiter repeat until both hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import pyloudnorm
from django.utils.translation import gettext as _
from scipy.ndimage import minimum_filter1d, uniform_filter1d
from scipy.signal import resample_poly

from .probe import AudioInvalid

SAMPLE_RATE = 48_000
OVERSAMPLE = 4
# Crossfade where a track shorter than the ad loops back to its start: long enough to hide the seam's click,
# short enough not to blur a beat.
LOOP_CROSSFADE_SECONDS = 0.05
# The limiter: gain falls over the look-ahead before a peak and is held that long after it, then recovers over
# the same span (a moving average of the held gain), so it never changes faster than 1/LOOKAHEAD.
LIMITER_LOOKAHEAD_SECONDS = 0.005
LIMITER_HOLD_SECONDS = 0.02
# The limiter aims this far below the ceiling: applying a smooth gain to samples moves the peaks between
# them a little.
LIMITER_MARGIN_DB = 0.1
MAX_PASSES = 4
# BS.1770 gates 400 ms blocks: a shorter signal has no integrated loudness.
MIN_SECONDS = 0.4
LOUDNESS_TOLERANCE_LU = 0.1


@dataclass
class PreparedTrack:
    samples: np.ndarray  # (n, 2) float32, 48 kHz
    sample_rate: int
    seconds: float
    lufs: float  # integrated loudness, measured after processing
    true_peak: float  # dBTP, measured after processing

    def summary(self) -> dict[str, float]:
        return {"lufs": round(self.lufs, 2), "true_peak": round(self.true_peak, 2), "seconds": round(self.seconds, 3)}


def decode_stereo(path: str | Path, max_seconds: float | None = None) -> np.ndarray:
    """(n, 2) float32 at 48 kHz (PyAV's resampler: any rate, any layout); stops once `max_seconds` are read."""
    resampler = av.AudioResampler(format="fltp", layout="stereo", rate=SAMPLE_RATE)
    limit = None if max_seconds is None else round(max_seconds * SAMPLE_RATE)
    chunks: list[np.ndarray] = []
    total = 0
    try:
        with av.open(str(path), mode="r") as container:
            stream = next((s for s in container.streams if s.type == "audio"), None)
            if stream is None:
                raise AudioInvalid(_("The file is not audio we can play (MP3, WAV, M4A/AAC or OGG)."), "audio_invalid")
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray())
                    total += out.samples
                if limit is not None and total >= limit:
                    break
            else:
                for out in resampler.resample(None):
                    chunks.append(out.to_ndarray())
    except av.FFmpegError as exc:
        raise AudioInvalid(
            _("The file is not audio we can play (MP3, WAV, M4A/AAC or OGG)."), "audio_invalid", {"reason": str(exc)}
        ) from None
    if not chunks:
        return np.zeros((0, 2), np.float32)
    samples = np.concatenate(chunks, axis=1).T.astype(np.float32, copy=False)
    return np.ascontiguousarray(samples[:limit] if limit is not None else samples)


def fit_length(samples: np.ndarray, n: int, crossfade: int) -> np.ndarray:
    """Exactly `n` samples: cut, or loop a shorter track with a short crossfade at each seam.

    Looping rather than padding with silence: music that stops before the ad ends sounds like a fault, and a
    track shorter than an ad is most often a loop made to be repeated. A track too short to crossfade is
    repeated as it is.
    """
    if len(samples) >= n:
        return samples[:n].copy()
    if len(samples) == 0:
        return np.zeros((n, 2), np.float32)
    crossfade = min(crossfade, len(samples) // 4)
    if crossfade < 2:
        return np.resize(samples, (n, samples.shape[1])).astype(np.float32)
    # Each repetition overlaps the previous one's tail by `crossfade` samples, with equal-power ramps.
    t = np.linspace(0.0, np.pi / 2, crossfade, dtype=np.float32)[:, None]
    fade_in, fade_out = np.sin(t), np.cos(t)
    out = samples.copy()
    while len(out) < n + crossfade:
        seam = out[-crossfade:] * fade_out + samples[:crossfade] * fade_in
        out = np.concatenate([out[:-crossfade], seam, samples[crossfade:]])
    return out[:n].astype(np.float32)


def apply_fades(samples: np.ndarray, fade_in: float, fade_out: float, rate: int = SAMPLE_RATE) -> np.ndarray:
    """Raised-cosine fades in and out (each at most half of the track)."""
    out = samples.copy()
    half = len(out) // 2
    for seconds, head in ((fade_in, True), (fade_out, False)):
        k = min(round(seconds * rate), half)
        if k <= 0:
            continue
        ramp = (0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, k, dtype=np.float32)))[:, None]
        if head:
            out[:k] *= ramp
        else:
            out[-k:] *= ramp[::-1]
    return out


def _oversampled_peaks(samples: np.ndarray) -> np.ndarray:
    """Per input sample, the largest |value| of any channel in the 4× oversampled signal around it."""
    up = resample_poly(samples, OVERSAMPLE, 1, axis=0)
    return np.abs(up).reshape(len(samples), OVERSAMPLE, -1).max(axis=(1, 2))


def true_peak_db(samples: np.ndarray) -> float:
    """The true peak in dBTP: the peak of the 4× oversampled signal, all channels."""
    if len(samples) == 0:
        return float("-inf")
    peak = float(_oversampled_peaks(samples).max())
    return float(20.0 * np.log10(peak)) if peak > 0 else float("-inf")


def loudness(samples: np.ndarray, rate: int = SAMPLE_RATE) -> float:
    """Integrated loudness in LUFS (ITU-R BS.1770-4, gated); −inf for silence."""
    return float(pyloudnorm.Meter(rate).integrated_loudness(samples.astype(np.float64)))


def limit(
    samples: np.ndarray, ceiling_db: float, rate: int = SAMPLE_RATE, peaks: np.ndarray | None = None
) -> np.ndarray:
    """A look-ahead gain limiter on the true peak: stereo-linked, no overshoot, no clipping.

    For each sample, the gain that would bring its oversampled peak to the ceiling; a running minimum over the
    look-ahead plus the hold (so the gain is down before the peak arrives and stays down a moment after it), then
    a moving average over the look-ahead to make the changes smooth. The average of values that each are at most
    the gain a peak needs, taken within the running minimum's reach, is itself at most that gain: peaks land at
    or under the ceiling.
    """
    ceiling = 10.0 ** ((ceiling_db - LIMITER_MARGIN_DB) / 20.0)
    peaks = _oversampled_peaks(samples) if peaks is None else peaks
    needed = np.minimum(1.0, ceiling / np.maximum(peaks, 1e-12))
    if needed.min() >= 1.0:
        return samples
    lookahead = max(1, int(rate * LIMITER_LOOKAHEAD_SECONDS))
    hold = max(1, int(rate * LIMITER_HOLD_SECONDS))
    held = minimum_filter1d(needed, size=2 * (lookahead + hold) + 1, mode="nearest")
    gain = uniform_filter1d(held, size=2 * lookahead + 1, mode="nearest")
    gain = np.minimum(gain, needed)  # float rounding of the average
    return (samples * gain[:, None]).astype(np.float32)


def normalize(
    samples: np.ndarray, target_lufs: float, peak_dbtp: float, rate: int = SAMPLE_RATE
) -> tuple[np.ndarray, float, float]:
    """(samples, LUFS, dBTP) at the target loudness with the true peak at or under the ceiling."""
    measured = loudness(samples, rate)
    if not np.isfinite(measured):
        raise AudioInvalid(_("The track is silent where the ad plays it."), "audio_silent")
    out = samples
    for _pass in range(MAX_PASSES):
        out = (out * np.float32(10.0 ** ((target_lufs - measured) / 20.0))).astype(np.float32)
        peaks = _oversampled_peaks(out)
        if 20.0 * np.log10(max(float(peaks.max()), 1e-12)) > peak_dbtp:
            out = limit(out, peak_dbtp, rate, peaks)
        measured = loudness(out, rate)
        if abs(measured - target_lufs) <= LOUDNESS_TOLERANCE_LU:
            break
    # The last pass's make-up gain may have left a peak over the ceiling: the limiter has the last word.
    peak = true_peak_db(out)
    for _pass in range(3):
        if peak <= peak_dbtp:
            break
        out = limit(out, peak_dbtp, rate)
        peak = true_peak_db(out)
        measured = loudness(out, rate)
    return out, measured, peak


def prepare_track(
    path: str | Path,
    seconds: float,
    *,
    fade_in: float = 0.5,
    fade_out: float = 1.0,
    target_lufs: float = -14.0,
    peak_dbtp: float = -1.0,
) -> PreparedTrack:
    """The track made ready to lie under an ad of `seconds`; loudness and true peak measured on the result."""
    if seconds < MIN_SECONDS:
        raise ValueError(f"an ad of {seconds} s is too short to measure its loudness (at least {MIN_SECONDS} s)")
    n = round(seconds * SAMPLE_RATE)
    source = decode_stereo(path, max_seconds=seconds)
    if len(source) == 0:
        raise AudioInvalid(_("The file is not audio we can play (MP3, WAV, M4A/AAC or OGG)."), "audio_invalid")
    fitted = fit_length(source, n, int(LOOP_CROSSFADE_SECONDS * SAMPLE_RATE))
    faded = apply_fades(fitted, fade_in, fade_out)
    out, lufs, peak = normalize(faded, target_lufs, peak_dbtp)
    return PreparedTrack(samples=out, sample_rate=SAMPLE_RATE, seconds=n / SAMPLE_RATE, lufs=lufs, true_peak=peak)
