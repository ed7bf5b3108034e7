"""The base of the /api/v1/ viewsets: the API key's organization scopes every query; query filters; paging."""

from __future__ import annotations

from rest_framework import viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from ..pagination import ApiCursorPagination
from ..parsers import JSONParser

ID_REGEX = r"[0-9]{1,18}"
SLUG_REGEX = r"[-a-zA-Z0-9_]{1,60}"


def query_filters(serializer_class, request: Request) -> dict:
    f = serializer_class(data=request.query_params)
    f.is_valid(raise_exception=True)
    return f.validated_data


class OrgViewSet(viewsets.GenericViewSet):
    """The key's organization scopes everything; ids are digits only (anything else is a 404 by routing)."""

    lookup_value_regex = ID_REGEX
    pagination_class = ApiCursorPagination
    parser_classes = [JSONParser]

    @property
    def organization(self):
        return self.request.auth.organization

    def ctx(self) -> dict:
        return {"request": self.request, "organization": self.organization}

    def paged(self, queryset, serializer_class) -> Response:
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(serializer_class(page, many=True, context=self.ctx()).data)
