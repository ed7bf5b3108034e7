"""Organization-scoped reads: another organization's id is a 404, never a 403."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from shop_video.merchants.models import Organization

from .models import WebhookDelivery, WebhookEndpoint


def endpoints(organization: Organization) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(organization=organization)


def get_endpoint(organization: Organization, pk: int) -> WebhookEndpoint:
    return get_object_or_404(endpoints(organization), pk=pk)


def deliveries(
    organization: Organization,
    *,
    endpoint: WebhookEndpoint | None = None,
    status: str | None = None,
    event_type: str | None = None,
) -> QuerySet[WebhookDelivery]:
    qs = WebhookDelivery.objects.filter(organization=organization).select_related("endpoint")
    if endpoint is not None:
        qs = qs.filter(endpoint=endpoint)
    if status:
        qs = qs.filter(status=status)
    if event_type:
        qs = qs.filter(event_type=event_type)
    return qs


def get_delivery(organization: Organization, pk: int) -> WebhookDelivery:
    return get_object_or_404(deliveries(organization), pk=pk)
