"""Tenant-checked file serving: photos, masks, videos, posters and previews never have a public URL.

Every view looks its object up through the organization-scoped selectors (another organization's id is a 404),
then streams the file from whatever storage backend holds it (opened through the storage API, never a local
path, so S3 works the same) with HTTP Range support, which browsers need to seek in a <video>.
"""

from __future__ import annotations

import mimetypes
import posixpath
import re
from collections.abc import Callable
from functools import wraps
from typing import IO

from django.contrib.auth.decorators import login_required
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from generation import downloads, selectors

_RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")
CHUNK = 64 * 1024
# Stored media is only ever one of these (ingest re-detects photos; the pipeline writes MP4, JPEG, PNG masks).
SAFE_CONTENT_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/heic", "video/mp4"})


class RangeNotSatisfiable(Exception):
    pass


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """The (first, last) byte positions, inclusive, of a single-range `Range` header, or None to send it all.

    Headers we do not understand (other units, several ranges) are ignored, as RFC 9110 allows: the whole file
    is sent with 200. A syntactically valid range that lies outside the file raises RangeNotSatisfiable (416).
    """
    match = _RANGE_RE.match(header.strip())
    if not match:
        return None
    first_s, last_s = match.groups()
    if not first_s and not last_s:
        return None
    if not first_s:  # bytes=-n: the last n bytes
        suffix = int(last_s)
        if suffix == 0 or size == 0:
            raise RangeNotSatisfiable
        return max(size - suffix, 0), size - 1
    first = int(first_s)
    last = int(last_s) if last_s else size - 1
    if last_s and last < first:
        return None  # invalid range syntax: ignore the header
    if first >= size:
        raise RangeNotSatisfiable
    return first, min(last, size - 1)


class _RangeReader:
    """Reads `length` bytes of an open file from `start`: what FileResponse streams for a 206."""

    def __init__(self, fileobj: IO[bytes], start: int, length: int):
        self._file = fileobj
        self._file.seek(start)
        self._left = length

    def read(self, size: int = -1) -> bytes:
        if self._left <= 0:
            return b""
        want = self._left if size is None or size < 0 else min(size, self._left)
        data = self._file.read(want)
        self._left -= len(data)
        return data

    def close(self) -> None:
        self._file.close()


def serve_field(
    request: HttpRequest, field: FieldFile, *, as_attachment: bool = False, download_name: str = ""
) -> HttpResponse:
    """Stream a FileField's file with Range support; 404 when the field is empty or the file is gone."""
    if not field or not field.name:
        raise Http404
    storage = field.storage
    try:
        size = storage.size(field.name)
        fileobj = storage.open(field.name, "rb")
    except (FileNotFoundError, OSError) as exc:
        raise Http404 from exc
    filename = download_name or posixpath.basename(field.name)
    content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    if content_type not in SAFE_CONTENT_TYPES:  # never a type a browser would execute (HTML, SVG, JS)
        content_type, as_attachment = "application/octet-stream", True

    try:
        byte_range = parse_range(request.headers.get("Range", ""), size)
    except RangeNotSatisfiable:
        fileobj.close()
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        response["Accept-Ranges"] = "bytes"
        return response

    if byte_range is None:
        response = FileResponse(fileobj, as_attachment=as_attachment, filename=filename, content_type=content_type)
        response["Content-Length"] = str(size)
    else:
        first, last = byte_range
        length = last - first + 1
        response = FileResponse(
            _RangeReader(fileobj, first, length),
            status=206,
            as_attachment=as_attachment,
            filename=filename,
            content_type=content_type,
        )
        response["Content-Range"] = f"bytes {first}-{last}/{size}"
        response["Content-Length"] = str(length)
    response.block_size = CHUNK
    response["Accept-Ranges"] = "bytes"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"  # opened directly: inert
    # Merchant media: private to the browser, never stored by shared caches.
    response["Cache-Control"] = "private, max-age=3600"
    return response


def _tenant_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Login required; a user without an organization sees nothing (404) rather than an error."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if getattr(request, "organization", None) is None:
            raise Http404
        return view(request, *args, **kwargs)

    return login_required(require_safe(wrapper))


@_tenant_view
def photo_file(request: HttpRequest, pk: int) -> HttpResponse:
    photo = selectors.get_photo(request.organization, pk)
    return serve_field(request, photo.file)


@_tenant_view
def photo_mask(request: HttpRequest, pk: int) -> HttpResponse:
    photo = selectors.get_photo(request.organization, pk)
    return serve_field(request, photo.mask)


@_tenant_view
def video_file(request: HttpRequest, pk: int) -> HttpResponse:
    video = selectors.get_video(request.organization, pk)
    return serve_field(request, video.file)


@_tenant_view
def video_download(request: HttpRequest, pk: int) -> HttpResponse:
    video = selectors.get_video(request.organization, pk)
    return serve_field(request, video.file, as_attachment=True, download_name=downloads.download_name(video))


@_tenant_view
def video_poster(request: HttpRequest, pk: int) -> HttpResponse:
    video = selectors.get_video(request.organization, pk)
    return serve_field(request, video.poster)


@_tenant_view
def video_preview(request: HttpRequest, pk: int) -> HttpResponse:
    video = selectors.get_video(request.organization, pk)
    return serve_field(request, video.preview)


@require_safe
def signed_file(request: HttpRequest, token: str) -> HttpResponse:
    """Serve the file a signed link names (generation.downloads): 404 for a bad link, 410 once it has expired."""
    try:
        signed = downloads.resolve_signed(token)
    except downloads.LinkExpired:
        response = HttpResponse("This link has expired.", status=410, content_type="text/plain; charset=utf-8")
        response["Cache-Control"] = "no-store"
        return response
    except downloads.BadLink as exc:
        raise Http404("bad link") from exc
    response = serve_field(request, signed.field, as_attachment=bool(signed.filename), download_name=signed.filename)
    response["Cache-Control"] = f"private, max-age={min(signed.remaining, 3600)}"
    response["Referrer-Policy"] = "no-referrer"
    return response
