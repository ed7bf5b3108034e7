"""/api/v1/photos: a product's photos and their masks (the cutout from a box lives in .cutout)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from generation import selectors, services

from .. import serializers as s
from ..exceptions import ApiError
from ..idempotency import idempotent
from ..parsers import MultiPartParser
from ..schema import IDEMPOTENCY_KEY
from ..schema_examples import MULTIPART, PHOTO_EXAMPLE, example, page_of
from .base import OrgViewSet, query_filters
from .cutout import PhotoCutoutMixin


def _photo_rejected(exc: services.PhotoRejected, field: str):
    raise ApiError(exc.message, exc.code, fields={field: [exc.message]}) from exc


@extend_schema_view(
    list=extend_schema(
        summary="List photos",
        description="Newest first; filter by `product`. `file_url` and `mask_url` are signed and expire.",
        parameters=[OpenApiParameter("product", int, description="Product id")],
        examples=[example("A page of photos", page_of(PHOTO_EXAMPLE))],
    ),
    retrieve=extend_schema(
        summary="Get a photo with its mask",
        description="`mask_url` is the cutout mask the videos use (PNG, white = product); replace it with "
        "`POST /api/v1/photos/{id}/mask`.",
        examples=[example("A photo", PHOTO_EXAMPLE)],
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
        filters = query_filters(s.PhotoFilterSerializer, request)
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
            example(
                "multipart fields",
                {"product": 42, "file": "(the photo file)"},
                request=True,
                response=False,
                media_type=MULTIPART,
            ),
            example("Created", PHOTO_EXAMPLE, status_codes=["201"]),
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
            example(
                "multipart fields", {"mask": "(the mask file, PNG)"}, request=True, response=False, media_type=MULTIPART
            ),
            example("The photo with its new mask", {**PHOTO_EXAMPLE, "mask_source": "supplied"}),
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
