"""DiT jobs on the `gpu` queue through a real Celery worker, with the tiny Wan VACE model (no GPU needed)."""

from __future__ import annotations

import time

import pytest

from generation import services
from generation.models import Job, Video
from generation.tasks import run_job_gpu
from tests.factories import JobFactory, ensure_presets
from tests.integration.conftest import wait_for
from tests.unit.dit.tiny_wan import save_tiny_model

pytestmark = [pytest.mark.worker, pytest.mark.slow, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# QA thresholds off: these tests are about the job mechanics on the gpu queue, not about the tiny model's looks.
# 1 s at 4 fps is 5 frames, the fewest a video has: the tiny model's VAE at 640×640 costs ~3 s a frame on CPU.
MECHANICS = {"SHOPVIDEO_QA_MIN_PSNR": "0", "SHOPVIDEO_QA_MIN_SSIM": "0", "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}


@pytest.fixture
def model_env(tmp_path):
    folder, _ = save_tiny_model(tmp_path / "tiny-wan")
    return {**MECHANICS, "SHOPVIDEO_MODEL_PATH": str(folder)}


def _state(job: Job) -> Job:
    job.refresh_from_db()
    return job


def test_missing_model_fails_at_once_with_model_unavailable(start_worker):
    ensure_presets()
    start_worker({**MECHANICS, "SHOPVIDEO_MODEL_PATH": "/nonexistent/wan-vace"})
    job = JobFactory(engine="dit", seconds=1, aspect_ratio="1:1", dispatched_at=None)
    run_job_gpu.delay(job.pk)
    wait_for(lambda: _state(job).is_final, 120, 0.3, "the dit job to fail")
    assert job.state == Job.State.FAILED and job.error_code == "model_unavailable"
    assert job.attempt == 1  # no retry loop


def test_cancel_during_the_steps_stops_the_dit_job(start_worker, model_env):
    ensure_presets()
    worker = start_worker({**model_env, "SHOPVIDEO_DIT_STEPS": "40"})
    job = JobFactory(engine="dit", seconds=1, fps=4, aspect_ratio="1:1", dispatched_at=None)
    run_job_gpu.delay(job.pk)
    # Progress beyond the prepare share only comes from the denoising steps' callback.
    wait_for(lambda: _state(job).state == Job.State.RUNNING and job.progress > 0.06, 400, 0.2, "denoising steps")
    services.cancel_job(job=job)
    canceled_at = time.monotonic()
    wait_for(lambda: f"job {job.pk} attempt 1 stopped" in worker.log(), 60, 0.2, "the worker to stop the job")
    job.refresh_from_db()
    assert job.state == Job.State.CANCELED and job.progress < 0.5
    assert not Video.objects.filter(job=job).exists()
    assert time.monotonic() - canceled_at < 60


def test_dit_job_runs_on_the_gpu_queue_after_the_worker_warmed_up(start_worker, model_env):
    ensure_presets()
    worker = start_worker(
        {
            **model_env,
            "SHOPVIDEO_DIT_STEPS": "2",
            "SHOPVIDEO_DIT_WARMUP": "1",
            "SHOPVIDEO_DIT_WARMUP_SIZES": "96x160x9",
            "SHOPVIDEO_DIT_WARMUP_STEPS": "1",
        }
    )
    wait_for(lambda: "dit warm-up done" in worker.log(), 120, 0.3, "the worker's DiT warm-up")
    assert "96x160x9 in" in worker.log()
    job = JobFactory(engine="dit", seconds=1, fps=4, aspect_ratio="1:1", dispatched_at=None)
    run_job_gpu.delay(job.pk)
    wait_for(lambda: _state(job).is_final, 400, 0.5, "the dit job to finish")
    assert job.state == Job.State.SUCCEEDED, (job.error_code, job.error_message, worker.log()[-2000:])
    # One load in the worker's task process: the warm-up's; the job found the pipeline warm.
    assert worker.log().count("loaded WanVACEPipeline") == 1, worker.log()[-3000:]
    video = Video.objects.get(job=job)
    assert (video.frames, video.fps) == (5, 4) and video.duration_seconds == pytest.approx(5 / 4)
