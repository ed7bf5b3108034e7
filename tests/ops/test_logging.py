"""Structured logs: with LOG_FORMAT=json every line is one JSON object, and every line logged while a job runs
carries its job id, organization and attempt (set by the job service, read by the logging filter)."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from generation import services
from generation.models import Job
from shop_video.core.context import JobContextFilter
from shop_video.ops.conf import logging_config
from tests.factories import JobFactory

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def json_lines():
    """The production console handler (JSON formatter + job filter) on the root logger, writing to a buffer."""
    from pythonjsonlogger.json import JsonFormatter

    config = logging_config({"version": 1, "handlers": {"console": {"class": "logging.StreamHandler"}}}, "json")
    spec = dict(config["formatters"]["json"])
    spec.pop("()")
    buf = io.StringIO()
    handler = logging.StreamHandler(buf)
    handler.setFormatter(JsonFormatter(**spec))
    handler.addFilter(JobContextFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    previous = root.level
    root.setLevel(logging.INFO)
    try:
        yield lambda: [json.loads(line) for line in buf.getvalue().splitlines() if line.strip()]
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)


def test_the_settings_put_the_job_filter_on_every_handler():
    assert settings.LOGGING["filters"]["job"]["()"] == "shop_video.core.context.JobContextFilter"
    assert all("job" in h.get("filters", []) for h in settings.LOGGING["handlers"].values())


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_every_line_of_a_job_carries_its_job_id_and_organization(json_lines, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.SHOPVIDEO_WORK_DIR = tmp_path / "work"
    settings.SHOPVIDEO_QA_MIN_PSNR = 0
    settings.SHOPVIDEO_QA_MIN_SSIM = 0
    job = JobFactory(seconds=1, dispatched_at=None)
    logging.getLogger("outside").info("before the job")

    services.execute_job(job_id=job.pk, worker_name="test-worker")
    job.refresh_from_db()
    assert job.state == Job.State.SUCCEEDED, (job.error_code, job.error_message)
    logging.getLogger("outside").info("after the job")

    lines = json_lines()
    assert lines[0]["message"] == "before the job" and lines[0]["job_id"] is None
    assert lines[-1]["message"] == "after the job" and lines[-1]["job_id"] is None
    during = lines[1:-1]
    assert any("claimed by test-worker" in line["message"] for line in during)
    assert any("committed its video" in line["message"] for line in during)
    for line in during:
        assert line["job_id"] == job.pk, line
        if "nothing to claim" not in line["message"]:
            assert line["organization_id"] == job.organization_id, line
            assert line["attempt"] == 1, line
        assert {"time", "level", "logger", "message"} <= set(line)


def test_log_format_json_makes_the_process_log_json_lines(tmp_path):
    """A real process with LOG_FORMAT=json: Django's own loggers write one JSON object per line."""
    code = "import logging, django; django.setup(); logging.getLogger('probe').warning('hello %s', 'ops')"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "shop_video.settings",
        "LOG_FORMAT": "json",
        "SHOPVIDEO_VAR_DIR": str(tmp_path),
    }
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    line = json.loads(out.stderr.strip().splitlines()[-1])
    assert line["message"] == "hello ops" and line["level"] == "WARNING" and line["logger"] == "probe"
    assert line["job_id"] is None and "organization_id" in line
