"""Platform presets: a video made for each passes its own export check; broken rules are named. Real MP4s, PyAV."""

import dataclasses

import numpy as np
import pytest

from generation.pipeline.encode import encode_mp4
from generation.pipeline.platforms import PLATFORMS, check_export, probe
from generation.pipeline.run import run_pipeline
from generation.pipeline.spec import VariantSpec


def _rules(violations) -> set[str]:
    return {v.rule for v in violations}


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_a_video_made_for_the_platform_passes_its_check(platform, photo, workdir):
    preset = PLATFORMS[platform]
    spec = VariantSpec(
        market="us",
        aspect_ratio=preset.aspects[0],
        seconds=max(1.0, preset.duration_min),
        fps=16,
        seed=1,
        captions=True,
        product_title="Leather backpack",
        price="19.99",
        platform=platform,
    )
    result = run_pipeline(photo=photo, out_path=workdir / f"{platform}.mp4", spec=spec, qa_retries=0)
    facts = probe(result.video_path)
    assert (facts.width, facts.height, facts.frames) == (spec.width, spec.height, spec.frames)
    assert facts.codec == "h264" and facts.container == "mp4"
    assert check_export(result.video_path, platform) == []
    assert result.contract()["platform"] == platform


def _flat_video(path, width, height, frames, fps, noise=False, crf=18):
    rng = np.random.default_rng(0)
    base = np.full((height, width, 3), 128, np.uint8)
    clip = (rng.integers(0, 256, (height, width, 3), dtype=np.uint8) if noise else base for _ in range(frames))
    return encode_mp4(clip, path, fps=fps, crf=crf, x264_params="", sharp=False)


def test_too_long_fails_duration_max(workdir):
    # 190 s at 1 fps for YouTube Shorts (180 s at most): tiny to encode, long to play.
    path = _flat_video(workdir / "long.mp4", 480, 832, 190, fps=1)
    violations = check_export(path, "shorts")
    assert "duration_max" in _rules(violations)
    (v,) = [v for v in violations if v.rule == "duration_max"]
    assert v.actual == pytest.approx(190, abs=1) and v.limit == 180 and "longer than 180 s" in v.message


def test_too_heavy_fails_bitrate_max_and_a_smaller_size_limit_fails_file_size_max(workdir):
    path = _flat_video(workdir / "heavy.mp4", 480, 832, 17, fps=16, noise=True, crf=1)  # near-lossless noise
    assert "bitrate_max" in _rules(check_export(path, "tiktok"))
    # The same file under a store whose upload limit is 5 MB (limits are data: a tightened copy of the preset).
    tight = dataclasses.replace(PLATFORMS["shopify"], file_size_max=5_000_000)
    assert "file_size_max" in _rules(check_export(path, tight))
    assert "file_size_max" not in _rules(check_export(path, "shopify"))


def test_wrong_shape_and_too_small_are_named(workdir):
    wide = _flat_video(workdir / "wide.mp4", 832, 480, 17, fps=16)
    assert _rules(check_export(wide, "tiktok")) == {"aspect_ratio"}
    assert check_export(wide, "youtube") == []
    small = _flat_video(workdir / "small.mp4", 240, 416, 17, fps=16)
    assert _rules(check_export(small, "reels")) >= {"resolution_min", "duration_min"}


def test_the_pipeline_enforces_the_export_rules_of_a_chosen_platform_on_its_final_file(photo, workdir, monkeypatch):
    # A deliberately strict TikTok: at most 10 kB per file (the 1 s video is larger).
    strict = dataclasses.replace(PLATFORMS["tiktok"], file_size_max=10_000)
    monkeypatch.setitem(PLATFORMS, "tiktok", strict)
    spec = VariantSpec(market="us", aspect_ratio="9:16", seconds=1, fps=16, seed=1, platform="tiktok")
    result = run_pipeline(photo=photo, out_path=workdir / "strict.mp4", spec=spec, qa_retries=0)
    check = result.export_check
    assert (check["platform"], check["enforced"], check["passed"]) == ("tiktok", True, False)
    violation = check["violations"][0]
    assert violation["rule"] == "file_size_max" and violation["actual"] == result.video_path.stat().st_size


def test_the_pipeline_reports_the_export_check_of_the_markets_platform_without_enforcing_it(photo, workdir):
    spec = VariantSpec(market="us", aspect_ratio="9:16", seconds=1, fps=16, seed=1)
    result = run_pipeline(photo=photo, out_path=workdir / "plain.mp4", spec=spec, qa_retries=0)
    assert result.export_check == {
        "platform": spec.platform_slug,
        "enforced": False,
        "passed": True,
        "violations": [],
    }
