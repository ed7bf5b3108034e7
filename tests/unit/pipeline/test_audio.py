"""Ad music: the upload check (formats by content, refusals with stable codes, long files refused from their
header), the music bed (length, fades, −14 LUFS and ≤ −1 dBTP measured here independently), beats on a click
track of known tempo, and the mux (video packets byte for byte, AAC as long as the video)."""

from __future__ import annotations

import time

import av
import numpy as np
import pyloudnorm
import pytest
from PIL import Image
from scipy.signal import resample_poly

from generation.pipeline import audio
from generation.pipeline.audio import probe as probe_module
from generation.pipeline.encode import encode_mp4
from tests import audio_samples as samples


def lufs(x: np.ndarray, rate: int = 48_000) -> float:
    return pyloudnorm.Meter(rate).integrated_loudness(x.astype(np.float64))


def dbtp(x: np.ndarray) -> float:
    return 20 * np.log10(np.abs(resample_poly(x, 4, 1, axis=0)).max())


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """One short music file per accepted format, and the bad ones."""
    d = tmp_path_factory.mktemp("audio")
    music = samples.music(3.0)
    out = {
        "wav": samples.write_wav(d / "music.wav", music),
        "mp3": samples.encode(d / "music.mp3", music),
        "ogg-opus": samples.encode(d / "music.ogg", music),
        "ogg-vorbis": samples.encode(d / "music.oga", music),
        "m4a": samples.encode(d / "music.m4a", music),
        "mono-wav": samples.write_wav(d / "mono.wav", music[:, :1], rate=22_050),
    }
    (d / "text.mp3").write_text("This is a text file, renamed.\n" * 40)
    (d / "empty.mp3").write_bytes(b"")
    Image.new("RGB", (64, 64), "red").save(d / "image.mp3", "PNG")
    encode_mp4([np.zeros((64, 64, 3), np.uint8)] * 4, d / "silent-video.mp4", fps=4)
    out |= {"text": d / "text.mp3", "empty": d / "empty.mp3", "image": d / "image.mp3"}
    out["video-without-audio"] = d / "silent-video.mp4"
    for kind, ext in (("mp3", "mp3"), ("m4a", "m4a"), ("ogg", "ogg"), ("wav", "wav")):
        copy = d / f"cut.{ext}"
        copy.write_bytes(out["ogg-opus" if kind == "ogg" else kind].read_bytes())
        out[f"truncated-{kind}"] = samples.truncated(copy)
    out["silence"] = samples.write_wav(d / "silence.wav", np.zeros((44_100, 2), np.float32))
    return out


@pytest.mark.parametrize(
    "kind, codec, fmt",
    [
        ("wav", "pcm_s16le", "wav"),
        ("mp3", "mp3float", "mp3"),
        ("ogg-opus", "opus", "ogg"),
        ("ogg-vorbis", "vorbis", "ogg"),
        ("m4a", "aac", "mov,mp4,m4a,3gp,3g2,mj2"),
    ],
)
def test_probe_accepts_each_format(files, kind, codec, fmt):
    info = audio.probe_track(files[kind])
    assert info.codec == codec and info.format == fmt
    assert info.seconds == pytest.approx(3.0, abs=0.05)
    assert info.channels == 2
    assert info.sample_rate in (44_100, 48_000)


@pytest.mark.parametrize(
    "kind",
    ["text", "empty", "image", "video-without-audio", "truncated-mp3", "truncated-m4a", "truncated-ogg",
     "truncated-wav"],
)  # fmt: skip
def test_probe_refuses_what_is_not_usable_audio(files, kind):
    with pytest.raises(audio.AudioInvalid) as caught:
        audio.probe_track(files[kind])
    assert caught.value.code == "audio_invalid"
    assert "MP3, WAV, M4A/AAC or OGG" in caught.value.message


def test_probe_refuses_silence(files):
    with pytest.raises(audio.AudioInvalid) as caught:
        audio.probe_track(files["silence"])
    assert caught.value.code == "audio_silent"


def test_a_two_hour_file_is_refused_from_its_header_without_decoding(tmp_path, monkeypatch):
    long = samples.mp3_declaring(tmp_path / "two-hours.mp3", 7200)
    assert long.stat().st_size < 20_000  # one second of audio on disk
    monkeypatch.setattr(probe_module, "_decode_all", lambda *a: pytest.fail("decoded a file its header refuses"))
    started = time.perf_counter()
    with pytest.raises(audio.AudioInvalid) as caught:
        audio.probe_track(long)
    assert time.perf_counter() - started < 0.5
    assert caught.value.code == "audio_too_long"
    assert caught.value.params == {"max_seconds": 600.0}


def test_a_stream_without_a_declared_length_is_decoded_only_up_to_the_limit(files, monkeypatch):
    monkeypatch.setattr(probe_module, "declared_seconds", lambda container, stream: None)
    decoded = []
    real_decode = av.container.InputContainer.decode

    def counting_decode(self, *args, **kwargs):
        for frame in real_decode(self, *args, **kwargs):
            decoded.append(frame.samples / frame.sample_rate)
            yield frame

    monkeypatch.setattr(av.container.InputContainer, "decode", counting_decode)
    with pytest.raises(audio.AudioInvalid) as caught:
        audio.probe_track(files["mp3"], max_seconds=1.0)
    assert caught.value.code == "audio_too_long"
    assert 1.0 < sum(decoded) < 1.1  # stopped one frame past the limit, not at the end of the 3 s
    assert audio.probe_track(files["mp3"], max_seconds=5.0).seconds == pytest.approx(3.0, abs=0.05)


def test_probe_refuses_a_file_over_the_byte_limit_before_opening_it(files):
    with pytest.raises(audio.AudioInvalid) as caught:
        audio.probe_track(files["wav"], max_bytes=100_000)
    assert caught.value.code == "audio_too_large"
    assert audio.MAX_BYTES == 50 * 1024 * 1024 and audio.MAX_SECONDS == 600


@pytest.mark.parametrize("kind", ["mp3", "mono-wav"])
def test_prepare_reaches_the_loudness_with_the_true_peak_under_the_ceiling(files, kind):
    prepared = audio.prepare_track(files[kind], 2.5)
    assert prepared.samples.shape == (120_000, 2) and prepared.samples.dtype == np.float32
    assert prepared.sample_rate == 48_000 and prepared.seconds == 2.5
    assert lufs(prepared.samples) == pytest.approx(-14.0, abs=0.2)
    assert dbtp(prepared.samples) <= -1.0 + 1e-3
    assert prepared.lufs == pytest.approx(lufs(prepared.samples), abs=0.01)
    assert prepared.true_peak == pytest.approx(dbtp(prepared.samples), abs=0.05)
    assert prepared.summary() == {
        "lufs": round(prepared.lufs, 2),
        "true_peak": round(prepared.true_peak, 2),
        "seconds": 2.5,
    }


def test_prepare_limits_peaks_the_loudness_gain_would_push_over_the_ceiling(tmp_path):
    """A quiet track with sharp kicks: −14 LUFS by gain alone would put its peaks well above 0 dBTP."""
    quiet = samples.music(4.0, rate=48_000) * 0.05
    quiet[::12_000] = 0.3  # single-sample spikes: peaks far above the music's loudness
    plain_gain = -14.0 - lufs(quiet)
    assert dbtp(quiet) + plain_gain > 0.0
    prepared = audio.prepare_track(samples.write_wav(tmp_path / "quiet.wav", quiet, rate=48_000), 4.0)
    assert lufs(prepared.samples) == pytest.approx(-14.0, abs=0.2)
    assert dbtp(prepared.samples) <= -1.0 + 1e-3


def test_the_ceiling_wins_when_the_loudness_is_all_in_the_peaks(tmp_path):
    """Clicks cannot reach −14 LUFS under −1 dBTP: the true peak still holds, the loudness ends lower."""
    track, _clicks = samples.clicks(3.0, 120)
    prepared = audio.prepare_track(samples.write_wav(tmp_path / "clicks.wav", track, 48_000), 3.0, fade_in=0)
    assert dbtp(prepared.samples) <= -1.0 + 1e-3
    assert lufs(prepared.samples) < -15.0
    assert prepared.lufs == pytest.approx(lufs(prepared.samples), abs=0.01)


def test_a_short_track_loops_and_fades(files):
    prepared = audio.prepare_track(files["mp3"], 7.0, fade_in=0.5, fade_out=1.0)
    x = prepared.samples[:, 0]
    rms = [float(np.sqrt(np.mean(x[i : i + 4800] ** 2))) for i in range(0, len(x), 4800)]  # 0.1 s windows
    assert len(x) == 7 * 48_000
    assert abs(x[0]) < 1e-3 and abs(x[-1]) < 1e-3  # faded in and out
    assert rms[0] < 0.3 * np.median(rms) and rms[-1] < 0.3 * np.median(rms)
    assert min(rms[6:-11]) > 0.3 * np.median(rms)  # music all along: the 3 s track loops, no silent gap
    assert np.abs(np.diff(x)).max() < 0.2  # the seams crossfade: no click


@pytest.mark.parametrize("bpm", [120, 93])
def test_beats_of_a_click_track_land_on_the_clicks(tmp_path, bpm):
    track, clicks = samples.clicks(6.0, bpm)
    # A click track's loudness is all in its peaks: −14 LUFS under −1 dBTP would limit the clicks away, so
    # this one is brought to a level it can reach.
    wav = samples.write_wav(tmp_path / "clicks.wav", track, 48_000)
    prepared = audio.prepare_track(wav, 6.0, fade_in=0, fade_out=0, target_lufs=-30.0)
    found = np.array(audio.beats(prepared))
    assert len(found) >= len(clicks) - 1
    errors = np.abs(found[:, None] - clicks[None, :]).min(axis=1)
    assert errors.max() < 0.020, errors
    assert np.median(np.diff(found)) == pytest.approx(60.0 / bpm, abs=0.01)


def test_beats_of_music_follow_its_kick(files):
    prepared = audio.prepare_track(files["wav"], 3.0)  # kicks every 0.5 s from 0
    found = np.array(audio.beats(prepared))
    kicks = np.arange(0.0, 3.0, 0.5)
    assert np.abs(found[:, None] - kicks[None, :]).min(axis=1).max() < 0.04
    assert len(found) >= 4


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 255, (96, 128, 3), dtype=np.uint8) for _ in range(30)]
    return encode_mp4(frames, tmp_path_factory.mktemp("video") / "ad.mp4", fps=12)  # 2.5 s


def _video_packets(path) -> list[tuple[bytes, int, int, bool]]:
    with av.open(str(path)) as container:
        return [(bytes(p), p.pts, p.dts, p.is_keyframe) for p in container.demux(container.streams.video[0]) if p.size]


def test_mux_copies_the_video_and_adds_the_music(files, video, tmp_path):
    prepared = audio.prepare_track(files["m4a"], 2.5)
    out = audio.mux_audio(video, prepared, tmp_path / "with-music.mp4")
    assert _video_packets(out) == _video_packets(video)  # the product's pixels, bit for bit
    with av.open(str(out)) as container:
        stream = container.streams.audio[0]
        assert (stream.codec_context.name, stream.rate, stream.layout.name) == ("aac", 48_000, "stereo")
        assert 120_000 <= (stream.bit_rate or 0) <= 200_000
        decoded = np.concatenate([f.to_ndarray() for f in container.decode(stream)], axis=1).T
    assert abs(len(decoded) - 2.5 * 48_000) <= 1024  # as long as the video, within one AAC frame
    assert lufs(decoded) == pytest.approx(-14.0, abs=1.0)
    assert dbtp(decoded) <= -1.0 + 0.5
    data = out.read_bytes()
    assert data.find(b"moov") < data.find(b"mdat")  # +faststart


def test_mux_ends_a_shorter_track_on_silence_as_long_as_the_video(files, video, tmp_path):
    prepared = audio.prepare_track(files["mp3"], 1.5)
    out = audio.mux_audio(video, prepared, tmp_path / "short-music.mp4")
    with av.open(str(out)) as container:
        decoded = np.concatenate([f.to_ndarray() for f in container.decode(audio=0)], axis=1).T
    assert abs(len(decoded) - 2.5 * 48_000) <= 1024
    assert np.abs(decoded[int(1.6 * 48_000) :]).max() < 1e-3  # after the faded-out track: silence
    assert np.abs(decoded[: int(1.2 * 48_000)]).max() > 0.1
