"""Cursor pagination: stable under inserts (new jobs arrive all the time), opaque cursors, newest first.

A cursor comes from the client, so it is untrusted: its offset, direction and position are all checked before
any query (a position must be a value the ordering field can hold: an id within the column's range, a slug),
and anything else is a 400 `invalid_cursor`, never a database error.
"""

from __future__ import annotations

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions
from rest_framework.pagination import CursorPagination

from .exceptions import ApiError

# For plain APIViews that page with ApiCursorPagination (drf-spectacular documents viewsets' lists by itself).
PAGE_PARAMETERS = [
    OpenApiParameter("cursor", str, description="The pagination cursor value (from `next` or `previous`)."),
    OpenApiParameter("page_size", int, description="Number of results to return per page (1 to 200)."),
]


class ApiCursorPagination(CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "-id"

    def paginate_queryset(self, queryset, request, view=None):
        self.model = queryset.model  # decode_cursor checks the position against the ordering field
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request):
        try:
            cursor = super().decode_cursor(request)
        except exceptions.NotFound:
            raise _invalid_cursor() from None
        if cursor is not None and cursor.position is not None and not self._valid_position(cursor.position):
            raise _invalid_cursor()
        return cursor

    def _valid_position(self, position: str) -> bool:
        """Whether the ordering field can hold `position` (its type and its database range); no NUL, which
        PostgreSQL refuses in any string."""
        if "\x00" in position:
            return False
        try:
            field = self.model._meta.get_field(self.ordering[0].lstrip("-"))
        except FieldDoesNotExist:  # ordered by a lookup across a relation: the database compares the text
            return True
        try:
            field.clean(position, None)
        except ValidationError:
            return False
        return True

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


def _invalid_cursor() -> ApiError:
    return ApiError(_("The cursor is not valid."), "invalid_cursor", fields={"cursor": [_("Invalid cursor.")]})


class SlugCursorPagination(ApiCursorPagination):
    """Presets (markets, scenes): alphabetical by slug."""

    ordering = "slug"
