"""Data lifecycle: deleting an organization removes its media from storage (local disk or S3, through the storage
API) and its rows, in a background task, with audit entries; old videos expire after the retention. Deleting a
product is generation.services.deletion's."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from generation.models import Job, Photo, Video
from generation.pipeline.errors import BadInputError
from generation.services.deletion import (
    _cancel_active,
    _delete_names,
    _delete_tree,
    _send_or_run,
    _video_names,
)
from shop_video.core import audit
from shop_video.merchants.models import Organization

__all__ = [
    "OrganizationStillBilled",
    "ensure_not_billed",
    "purge_expired_videos",
    "purge_old_videos",
    "purge_organization",
    "request_organization_deletion",
    "retention_overrides",
]

logger = logging.getLogger(__name__)


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
