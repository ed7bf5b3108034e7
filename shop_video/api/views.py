"""/api/v1/ viewsets. Thin: every read goes through generation.selectors with the key's organization (another
organization's id is a 404, exactly like an id that does not exist), every write through the services."""

from __future__ import annotations

import time

from django.db import transaction
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from generation import market_services, selectors, services
from generation.models import Job, Photo, Product
from generation.pipeline.errors import BadInputError
from shop_video.dashboard import services as review_services

from . import serializers as s
from .exceptions import ApiError, Conflict
from .idempotency import idempotent
from .pagination import ApiCursorPagination, SlugCursorPagination
from .parsers import JSONParser, MultiPartParser
from .schema import IDEMPOTENCY_KEY
from .services import delete_product, update_product
from .views_cutout import PhotoCutoutMixin

ID_REGEX = r"[0-9]{1,18}"
SLUG_REGEX = r"[-a-zA-Z0-9_]{1,60}"
MAX_URL_FETCH_SECONDS = 20.0

# --- examples -------------------------------------------------------------------------------------------------------

_T = "2026-11-25T10:00:00Z"
PHOTO_EXAMPLE = {
    "id": 311,
    "product": 42,
    "original_name": "bottle-front.png",
    "width": 1200,
    "height": 1600,
    "checksum": "9f2c…",
    "mask_source": "alpha",
    "cutout_method": "alpha",
    "cutout_confidence": 1.0,
    "cutout_needs_review": False,
    "file_url": "https://shop.example/files/signed/eyJrIjoicCJ9:1tQ…",
    "mask_url": "https://shop.example/files/signed/eyJrIjoicCJ9:1tR…",
    "created_at": _T,
}
PRODUCT_EXAMPLE = {
    "id": 42,
    "title": "Amber glass bottle",
    "sku": "AGB-100",
    "category": "home",
    "photo_ids": [311, 312],
    "photos": [
        {
            "id": 311,
            "original_name": "bottle-front.png",
            "width": 1200,
            "height": 1600,
            "mask_source": "alpha",
            "cutout_needs_review": False,
        },
        {
            "id": 312,
            "original_name": "bottle-side.jpg",
            "width": 1500,
            "height": 1500,
            "mask_source": "segmented",
            "cutout_needs_review": False,
        },
    ],
    "localized_titles": {
        "de": {"title": "Braunglasflasche", "cta": ""},
        "ja": {"title": "琥珀色のガラスボトル", "cta": "今すぐチェック"},
    },
    "created_at": _T,
    "updated_at": _T,
}
BATCH_EXAMPLE = {
    "id": 7,
    "name": "Amber glass bottle",
    "source": "api",
    "job_count": 2,
    "counts": {"queued": 1, "running": 1, "succeeded": 0, "failed": 0, "canceled": 0},
    "progress": 0.2,
    "finished": False,
    "created_at": _T,
}
VIDEO_EXAMPLE = {
    "id": 90,
    "job": 1001,
    "batch": 7,
    "product": 42,
    "photo": 311,
    "market": "us",
    "scene": "studio-sweep",
    "aspect_ratio": "9:16",
    "resolution": "480p",
    "engine": "compositor",
    "width": 480,
    "height": 832,
    "fps": 16,
    "frames": 81,
    "duration_seconds": 5.0625,
    "size_bytes": 912345,
    "qa": {"passed": True, "psnr_min": 41.2, "psnr_mean": 44.9, "ssim_min": 0.981, "edge_iou": 0.97, "flicker": 0.4},
    "review": "ready",
    "delivered": True,
    "download_url": "https://shop.example/files/signed/eyJrIjoidiJ9:1tS…",
    "download_expires_in": 900,
    "poster_url": "https://shop.example/files/signed/eyJrIjoidiJ9:1tT…",
    "export_check": {"platform": "tiktok", "enforced": True, "passed": True, "violations": []},
    "created_at": _T,
}
JOB_EXAMPLE = {
    "id": 1001,
    "batch": 7,
    "product": 42,
    "photo": 311,
    "market": "us",
    "scene": "studio-sweep",
    "model_look": None,
    "aspect_ratio": "9:16",
    "resolution": "480p",
    "seconds": 5,
    "fps": 16,
    "engine": "compositor",
    "seed": 1234,
    "platform": "tiktok",
    "captions": {"enabled": True, "price": True, "cta": False},
    "credits": 5,
    "state": "running",
    "progress": 0.4,
    "stage": "render",
    "attempt": 1,
    "max_attempts": 3,
    "error": None,
    "video": None,
    "created_at": _T,
    "queued_at": _T,
    "started_at": _T,
    "finished_at": None,
}
JOB_DONE_EXAMPLE = {
    **JOB_EXAMPLE,
    "state": "succeeded",
    "progress": 1.0,
    "stage": "done",
    "finished_at": _T,
    "video": VIDEO_EXAMPLE,
}
JOB_REQUEST_EXAMPLE = {
    "product": 42,
    "markets": ["us", "de"],
    "scenes": [],
    "model_looks": [],
    "aspect_ratios": ["1:1", "4:5"],
    "seconds": [5, 10],
    "resolution": "480p",
    "engine": "compositor",
    "platform": "shopify",
    "captions": {"enabled": True, "price": True, "cta": False},
}
MARKET_EXAMPLE = {
    "slug": "us",
    "name": "United States",
    "locale": "en_US",
    "currency": "USD",
    "caption_language": "en",
    "direction": "ltr",
    "platforms": ["tiktok", "reels", "amazon", "shopify"],
    "aspect_ratios": ["9:16", "16:9", "1:1", "4:5"],
    "scenes": ["studio-sweep", "marble-counter"],
    "model_looks": [{"slug": "casual", "name": "Casual", "descriptors": "adult, casual knitwear", "own": False}],
}
SCENE_EXAMPLE = {
    "slug": "studio-sweep",
    "name": "Studio sweep",
    "style": "studio",
    "prompt": "seamless studio sweep, soft key light",
    "palette": ["#f4f4f2", "#d9d9d6", "#b9b9b4"],
}


def _page(example: dict) -> dict:
    return {"next": "https://shop.example/api/v1/…?cursor=cD0xMjM%3D", "previous": None, "results": [example]}


def _ex(
    name: str, value, *, request: bool = False, response: bool = True, status_codes=None, media_type=None
) -> OpenApiExample:
    return OpenApiExample(
        name,
        value=value,
        request_only=request and not response,
        response_only=response and not request,
        status_codes=status_codes,
        media_type=media_type or "application/json",
    )


MULTIPART = "multipart/form-data"


def _error(description: str, code: str, message: str, fields: dict | None = None) -> OpenApiResponse:
    return OpenApiResponse(
        s.ErrorSerializer,
        description=description,
        examples=[_ex(code, {"error": {"code": code, "message": message, "fields": fields or {}}})],
    )


def _filters(serializer_class, request: Request) -> dict:
    f = serializer_class(data=request.query_params)
    f.is_valid(raise_exception=True)
    return f.validated_data


# --- base -----------------------------------------------------------------------------------------------------------


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


# --- products -------------------------------------------------------------------------------------------------------


def _fetch_photo_urls(urls: list[str]) -> list[tuple[str, bytes]]:
    """Fetch photo URLs with the SSRF-safe fetcher of the catalogue import, within one overall deadline."""
    try:
        from generation.imports.fetch import FetchError, fetch_image
    except ImportError:  # pragma: no cover — the fetcher ships with the CSV import
        raise ApiError(
            _("Photo URLs are not supported here; upload the photos as files."),
            "photo_urls_unsupported",
            fields={"photo_urls": [_("Not supported; send photos as files.")]},
        ) from None
    started = time.monotonic()
    out: list[tuple[str, bytes]] = []
    errors: dict[str, list[str]] = {}
    for i, url in enumerate(urls):
        left = MAX_URL_FETCH_SECONDS - (time.monotonic() - started)
        if left <= 0:
            errors[f"photo_urls.{i}"] = [_("Not fetched: the time for fetching photos ran out.")]
            continue
        try:
            fetched = fetch_image(url, deadline_seconds=left)
        except FetchError as exc:
            errors[f"photo_urls.{i}"] = [_("Could not fetch the photo (%(code)s).") % {"code": exc.code}]
            continue
        name = url.rstrip("/").rsplit("/", 1)[-1].split("?")[0] or f"photo-{i + 1}"
        out.append((name[:200], fetched.data))
    if errors:
        raise ApiError(_("One or more photo URLs could not be fetched."), "photo_url_rejected", fields=errors)
    return out


def _sku_conflict(exc: services.ProductInvalid):
    if exc.code == "duplicate_sku":
        raise Conflict(exc.message, "duplicate_sku", fields=exc.fields) from exc
    raise exc


def _checked_localized_titles(titles: dict[str, dict | None], product: Product | None = None) -> dict:
    """400 `unknown_language` for a language no market captions in (the dashboard offers the same list); a
    language the product already has may always be removed (`null`)."""
    known = market_services.caption_languages()
    existing = set(product.localizations.values_list("language", flat=True)) if product is not None else set()
    unknown = [lang for lang, value in titles.items() if lang not in known and not (value is None and lang in existing)]
    if unknown:
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


_UNKNOWN_LANGUAGE = _error(
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
        examples=[_ex("A page of products", _page(PRODUCT_EXAMPLE))],
    ),
    retrieve=extend_schema(summary="Get a product", examples=[_ex("A product", PRODUCT_EXAMPLE)]),
    partial_update=extend_schema(
        summary="Update a product",
        description="Change the title, SKU, category or caption titles; photos are added through "
        "`POST /api/v1/photos`. `localized_titles` is merged: each language sent replaces that language's title "
        "and call to action, languages left out are kept, `null` removes one (400 `unknown_language` for a "
        "language no market captions in). All or nothing.",
        request=s.ProductUpdateSerializer,
        examples=[
            _ex("New title", {"title": "Amber glass bottle, 100 ml"}, request=True, response=False),
            _ex(
                "A German title, the Japanese one removed",
                {"localized_titles": {"de": {"title": "Braunglasflasche", "cta": "Jetzt entdecken"}, "ja": None}},
                request=True,
                response=False,
            ),
            _ex("The updated product", PRODUCT_EXAMPLE),
        ],
        responses={
            200: s.ProductSerializer,
            400: _UNKNOWN_LANGUAGE,
            409: _error("The SKU is taken", "duplicate_sku", "…"),
        },
    ),
    destroy=extend_schema(
        summary="Delete a product",
        description="Deletes the product with its photos, jobs and videos at once; their stored files are "
        "removed in the background. Refused (409 `product_has_active_jobs`) while one of its jobs is queued or "
        "running.",
        responses={
            204: OpenApiResponse(description="Deleted."),
            409: _error("Jobs still active", "product_has_active_jobs", "The product has queued or running jobs."),
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
        filters = _filters(s.ProductFilterSerializer, request)
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
            409: _error("The SKU is taken", "duplicate_sku", "…"),
        },
        examples=[
            _ex(
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
            _ex(
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
            _ex("Created", PRODUCT_EXAMPLE, status_codes=["201"]),
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
            uploads = _fetch_photo_urls(v["photo_urls"])
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
        delete_product(product=self.get_object(), request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- photos ---------------------------------------------------------------------------------------------------------


def _photo_rejected(exc: services.PhotoRejected, field: str):
    raise ApiError(exc.message, exc.code, fields={field: [exc.message]}) from exc


@extend_schema_view(
    list=extend_schema(
        summary="List photos",
        description="Newest first; filter by `product`. `file_url` and `mask_url` are signed and expire.",
        parameters=[OpenApiParameter("product", int, description="Product id")],
        examples=[_ex("A page of photos", _page(PHOTO_EXAMPLE))],
    ),
    retrieve=extend_schema(
        summary="Get a photo with its mask",
        description="`mask_url` is the cutout mask the videos use (PNG, white = product); replace it with "
        "`POST /api/v1/photos/{id}/mask`.",
        examples=[_ex("A photo", PHOTO_EXAMPLE)],
    ),
)
class PhotoViewSet(PhotoCutoutMixin, OrgViewSet):
    serializer_class = s.PhotoSerializer
    parser_classes = [MultiPartParser]

    def get_queryset(self):
        return selectors.photos_for(self.organization)

    def get_object(self):
        return selectors.get_photo(self.organization, self.kwargs["pk"])

    def list(self, request: Request) -> Response:
        filters = _filters(s.PhotoFilterSerializer, request)
        qs = self.get_queryset()
        if "product" in filters:
            qs = qs.filter(product_id=filters["product"])
        return self.paged(qs, s.PhotoSerializer)

    def retrieve(self, request: Request, pk=None) -> Response:
        return Response(s.PhotoSerializer(self.get_object(), context=self.ctx()).data)

    @extend_schema(
        summary="Add a photo to a product",
        description="multipart/form-data: `product`, `file` and optionally `mask` (white or opaque = product). "
        "Without a mask the cutout is computed (a transparent PNG's alpha is used as given).",
        parameters=[IDEMPOTENCY_KEY],
        request={"multipart/form-data": s.PhotoCreateSerializer},
        responses={201: s.PhotoSerializer},
        examples=[
            _ex(
                "multipart fields",
                {"product": 42, "file": "(the photo file)"},
                request=True,
                response=False,
                media_type=MULTIPART,
            ),
            _ex("Created", PHOTO_EXAMPLE, status_codes=["201"]),
        ],
    )
    @idempotent
    def create(self, request: Request) -> Response:
        data = s.PhotoCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        product = selectors.products_for(self.organization).filter(pk=v["product"]).first()
        if product is None:
            raise ApiError(_("Product not found."), "product_not_found", fields={"product": [_("Product not found.")]})
        upload = v["file"]
        try:
            photo = services.add_photo(product=product, upload=upload, filename=upload.name, mask_upload=v.get("mask"))
        except services.PhotoRejected as exc:
            _photo_rejected(exc, "mask" if exc.code in ("bad_mask", "mask_empty", "mask_full") else "file")
        photo = selectors.get_photo(self.organization, photo.pk)
        return Response(s.PhotoSerializer(photo, context=self.ctx()).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Supply a mask for a photo",
        operation_id="photos_mask",
        description="multipart/form-data `mask`: white (or opaque) where the product is. It replaces the computed "
        "cutout for every later job of this photo; it is scaled to the photo if its size differs.",
        request={"multipart/form-data": s.MaskUploadSerializer},
        responses={200: s.PhotoSerializer},
        examples=[
            _ex(
                "multipart fields", {"mask": "(the mask file, PNG)"}, request=True, response=False, media_type=MULTIPART
            ),
            _ex("The photo with its new mask", {**PHOTO_EXAMPLE, "mask_source": "supplied"}),
        ],
    )
    @action(detail=True, methods=["post"], url_path="mask")
    def mask(self, request: Request, pk=None) -> Response:
        photo = self.get_object()
        data = s.MaskUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            services.set_photo_mask(photo=photo, upload=data.validated_data["mask"])
        except services.PhotoRejected as exc:
            _photo_rejected(exc, "mask")
        return Response(s.PhotoSerializer(self.get_object(), context=self.ctx()).data)


# --- presets --------------------------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="List markets",
        description="Market presets (read-only): locale, currency, platforms and their default aspect ratios, "
        "scenes (the first is the default) and model looks, built-in and your organization's own.",
        examples=[_ex("Markets", _page(MARKET_EXAMPLE))],
    ),
    retrieve=extend_schema(summary="Get a market", examples=[_ex("A market", MARKET_EXAMPLE)]),
)
class PresetViewSet(OrgViewSet):
    """Read-only presets addressed by slug (markets, scenes): one list and one retrieve for both."""

    pagination_class = SlugCursorPagination
    lookup_field = "slug"
    lookup_value_regex = SLUG_REGEX

    def list(self, request: Request) -> Response:
        return self.paged(self.get_queryset(), self.serializer_class)

    def retrieve(self, request: Request, slug=None) -> Response:
        preset = get_object_or_404(self.get_queryset(), slug=slug)
        return Response(self.serializer_class(preset, context=self.ctx()).data)


class MarketViewSet(PresetViewSet):
    serializer_class = s.MarketSerializer

    def get_queryset(self):
        return selectors.markets()


@extend_schema_view(
    list=extend_schema(summary="List scenes", examples=[_ex("Scenes", _page(SCENE_EXAMPLE))]),
    retrieve=extend_schema(summary="Get a scene", examples=[_ex("A scene", SCENE_EXAMPLE)]),
)
class SceneViewSet(PresetViewSet):
    serializer_class = s.SceneSerializer

    def get_queryset(self):
        return selectors.all_scenes()


# --- jobs -----------------------------------------------------------------------------------------------------------


def _jobs_query(organization):
    return selectors.jobs_for(organization).select_related("video")


def _matrix_request(organization, request: Request):
    """(photos, matrix, name) from a job request body; 400 with field messages for anything wrong."""
    data = s.JobRequestSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    v = data.validated_data
    product = selectors.products_for(organization).filter(pk=v["product"]).first()
    if product is None:
        raise ApiError(_("Product not found."), "product_not_found", fields={"product": [_("Product not found.")]})
    photos = list(selectors.photos_for(organization, product=product))
    wanted = v.get("photos") or []
    if wanted:
        by_id = {p.pk: p for p in photos}
        missing = [pk for pk in wanted if pk not in by_id]
        if missing:
            raise ApiError(
                _("One or more photos are not photos of this product."),
                "photo_not_found",
                fields={"photos": [_("Not a photo of product %(id)d: %(ids)s") % {"id": product.pk, "ids": missing}]},
            )
        photos = [by_id[pk] for pk in dict.fromkeys(wanted)]
    captions = v.get("captions") or {}
    if not photos:
        raise ApiError(
            _("The product has no photos."), "no_photos", fields={"product": [_("The product has no photos.")]}
        )
    matrix = services.VariantMatrix(
        markets=v["markets"],
        scenes=v.get("scenes", []),
        looks=v.get("model_looks", []),
        aspect_ratios=v.get("aspect_ratios", []),
        seconds=v.get("seconds", [5]),
        resolution=v["resolution"],
        engine=v["engine"],
        seed=v.get("seed"),
        platform=v.get("platform") or "",
        captions=captions.get("enabled", False),
        caption_price=captions.get("price", False),
        caption_cta=captions.get("cta", False),
    )
    return product, photos, matrix, v.get("name") or product.title


def _matrix_error(exc: BadInputError):
    """The services name the looks field `looks`; the API calls it `model_looks`."""
    fields = getattr(exc, "fields", None)
    if fields and "looks" in fields:
        exc.fields = {("model_looks" if k == "looks" else k): v for k, v in fields.items()}
    raise exc


_LOOK_NEEDS_DIT = (
    "Model looks need the DiT video model: the compositor draws no person, only the product. Choose the DiT engine "
    "or no model look."
)
_JOB_ERRORS = {
    400: _error(
        "Bad input: `validation_error`, `invalid_matrix`, `platform_rule`, `caption_options`, or `look_needs_dit` "
        "(model looks asked of the compositor, which draws no person; nothing is reserved).",
        "look_needs_dit",
        _LOOK_NEEDS_DIT,
        {"model_looks": [_LOOK_NEEDS_DIT]},
    ),
    402: _error(
        "Not enough credits",
        "insufficient_credits",
        "Not enough credits: this needs 20 credits and 5 are available.",
    ),
}


@extend_schema_view(
    list=extend_schema(
        summary="List jobs",
        description="Newest first; filter by `state`, `batch`, `product` and `market`.",
        parameters=[
            OpenApiParameter("state", str, enum=list(Job.State.values)),
            OpenApiParameter("batch", int),
            OpenApiParameter("product", int),
            OpenApiParameter("market", str, enum=s.market_choices()),
        ],
        examples=[_ex("A page of jobs", _page(JOB_EXAMPLE))],
    ),
    retrieve=extend_schema(
        summary="Get a job (poll this)",
        description="State (`queued`, `running`, `succeeded`, `failed`, `canceled`), progress 0..1, the error "
        "when it failed, and once it has a video the video with a short-lived signed `download_url`.",
        examples=[_ex("Running", JOB_EXAMPLE), _ex("Succeeded", JOB_DONE_EXAMPLE)],
    ),
)
class JobViewSet(OrgViewSet):
    serializer_class = s.JobSerializer

    def get_queryset(self):
        return _jobs_query(self.organization)

    def get_object(self):
        pk = selectors._pk(self.kwargs["pk"])
        job = self.get_queryset().filter(pk=pk).first()
        if job is None:
            from django.http import Http404

            raise Http404
        return job

    def list(self, request: Request) -> Response:
        filters = _filters(s.JobFilterSerializer, request)
        qs = self.get_queryset()
        if "state" in filters:
            qs = qs.filter(state=filters["state"])
        if "batch" in filters:
            qs = qs.filter(batch_id=filters["batch"])
        if "product" in filters:
            qs = qs.filter(photo__product_id=filters["product"])
        if "market" in filters:
            qs = qs.filter(market__slug=filters["market"])
        return self.paged(qs, s.JobSerializer)

    def retrieve(self, request: Request, pk=None) -> Response:
        return Response(s.JobSerializer(self.get_object(), context=self.ctx()).data)

    @extend_schema(
        summary="Create jobs: one product × a matrix of variants",
        description=(
            "One job per photo × market × scene × model look × aspect ratio × duration, all in one batch. Empty "
            "lists mean the market's defaults (its default scene, its platforms' aspect ratios, no human model); "
            "all of the product's photos unless `photos` names some. Credits are reserved at once (402 "
            "`insufficient_credits` when they do not suffice; nothing is created then)."
        ),
        parameters=[IDEMPOTENCY_KEY],
        request=s.JobRequestSerializer,
        responses={201: s.JobSubmissionSerializer, **_JOB_ERRORS},
        examples=[
            _ex("Two markets, two formats, two lengths", JOB_REQUEST_EXAMPLE, request=True, response=False),
            _ex(
                "Created",
                {
                    "batch": {**BATCH_EXAMPLE, "counts": {**BATCH_EXAMPLE["counts"], "running": 0, "queued": 2}},
                    "jobs": [
                        {
                            **JOB_EXAMPLE,
                            "state": "queued",
                            "progress": 0.0,
                            "stage": "",
                            "attempt": 0,
                            "started_at": None,
                        }
                    ],
                },
                status_codes=["201"],
            ),
        ],
    )
    @idempotent
    def create(self, request: Request) -> Response:
        org = self.organization
        _product, photos, matrix, name = _matrix_request(org, request)
        try:
            batch = services.submit_batch(organization=org, photos=photos, matrix=matrix, source="api", name=name)
        except services.MatrixInvalid as exc:
            _matrix_error(exc)
        batch = selectors.get_batch(org, batch.pk)
        jobs = _jobs_query(org).filter(batch_id=batch.pk).order_by("id")
        body = {
            "batch": s.BatchSerializer(batch, context=self.ctx()).data,
            "jobs": s.JobSerializer(jobs, many=True, context=self.ctx()).data,
        }
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Price a job request without creating anything",
        operation_id="jobs_estimate",
        description="The same body as `POST /api/v1/jobs`; answers how many videos it would make and what they "
        "would cost in credits.",
        request=s.JobRequestSerializer,
        responses={200: s.EstimateSerializer, 400: _JOB_ERRORS[400]},
        examples=[
            _ex("A job request", JOB_REQUEST_EXAMPLE, request=True, response=False),
            _ex("The price", {"credits": 60, "videos": 8, "seconds": 60.0}),
        ],
    )
    @action(detail=False, methods=["post"], url_path="estimate")
    def estimate(self, request: Request) -> Response:
        _product, photos, matrix, _name = _matrix_request(self.organization, request)
        try:
            estimate = services.estimate_batch(organization=self.organization, photos=photos, matrix=matrix)
        except services.MatrixInvalid as exc:
            _matrix_error(exc)
        return Response({"credits": estimate.credits, "videos": estimate.videos, "seconds": float(estimate.seconds)})

    @extend_schema(
        summary="Cancel a job",
        operation_id="jobs_cancel",
        description="A queued job never runs; a running one stops at its next step; its reserved credits are "
        "released. A job that has already finished is returned unchanged.",
        request=None,
        responses={200: s.JobSerializer},
        examples=[_ex("Canceled", {**JOB_EXAMPLE, "state": "canceled", "stage": "canceled", "finished_at": _T})],
    )
    @action(detail=True, methods=["post"], url_path="cancel")
    def cancel(self, request: Request, pk=None) -> Response:
        services.cancel_job(job=self.get_object())
        return Response(s.JobSerializer(self.get_object(), context=self.ctx()).data)

    @extend_schema(
        summary="Retry a failed or canceled job",
        operation_id="jobs_retry",
        description="Queues the job again with a fresh attempt budget (and reserves its credits again). "
        "409 `not_retryable` for a job that is queued, running or succeeded.",
        request=None,
        responses={
            200: s.JobSerializer,
            409: _error("Not failed or canceled", "not_retryable", "Only a failed or canceled job can be retried."),
            **_JOB_ERRORS,
        },
        examples=[_ex("Queued again", {**JOB_EXAMPLE, "state": "queued", "progress": 0.0, "started_at": None})],
    )
    @action(detail=True, methods=["post"], url_path="retry")
    def retry(self, request: Request, pk=None) -> Response:
        job = self.get_object()
        try:
            services.retry_job(job=job)
        except services.JobNotRetryable as exc:
            raise Conflict(exc.message, exc.code) from exc
        return Response(s.JobSerializer(self.get_object(), context=self.ctx()).data)


# --- batches and videos ---------------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="List batches", examples=[_ex("A page of batches", _page(BATCH_EXAMPLE))]),
    retrieve=extend_schema(
        summary="Get a batch with its job counts per state", examples=[_ex("A batch", BATCH_EXAMPLE)]
    ),
)
class BatchViewSet(OrgViewSet):
    serializer_class = s.BatchSerializer

    def get_queryset(self):
        return selectors.batches_for(self.organization)

    def list(self, request: Request) -> Response:
        return self.paged(self.get_queryset(), s.BatchSerializer)

    def retrieve(self, request: Request, pk=None) -> Response:
        return Response(s.BatchSerializer(selectors.get_batch(self.organization, pk), context=self.ctx()).data)

    @extend_schema(
        summary="Cancel every queued or running job of a batch",
        operation_id="batches_cancel",
        request=None,
        responses={200: s.BatchSerializer},
        examples=[
            _ex(
                "Canceled",
                {
                    **BATCH_EXAMPLE,
                    "counts": {**BATCH_EXAMPLE["counts"], "queued": 0, "running": 0, "canceled": 2},
                    "progress": 1.0,
                    "finished": True,
                },
            )
        ],
    )
    @action(detail=True, methods=["post"], url_path="cancel")
    def cancel(self, request: Request, pk=None) -> Response:
        services.cancel_batch(batch=selectors.get_batch(self.organization, pk))
        return Response(s.BatchSerializer(selectors.get_batch(self.organization, pk), context=self.ctx()).data)


@extend_schema_view(
    list=extend_schema(
        summary="List videos",
        description="Newest first; filter by `job`, `batch`, `product`, `market`.",
        parameters=[
            OpenApiParameter("job", int),
            OpenApiParameter("batch", int),
            OpenApiParameter("product", int),
            OpenApiParameter("market", str, enum=s.market_choices()),
        ],
        examples=[_ex("A page of videos", _page(VIDEO_EXAMPLE))],
    ),
    retrieve=extend_schema(
        summary="Get a video: metadata, QA figures, signed download URL",
        description="`download_url` is signed and expires after `download_expires_in` seconds: fetch the video "
        "again for a fresh one. A video below the QA thresholds is kept for review and is not delivered "
        "(`delivered: false`, no `download_url`).",
        examples=[_ex("A video", VIDEO_EXAMPLE)],
    ),
)
class VideoViewSet(OrgViewSet):
    serializer_class = s.VideoSerializer

    def get_queryset(self):
        return selectors.videos_for(self.organization)

    def list(self, request: Request) -> Response:
        filters = _filters(s.VideoFilterSerializer, request)
        qs = self.get_queryset()
        if "job" in filters:
            qs = qs.filter(job_id=filters["job"])
        if "batch" in filters:
            qs = qs.filter(job__batch_id=filters["batch"])
        if "product" in filters:
            qs = qs.filter(job__photo__product_id=filters["product"])
        if "market" in filters:
            qs = qs.filter(job__market__slug=filters["market"])
        return self.paged(qs, s.VideoSerializer)

    def retrieve(self, request: Request, pk=None) -> Response:
        return Response(s.VideoSerializer(selectors.get_video(self.organization, pk), context=self.ctx()).data)

    @extend_schema(
        summary="Approve a video",
        operation_id="videos_approve",
        description="A video that QA held back (`review: needs_review`, `delivered: false`) is delivered by "
        "approving it, so its job's credits are charged now, once. 402 `insufficient_credits` when they are not "
        "there; nothing changes then. Approving a delivered video charges nothing.",
        request=None,
        responses={
            200: s.VideoSerializer,
            402: _error(
                "Not enough credits",
                "insufficient_credits",
                "Not enough credits: this needs 5 credits and 2 are available.",
            ),
        },
        examples=[_ex("Approved", {**VIDEO_EXAMPLE, "review": "approved"})],
    )
    @action(detail=True, methods=["post"], url_path="approve")
    def approve(self, request: Request, pk=None) -> Response:
        review_services.approve_video(video=selectors.get_video(self.organization, pk))
        return Response(s.VideoSerializer(selectors.get_video(self.organization, pk), context=self.ctx()).data)

    @extend_schema(
        summary="Reject a video",
        operation_id="videos_reject",
        description="Marks the video rejected with the reason (kept as its review note); it is no longer delivered. "
        "Make a new take by submitting the variant again with another seed.",
        request=s.VideoRejectSerializer,
        responses={
            200: s.VideoSerializer,
            400: _error(
                "No reason",
                "validation_error",
                "reason: This field is required.",
                {"reason": ["This field is required."]},
            ),
        },
        examples=[
            _ex("A reason", {"reason": "The label is cut off"}, request=True, response=False),
            _ex("Rejected", {**VIDEO_EXAMPLE, "review": "rejected", "delivered": False, "download_url": None}),
        ],
    )
    @action(detail=True, methods=["post"], url_path="reject")
    def reject(self, request: Request, pk=None) -> Response:
        video = selectors.get_video(self.organization, pk)
        body = s.VideoRejectSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        review_services.reject_video(video=video, reason=body.validated_data["reason"])
        return Response(s.VideoSerializer(selectors.get_video(self.organization, pk), context=self.ctx()).data)
