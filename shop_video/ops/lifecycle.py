"""Data lifecycle: deleting an organization or a product removes its media from storage (local disk or S3, through
the storage API) and its rows, in a background task, with audit entries; old videos expire after the retention.

Order matters: active jobs are canceled first (a worker still rendering then fails its fence and removes its own
uploads), then files are deleted, then rows. A photo file is keyed by its checksum, so one stored file may back
several photos of the organization: it is deleted only when no remaining photo uses it."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone
from django.utils.translation import gettext as _

from generation.models import Job, Photo, Product, Video
from generation.pipeline.errors import BadInputError
from shop_video.merchants.models import Organization

from . import audit

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
        import contextlib
        import os

        with contextlib.suppress(OSError):
            os.rmdir(os.path.join(local, prefix))
    return count


def _cancel_active(jobs) -> None:
    from generation import services

    for job in jobs.filter(state__in=Job.ACTIVE_STATES):
        services.cancel_job(job=job)


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
    from . import tasks

    organization_id, product_id = product.organization_id, product.pk
    with transaction.atomic():
        Product.objects.select_for_update().filter(pk=product_id).first()  # one deletion at a time
        if Job.objects.filter(photo__product=product, state__in=Job.ACTIVE_STATES).exists():
            raise ProductBusy(_("The product has queued or running jobs; cancel them or wait until they finish."))
        names, prefixes = _delete_product_rows(product, actor=actor, request=request)
        args = (organization_id, product_id, names, prefixes, product.title)
        transaction.on_commit(lambda: _send_or_run(tasks.purge_product_files, args))


def _send_or_run(task, args: tuple) -> None:
    """Queue the file clean-up; with the broker down, do it here rather than leave files nobody owns."""
    try:
        task.apply_async(args, retry=True, retry_policy={"max_retries": 2, "interval_start": 0.2})
    except Exception:
        logger.warning("broker unavailable: running %s in the request", task.name, exc_info=True)
        task.run(*args)


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


class OrganizationStillBilled(BadInputError):
    """Stripe still bills a plan of the organization: cancel it first, or Stripe goes on charging a deleted shop."""

    code = "subscription_active"
    status_code = 409


def ensure_not_billed(organization: Organization) -> None:
    from billing.selectors import live_subscriptions

    plans = list(live_subscriptions(organization).values_list("subscription_id", flat=True))
    if plans:
        raise OrganizationStillBilled(
            _("%(shop)s still has a live subscription (%(plans)s): cancel it first; nothing was deleted.")
            % {"shop": organization.name, "plans": ", ".join(plans)}
        )


def request_organization_deletion(*, organization: Organization, actor=None, request=None) -> None:
    """The one way to delete an organization (owners in the dashboard, operators with `delete_organization`).

    Refused (OrganizationStillBilled, 409) while Stripe still bills one of its plans. Access ends now, in this
    transaction: memberships and invitations go, API keys are revoked, webhook endpoints stop. Its files and rows go
    in the background task `ops.purge_organization` once this commits (here, if the broker is down)."""
    from shop_video.merchants.models import ApiKey, Invitation, Membership
    from shop_video.webhooks.models import WebhookEndpoint

    from . import tasks

    with transaction.atomic():
        Organization.objects.select_for_update().filter(pk=organization.pk).first()  # one request at a time
        ensure_not_billed(organization)
        audit.record(
            audit.ORGANIZATION_DELETION_REQUESTED,
            actor=actor,
            organization=organization,
            target=organization,
            request=request,
            metadata={"name": organization.name},
        )
        Membership.objects.filter(organization=organization).delete()
        Invitation.objects.filter(organization=organization).delete()
        ApiKey.objects.filter(organization=organization, revoked_at__isnull=True).update(revoked_at=timezone.now())
        WebhookEndpoint.objects.filter(organization=organization).update(active=False)
        args = (organization.pk,)
        transaction.on_commit(lambda: _send_or_run(tasks.purge_organization, args))


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


def purge_organization(organization_id: int) -> int:
    """Delete everything of an organization: every file under its storage prefix, then its rows."""
    org = Organization.objects.filter(pk=organization_id).first()
    if org is None:
        return 0
    _cancel_active(Job.objects.filter(organization=org))
    files = _delete_names(_video_names(Video.objects.filter(organization=org)))
    for file, mask in Photo.objects.filter(organization=org).values_list("file", "mask"):
        files += _delete_names([file, mask])
    files += _delete_tree(f"orgs/{organization_id}")
    name = org.name
    with transaction.atomic():
        audit.record(audit.ORGANIZATION_DELETED, organization=org, target=org, metadata={"name": name, "files": files})
        org.delete()  # the audit entries stay (SET_NULL) with the organization's name as a label
    logger.info("organization %s purged: %s files deleted", organization_id, files)
    return files


def retention_overrides() -> dict[int, int]:
    """{organization id: retention days} from SHOPVIDEO_VIDEO_RETENTION_BY_ORG (organization slugs)."""
    by_slug = {str(k): int(v) for k, v in (getattr(settings, "SHOPVIDEO_VIDEO_RETENTION_BY_ORG", {}) or {}).items()}
    return dict(
        (pk, by_slug[slug]) for pk, slug in Organization.objects.filter(slug__in=by_slug).values_list("pk", "slug")
    )


def purge_expired_videos(*, now=None, dry_run: bool = False) -> int:
    """What the nightly beat task runs: each organization's videos past its retention (its override, else
    SHOPVIDEO_VIDEO_RETENTION_DAYS; 0 keeps them forever). Returns the number of videos deleted."""
    overrides = retention_overrides()
    total = 0
    for organization_id, days in sorted(overrides.items()):
        total += purge_old_videos(days=days, now=now, dry_run=dry_run, organization_ids=[organization_id])
    default = int(getattr(settings, "SHOPVIDEO_VIDEO_RETENTION_DAYS", 0))
    total += purge_old_videos(days=default, now=now, dry_run=dry_run, exclude_organization_ids=list(overrides))
    return total


def purge_old_videos(
    *,
    days: int,
    now=None,
    dry_run: bool = False,
    organization_ids: list[int] | None = None,
    exclude_organization_ids: list[int] | None = None,
) -> int:
    """Delete videos (files and rows) older than `days` (of the given organizations, or all but the excluded);
    the job stays, marked `expired`. Returns the count."""
    if days <= 0:
        return 0
    cutoff = (now or timezone.now()) - timedelta(days=days)
    old = Video.objects.filter(created_at__lt=cutoff)
    if organization_ids is not None:
        old = old.filter(organization_id__in=organization_ids)
    if exclude_organization_ids:
        old = old.exclude(organization_id__in=exclude_organization_ids)
    if dry_run:
        return old.count()
    total = 0
    by_org: dict[int, int] = {}
    for video in old.iterator():
        names = [video.file.name, video.poster.name, video.preview.name]
        with transaction.atomic():
            deleted, _ = Video.objects.filter(pk=video.pk).delete()
            Job.objects.filter(pk=video.job_id).update(stage="expired")
        if deleted:
            _delete_names(names)
            total += 1
            by_org[video.organization_id] = by_org.get(video.organization_id, 0) + 1
    for org_id, count in by_org.items():
        audit.record(
            audit.VIDEOS_PURGED,
            organization=Organization.objects.filter(pk=org_id).first(),
            target=f"videos older than {days} days",
            metadata={"count": count, "days": days},
        )
    return total
