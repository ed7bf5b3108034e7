"""REST API keys of an organization: services (write) and selectors (read).

A key is ``sv_live_`` + 43 random characters of [A-Za-z0-9] (≈256 bits). It is returned once, by
`create_api_key`; the database keeps only its SHA-256 (a fast hash is right for a high-entropy secret: there is
nothing to brute-force) and the visible prefix (``sv_live_`` + 8 characters) that lets a merchant tell keys apart.
"""

from __future__ import annotations

import hashlib
import secrets
import string

from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from .models import ApiKey, Organization

API_KEY_PREFIX = "sv_live_"
API_KEY_RANDOM_CHARS = 43
API_KEY_LENGTH = len(API_KEY_PREFIX) + API_KEY_RANDOM_CHARS
API_KEY_VISIBLE_CHARS = len(API_KEY_PREFIX) + 8
_ALPHABET = string.ascii_letters + string.digits
# last_used_at is written at most once per key and interval: a row write on every request would cost the API.
LAST_USED_RESOLUTION_SECONDS = 60.0


def hash_api_key(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def looks_like_api_key(secret: str) -> bool:
    return (
        len(secret) == API_KEY_LENGTH
        and secret.startswith(API_KEY_PREFIX)
        and all(c in _ALPHABET for c in secret[len(API_KEY_PREFIX) :])
    )


# --- services -----------------------------------------------------------------------------------------------------


def create_api_key(*, organization: Organization, name: str = "", created_by=None, request=None) -> tuple[ApiKey, str]:
    """A new key for the organization: (row, secret). The secret is given out here, once, and never stored.
    Audited (who, from where, the visible prefix; never the secret)."""
    from shop_video.core import audit

    secret = API_KEY_PREFIX + "".join(secrets.choice(_ALPHABET) for _ in range(API_KEY_RANDOM_CHARS))
    creator = created_by if getattr(created_by, "is_authenticated", False) else None
    with transaction.atomic():
        api_key = ApiKey.objects.create(
            organization=organization,
            name=(name or "").strip()[:100],
            prefix=secret[:API_KEY_VISIBLE_CHARS],
            key_hash=hash_api_key(secret),
            created_by=creator,
        )
        audit.record(
            audit.API_KEY_CREATED,
            actor=creator,
            organization=organization,
            target=api_key,
            request=request,
            metadata={"prefix": api_key.prefix, "name": api_key.name},
        )
    return api_key, secret


def revoke_api_key(*, api_key: ApiKey, actor=None, request=None) -> ApiKey:
    """Revoked at once and for good; revoking twice keeps the first time (and is audited once)."""
    from shop_video.core import audit

    with transaction.atomic():
        revoked = ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
        if revoked:
            audit.record(
                audit.API_KEY_REVOKED,
                actor=actor,
                organization=api_key.organization,
                target=api_key,
                request=request,
                metadata={"prefix": api_key.prefix, "name": api_key.name},
            )
    api_key.refresh_from_db(fields=["revoked_at"])
    return api_key


def record_api_key_use(*, api_key: ApiKey) -> None:
    now = timezone.now()
    last = api_key.last_used_at
    if last is not None and (now - last).total_seconds() < LAST_USED_RESOLUTION_SECONDS:
        return
    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
    api_key.last_used_at = now


# --- selectors ----------------------------------------------------------------------------------------------------


def api_keys_for(organization: Organization) -> QuerySet[ApiKey]:
    return (
        ApiKey.objects.filter(organization_id=organization.pk)
        .select_related("created_by")
        .order_by("-created_at", "-id")
    )


def get_api_key(organization: Organization, pk) -> ApiKey:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404("not found") from None
    return get_object_or_404(api_keys_for(organization), pk=pk)


def api_key_for_secret(secret: str) -> ApiKey | None:
    """The key with this secret, revoked or not, or None. Looked up by its hash only."""
    if not looks_like_api_key(secret):
        return None
    return ApiKey.objects.select_related("organization").filter(key_hash=hash_api_key(secret)).first()
