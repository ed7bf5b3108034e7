"""Deleting a product: its rows now (audited), its media from storage (local disk or S3) in a background task.

Order matters: active jobs are canceled first (a worker still rendering then fails its fence and removes its own
uploads), then files are deleted, then rows. A photo file is keyed by its checksum, so one stored file may back
several photos of the organization: it is deleted only when no remaining photo uses it."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterable

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import ProtectedError
from django.utils.translation import gettext as _

from generation.models import Job, Photo, Product, Video
from generation.pipeline.errors import BadInputError
from generation.services.dispatch import cancel_job
from shop_video.core import audit
from shop_video.merchants.models import Organization

logger = logging.getLogger(__name__)


def _delete_names(names: Iterable[str]) -> int:
    deleted = 0
    for name in sorted({n for n in names if n}):
        try:
            default_storage.delete(name)
            deleted += 1
        except Exception:
            logger.exception("could not delete %s from storage", name)
    return deleted


def _delete_tree(prefix: str) -> int:
    """Every file under a prefix (what a crashed attempt may have left behind)."""
    try:
        dirs, files = default_storage.listdir(prefix)
    except (FileNotFoundError, NotADirectoryError, OSError):
        return 0
    count = _delete_names(f"{prefix}/{f}" for f in files)
    for d in dirs:
        count += _delete_tree(f"{prefix}/{d}")
    local = getattr(default_storage, "location", None)
    if local:  # FileSystemStorage leaves empty folders behind
        with contextlib.suppress(OSError):
            os.rmdir(os.path.join(local, prefix))
    return count


def _cancel_active(jobs) -> None:
    for job in jobs.filter(state__in=Job.ACTIVE_STATES):
        cancel_job(job=job)


def _video_names(videos) -> list[str]:
    names: list[str] = []
    for file, poster, preview in videos.values_list("file", "poster", "preview"):
        names += [file, poster, preview]
    return names


class ProductBusy(BadInputError):
    """The product still has queued or running jobs: cancel them (or wait) before deleting it."""

    code = "product_has_active_jobs"
    status_code = 409


class ProductInUse(BadInputError):
    code = "product_in_use"
    status_code = 409


def _product_media(product: Product) -> tuple[list[str], list[str]]:
    """(file names, storage prefixes of its jobs' attempts) of everything a product owns in storage."""
    jobs = Job.objects.filter(photo__product=product)
    names = _video_names(Video.objects.filter(job__in=jobs))
    for file, mask in Photo.objects.filter(product=product).values_list("file", "mask"):
        names += [file, mask]
    prefixes = [f"orgs/{org_id}/videos/job-{job_id}" for job_id, org_id in jobs.values_list("id", "organization_id")]
    return [n for n in names if n], prefixes


def _delete_product_rows(product: Product, *, actor=None, request=None) -> tuple[list[str], list[str]]:
    """In the caller's transaction: audit, collect the media, delete the rows. Returns (names, prefixes)."""
    names, prefixes = _product_media(product)
    audit.record(
        audit.PRODUCT_DELETION_REQUESTED,
        actor=actor,
        organization=product.organization,
        target=product,
        request=request,
        metadata={"title": product.title, "files": len(names)},
    )
    try:
        product.delete()  # cascades to photos, jobs, videos
    except ProtectedError as exc:
        raise ProductInUse(_("The product cannot be deleted: other records refer to it.")) from exc
    return names, prefixes


def request_product_deletion(*, product: Product, actor=None, request=None) -> None:
    """The one way a merchant deletes a product (API and dashboard). Refused (ProductBusy, 409) while one of its
    jobs is queued or running: its credits are reserved and a worker may hold it. The rows go now, in this
    transaction, so the product disappears at once; its files (local disk or S3) go in the background task
    `ops.purge_product_files` once this commits, which writes the `product.deleted` audit entry."""
    from generation import tasks

    organization_id, product_id = product.organization_id, product.pk
    with transaction.atomic():
        Product.objects.select_for_update().filter(pk=product_id).first()  # one deletion at a time
        if Job.objects.filter(photo__product=product, state__in=Job.ACTIVE_STATES).exists():
            raise ProductBusy(_("The product has queued or running jobs; cancel them or wait until they finish."))
        names, prefixes = _delete_product_rows(product, actor=actor, request=request)
        args = (organization_id, product_id, names, prefixes, product.title)
        transaction.on_commit(lambda: _send_or_run(tasks.purge_product_files, args))


def purge_product_files(organization_id: int, product_id: int, names: list[str], prefixes: list[str], title="") -> int:
    """Delete a deleted product's files; a photo file another photo of the organization still uses (same
    checksum, same key) is kept. Safe to run twice. Returns the number of files deleted."""
    still_used: set[str] = set()
    for file, mask in Photo.objects.filter(organization_id=organization_id).values_list("file", "mask"):
        still_used |= {file, mask}
    files = _delete_names(n for n in names if n not in still_used)
    for prefix in prefixes:
        files += _delete_tree(prefix)  # what a crashed attempt may have left behind
    audit.record(
        audit.PRODUCT_DELETED,
        organization=Organization.objects.filter(pk=organization_id).first(),
        target=f"generation.product:{product_id}",
        metadata={"title": title, "files": files},
    )
    logger.info("product %s purged: %s files deleted", product_id, files)
    return files


def purge_product(product_id: int) -> int:
    """Delete a product now, whatever its state (active jobs are canceled first): rows, then files. For
    operators and the organization purge; merchants go through request_product_deletion."""
    product = Product.objects.filter(pk=product_id).select_related("organization").first()
    if product is None:
        return 0
    _cancel_active(Job.objects.filter(photo__product=product))
    organization_id, title = product.organization_id, product.title
    with transaction.atomic():
        names, prefixes = _delete_product_rows(product)
    return purge_product_files(organization_id, product_id, names, prefixes, title)


def _send_or_run(task, args: tuple) -> None:
    """Queue the file clean-up; with the broker down, do it here rather than leave files nobody owns."""
    try:
        task.apply_async(args, retry=True, retry_policy={"max_retries": 2, "interval_start": 0.2})
    except Exception:
        logger.warning("broker unavailable: running %s in the request", task.name, exc_info=True)
        task.run(*args)
