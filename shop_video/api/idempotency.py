"""`Idempotency-Key` on every POST that creates (products, photos, jobs).

- First use of a key: a record (organization, key) is inserted before the work starts, then the response is
  stored with it when it is a success (2xx).
- Same key, same request (method, path and body; multipart files by content): the stored response is replayed,
  status and body, with `Idempotent-Replayed: true`. A request still in progress is waited for (up to
  SHOPVIDEO_IDEMPOTENCY_WAIT_SECONDS), then replayed; if it is still running then, 409 `idempotency_key_in_use`.
- Same key, another request: 422 `idempotency_key_reused`.
- An error response (4xx, 5xx) is not stored: the key is free again, so a client can fix the request (or top up
  its credits) and retry with the same key, as Stripe does.
- Keys are kept for SHOPVIDEO_IDEMPOTENCY_TTL_SECONDS (24 h); an in-progress record whose request died (a
  killed process) is given up after SHOPVIDEO_IDEMPOTENCY_STALE_SECONDS.
"""

from __future__ import annotations

import hashlib
import json
import time
from datetime import timedelta
from functools import wraps

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from .exceptions import ApiError, Conflict, Unprocessable
from .models import IdempotencyRecord

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


def _setting(name: str, default: float) -> float:
    return float(getattr(settings, name, default))


def _check_key(key: str) -> str:
    if not key or len(key) > MAX_KEY_LENGTH or any(not (32 <= ord(c) < 127) for c in key) or not key.strip():
        raise ApiError(
            _("The Idempotency-Key header must be 1 to %(max)d printable ASCII characters.") % {"max": MAX_KEY_LENGTH},
            "invalid_idempotency_key",
            fields={HEADER: [_("1 to %(max)d printable ASCII characters.") % {"max": MAX_KEY_LENGTH}]},
        )
    return key


def _canonical(value):
    """request.data as JSON-able data; uploaded files by name, size and SHA-256 of their content."""
    if hasattr(value, "chunks") and hasattr(value, "name"):
        digest = hashlib.sha256()
        for chunk in value.chunks():
            digest.update(chunk)
        if hasattr(value, "seek"):
            value.seek(0)
        return {"file": value.name, "size": value.size, "sha256": digest.hexdigest()}
    if hasattr(value, "lists"):  # QueryDict / MultiValueDict: every value of every key
        return {k: [_canonical(v) for v in vs] for k, vs in sorted(value.lists())}
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    return value


def fingerprint(request) -> str:
    body = json.dumps(_canonical(request.data), sort_keys=True, cls=JSONEncoder, ensure_ascii=True)
    raw = "\n".join([request.method, request.path, body])
    return hashlib.sha256(raw.encode()).hexdigest()


def _replay(record: IdempotencyRecord) -> Response:
    response = Response(record.response_body, status=record.status_code)
    response["Idempotent-Replayed"] = "true"
    return response


def _claim(request, key: str, print_: str) -> tuple[IdempotencyRecord, bool]:
    api_key = request.auth
    org_id = api_key.organization_id
    now = timezone.now()
    for _attempt in range(3):
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    organization_id=org_id,
                    api_key=api_key,
                    key=key,
                    method=request.method,
                    path=request.path[:300],
                    fingerprint=print_,
                )
            return record, True
        except IntegrityError:
            record = IdempotencyRecord.objects.filter(organization_id=org_id, key=key).first()
            if record is None:
                continue  # deleted in between (a failed first request): try to claim it again
            expired = record.created_at < now - timedelta(seconds=_setting("SHOPVIDEO_IDEMPOTENCY_TTL_SECONDS", 86400))
            stale = record.status_code is None and record.created_at < now - timedelta(
                seconds=_setting("SHOPVIDEO_IDEMPOTENCY_STALE_SECONDS", 600)
            )
            if expired or stale:
                IdempotencyRecord.objects.filter(pk=record.pk, created_at=record.created_at).delete()
                continue
            return record, False
    raise Conflict(_("This idempotency key is in use by another request; retry shortly."), "idempotency_key_in_use")


def _wait_for(record: IdempotencyRecord) -> IdempotencyRecord | None:
    deadline = time.monotonic() + _setting("SHOPVIDEO_IDEMPOTENCY_WAIT_SECONDS", 10.0)
    while True:
        current = IdempotencyRecord.objects.filter(pk=record.pk).first()
        if current is None or current.status_code is not None:
            return current
        if time.monotonic() >= deadline:
            return current
        time.sleep(0.05)


def idempotent(method):
    """Decorator for a view method that creates: honours the Idempotency-Key header (optional)."""

    @wraps(method)
    def wrapper(self, request, *args, **kwargs):
        raw = request.headers.get(HEADER)
        if raw is None:
            return method(self, request, *args, **kwargs)
        key = _check_key(raw)
        print_ = fingerprint(request)  # parses the body first: a malformed body is a 400 before any claim
        for _round in range(3):
            record, created = _claim(request, key, print_)
            if created:
                break
            if record.fingerprint != print_:
                raise Unprocessable(
                    _("This Idempotency-Key was already used with a different request."),
                    "idempotency_key_reused",
                    fields={HEADER: [_("Use a new key for a new request.")]},
                )
            done = _wait_for(record)
            if done is None:
                continue  # the first request failed and freed the key: this one runs
            if done.status_code is None:
                raise Conflict(
                    _("A request with this Idempotency-Key is still in progress; retry shortly."),
                    "idempotency_key_in_use",
                )
            return _replay(done)
        else:
            raise Conflict(
                _("This idempotency key is in use by another request; retry shortly."), "idempotency_key_in_use"
            )

        try:
            response = method(self, request, *args, **kwargs)
        except BaseException:
            IdempotencyRecord.objects.filter(pk=record.pk).delete()
            raise
        if 200 <= response.status_code < 300:
            body = json.loads(json.dumps(response.data, cls=JSONEncoder))
            IdempotencyRecord.objects.filter(pk=record.pk).update(
                status_code=response.status_code, response_body=body, completed_at=timezone.now()
            )
        else:
            IdempotencyRecord.objects.filter(pk=record.pk).delete()
        return response

    wrapper.idempotent = True
    return wrapper
