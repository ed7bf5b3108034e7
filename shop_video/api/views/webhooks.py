"""/api/v1/webhook-endpoints and /api/v1/webhook-deliveries (replay): thin DRF views over services/selectors.

Every object is looked up through the key's organization: another organization's id is a 404.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from shop_video.webhooks import selectors, services
from shop_video.webhooks.models import EventType, WebhookDelivery, WebhookEndpoint

from ..authentication import ApiKeyAuthentication
from ..exceptions import ApiError, exception_handler
from ..idempotency import idempotent
from ..pagination import PAGE_PARAMETERS, ApiCursorPagination
from ..permissions import HasApiKey
from ..serializers import ErrorSerializer

# --- serializers ----------------------------------------------------------------------------------------------


class EndpointSerializer(serializers.ModelSerializer):
    secret_hint = serializers.CharField(read_only=True, help_text=_("The first characters of the signing secret"))

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "url", "description", "events", "active", "secret_hint", "created_at", "updated_at"]
        read_only_fields = fields


class EndpointCreatedSerializer(EndpointSerializer):
    secret = serializers.CharField(read_only=True, help_text=_("Shown only in this response: store it now"))

    class Meta(EndpointSerializer.Meta):
        fields = [*EndpointSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class EndpointInputSerializer(serializers.Serializer):
    url = serializers.CharField(max_length=500, help_text=_("HTTPS URL that receives the events"))
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EventType.choices),
        required=False,
        allow_empty=False,
        help_text=_("Event types to receive; all of them when left out"),
    )
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    active = serializers.BooleanField(required=False)

    def validate(self, attrs):
        unknown = set(self.initial_data) - set(self.fields) if hasattr(self.initial_data, "keys") else set()
        if unknown:
            raise serializers.ValidationError({name: [_("Unknown field.")] for name in sorted(unknown)})
        return attrs


class DeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "endpoint",
            "event_id",
            "event_type",
            "payload",
            "status",
            "attempts",
            "response_code",
            "response_body",
            "error",
            "next_attempt_at",
            "last_attempt_at",
            "delivered_at",
            "replay_of",
            "created_at",
        ]
        read_only_fields = fields


class DeliveryFilterSerializer(serializers.Serializer):
    endpoint = serializers.IntegerField(required=False, min_value=1)
    status = serializers.ChoiceField(choices=WebhookDelivery.Status.choices, required=False)
    event_type = serializers.ChoiceField(choices=EventType.choices, required=False)


# --- views ----------------------------------------------------------------------------------------------------


class _Base(APIView):
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasApiKey]

    def get_exception_handler(self):
        return exception_handler

    @property
    def organization(self):
        return self.request.auth.organization

    def paginate(self, queryset, serializer_class) -> Response:
        paginator = ApiCursorPagination()
        page = paginator.paginate_queryset(queryset, self.request, view=self)
        return paginator.get_paginated_response(serializer_class(page, many=True).data)


def _page_of(name: str, item: type[serializers.Serializer]) -> serializers.Serializer:
    """The schema of one cursor page (these are plain APIViews, so drf-spectacular cannot infer the paginator)."""
    return inline_serializer(
        name=name,
        fields={
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": item(many=True),
        },
    )


def _api_error(exc: services.WebhookError) -> ApiError:
    return ApiError(exc.message, exc.code, fields=exc.fields)


_ENDPOINT_EXAMPLE = OpenApiExample(
    "Register an endpoint",
    value={"url": "https://shop.example.com/hooks/shopvideo", "events": ["job.succeeded", "batch.completed"]},
    request_only=True,
)


class EndpointListView(_Base):
    @extend_schema(
        operation_id="webhook_endpoints_list",
        tags=["webhooks"],
        parameters=PAGE_PARAMETERS,
        responses={200: _page_of("WebhookEndpointPage", EndpointSerializer)},
        summary="List webhook endpoints",
    )
    def get(self, request: Request) -> Response:
        return self.paginate(selectors.endpoints(self.organization), EndpointSerializer)

    @extend_schema(
        operation_id="webhook_endpoints_create",
        tags=["webhooks"],
        request=EndpointInputSerializer,
        responses={201: EndpointCreatedSerializer, 400: ErrorSerializer},
        examples=[_ENDPOINT_EXAMPLE],
        summary="Register a webhook endpoint (the signing secret is in this response only)",
    )
    @idempotent
    def post(self, request: Request) -> Response:
        data = EndpointInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            endpoint = services.create_endpoint(
                organization=self.organization,
                url=data.validated_data["url"],
                events=data.validated_data.get("events"),
                description=data.validated_data.get("description", ""),
                request=request,
            )
        except services.WebhookError as exc:
            raise _api_error(exc) from exc
        if data.validated_data.get("active") is False:
            services.update_endpoint(endpoint=endpoint, active=False, request=request)
        return Response(EndpointCreatedSerializer(endpoint).data, status=status.HTTP_201_CREATED)


class EndpointDetailView(_Base):
    @extend_schema(operation_id="webhook_endpoints_retrieve", tags=["webhooks"], responses={200: EndpointSerializer})
    def get(self, request: Request, pk: int) -> Response:
        return Response(EndpointSerializer(selectors.get_endpoint(self.organization, pk)).data)

    @extend_schema(
        operation_id="webhook_endpoints_update",
        tags=["webhooks"],
        request=EndpointInputSerializer(partial=True),
        responses={200: EndpointSerializer, 400: ErrorSerializer},
        examples=[OpenApiExample("Pause an endpoint", value={"active": False}, request_only=True)],
    )
    def patch(self, request: Request, pk: int) -> Response:
        endpoint = selectors.get_endpoint(self.organization, pk)
        data = EndpointInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        try:
            services.update_endpoint(endpoint=endpoint, request=request, **data.validated_data)
        except services.WebhookError as exc:
            raise _api_error(exc) from exc
        return Response(EndpointSerializer(endpoint).data)

    @extend_schema(operation_id="webhook_endpoints_destroy", tags=["webhooks"], responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        services.delete_endpoint(endpoint=selectors.get_endpoint(self.organization, pk), request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class EndpointRotateSecretView(_Base):
    @extend_schema(
        operation_id="webhook_endpoints_rotate_secret",
        tags=["webhooks"],
        request=None,
        responses={200: EndpointCreatedSerializer},
        summary="Replace the signing secret (the new one is in this response only; the old one stops at once)",
    )
    def post(self, request: Request, pk: int) -> Response:
        endpoint = services.rotate_secret(endpoint=selectors.get_endpoint(self.organization, pk), request=request)
        return Response(EndpointCreatedSerializer(endpoint).data)


class DeliveryListView(_Base):
    @extend_schema(
        operation_id="webhook_deliveries_list",
        tags=["webhooks"],
        parameters=[DeliveryFilterSerializer, *PAGE_PARAMETERS],
        # 404: an `endpoint` filter naming no endpoint of this organization.
        responses={
            200: _page_of("WebhookDeliveryPage", DeliverySerializer),
            400: ErrorSerializer,
            404: ErrorSerializer,
        },
        summary="The delivery log, newest first",
    )
    def get(self, request: Request) -> Response:
        filters = DeliveryFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        endpoint = None
        if "endpoint" in filters.validated_data:
            endpoint = selectors.get_endpoint(self.organization, filters.validated_data["endpoint"])
        qs = selectors.deliveries(
            self.organization,
            endpoint=endpoint,
            status=filters.validated_data.get("status"),
            event_type=filters.validated_data.get("event_type"),
        )
        return self.paginate(qs, DeliverySerializer)


class DeliveryDetailView(_Base):
    @extend_schema(operation_id="webhook_deliveries_retrieve", tags=["webhooks"], responses={200: DeliverySerializer})
    def get(self, request: Request, pk: int) -> Response:
        return Response(DeliverySerializer(selectors.get_delivery(self.organization, pk)).data)


class DeliveryReplayView(_Base):
    @extend_schema(
        operation_id="webhook_deliveries_replay",
        tags=["webhooks"],
        request=None,
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=False)],
        responses={201: DeliverySerializer},
        summary="Send the same event (same payload and webhook-id) to its endpoint again",
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        delivery = selectors.get_delivery(self.organization, pk)
        new = services.replay(delivery=delivery)
        return Response(DeliverySerializer(new).data, status=status.HTTP_201_CREATED)
