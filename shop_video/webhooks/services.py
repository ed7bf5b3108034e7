"""Webhook services: endpoints, emitting events, delivering them (signed, Standard Webhooks), replay.

For other apps (billing calls this for `credits.low`):

    from shop_video.webhooks.services import emit
    emit("credits.low", organization, {"available": 40, "threshold": 50}, key=f"credits.low:{org.pk}:{ledger_id}")

`emit` is safe inside a transaction: deliveries are created and queued only after it commits (and never if it
rolls back). `key` makes the event idempotent: the same key for the same organization is delivered once per
endpoint; without a key every call is a new event.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import urllib3
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from shop_video.core import audit
from shop_video.merchants.models import Organization

from . import transport
from .models import EventType, WebhookDelivery, WebhookEndpoint

logger = logging.getLogger(__name__)

SECRET_PREFIX = "whsec_"  # noqa: S105 — the format prefix, not a secret
EVENT_TYPES: tuple[str, ...] = tuple(EventType.values)
MAX_ENDPOINTS_PER_ORG = 20


class WebhookError(Exception):
    """Bad input for a webhook service: `.code`, `.message`, `.fields` ({field: [messages]})."""

    def __init__(self, code: str, message: str, fields: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.fields = fields or {}


# --- settings (read at call time so tests can shrink them) --------------------------------------------------------


def max_attempts() -> int:
    return max(1, int(getattr(settings, "SHOPVIDEO_WEBHOOK_MAX_ATTEMPTS", 8)))


def backoff_seconds(attempt: int) -> float:
    """Wait after failed attempt n (1-based): base · 2^(n-1), capped."""
    base = float(getattr(settings, "SHOPVIDEO_WEBHOOK_BACKOFF_SECONDS", 30.0))
    cap = float(getattr(settings, "SHOPVIDEO_WEBHOOK_BACKOFF_MAX_SECONDS", 6 * 3600))
    return min(cap, base * 2 ** max(0, attempt - 1))


def _lease_seconds() -> float:
    # Longer than connect + read timeouts: a worker that died mid-attempt frees the delivery after this.
    return (
        float(getattr(settings, "SHOPVIDEO_WEBHOOK_CONNECT_TIMEOUT", 3.0))
        + float(getattr(settings, "SHOPVIDEO_WEBHOOK_READ_TIMEOUT", 10.0))
        + 30.0
    )


# --- signing --------------------------------------------------------------------------------------------------


def generate_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">` keyed with the secret's decoded bytes."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return f"v1,{base64.b64encode(digest).decode()}"


def signed_headers(*, secret: str, msg_id: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    ts = int(time.time()) if timestamp is None else timestamp
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(ts),
        "webhook-signature": sign(secret, msg_id, ts, body),
        "content-type": "application/json",
        "user-agent": "ShopVideo-Webhooks/1",
    }


def encode_payload(payload: dict[str, Any]) -> bytes:
    # Compact and stable: the body bytes are exactly what was signed.
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False, sort_keys=True).encode()


# --- endpoints ------------------------------------------------------------------------------------------------


def _clean_events(events: Iterable[str] | None) -> list[str]:
    if events is None:
        return list(EVENT_TYPES)
    if isinstance(events, str) or not isinstance(events, Iterable):
        raise WebhookError("invalid_events", _("Events must be a list."), {"events": [_("Must be a list.")]})
    chosen = list(dict.fromkeys(events))
    unknown = [str(e) for e in chosen if e not in EVENT_TYPES]
    if unknown:
        msg = _("Unknown event type(s): %(names)s. Known: %(known)s.") % {
            "names": ", ".join(unknown),
            "known": ", ".join(EVENT_TYPES),
        }
        raise WebhookError("invalid_events", msg, {"events": [msg]})
    if not chosen:
        msg = _("Choose at least one event.")
        raise WebhookError("invalid_events", msg, {"events": [msg]})
    return chosen


def _clean_url(url: str) -> str:
    url = (url or "").strip()
    if not url or len(url) > 500:
        msg = _("Enter a URL of at most 500 characters.")
        raise WebhookError("invalid_url", msg, {"url": [msg]})
    try:
        transport.check_url(url)
    except transport.DeliveryRefused as exc:
        raise WebhookError(exc.code, exc.message, {"url": [exc.message]}) from exc
    return url


def _audit(action: str, endpoint: WebhookEndpoint, *, actor=None, request=None, metadata: dict | None = None):
    audit.record(
        action,
        actor=actor,
        organization=endpoint.organization,
        target=f"webhooks.webhookendpoint:{endpoint.pk}",
        request=request,
        metadata={"url": endpoint.url, **(metadata or {})},
    )


def create_endpoint(
    *,
    organization: Organization,
    url: str,
    events: Iterable[str] | None = None,
    description: str = "",
    actor=None,
    request=None,
) -> WebhookEndpoint:
    """A new endpoint with a fresh secret. The caller shows `endpoint.secret` once; later reads hide it."""
    url = _clean_url(url)
    chosen = _clean_events(events)
    if WebhookEndpoint.objects.filter(organization=organization).count() >= MAX_ENDPOINTS_PER_ORG:
        raise WebhookError(
            "too_many_endpoints",
            _("An organization can register at most %(n)d webhook endpoints.") % {"n": MAX_ENDPOINTS_PER_ORG},
        )
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.create(
            organization=organization,
            url=url,
            events=chosen,
            description=(description or "")[:200],
            secret=generate_secret(),
        )
        _audit(audit.WEBHOOK_ENDPOINT_CREATED, endpoint, actor=actor, request=request, metadata={"events": chosen})
    return endpoint


_UNSET: Any = object()


def update_endpoint(
    *,
    endpoint: WebhookEndpoint,
    url: str = _UNSET,
    events: Iterable[str] | None = _UNSET,
    description: str = _UNSET,
    active: bool = _UNSET,
    actor=None,
    request=None,
) -> WebhookEndpoint:
    """Change what is given; the audit entry lists the fields that changed (old and new values)."""
    before = {"url": endpoint.url, "events": list(endpoint.events), "description": endpoint.description}
    before["active"] = endpoint.active
    if url is not _UNSET:
        endpoint.url = _clean_url(url)
    if events is not _UNSET:
        endpoint.events = _clean_events(events)
    if description is not _UNSET:
        endpoint.description = (description or "")[:200]
    if active is not _UNSET:
        endpoint.active = bool(active)
    changes = {name: [old, getattr(endpoint, name)] for name, old in before.items() if getattr(endpoint, name) != old}
    with transaction.atomic():
        endpoint.save()
        if changes:
            _audit(
                audit.WEBHOOK_ENDPOINT_UPDATED, endpoint, actor=actor, request=request, metadata={"changes": changes}
            )
    return endpoint


def rotate_secret(*, endpoint: WebhookEndpoint, actor=None, request=None) -> WebhookEndpoint:
    """A new signing secret, in force for every later delivery; the caller shows it once. The old one stops
    working at once (a receiver that must overlap both should accept either while it switches)."""
    old_hint = endpoint.secret_hint
    with transaction.atomic():
        endpoint.secret = generate_secret()
        endpoint.save(update_fields=["secret", "updated_at"])
        _audit(
            audit.WEBHOOK_SECRET_ROTATED,
            endpoint,
            actor=actor,
            request=request,
            metadata={"old_secret_hint": old_hint, "new_secret_hint": endpoint.secret_hint},
        )
    return endpoint


def delete_endpoint(*, endpoint: WebhookEndpoint, actor=None, request=None) -> None:
    with transaction.atomic():
        _audit(audit.WEBHOOK_ENDPOINT_DELETED, endpoint, actor=actor, request=request)
        endpoint.delete()


# --- emitting -------------------------------------------------------------------------------------------------


def event_id_for(organization_id: int, key: str) -> str:
    """A stable message id for an idempotency key (what the webhook-id header carries)."""
    return "msg_" + hashlib.sha256(f"{organization_id}:{key}".encode()).hexdigest()[:32]


def build_payload(event_type: str, data: dict[str, Any], occurred_at: datetime | None = None) -> dict[str, Any]:
    when = occurred_at or timezone.now()
    return {"type": event_type, "timestamp": when.isoformat().replace("+00:00", "Z"), "data": data}


def emit(
    event_type: str,
    organization: Organization | int,
    data: dict[str, Any],
    *,
    key: str | None = None,
    occurred_at: datetime | None = None,
) -> None:
    """Queue `event_type` for every active endpoint of the organization subscribed to it, after commit."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {event_type!r}")
    org_id = organization if isinstance(organization, int) else organization.pk
    event_id = event_id_for(org_id, key) if key else "msg_" + uuid.uuid4().hex
    payload = build_payload(event_type, data, occurred_at)
    transaction.on_commit(lambda: _create_and_send(org_id, event_type, event_id, payload))


def _create_and_send(org_id: int, event_type: str, event_id: str, payload: dict[str, Any]) -> None:
    try:
        created = create_deliveries(org_id, event_type, event_id, payload)
    except Exception:
        # Never let a webhook problem break the job path that emitted it.
        logger.exception("could not create webhook deliveries for %s %s", event_type, event_id)
        return
    for delivery in created:
        send_task(delivery.pk)


def create_deliveries(org_id: int, event_type: str, event_id: str, payload: dict[str, Any]) -> list[WebhookDelivery]:
    endpoints = [
        ep for ep in WebhookEndpoint.objects.filter(organization_id=org_id, active=True) if event_type in ep.events
    ]
    created = []
    now = timezone.now()
    for endpoint in endpoints:
        try:
            with transaction.atomic():
                created.append(
                    WebhookDelivery.objects.create(
                        organization_id=org_id,
                        endpoint=endpoint,
                        event_id=event_id,
                        event_type=event_type,
                        payload=payload,
                        next_attempt_at=now,
                    )
                )
        except IntegrityError:
            logger.info("webhook event %s already queued for endpoint %s", event_id, endpoint.pk)
    return created


def send_task(delivery_id: int, countdown: float | None = None) -> bool:
    """Hand the delivery id to the broker; on a broker outage the sweeper (send_due_deliveries) sends it later."""
    from . import tasks

    try:
        tasks.deliver_webhook.apply_async(
            (delivery_id,),
            countdown=countdown,
            retry=True,
            retry_policy={"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5, "interval_max": 1.0},
        )
    except Exception:
        logger.exception("could not send webhook delivery %s to the broker; the sweeper will", delivery_id)
        return False
    return True


# --- delivering -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What one call of `deliver` did: `retry_in` is set when another attempt should follow."""

    status: str
    attempted: bool
    retry_in: float | None = None


def _claim(delivery_id: int) -> WebhookDelivery | None:
    """Take the delivery for one attempt (atomic), or None: already delivered, failed, or another worker's."""
    now = timezone.now()
    # A little slack: the Celery countdown and our next_attempt_at are computed from two clocks.
    due = now + timedelta(seconds=1)
    claimed = WebhookDelivery.objects.filter(
        Q(id=delivery_id),
        Q(status__in=[WebhookDelivery.Status.PENDING, WebhookDelivery.Status.SENDING]),
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=due),
    ).update(
        status=WebhookDelivery.Status.SENDING,
        next_attempt_at=now + timedelta(seconds=_lease_seconds()),
        last_attempt_at=now,
    )
    if not claimed:
        return None
    return WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)


def deliver(delivery_id: int) -> Outcome:
    """One attempt: sign and POST the payload, record the result; schedule the next attempt or give up."""
    delivery = _claim(delivery_id)
    if delivery is None:
        # Final, or not due yet (a duplicate message: the retry chain or the sweeper brings it when due).
        status = WebhookDelivery.objects.filter(pk=delivery_id).values_list("status", flat=True).first()
        return Outcome(status or "missing", attempted=False)
    endpoint = delivery.endpoint
    attempt = delivery.attempts + 1
    code: int | None = None
    excerpt = ""
    error = ""
    if not endpoint.active:
        error = _("The endpoint is disabled.")
        return _record(delivery, attempt, None, "", error, final=True)
    body = encode_payload(delivery.payload)
    headers = signed_headers(secret=endpoint.secret, msg_id=delivery.event_id, body=body)
    try:
        response = transport.post(
            endpoint.url,
            body,
            headers,
            connect_timeout=float(getattr(settings, "SHOPVIDEO_WEBHOOK_CONNECT_TIMEOUT", 3.0)),
            read_timeout=float(getattr(settings, "SHOPVIDEO_WEBHOOK_READ_TIMEOUT", 10.0)),
        )
        code, excerpt = response.status, response.body_excerpt
        if 300 <= code < 400:
            error = _("The endpoint answered with a redirect (HTTP %(code)d); redirects are not followed.") % {
                "code": code
            }
        elif not 200 <= code < 300:
            error = _("The endpoint answered HTTP %(code)d.") % {"code": code}
    except transport.DeliveryRefused as exc:
        # A URL we must never call does not get better by retrying.
        return _record(delivery, attempt, None, "", f"{exc.code}: {exc.message}", final=True)
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        error = _("Could not reach the endpoint: %(error)s") % {"error": _describe(exc)}
    return _record(delivery, attempt, code, excerpt, error, final=False)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, urllib3.exceptions.ConnectTimeoutError):
        return _("connection timed out")
    if isinstance(exc, urllib3.exceptions.ReadTimeoutError | TimeoutError):
        return _("no response in time")
    if isinstance(exc, urllib3.exceptions.SSLError):
        return _("TLS error")
    if isinstance(exc, urllib3.exceptions.NewConnectionError | ConnectionError):
        return _("connection refused")
    return type(exc).__name__


def _record(
    delivery: WebhookDelivery, attempt: int, code: int | None, excerpt: str, error: str, *, final: bool
) -> Outcome:
    now = timezone.now()
    fields: dict[str, Any] = {
        "attempts": attempt,
        "response_code": code,
        "response_body": excerpt[: transport.RESPONSE_EXCERPT_BYTES],
        "error": error[:500],
        "last_attempt_at": now,
    }
    retry_in = None
    if not error:
        fields.update(status=WebhookDelivery.Status.SUCCEEDED, delivered_at=now, next_attempt_at=None)
    elif final or attempt >= max_attempts():
        fields.update(status=WebhookDelivery.Status.FAILED, next_attempt_at=None)
    else:
        retry_in = backoff_seconds(attempt)
        fields.update(status=WebhookDelivery.Status.PENDING, next_attempt_at=now + timedelta(seconds=retry_in))
    # Fenced on the lease we hold: a stale worker whose lease was taken over records nothing.
    WebhookDelivery.objects.filter(
        pk=delivery.pk, status=WebhookDelivery.Status.SENDING, attempts=delivery.attempts
    ).update(**fields)
    if error:
        logger.info("webhook delivery %s attempt %s failed: %s", delivery.pk, attempt, error)
    return Outcome(fields.get("status", ""), attempted=True, retry_in=retry_in)


def replay(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """A new delivery of the same event (same payload and event id) to the same endpoint, sent now."""
    with transaction.atomic():
        new = WebhookDelivery.objects.create(
            organization_id=delivery.organization_id,
            endpoint_id=delivery.endpoint_id,
            event_id=delivery.event_id,
            event_type=delivery.event_type,
            payload=delivery.payload,
            replay_of=delivery,
            next_attempt_at=timezone.now(),
        )
        transaction.on_commit(lambda: send_task(new.pk))
    return new


def send_due_deliveries(*, older_than_seconds: float = 60.0, limit: int = 500) -> int:
    """Re-send deliveries whose attempt is overdue (the broker lost the message, or a worker died mid-attempt)."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    ids = list(
        WebhookDelivery.objects.filter(
            status__in=[WebhookDelivery.Status.PENDING, WebhookDelivery.Status.SENDING], next_attempt_at__lte=cutoff
        )
        .order_by("next_attempt_at")
        .values_list("id", flat=True)[:limit]
    )
    return sum(1 for pk in ids if send_task(pk))
