"""The GPU worker's DiT warm-up: load once, render the configured sizes, and make an early job wait for it."""

from __future__ import annotations

import logging
import threading

import pytest
from django.test import override_settings

from generation import engines
from generation.engines import warmup
from generation.engines.wan_vace import WanVaceEngine


@pytest.fixture(autouse=True)
def fresh_engines():
    engines._cached_engine.cache_clear()
    engines.dit_ready.set()
    yield
    engines._cached_engine.cache_clear()
    engines.dit_ready.set()


def _loads(caplog) -> int:
    return sum("loaded WanVACEPipeline" in r.getMessage() for r in caplog.records)


def test_warm_up_loads_the_model_once_and_renders_each_size(tiny_model, caplog):
    folder, _ = tiny_model
    caplog.set_level(logging.INFO, logger="generation.engines")
    report = warmup.warm_up_dit(model_path=str(folder), sizes=["64x64x5", "96x160x9"], steps=1)
    assert report.ok, report
    assert list(report.size_seconds) == ["64x64x5", "96x160x9"]
    assert all(seconds > 0 for seconds in report.size_seconds.values())
    engine = engines.get_engine("dit", str(folder))
    assert isinstance(engine, WanVaceEngine)
    assert engine is engines.build_engine("dit", str(folder))
    assert _loads(caplog) == 1  # the job's get_engine found the warmed pipeline, it did not load another
    assert any("dit warm-up done" in r.getMessage() for r in caplog.records)


def test_a_job_that_arrives_during_the_warm_up_waits_for_it(tiny_model, caplog):
    folder, _ = tiny_model
    caplog.set_level(logging.INFO, logger="generation.engines")
    with override_settings(
        SHOPVIDEO_DIT_WARMUP=True,
        SHOPVIDEO_MODEL_PATH=str(folder),
        SHOPVIDEO_DIT_WARMUP_SIZES=["96x160x9"],
        SHOPVIDEO_DIT_WARMUP_STEPS=2,
    ):
        thread = warmup.start_in_background()
        assert thread is not None
        assert not engines.dit_ready.is_set()
        engine = engines.get_engine("dit", str(folder))  # what execute_job calls
        # get_engine returned only once the warm-up had finished with the pipeline.
        assert engines.dit_ready.is_set()
        thread.join(timeout=60)
        assert not thread.is_alive()
    assert engine is engines.build_engine("dit", str(folder))
    assert _loads(caplog) == 1
    assert [r.getMessage() for r in caplog.records if "dit warm-up done" in r.getMessage()]


def test_a_missing_model_is_reported_and_does_not_block_jobs(caplog):
    caplog.set_level(logging.INFO, logger="generation.engines")
    report = warmup.warm_up_dit(model_path="/nonexistent/wan-vace", sizes=["64x64x5"], steps=1)
    assert not report.ok and report.error_code == "model_unavailable"
    assert any("dit warm-up failed: model_unavailable" in r.getMessage() for r in caplog.records)

    with override_settings(SHOPVIDEO_DIT_WARMUP=True, SHOPVIDEO_MODEL_PATH="/nonexistent/wan-vace"):
        thread = warmup.start_in_background()
        thread.join(timeout=30)
    assert engines.dit_ready.is_set()  # jobs are not held back by a failed warm-up: they fail on their own


def test_warm_up_is_off_unless_configured():
    with override_settings(SHOPVIDEO_DIT_WARMUP=False):
        assert warmup.start_in_background() is None
    assert engines.dit_ready.is_set()


@pytest.mark.parametrize("text", ["480x832", "480x832x81x2", "wide", "480xabcx81"])
def test_bad_warm_up_sizes_are_refused(text):
    with pytest.raises(ValueError, match="WIDTHxHEIGHTxFRAMES"):
        warmup.parse_size(text)


def test_parse_size():
    assert warmup.parse_size("480x832x81") == (480, 832, 81)
    assert threading.current_thread() is threading.main_thread()
