"""Short-lived signed URLs for merchant files (videos, posters, photos, masks), for API clients that hold no session.

`signed_download_url(video, expires_in=…)` is what the API hands out. With local storage it is a URL of our own,
``/files/signed/<token>``, where the token is signed with the SECRET_KEY (django.core.signing) and carries the
object, the field, the organization, a digest of the stored file name and an expiry time. `resolve_signed` checks
all of them before the web layer serves the file, so a URL can neither be forged nor be bent to another object,
another organization's object, or a newer file than the one it was made for, and it stops working when it
expires. A storage backend that signs its own URLs (S3 presigned URLs) is used directly instead (`_storage_url`).
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.db.models import Model
from django.db.models.fields.files import FieldFile
from django.http import HttpRequest
from django.urls import reverse

from .models import Photo, Video

SALT = "generation.downloads"
DEFAULT_EXPIRES_IN = 15 * 60
MAX_EXPIRES_IN = 7 * 24 * 3600
# What a signed URL may point at: model label → (model, fields that may be served).
_KINDS: dict[str, tuple[type[Model], tuple[str, ...]]] = {
    "v": (Video, ("file", "poster", "preview")),
    "p": (Photo, ("file", "mask")),
}
_KIND_OF = {Video: "v", Photo: "p"}


def default_expires_in() -> int:
    return int(getattr(settings, "SHOPVIDEO_DOWNLOAD_URL_TTL", DEFAULT_EXPIRES_IN))


def _digest(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()[:16]


def download_name(video: Video, suffix: str = ".mp4") -> str:
    """A name a merchant recognises: product title, market, aspect ratio, duration, video id."""
    job = video.job
    title = re.sub(r"[^\w.-]+", "-", job.photo.product.title, flags=re.UNICODE).strip("-")[:60] or "video"
    return f"{title}-{job.market.slug}-{job.aspect_ratio.replace(':', 'x')}-{job.seconds}s-{video.pk}{suffix}"


def _storage_url(field: FieldFile, expires_in: int, filename: str) -> str | None:
    """A URL signed by the storage backend itself (S3: a presigned GET), or None for local storage."""
    storage = field.storage
    if not hasattr(storage, "bucket_name"):
        return None
    parameters = {"ResponseContentDisposition": f'attachment; filename="{filename}"'} if filename else None
    return storage.url(field.name, parameters=parameters, expire=expires_in)


def signed_file_url(
    obj: Video | Photo,
    field_name: str,
    *,
    expires_in: int | None = None,
    request: HttpRequest | None = None,
    filename: str = "",
) -> str | None:
    """A URL to one file of a Video or Photo, valid for `expires_in` seconds; None when the field is empty."""
    kind = _KIND_OF[type(obj)]
    if field_name not in _KINDS[kind][1]:
        raise ValueError(f"{type(obj).__name__}.{field_name} cannot be downloaded")
    field: FieldFile = getattr(obj, field_name)
    if not field or not field.name:
        return None
    expires_in = max(1, min(int(expires_in if expires_in is not None else default_expires_in()), MAX_EXPIRES_IN))
    external = _storage_url(field, expires_in, filename)
    if external:
        return external
    payload = {
        "k": kind,
        "id": obj.pk,
        "f": field_name,
        "o": obj.organization_id,
        "h": _digest(field.name),
        "e": int(time.time()) + expires_in,
    }
    if filename:
        payload["n"] = filename
    token = signing.dumps(payload, salt=SALT, compress=True)
    path = reverse("files:signed", args=[token])
    return request.build_absolute_uri(path) if request is not None else path


def signed_download_url(video: Video, *, expires_in: int | None = None, request: HttpRequest | None = None) -> str:
    """The video's MP4 as an attachment, through a URL that expires after `expires_in` seconds."""
    url = signed_file_url(video, "file", expires_in=expires_in, request=request, filename=download_name(video))
    if url is None:
        raise ValueError(f"video {video.pk} has no file")
    return url


class BadLink(Exception):
    """A signed link that is forged, bent to another object, or made for an older file."""


class LinkExpired(Exception):
    """A genuine signed link past its expiry time."""


@dataclass(frozen=True)
class SignedFile:
    field: FieldFile
    filename: str  # the download name the link asks for; empty to show the file inline
    remaining: int  # seconds the link still works


def resolve_signed(token: str) -> SignedFile:
    """The file a signed token names. BadLink for a bad or stale signature, another object or an old file;
    LinkExpired once it has expired (so a client knows to ask the API for a fresh URL)."""
    try:
        payload = signing.loads(token, salt=SALT)
        kind, pk, field_name, org_id, digest, expires = (
            payload["k"],
            int(payload["id"]),
            payload["f"],
            int(payload["o"]),
            payload["h"],
            int(payload["e"]),
        )
        model, fields = _KINDS[kind]
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise BadLink("bad link") from exc
    if field_name not in fields:
        raise BadLink("bad link")
    remaining = expires - int(time.time())
    if remaining <= 0:
        raise LinkExpired("expired")
    obj = model.objects.filter(pk=pk, organization_id=org_id).first()
    if obj is None:
        raise BadLink("not found")
    field: FieldFile = getattr(obj, field_name)
    if not field or not field.name or _digest(field.name) != digest:
        raise BadLink("not found")
    return SignedFile(field=field, filename=str(payload.get("n") or ""), remaining=remaining)
