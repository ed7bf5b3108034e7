"""Request parsers with limits: DRF reads a JSON body straight from the stream, past Django's
DATA_UPLOAD_MAX_MEMORY_SIZE, so the size (and the nesting depth) is bounded here."""

from __future__ import annotations

import json

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError

from .exceptions import ApiError


def max_json_bytes() -> int:
    return int(getattr(settings, "SHOPVIDEO_API_MAX_JSON_BYTES", 1_000_000))


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        limit = max_json_bytes()
        too_large = ApiError(
            _("The JSON body is larger than %(limit)d bytes.") % {"limit": limit}, "request_too_large", status_code=413
        )
        request = parser_context.get("request")
        if request is not None:
            try:
                declared = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                declared = 0
            if declared > limit:
                raise too_large
        data = stream.read(limit + 1) if stream is not None else b""
        if len(data) > limit:
            raise too_large
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = data.decode(encoding)
            return json.loads(text, parse_constant=_reject_constant)
        except (ValueError, UnicodeDecodeError, LookupError) as exc:
            raise ParseError(_("The body is not valid JSON: %(reason)s") % {"reason": str(exc)[:200]}) from None
        except RecursionError:
            raise ParseError(_("The body is not valid JSON: nested too deeply.")) from None


class MultiPartParser(parsers.MultiPartParser):
    pass
