from __future__ import annotations

import pytest
from django.core.files.base import ContentFile

from generation.models import Job, Video
from tests.factories import JobFactory
from tests.integration.conftest import broker, clean_broker  # noqa: F401 — the real Redis fixtures
from tests.storage.conftest import s3_client, s3_endpoint, s3_storage  # noqa: F401 — moto S3


def make_video(job: Job | None = None, *, metadata: dict | None = None, **job_kwargs) -> Video:
    """A succeeded job's Video row with real stored files (video, poster, preview) in the default storage."""
    job = job or JobFactory(state=Job.State.SUCCEEDED, attempt=1, **job_kwargs)
    video = Video(
        organization_id=job.organization_id,
        job=job,
        attempt=job.attempt or 1,
        width=640,
        height=640,
        fps=16,
        frames=17,
        duration_seconds=1.0,
        qa_passed=True,
        metadata=metadata or {},
    )
    video.file.save("video.mp4", ContentFile(b"\x00\x00\x00\x18ftypmp42" + b"v" * 64), save=False)
    video.poster.save("poster.jpg", ContentFile(b"\xff\xd8\xff" + b"p" * 64), save=False)
    video.preview.save("preview.mp4", ContentFile(b"\x00\x00\x00\x18ftypmp42" + b"r" * 64), save=False)
    video.save()
    return video


@pytest.fixture
def eager_tasks():
    """Celery tasks sent with .delay() run at once in this process (what a worker would run)."""
    from shop_video.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = before
