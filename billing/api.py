"""GET /api/v1/credits → {"balance", "reserved", "available"} for the caller's organization."""

from __future__ import annotations

from rest_framework.exceptions import NotAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing import selectors


def request_organization(request: Request):
    # An API key authenticates as its organization (request.auth); a browser session via the tenancy middleware.
    org = (
        getattr(request.auth, "organization", None)
        or getattr(request.user, "organization", None)
        or getattr(request._request, "organization", None)
    )
    if org is None:
        raise NotAuthenticated()
    return org


class CreditsView(APIView):
    def get(self, request: Request) -> Response:
        return Response(selectors.credits_for(request_organization(request)).as_dict())
