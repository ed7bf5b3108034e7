"""Probes and metrics through the Django test client, against the real database and broker."""

from __future__ import annotations

import pytest
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from generation.models import Job
from shop_video.ops import metrics
from tests.drills.conftest import free_port
from tests.factories import JobFactory

from .conftest import make_video

pytestmark = pytest.mark.django_db


def _families(text: str) -> dict:
    return {f.name: f for f in text_string_to_metric_families(text)}


def test_healthz_answers_without_login_and_without_the_https_redirect(settings):
    settings.SECURE_SSL_REDIRECT = True  # production; probes come over plain HTTP inside the network
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]
    assert Client().get("/products/").status_code == 301  # everything else is redirected to HTTPS


def test_readyz_ok_when_database_broker_and_storage_answer(broker, settings, tmp_path):
    settings.CELERY_BROKER_URL = broker.url
    settings.MEDIA_ROOT = str(tmp_path)
    response = Client().get("/readyz")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok"
    assert {name: check["ok"] for name, check in body["checks"].items()} == {
        "database": True,
        "broker": True,
        "storage": True,
    }


def test_readyz_503_when_the_broker_is_down(settings, tmp_path):
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    settings.SHOPVIDEO_READYZ_TIMEOUT = 0.5
    settings.MEDIA_ROOT = str(tmp_path)
    settings.SECURE_SSL_REDIRECT = True
    response = Client().get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["broker"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True


def test_metrics_expose_jobs_by_state_with_the_right_numbers(broker, settings):
    settings.CELERY_BROKER_URL = broker.url
    first = JobFactory(state=Job.State.QUEUED)
    JobFactory(state=Job.State.QUEUED, photo=first.photo, batch=first.batch)
    JobFactory(state=Job.State.RUNNING, photo=first.photo, batch=first.batch)
    for _ in range(3):
        JobFactory(state=Job.State.SUCCEEDED, photo=first.photo, batch=first.batch)
    response = Client().get("/metrics")
    assert response.status_code == 200
    families = _families(response.content.decode())
    jobs = {s.labels["state"]: s.value for s in families["shopvideo_jobs"].samples}
    assert jobs == {"queued": 2, "running": 1, "succeeded": 3, "failed": 0, "canceled": 0}
    # django-prometheus' HTTP metrics are there too.
    assert "django_http_requests_before_middlewares" in families


def test_metrics_queue_depth_is_the_broker_queue_length(clean_broker, settings):
    settings.CELERY_BROKER_URL = clean_broker.url
    clean_broker.client.lpush("cpu", b"a", b"b", b"c")
    clean_broker.client.lpush("gpu", b"x")
    clean_broker.client.lpush("events", b"e", b"f")
    assert metrics.queue_depths(clean_broker.url) == {"cpu": 3, "gpu": 1, "events": 2}
    families = _families(Client().get("/metrics").content.decode())
    depth = {s.labels["queue"]: s.value for s in families["shopvideo_queue_depth"].samples}
    assert depth == {"cpu": 3, "gpu": 1, "events": 2}
    clean_broker.client.flushdb()


def test_metrics_stage_durations_come_from_the_videos_timings(settings, broker, tmp_path):
    settings.CELERY_BROKER_URL = broker.url
    settings.MEDIA_ROOT = str(tmp_path)
    make_video(metadata={"timings": {"render": 2.0, "encode": 0.3, "total": 3.0}})
    make_video(metadata={"timings": {"render": 7.0, "encode": 0.2, "total": 8.0}})
    families = _families(Client().get("/metrics").content.decode())
    samples = families["shopvideo_job_stage_seconds"].samples
    render = {s.labels.get("le"): s.value for s in samples if s.labels.get("stage") == "render" and "le" in s.labels}
    assert render["2.5"] == 1 and render["10.0"] == 2 and render["+Inf"] == 2
    gsum = families["shopvideo_job_stage_seconds_gsum"].samples
    assert [s.value for s in gsum if s.labels == {"engine": "compositor", "stage": "render"}] == [9.0]


def test_credits_captured_come_from_the_billing_ledger(settings, broker):
    from django.db import transaction

    from billing import services as billing

    settings.CELERY_BROKER_URL = broker.url
    first = JobFactory(credits=3)
    second = JobFactory(credits=5, photo=first.photo, batch=first.batch)
    third = JobFactory(credits=7, photo=first.photo, batch=first.batch)
    with transaction.atomic():
        billing.reserve_jobs(
            organization=first.organization, credits_by_job={job.pk: job.credits for job in (first, second, third)}
        )
    with transaction.atomic():
        billing.settle_jobs({first.pk: True, second.pk: True, third.pk: False})  # the third released
        billing.settle_jobs({first.pk: True})  # a second settle captures nothing more
    families = _families(Client().get("/metrics").content.decode())
    assert [s.value for s in families["shopvideo_credits_captured"].samples] == [8]


def test_credits_source_can_be_replaced(settings, broker):
    settings.CELERY_BROKER_URL = broker.url
    previous = metrics._credits_source
    metrics.register_credits_source(lambda: 42)
    try:
        families = _families(Client().get("/metrics").content.decode())
        assert [s.value for s in families["shopvideo_credits_captured"].samples] == [42]
    finally:
        metrics.register_credits_source(previous)


def test_metrics_token_when_configured(settings, broker):
    settings.CELERY_BROKER_URL = broker.url
    settings.SHOPVIDEO_METRICS_TOKEN = "s3cret-token"
    assert Client().get("/metrics").status_code == 401
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-token").status_code == 200
