"""Drills where a service fails under a running batch: the broker (a Redis that keeps nothing on disk) restarted,
PostgreSQL connections terminated. The batch completes; no job stays running with a dead worker."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from generation.models import Job
from tests.integration.conftest import REAPER_INTERVAL, STALE_SECONDS

from .conftest import (
    MECHANICS,
    assert_credits_captured_once,
    assert_each_succeeded_once,
    counts,
    new_org,
    record,
    submit_batch,
    wait_for,
)

pytestmark = [pytest.mark.worker, pytest.mark.slow, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

RESEND_SECONDS = 4  # the drill's "queued jobs older than this are re-sent" (production: minutes)


def _active(batch) -> bool:
    return batch.jobs.filter(state__in=Job.ACTIVE_STATES).exists()


def test_redis_restart_mid_batch_the_reaper_resends_lost_jobs(start_worker, own_redis, settings):
    settings.SHOPVIDEO_DISPATCH_PER_ORG = 4
    env = {
        **MECHANICS,
        "REDIS_URL": own_redis.url,
        "SHOPVIDEO_QUEUED_RESEND_SECONDS": str(RESEND_SECONDS),
        "SHOPVIDEO_DISPATCH_PER_ORG": "4",
    }
    start_worker(env)
    start_worker(env)
    batch = submit_batch(new_org(), 10)
    started = time.monotonic()
    wait_for(lambda: counts(batch).get("succeeded", 0) >= 4, 180, 0.1, "the batch to be under way")
    in_broker = own_redis.client.llen("cpu")

    own_redis.kill()  # everything in the queue is gone: nothing was persisted
    killed_at = time.monotonic()
    time.sleep(2)
    # Same port, empty. (Workers that reconnect push back the one message each had unacknowledged, so the queue
    # is not checked here: what was waiting in it is gone, and only the reaper brings those jobs back.)
    own_redis.start()
    restarted_after = time.monotonic() - killed_at

    wait_for(lambda: not _active(batch), 240, 0.5, "the batch after the broker restart")
    recovered_after = time.monotonic() - killed_at
    assert_each_succeeded_once(batch)
    assert_credits_captured_once(batch)
    record(
        "redis_restart",
        jobs=10,
        workers=2,
        messages_in_broker_at_kill=in_broker,
        broker_down_s=restarted_after,
        batch_done_after_kill_s=recovered_after,
        batch_total_s=time.monotonic() - started,
        queued_resend_after_s=RESEND_SECONDS,
        broker="the drill's own redis-server, no persistence",
    )


def _terminate_other_backends() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return int(cursor.fetchone()[0])


def test_postgres_connections_dropped_mid_batch(start_worker, settings):
    if connection.vendor != "postgresql":
        pytest.skip("terminating server backends needs PostgreSQL (SQLite has no server connections)")
    settings.SHOPVIDEO_JOB_MAX_ATTEMPTS = 6  # several drops may hit one job; the drill is about recovery
    start_worker(MECHANICS)
    start_worker(MECHANICS)
    batch = submit_batch(new_org(), 16)
    started = time.monotonic()
    wait_for(lambda: counts(batch).get("succeeded", 0) >= 3, 180, 0.1, "the batch to be under way")

    terminated = 0
    for _ in range(3):  # drops while jobs render, commit and heartbeat
        wait_for(lambda: batch.jobs.filter(state=Job.State.RUNNING).exists() or not _active(batch), 30, 0.1, "a job")
        terminated += _terminate_other_backends()
        time.sleep(1.5)
    dropped_at = time.monotonic()
    assert terminated >= 2  # at least both workers' connections were cut

    # No job may stay running with a dead worker beyond the reaper's reach (stale + a few reaper ticks).
    limit = STALE_SECONDS + 3 * REAPER_INTERVAL + 5
    worst = 0.0

    def done() -> bool:
        nonlocal worst
        now = timezone.now()
        for beat in batch.jobs.filter(state=Job.State.RUNNING).values_list("heartbeat_at", flat=True):
            worst = max(worst, (now - beat).total_seconds() if beat else 0.0)
        assert not batch.jobs.filter(
            state=Job.State.RUNNING, heartbeat_at__lt=now - timedelta(seconds=limit)
        ).exists(), "a job stayed running with a silent worker"
        return not _active(batch)

    wait_for(done, 240, 0.3, "the batch after the connection drops")
    assert_each_succeeded_once(batch)
    assert_credits_captured_once(batch)
    record(
        "postgres_connections_dropped",
        jobs=16,
        workers=2,
        backends_terminated=terminated,
        batch_done_after_last_drop_s=time.monotonic() - dropped_at,
        worst_silent_running_s=worst,
        batch_total_s=time.monotonic() - started,
    )
