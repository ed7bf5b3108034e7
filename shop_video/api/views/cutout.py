"""POST /api/v1/photos/{id}/cutout: the product cut out of a stored photo from a rough box and optional keep /
remove strokes (generation.photo_cutouts). Mixed into the photos viewset; thin: the service does the work."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from generation import photo_cutouts
from generation.pipeline import cutout

from .. import serializers as s
from ..exceptions import ApiError
from ..idempotency import idempotent
from ..parsers import JSONParser
from ..schema import IDEMPOTENCY_KEY

MAX_STROKES = 200


def _strokes(help_text: str) -> serializers.ListField:
    """Lists of [x, y] points (fresh fields per use: DRF binds a field to one parent)."""
    point = serializers.ListField(child=serializers.FloatField(), min_length=2, max_length=2)
    stroke = serializers.ListField(child=point, min_length=1)
    return serializers.ListField(
        child=stroke, required=False, default=list, max_length=MAX_STROKES, help_text=help_text
    )


class CutoutRequestSerializer(s.StrictSerializer):
    box = serializers.ListField(
        child=serializers.FloatField(),
        min_length=4,
        max_length=4,
        help_text="[x0, y0, x1, y1]: a rough box around the product, in photo pixels after EXIF rotation (the "
        "photo's `width` × `height`); x1 and y1 exclusive. A few percent of margin is fine.",
    )
    keep = _strokes("Strokes over parts of the product the box's cut missed: lists of [x, y] points.")
    remove = _strokes("Strokes over background the box's cut kept: lists of [x, y] points.")


_REQUEST_EXAMPLE = {"box": [212, 96, 988, 1410], "keep": [[[600, 300], [640, 320]]], "remove": []}
_BAD_BOX = "The box lies outside the photo."


class PhotoCutoutMixin:
    """The `cutout` action of the photos viewset."""

    @extend_schema(
        summary="Cut the product out with a box",
        operation_id="photos_cutout",
        description="Cuts the product out of the photo from a rough box around it and optional keep / remove "
        "strokes (a graph cut on the photo's colours, refined along its edges), and stores the result as the "
        "photo's mask (under a new `mask_url`), with `cutout_method` `guided` and its `cutout_confidence`. This "
        "is the check a photo with `cutout_needs_review` waits for: it clears the mark, unless the cut is itself "
        "unsure of the result (confidence below its threshold); then jobs of the photo are still held for "
        "review. The photo's transparency, if any, is not used: the box decides. 400 `cutout_box_invalid` or "
        "`cutout_strokes_invalid` for a box or strokes that cannot be used, `empty_mask` or `mask_covers_photo` "
        "when the cut found no product or no background (draw the box closer, add strokes); nothing changes then.",
        parameters=[IDEMPOTENCY_KEY],
        request=CutoutRequestSerializer,
        responses={
            200: s.PhotoSerializer,
            400: OpenApiResponse(
                s.ErrorSerializer,
                description="A box or strokes that cannot be used, or a cut that found no product.",
                examples=[
                    OpenApiExample(
                        "cutout_box_invalid",
                        value={"error": {"code": "cutout_box_invalid", "message": _BAD_BOX, "fields": {}}},
                    )
                ],
            ),
        },
        examples=[
            OpenApiExample("A box and one keep stroke", value=_REQUEST_EXAMPLE, request_only=True),
            OpenApiExample(
                "The photo with its new mask",
                value={
                    "id": 311,
                    "product": 42,
                    "original_name": "sneakers-on-planks.jpg",
                    "width": 1200,
                    "height": 1600,
                    "checksum": "9f2c…",
                    "mask_source": "guided",
                    "cutout_method": "guided",
                    "cutout_confidence": 0.93,
                    "cutout_needs_review": False,
                    "file_url": "https://shop.example/files/signed/eyJrIjoicCJ9:1tQ…",
                    "mask_url": "https://shop.example/files/signed/eyJrIjoicCJ9:1tS…",
                    "created_at": "2026-03-02T10:15:00Z",
                },
                response_only=True,
            ),
        ],
    )
    @action(detail=True, methods=["post"], url_path="cutout", parser_classes=[JSONParser])
    @idempotent
    def cutout(self, request: Request, pk=None) -> Response:
        photo = self.get_object()
        form = CutoutRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        v = form.validated_data
        try:
            photo_cutouts.cut_out_with_box(photo=photo, box=v["box"], keep=v["keep"], remove=v["remove"])
        except cutout.CutoutError as exc:
            field = (
                "box" if exc.code == "cutout_box_invalid" else "keep" if exc.code == "cutout_strokes_invalid" else None
            )
            raise ApiError(exc.message, exc.code, fields={field: [exc.message]} if field else None) from exc
        return Response(s.PhotoSerializer(self.get_object(), context=self.ctx()).data)
