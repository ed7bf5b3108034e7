"""POST /billing/stripe/webhook/: Stripe's events. The signature is checked on the raw body before anything parses
it; each event is stored once (unique event id) and fulfilled after that commit, idempotently."""

from __future__ import annotations

import logging

import stripe
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from billing import gateway, services

logger = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    signature = request.headers.get("Stripe-Signature", "")
    try:
        event = gateway.verify_event(request.body, signature)
    except (stripe.SignatureVerificationError, ValueError):
        return JsonResponse({"code": "invalid_signature", "detail": "The signature could not be verified."}, status=400)
    if not isinstance(event.get("id"), str) or not event["id"]:
        return JsonResponse({"code": "invalid_event", "detail": "The event has no id."}, status=400)
    with transaction.atomic():
        row, created = services.record_event(event)
        if created:
            # Fulfil after the event row is committed: a crash in between leaves it for the sweeper.
            transaction.on_commit(lambda: _process(row.pk))
    return JsonResponse({"received": True, "duplicate": not created})


def _process(event_pk: int) -> None:
    try:
        services.process_event(event_pk)
    except Exception:  # stored with its error; the periodic sweep retries it
        logger.exception("processing stripe event %s failed", event_pk)
