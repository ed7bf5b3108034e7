"""Background data deletion (thin: the work is in shop_video.ops.lifecycle)."""

from __future__ import annotations

from celery import shared_task

from . import lifecycle


@shared_task(name="ops.purge_product", ignore_result=True, acks_late=True)
def purge_product(product_id: int) -> int:
    return lifecycle.purge_product(int(product_id))


@shared_task(name="ops.purge_product_files", ignore_result=True, acks_late=True)
def purge_product_files(organization_id: int, product_id: int, names: list[str], prefixes: list[str], title="") -> int:
    return lifecycle.purge_product_files(int(organization_id), int(product_id), list(names), list(prefixes), title)


@shared_task(name="ops.purge_organization", ignore_result=True, acks_late=True)
def purge_organization(organization_id: int) -> int:
    return lifecycle.purge_organization(int(organization_id))


@shared_task(name="ops.purge_expired_videos", ignore_result=True)
def purge_expired_videos() -> int:
    """Nightly (CELERY_BEAT_SCHEDULE["ops-purge-expired-videos"], shop_video.ops.conf)."""
    return lifecycle.purge_expired_videos()
