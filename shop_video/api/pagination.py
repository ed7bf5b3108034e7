"""Cursor pagination: stable under inserts (new jobs arrive all the time), opaque cursors, newest first."""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.pagination import CursorPagination

from .exceptions import ApiError


class ApiCursorPagination(CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "-id"

    def decode_cursor(self, request):
        try:
            return super().decode_cursor(request)
        except exceptions.NotFound:
            raise ApiError(
                _("The cursor is not valid."), "invalid_cursor", fields={"cursor": [_("Invalid cursor.")]}
            ) from None

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is not None and raw != "":
            try:
                value = int(raw)
            except (TypeError, ValueError):
                value = 0
            if not 1 <= value <= self.max_page_size:
                raise ApiError(
                    _("page_size must be a whole number from 1 to %(max)d.") % {"max": self.max_page_size},
                    "invalid_page_size",
                    fields={"page_size": [_("From 1 to %(max)d.") % {"max": self.max_page_size}]},
                )
            return value
        return self.page_size

    def get_paginated_response_schema(self, schema):
        out = super().get_paginated_response_schema(schema)
        out["required"] = ["next", "previous", "results"]
        return out


class SlugCursorPagination(ApiCursorPagination):
    """Presets (markets, scenes): alphabetical by slug."""

    ordering = "slug"
