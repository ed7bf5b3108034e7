"""GET /api/v1/credits → {"balance", "reserved", "available"} for the caller's organization."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
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


class CreditsSerializer(serializers.Serializer):
    balance = serializers.IntegerField(
        help_text="Credits owned: purchases, grants and adjustments minus captures and refunds."
    )
    reserved = serializers.IntegerField(help_text="Credits held by jobs that have not finished.")
    available = serializers.IntegerField(help_text="balance − reserved: what new jobs can spend.")


class CreditsView(APIView):
    @extend_schema(
        operation_id="credits_retrieve",
        tags=["credits"],
        summary="The organization's credit balance",
        responses={200: CreditsSerializer},
        examples=[OpenApiExample("Balance", value={"balance": 500, "reserved": 40, "available": 460})],
    )
    def get(self, request: Request) -> Response:
        return Response(selectors.credits_for(request_organization(request)).as_dict())
