"""Reads the dashboard needs beyond generation.selectors; always scoped to the request's organization."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet
from django.http import Http404

from generation import selectors
from generation.list_filters import filter_videos
from generation.models import Job, Video
from shop_video.ids import parse_id
from shop_video.merchants.models import Organization


def gallery(organization: Organization, *, product=None, market="", scene="", review="") -> QuerySet[Video]:
    videos = selectors.videos_for(organization).select_related("job__look", "job__batch")
    return filter_videos(videos, product=product or None, market=market, scene=scene, review=review)


def review_queue(organization: Organization) -> QuerySet[Video]:
    return gallery(organization, review=Video.Review.NEEDS_REVIEW).order_by("created_at", "id")


def videos_by_ids(organization: Organization, ids: Iterable) -> list[Video]:
    """The organization's videos with these ids, in the given order; any other id is a 404 (as on every page)."""
    wanted = list(dict.fromkeys(parse_id(i) for i in ids))
    if None in wanted:  # not an id any object can have
        raise Http404("not found")
    found = {v.pk: v for v in selectors.videos_for(organization).filter(pk__in=wanted)}
    if len(found) != len(wanted):
        raise Http404("not found")
    return [found[pk] for pk in wanted]


def queue_positions(organization: Organization, jobs: Iterable[Job]) -> dict[int, int]:
    """1-based place of each queued job in its organization's line of queued jobs (oldest first).

    Dispatch is fair between organizations, so the organization's own line decides when its jobs run.
    """
    wanted = {j.pk for j in jobs if j.state == Job.State.QUEUED}
    if not wanted:
        return {}
    line = selectors.jobs_for(organization).filter(state=Job.State.QUEUED).order_by("queued_at", "pk")
    return {pk: place for place, pk in enumerate(line.values_list("pk", flat=True), start=1) if pk in wanted}


def deletion_summary(organization: Organization) -> dict:
    """What deleting the shop removes, for the owner to read before confirming."""
    from billing.selectors import credits_for, live_subscriptions

    return {
        "products": selectors.products_for(organization).count(),
        "videos": selectors.videos_for(organization).count(),
        "members": organization.memberships.count(),
        "api_keys": organization.api_keys.filter(revoked_at__isnull=True).count(),
        "webhooks": organization.webhook_endpoints.filter(active=True).count(),
        "credits": credits_for(organization).balance,
        "live_plans": list(live_subscriptions(organization)),
    }


def credit_standing(organization: Organization, price: int | None = None) -> dict:
    """The balance shown beside a price: what is available, how many credits are missing for `price` (0 when
    enough), and whether credits are bought here (card payments on) or granted by an operator (free-credits mode)."""
    from billing import gateway
    from billing.selectors import credits_for

    credits = credits_for(organization)
    missing = max(0, int(price) - credits.available) if price is not None else 0
    return {
        "available": credits.available,
        "reserved": credits.reserved,
        "missing": missing,
        "short": missing > 0,
        "payments_enabled": gateway.enabled(),
    }
