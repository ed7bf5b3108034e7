"""Beat times of a prepared track, so that an ad's cuts can land on the music's beats.

A small beat tracker of the classic kind (Ellis, "Beat Tracking by Dynamic Programming", 2007), written with
numpy because the venv has no music-analysis library and this needs only three steps:

1. onset strength: spectral flux of the decibel spectrogram (43 ms window, 5 ms hops), the positive change per
   frame, shifted back by a quarter window (a centered window sees a transient coming that early);
2. tempo: the autocorrelation of that envelope over 40–240 BPM, weighted towards 120 BPM (log-normal, one octave)
   so that a half or double tempo only wins when the music says so clearly, refined between frames;
3. beats: dynamic programming that picks the onset frames that are both strong and about one period apart
   (a log-squared penalty on the deviation), then each beat is moved to the strongest onset within ±20 ms.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .prepare import PreparedTrack

HOP_SECONDS = 0.005
FFT_SECONDS = 0.04
MIN_BPM, MAX_BPM = 40.0, 240.0
PRIOR_BPM = 120.0
PRIOR_OCTAVES = 1.0
TIGHTNESS = 100.0  # how strongly the tracker keeps to the tempo against off-beat onsets
SNAP_SECONDS = 0.02
FLOOR_DB = 40.0


def onset_strength(mono: np.ndarray, rate: int) -> tuple[np.ndarray, float]:
    """(envelope, seconds per frame): spectral flux, frame i at i × hop seconds, normalized to unit std."""
    hop = max(1, round(rate * HOP_SECONDS))
    n_fft = 1 << int(np.ceil(np.log2(rate * FFT_SECONDS)))
    padded = np.pad(mono.astype(np.float32), (n_fft // 2, n_fft // 2))
    frames = sliding_window_view(padded, n_fft)[::hop]
    spectrum = np.abs(np.fft.rfft(frames * np.hanning(n_fft).astype(np.float32), axis=1))
    # Decibels with a floor 40 dB under the loudest bin: the weak leakage where a chord's partials overlap and beat
    # against each other would otherwise add a steady flux with its own period (measured: a false 228 BPM).
    db = 20.0 * np.log10(np.maximum(spectrum, 1e-10))
    log_mag = np.maximum(db, db.max() - FLOOR_DB)
    flux = np.zeros(len(log_mag), np.float64)
    flux[1:] = np.maximum(0.0, np.diff(log_mag, axis=0)).mean(axis=1)
    # The flux of a centered window rises while a transient enters it, i.e. up to half a window early: shift it.
    lag = round(n_fft / 4 / hop)
    flux = np.concatenate([np.zeros(lag), flux[:-lag]]) if lag else flux
    std = flux.std()
    return (flux / std if std > 0 else flux), hop / rate


def tempo_period(envelope: np.ndarray, frame_seconds: float) -> float | None:
    """The beat period in frames (fractional), or None when the envelope has no periodicity."""
    x = envelope - envelope.mean()
    if not np.any(x):
        return None
    n = len(x)
    spectrum = np.fft.rfft(x, 2 * n)
    # Divided by the overlap at each lag: on a few seconds of music the plain sum favours short lags.
    acf = np.fft.irfft(spectrum * np.conj(spectrum))[:n] / np.arange(n, 0, -1)
    lo = int(np.floor(60.0 / MAX_BPM / frame_seconds))
    hi = min(n - 2, int(np.ceil(60.0 / MIN_BPM / frame_seconds)))
    if hi <= lo + 1 or acf[0] <= 0:
        return None
    lags = np.arange(lo, hi + 1)
    bpm = 60.0 / (lags * frame_seconds)
    prior = np.exp(-0.5 * (np.log2(bpm / PRIOR_BPM) / PRIOR_OCTAVES) ** 2)
    weighted = np.maximum(acf[lags], 0.0) * prior
    best = int(np.argmax(weighted))
    if weighted[best] <= 0:
        return None
    lag = float(lags[best])
    if 0 < best < len(lags) - 1:  # parabolic interpolation of the raw autocorrelation around the peak
        a, b, c = acf[lags[best] - 1], acf[lags[best]], acf[lags[best] + 1]
        denom = a - 2 * b + c
        if denom < 0:
            lag += float(np.clip(0.5 * (a - c) / denom, -0.5, 0.5))
    return lag


def track_beats(envelope: np.ndarray, period: float) -> list[int]:
    """Ellis's dynamic programming: the frames that maximize onset strength plus tempo consistency."""
    n = len(envelope)
    score = envelope.astype(np.float64).copy()
    back = np.full(n, -1, np.int64)
    reach_far, reach_near = round(2 * period), max(1, round(period / 2))
    for t in range(reach_near, n):
        lo = max(0, t - reach_far)
        prev = np.arange(lo, t - reach_near + 1)
        candidates = score[prev] - TIGHTNESS * np.log((t - prev) / period) ** 2
        j = int(np.argmax(candidates))
        if candidates[j] > 0:
            score[t] += candidates[j]
            back[t] = prev[j]
    # End on the best-scoring frame of the last period, then follow the links back.
    tail = max(0, n - int(np.ceil(period)))
    t = tail + int(np.argmax(score[tail:]))
    beats = [t]
    while back[t] >= 0:
        t = int(back[t])
        beats.append(t)
    return beats[::-1]


def beats(prepared: PreparedTrack) -> list[float]:
    """Beat times in seconds from the start of the prepared track; [] when it has no discernible pulse."""
    mono = prepared.samples.mean(axis=1) if prepared.samples.ndim == 2 else prepared.samples
    if len(mono) < prepared.sample_rate:  # under a second: not enough to find a tempo
        return []
    envelope, frame_seconds = onset_strength(mono, prepared.sample_rate)
    period = tempo_period(envelope, frame_seconds)
    if period is None:
        return []
    frames = track_beats(envelope, period)
    snap = round(SNAP_SECONDS / frame_seconds)
    times: list[float] = []
    for f in frames:
        lo, hi = max(0, f - snap), min(len(envelope), f + snap + 1)
        if envelope[lo:hi].max() <= 0:
            continue  # a beat the tempo implies where the music has nothing (silence, a fade): left out
        g = lo + int(np.argmax(envelope[lo:hi]))
        times.append(round(g * frame_seconds, 4))
    return sorted(set(times))
