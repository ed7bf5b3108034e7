from __future__ import annotations

from django.core.files.base import ContentFile

from generation.models import Job, Video
from tests.factories import JobFactory
from tests.integration.conftest import broker, clean_broker  # noqa: F401 — the real Redis fixtures


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
