"""/api/v1/products: products with their photos (files or fetched URLs) and caption titles per language."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Prefetch
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from generation import market_services, rules, selectors, services
from generation.models import Photo, Product
from generation.photo_urls import fetch_photo_urls
from generation.services.deletion import request_product_deletion
from generation.services.products import update_product

from .. import serializers as s
from ..exceptions import ApiError, Conflict
from ..idempotency import idempotent
from ..parsers import JSONParser, MultiPartParser
from ..schema import IDEMPOTENCY_KEY
from ..schema_examples import MULTIPART, PRODUCT_EXAMPLE, error_response, example, page_of
from .base import OrgViewSet, query_filters


def _sku_conflict(exc: services.ProductInvalid):
    if exc.code == "duplicate_sku":
        raise Conflict(exc.message, "duplicate_sku", fields=exc.fields) from exc
    raise exc


def _checked_localized_titles(titles: dict[str, dict | None], product: Product | None = None) -> dict:
    """400 `unknown_language` for a language no market captions in (the dashboard offers the same list); a
    language the product already has may always be removed (`null`)."""
    unknown = rules.unknown_title_languages(titles, product)
    if unknown:
        known = market_services.caption_languages()
        message = _("Captions are made in these languages: %(languages)s.") % {"languages": ", ".join(known)}
        raise ApiError(
            message,
            "unknown_language",
            fields={
                f"localized_titles.{lang}": [_("Unknown caption language %(language)s.") % {"language": lang}]
                for lang in unknown
            },
        )
    return titles


def _save_localized_titles(product: Product, titles: dict[str, dict | None]) -> None:
    """Through the service the dashboard and the CSV import use; `None` (an empty title there) removes one."""
    for language, value in titles.items():
        market_services.set_localized_title(
            product=product,
            language=language,
            title=value["title"] if value else "",
            cta=value["cta"] if value else "",
        )


_UNKNOWN_LANGUAGE = error_response(
    "Bad input, e.g. a language no market captions in",
    "unknown_language",
    "Captions are made in these languages: en, de, fr, …",
    {"localized_titles.xx": ["Unknown caption language xx."]},
)


@extend_schema_view(
    list=extend_schema(
        summary="List products",
        description="Newest first, cursor-paginated. Filter by `sku` to find a product by its SKU.",
        parameters=[OpenApiParameter("sku", str, description="Exact SKU")],
        examples=[example("A page of products", page_of(PRODUCT_EXAMPLE))],
    ),
    retrieve=extend_schema(summary="Get a product", examples=[example("A product", PRODUCT_EXAMPLE)]),
    partial_update=extend_schema(
        summary="Update a product",
        description="Change the title, SKU, category, price or caption titles; photos are added through "
        "`POST /api/v1/photos`. `price` with `currency` (ISO 4217) is the price tag's amount: zero or more with at "
        "most the currency's decimals; `null` removes it (400 `invalid_price`, `invalid_currency`, "
        "`currency_required`). `localized_titles` is merged: each language sent replaces that language's title "
        "and call to action, languages left out are kept, `null` removes one (400 `unknown_language` for a "
        "language no market captions in). All or nothing.",
        request=s.ProductUpdateSerializer,
        examples=[
            example("New title", {"title": "Amber glass bottle, 100 ml"}, request=True, response=False),
            example("A price", {"price": "19.90", "currency": "EUR"}, request=True, response=False),
            example(
                "A German title, the Japanese one removed",
                {"localized_titles": {"de": {"title": "Braunglasflasche", "cta": "Jetzt entdecken"}, "ja": None}},
                request=True,
                response=False,
            ),
            example("The updated product", PRODUCT_EXAMPLE),
        ],
        responses={
            200: s.ProductSerializer,
            400: _UNKNOWN_LANGUAGE,
            409: error_response("The SKU is taken", "duplicate_sku", "…"),
        },
    ),
    destroy=extend_schema(
        summary="Delete a product",
        description="Deletes the product with its photos, jobs and videos at once; their stored files are "
        "removed in the background. Refused (409 `product_has_active_jobs`) while one of its jobs is queued or "
        "running.",
        responses={
            204: OpenApiResponse(description="Deleted."),
            409: error_response(
                "Jobs still active", "product_has_active_jobs", "The product has queued or running jobs."
            ),
        },
    ),
)
class ProductViewSet(OrgViewSet):
    serializer_class = s.ProductSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_parsers(self):
        # Called before DRF sets self.action: multipart (photo files) for creating only, JSON everywhere.
        action = getattr(self, "action", None)
        request = getattr(self, "request", None)
        if action is None and request is not None and getattr(self, "action_map", None):
            action = self.action_map.get(request.method.lower())
        return [MultiPartParser(), JSONParser()] if action == "create" else [JSONParser()]

    def get_queryset(self):
        return selectors.products_for(self.organization).prefetch_related(
            Prefetch("photos", queryset=Photo.objects.order_by("created_at", "id")), "localizations"
        )

    def get_object(self):
        return selectors.get_product(self.organization, self.kwargs["pk"])

    def list(self, request: Request) -> Response:
        filters = query_filters(s.ProductFilterSerializer, request)
        qs = self.get_queryset()
        if "sku" in filters:
            qs = qs.filter(sku=filters["sku"])
        return self.paged(qs, s.ProductSerializer)

    @extend_schema(
        summary="Create a product with its photos",
        description=(
            "multipart/form-data with `title`, `sku`, `category` and one or more `photos` files (repeat the field "
            "for several). Or JSON with `photo_urls` instead of files: fetched at once with SSRF protection "
            "(public http(s) addresses only, size and time limits). All or nothing: if one photo cannot be used, "
            "nothing is created and `error.files` names every bad file. `localized_titles` (optional): caption "
            "titles per language, in multipart as one part holding the JSON mapping."
        ),
        parameters=[IDEMPOTENCY_KEY],
        request={"multipart/form-data": s.ProductCreateSerializer, "application/json": s.ProductCreateSerializer},
        responses={
            201: s.ProductSerializer,
            400: _UNKNOWN_LANGUAGE,
            409: error_response("The SKU is taken", "duplicate_sku", "…"),
        },
        examples=[
            example(
                "multipart fields",
                {
                    "title": "Amber glass bottle",
                    "sku": "AGB-100",
                    "category": "home",
                    "photos": ["(a photo file)"],
                    "localized_titles": '{"de": {"title": "Braunglasflasche"}}',
                },
                request=True,
                response=False,
                media_type=MULTIPART,
            ),
            example(
                "JSON with photo URLs",
                {
                    "title": "Amber glass bottle",
                    "sku": "AGB-100",
                    "photo_urls": ["https://cdn.shop.example/agb.jpg"],
                    "localized_titles": {"de": {"title": "Braunglasflasche", "cta": "Jetzt entdecken"}},
                },
                request=True,
                response=False,
            ),
            example("Created", PRODUCT_EXAMPLE, status_codes=["201"]),
        ],
    )
    @idempotent
    def create(self, request: Request) -> Response:
        data = s.ProductCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        titles = _checked_localized_titles(v.get("localized_titles") or {})
        uploads = [(f.name, f) for f in v.get("photos", [])]
        if v.get("photo_urls"):
            if uploads:
                raise ApiError(
                    _("Send photos as files or as URLs, not both."),
                    "photos_and_urls",
                    fields={"photo_urls": [_("Leave out when sending files.")]},
                )
            uploads = fetch_photo_urls(v["photo_urls"])
        if not uploads:
            raise ApiError(
                _("Add at least one photo."), "photos_required", fields={"photos": [_("Add at least one photo.")]}
            )
        try:
            with transaction.atomic():
                product = services.create_product_with_photos(
                    organization=self.organization,
                    title=v["title"],
                    sku=v["sku"],
                    category=v["category"],
                    price=v["price"],
                    currency=v["currency"],
                    uploads=uploads,
                )
                _save_localized_titles(product, titles)
        except services.ProductInvalid as exc:
            _sku_conflict(exc)
        product = selectors.get_product(self.organization, product.pk)
        return Response(s.ProductSerializer(product, context=self.ctx()).data, status=status.HTTP_201_CREATED)

    def retrieve(self, request: Request, pk=None) -> Response:
        return Response(s.ProductSerializer(self.get_object(), context=self.ctx()).data)

    def partial_update(self, request: Request, pk=None) -> Response:
        product = self.get_object()
        data = s.ProductUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        titles = _checked_localized_titles(fields.pop("localized_titles", None) or {}, product)
        try:
            with transaction.atomic():
                update_product(product=product, **fields)
                _save_localized_titles(product, titles)
        except services.ProductInvalid as exc:
            _sku_conflict(exc)
        return Response(s.ProductSerializer(self.get_object(), context=self.ctx()).data)

    def destroy(self, request: Request, pk=None) -> Response:
        request_product_deletion(product=self.get_object(), request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)
