"""Background data deletion (thin: the work is in shop_video.ops.lifecycle; a product's in generation.tasks)."""

from __future__ import annotations

from celery import shared_task

from . import lifecycle

__all__ = ["purge_expired_videos", "purge_organization"]


@shared_task(name="ops.purge_organization", ignore_result=True, acks_late=True)
def purge_organization(organization_id: int) -> int:
    return lifecycle.purge_organization(int(organization_id))


@shared_task(name="ops.purge_expired_videos", ignore_result=True)
def purge_expired_videos() -> int:
    """Nightly (CELERY_BEAT_SCHEDULE["ops-purge-expired-videos"], shop_video.ops.conf)."""
    return lifecycle.purge_expired_videos()
