"""/api/v1/imports — bulk catalogue import through the API: upload a CSV (our format, a Shopify or WooCommerce
export) and optionally a zip of images, read the row report, confirm into one batch."""

from __future__ import annotations

from django.http import StreamingHttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from generation.imports import selectors, services
from generation.imports.recheck import failed_image_rows
from generation.imports.validate import how_to_fix, report_csv_lines, report_entries
from generation.models import CatalogImport
from generation.pipeline.platforms import PLATFORMS

from ..exceptions import ApiError, Conflict
from ..idempotency import idempotent
from ..parsers import JSONParser
from ..serializers import (
    BatchSerializer,
    CaptionsRequestSerializer,
    ErrorSerializer,
    EstimateSerializer,
    StrictSerializer,
)
from .base import OrgViewSet

REPORT_PREVIEW = 200


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="The CSV: our columns, a Shopify or a WooCommerce product export.")
    images = serializers.FileField(required=False, help_text="A zip of images that rows name in image_file.")
    markets = serializers.CharField(required=False, allow_blank=True, help_text="Default markets, e.g. us|de.")
    scenes = serializers.CharField(required=False, allow_blank=True)
    aspect_ratios = serializers.CharField(required=False, allow_blank=True, help_text="e.g. 9:16|1:1")
    seconds = serializers.CharField(required=False, allow_blank=True, help_text="e.g. 5|10")
    resolution = serializers.CharField(required=False, allow_blank=True)
    engine = serializers.CharField(required=False, allow_blank=True)


class ImportConfirmSerializer(StrictSerializer):
    """The same platform and caption options as `POST /api/v1/jobs`, for every row of the import; the body of both
    confirm and estimate."""

    platform = serializers.ChoiceField(
        choices=sorted(PLATFORMS),
        required=False,
        allow_null=True,
        help_text="Make the videos for this platform: rows without formats get its aspect ratios; a row whose "
        "formats or lengths break its rules refuses the confirm (400 `platform_rule`, the rows in `error.issues`).",
    )
    captions = CaptionsRequestSerializer(
        required=False,
        help_text="Caption overlay (the product's localized title per market); off when left out. A price tag needs "
        "a price in the row or on the stored product (400 `caption_price_missing`).",
    )
    model_looks = serializers.ListField(
        child=serializers.CharField(max_length=60),
        required=False,
        max_length=50,
        help_text="Model look slugs for every row's videos. Only with the import's engine `dit`: the compositor draws "
        "no person, so looks with it refuse the estimate and the confirm (400 `look_needs_dit`, nothing reserved).",
    )
    output = serializers.ChoiceField(
        choices=["videos", "ads"],
        required=False,
        default="videos",
        help_text="`videos` (default): one video per photo and variant. `ads`: ONE ad per product (a Shopify "
        "handle, a WooCommerce product or a row of ours, with all its photos, at most 8) and market, planned like "
        "`POST /api/v1/jobs` with `format` `ad`; captions and looks are for videos only.",
    )
    ad_seconds = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=600,
        help_text="With `output` `ads`: the ads' length (default 15). A product whose market's platform does not "
        "take it gets a row issue (`ad_length_not_allowed`, fix `change_ad_options`) and no ad; the others go.",
    )
    ad_platform = serializers.ChoiceField(
        choices=sorted(PLATFORMS),
        required=False,
        allow_null=True,
        help_text="With `output` `ads`: the ads' platform; else `platform`, else each market's first platform "
        "for the format (the row's first `aspect_ratios`, else the platform's first, else 9:16).",
    )
    expected_credits = serializers.IntegerField(
        required=False,
        min_value=0,
        help_text="Confirm only (the estimate ignores it): the `credits` that `POST /api/v1/imports/{id}/estimate` "
        "gave for this body. When the price is no longer that (a market's platforms were edited since), nothing "
        "is made (409 `price_changed`).",
    )


def _video_options(form: ImportConfirmSerializer) -> services.VideoOptions:
    """The body's platform and captions as the service's options; a bad body is a 400 validation_error."""
    form.is_valid(raise_exception=True)
    captions = form.validated_data.get("captions") or {}
    return services.VideoOptions(
        platform=form.validated_data.get("platform") or "",
        captions=captions.get("enabled", False),
        caption_price=captions.get("price", False),
        caption_cta=captions.get("cta", False),
        looks=tuple(form.validated_data.get("model_looks") or ()),
        output=form.validated_data.get("output") or "videos",
        ad_seconds=form.validated_data.get("ad_seconds"),
        ad_platform=form.validated_data.get("ad_platform") or "",
    )


def _refused(exc: services.ImportNotConfirmable) -> ApiError:
    """The API error of a refused confirm or estimate: 402 credits, 409 state, else 400 with the rows."""
    if exc.code == "insufficient_credits":
        return ApiError(exc.message, exc.code, status_code=402)
    if exc.code in ("import_not_ready", "import_confirmed", "price_changed"):
        return Conflict(exc.message, exc.code)
    extra = {"issues": exc.issues} if exc.issues else None
    # The services call the looks option `looks`; this API calls it `model_looks`, as POST /api/v1/jobs does.
    fields = {("model_looks" if name == "looks" else name): messages for name, messages in exc.fields.items()}
    return ApiError(exc.message, exc.code, fields=fields, extra=extra)


class ImportRecheckSerializer(serializers.Serializer):
    images = serializers.FileField(
        required=False,
        help_text="A zip of replacement images for the failed rows, matched by file name: the row's image_file, or "
        "the last path segment of its image URL (`zip_name` in the issues); a folder inside the zip is fine.",
    )


class ReportIssueSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="The file's row (header = 1); 0 for the file as a whole.")
    column = serializers.CharField()
    code = serializers.CharField(help_text="Stable machine-readable code (docs/csv_import.md).")
    message = serializers.CharField()
    image = serializers.CharField(allow_null=True, help_text="The failing image URL or file, complete; else null.")
    fix = serializers.ChoiceField(
        choices=["upload_image_zip", "edit_file", "check_again", "change_ad_options"],
        help_text="`upload_image_zip`: send the image as `zip_name` in a zip to `POST /api/v1/imports/{id}/recheck`; "
        "`edit_file`: correct the file and upload it again; `check_again`: `POST .../recheck` without a zip; "
        "`change_ad_options`: confirm with an ad length and platform the product's markets take.",
    )
    zip_name = serializers.CharField(allow_null=True, help_text="The file name the fix zip must use.")


class PlannedAdSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="The product's first row in the file.")
    sku = serializers.CharField()
    market = serializers.CharField()
    platform = serializers.CharField()
    aspect_ratio = serializers.CharField()
    seconds = serializers.FloatField(help_text="The storyboard's length.")
    photos = serializers.IntegerField(help_text="The product's photos the ad uses.")
    credits = serializers.IntegerField()


class SkippedAdSerializer(serializers.Serializer):
    row = serializers.IntegerField()
    column = serializers.CharField(help_text="The column or option to change (`ad_seconds`, `ad_platform`, …).")
    code = serializers.CharField(help_text="The rule's stable code (`ad_length_not_allowed`, `aspect_not_allowed`).")
    message = serializers.CharField()
    fix = serializers.CharField(help_text="`edit_file` (the row's aspect_ratios) or `change_ad_options`.")
    how_to_fix = serializers.CharField()


class ImportEstimateSerializer(EstimateSerializer):
    ads = PlannedAdSerializer(
        many=True, required=False, help_text="With `output` `ads`: every ad confirming makes (`videos` counts them)."
    )
    skipped = SkippedAdSerializer(
        many=True,
        required=False,
        help_text="With `output` `ads`: the products that get no ad, and why; nothing is reserved for them.",
    )


class ImportSerializer(serializers.ModelSerializer):
    # Blank until the header has been read (an empty or unreadable file has no format): documented as such.
    format = serializers.ChoiceField(choices=CatalogImport.Format.choices, allow_blank=True, read_only=True)
    issues = serializers.SerializerMethodField(help_text=f"The first {REPORT_PREVIEW} issues of the row report.")
    rows_to_recheck = serializers.SerializerMethodField(
        help_text="How many rows failed only because of their images (`POST /api/v1/imports/{id}/recheck` takes "
        "them); null in the list (read one import for it)."
    )
    estimate = serializers.SerializerMethodField(
        help_text="Credits and videos of the valid rows with no platform and no captions (null unless `ready`, or "
        "when the rows cannot be confirmed as they stand). `POST /api/v1/imports/{id}/estimate` prices the "
        "options you will confirm with."
    )

    class Meta:
        model = CatalogImport
        fields = [
            "id",
            "original_name",
            "format",
            "status",
            "options",
            "lines_total",
            "rows_total",
            "rows_valid",
            "rows_invalid",
            "batch",
            "issues",
            "rows_to_recheck",
            "estimate",
            "created_at",
            "confirmed_at",
        ]
        read_only_fields = fields

    @extend_schema_field(ReportIssueSerializer(many=True))
    def get_issues(self, obj: CatalogImport) -> list[dict]:
        out = []
        for entry in report_entries(obj):
            out.append(entry.as_dict())
            if len(out) >= REPORT_PREVIEW:
                break
        return out

    def get_rows_to_recheck(self, obj: CatalogImport) -> int | None:
        if not self.context.get("detail"):
            return None  # reads every invalid row's issues: one import at a time, not a page of them
        if obj.status not in (CatalogImport.Status.READY, CatalogImport.Status.FAILED):
            return 0
        return len(failed_image_rows(obj))

    def get_estimate(self, obj: CatalogImport) -> dict | None:
        if obj.status != CatalogImport.Status.READY:
            return None
        est = services.estimate_import(obj)
        return {"credits": est.credits, "videos": est.videos} if est.confirmable else None


EXAMPLE = {
    "id": 7,
    "original_name": "catalogue.csv",
    "format": "shopvideo",
    "status": "ready",
    "options": {"markets": ["us"], "scenes": [], "aspect_ratios": [], "seconds": [5], "resolution": "480p"},
    "lines_total": 3,
    "rows_total": 3,
    "rows_valid": 2,
    "rows_invalid": 1,
    "batch": None,
    "issues": [
        {
            "row": 3,
            "column": "image_url",
            "code": "host_not_found",
            "message": "The image host could not be found.",
            "image": "https://old-cdn.shop.example/img/tote-red.jpg",
            "fix": "upload_image_zip",
            "zip_name": "tote-red.jpg",
        }
    ],
    "rows_to_recheck": 1,
    "estimate": {"credits": 40, "videos": 8},
    "created_at": "2026-01-05T10:00:00Z",
    "confirmed_at": None,
}


def _refuse_failed_upload(imp: CatalogImport) -> None:
    """A file that failed as a whole (unreadable or binary CSV, zip bomb, no usable row) is a 400 with the first
    issue's stable code and the report's first issues; nothing of it is kept (the same file is refused again)."""
    issues = []
    for entry in report_entries(imp):
        issues.append(entry.as_dict())
        if len(issues) >= REPORT_PREVIEW:
            break
    code = issues[0]["code"] if issues else "import_failed"
    message = issues[0]["message"] if issues else _("The file could not be imported.")
    services.discard_import(catalog_import=imp)
    raise ApiError(message, code, fields={"file": [message]}, extra={"issues": issues})


class ImportViewSet(OrgViewSet):
    serializer_class = ImportSerializer
    parser_classes = [MultiPartParser]

    def get_parsers(self):
        # Called before DRF sets self.action. Confirm and estimate take their options as JSON (an empty multipart
        # body, as before the options existed, still confirms with none); the upload is multipart.
        action = getattr(self, "action", None)
        request = getattr(self, "request", None)
        if action is None and request is not None and getattr(self, "action_map", None):
            action = self.action_map.get(request.method.lower())
        return [JSONParser(), MultiPartParser()] if action in ("confirm", "estimate") else [MultiPartParser()]

    def get_queryset(self):
        return selectors.imports_for(self.organization)

    def get_object(self) -> CatalogImport:
        return selectors.get_import(self.organization, self.kwargs["pk"])

    @extend_schema(summary="List catalogue imports", responses={200: ImportSerializer(many=True)})
    def list(self, request: Request) -> Response:
        return self.paged(self.get_queryset(), ImportSerializer)

    @extend_schema(
        summary="Upload a catalogue CSV",
        description="Validates every row at once (row, column, code, message) and checks images in a worker; "
        "`status` turns from `fetching` to `ready` (or `failed`). The same file uploaded again answers the "
        "existing import (200) and creates nothing. A file that fails as a whole (not a CSV, a zip bomb, no "
        "usable row) is a 400 whose `error.code` is the first issue's code and `error.issues` the report; "
        "nothing of it is kept.",
        request={"multipart/form-data": ImportUploadSerializer},
        responses={201: ImportSerializer, 200: ImportSerializer, 400: ErrorSerializer},
        examples=[OpenApiExample("Staged", value=EXAMPLE, response_only=True)],
    )
    @idempotent
    def create(self, request: Request) -> Response:
        form = ImportUploadSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        options = {
            k: data[k] for k in ("markets", "scenes", "aspect_ratios", "seconds", "resolution", "engine") if k in data
        }
        before = selectors.imports_for(self.organization).count()
        try:
            imp = services.stage_import(
                organization=self.organization,
                csv_upload=data["file"],
                filename=data["file"].name,
                zip_upload=data.get("images"),
                options=options,
            )
        except services.ImportInvalid as exc:
            raise ApiError(exc.message, exc.code, fields=exc.fields) from exc
        if imp.status == CatalogImport.Status.FAILED:
            _refuse_failed_upload(imp)
        created = selectors.imports_for(self.organization).count() > before
        return Response(ImportSerializer(imp).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(summary="Retrieve an import with its report preview and price", responses={200: ImportSerializer})
    def retrieve(self, request: Request, pk=None) -> Response:
        return Response(ImportSerializer(self.get_object(), context={"detail": True}).data)

    @extend_schema(
        summary="Download the full row report as CSV",
        description="Columns row, column, code, message; cells are escaped against formula injection.",
        responses={(200, "text/csv"): str},
    )
    @action(detail=True, methods=["get"], url_path="report")
    def report(self, request: Request, pk=None):
        imp = self.get_object()
        response = StreamingHttpResponse(report_csv_lines(report_entries(imp)), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="import-{imp.pk}-report.csv"'
        return response

    @extend_schema(
        summary="Confirm: the valid rows become one batch",
        description="Upserts products by SKU and photos by checksum, then submits one batch. Optional body: the "
        "`platform` and `captions` of `POST /api/v1/jobs`, checked by the same rules for every row; a refusal "
        "names the rows in `error.issues` (row, column, code, message) and creates nothing. Confirming again "
        "answers the same batch, at the price `POST /api/v1/imports/{id}/estimate` gives for the same body. "
        "409 `import_not_ready` while images are checked; 402 `insufficient_credits`.",
        request={"application/json": ImportConfirmSerializer},
        responses={
            201: BatchSerializer,
            400: OpenApiResponse(
                ErrorSerializer,
                description="Rows break the chosen options (`platform_rule`, `caption_price_missing`, "
                "`caption_options`), or bad input.",
                examples=[
                    OpenApiExample(
                        "A row breaks the platform's rule",
                        value={
                            "error": {
                                "code": "platform_rule",
                                "message": "Not confirmed: 1 row breaks the chosen options. Row 3: TikTok takes "
                                "9:16, not 16:9 (rule aspect_ratio).",
                                "fields": {
                                    "aspect_ratios": ["Row 3: TikTok takes 9:16, not 16:9 (rule aspect_ratio)."]
                                },
                                "issues": [
                                    {
                                        "row": 3,
                                        "column": "aspect_ratios",
                                        "code": "platform_rule",
                                        "message": "TikTok takes 9:16, not 16:9 (rule aspect_ratio).",
                                    }
                                ],
                            }
                        },
                    )
                ],
            ),
            402: OpenApiResponse(ErrorSerializer, description="`insufficient_credits`: nothing was made."),
            409: OpenApiResponse(
                ErrorSerializer,
                description="`import_not_ready` while images are checked; `price_changed` when the batch would "
                "differ from the estimate (nothing was made: estimate again).",
            ),
        },
        examples=[
            OpenApiExample(
                "For TikTok with captions and a price tag",
                value={"platform": "tiktok", "captions": {"enabled": True, "price": True, "cta": False}},
                request_only=True,
            )
        ],
    )
    @action(detail=True, methods=["post"], url_path="confirm")
    def confirm(self, request: Request, pk=None) -> Response:
        imp = self.get_object()
        form = ImportConfirmSerializer(data=request.data)
        options = _video_options(form)
        try:
            batch = services.confirm_import(
                catalog_import=imp, video_options=options, expected_credits=form.validated_data.get("expected_credits")
            )
        except services.ImportNotConfirmable as exc:
            raise _refused(exc) from exc
        return Response(BatchSerializer(batch).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Price a confirm without making anything",
        operation_id="imports_estimate",
        description="The same body as `POST /api/v1/imports/{id}/confirm`; answers how many videos confirming "
        "with it would make and what they would cost, through the very expansion confirm uses (a platform gives "
        "rows that name no formats its own, which can change the count). Options that confirm would refuse are "
        "the same 400 here, with the same `error.code` and rows in `error.issues`. Nothing is stored or reserved. "
        "409 `import_not_ready` while images are checked, `import_confirmed` once confirmed.",
        request={"application/json": ImportConfirmSerializer},
        responses={
            200: ImportEstimateSerializer,
            400: OpenApiResponse(
                ErrorSerializer,
                description="Rows break the chosen options (`platform_rule`, `caption_price_missing`, "
                "`caption_options`, `invalid_matrix`), or bad input (`validation_error`).",
                examples=[
                    OpenApiExample(
                        "A row breaks the platform's rule",
                        value={
                            "error": {
                                "code": "platform_rule",
                                "message": "Cannot be confirmed with these options: 1 row breaks them. Row 3: "
                                "TikTok takes 9:16, not 16:9 (rule aspect_ratio).",
                                "fields": {
                                    "aspect_ratios": ["Row 3: TikTok takes 9:16, not 16:9 (rule aspect_ratio)."]
                                },
                                "issues": [
                                    {
                                        "row": 3,
                                        "column": "aspect_ratios",
                                        "code": "platform_rule",
                                        "message": "TikTok takes 9:16, not 16:9 (rule aspect_ratio).",
                                    }
                                ],
                            }
                        },
                    )
                ],
            ),
            404: OpenApiResponse(ErrorSerializer, description="No such import in your organization."),
            409: OpenApiResponse(ErrorSerializer, description="`import_not_ready` or `import_confirmed`."),
        },
        examples=[
            OpenApiExample(
                "For TikTok with captions and a price tag",
                value={"platform": "tiktok", "captions": {"enabled": True, "price": True, "cta": False}},
                request_only=True,
            ),
            OpenApiExample("The price", value={"credits": 40, "videos": 8, "seconds": 40.0}, response_only=True),
            OpenApiExample(
                "One ad per product and market",
                value={"output": "ads", "ad_seconds": 15, "ad_platform": "tiktok"},
                request_only=True,
            ),
            OpenApiExample(
                "The price of the ads",
                value={
                    "credits": 30,
                    "videos": 1,
                    "seconds": 15.0,
                    "ads": [
                        {
                            "row": 2,
                            "sku": "TOTE-1",
                            "market": "us",
                            "platform": "tiktok",
                            "aspect_ratio": "9:16",
                            "seconds": 15.0,
                            "photos": 3,
                            "credits": 30,
                        }
                    ],
                    "skipped": [
                        {
                            "row": 5,
                            "column": "aspect_ratios",
                            "code": "aspect_not_allowed",
                            "message": "TikTok ads are 9:16, not 16:9.",
                            "fix": "edit_file",
                            "how_to_fix": "Correct the file and upload it again.",
                        }
                    ],
                },
                response_only=True,
            ),
        ],
    )
    @action(detail=True, methods=["post"], url_path="estimate")
    def estimate(self, request: Request, pk=None) -> Response:
        imp = self.get_object()
        options = _video_options(ImportConfirmSerializer(data=request.data))
        try:
            estimate = services.estimate_import(imp, options)
        except services.ImportNotConfirmable as exc:
            raise _refused(exc) from exc
        if not estimate.confirmable:
            raise _refused(services.refusal(list(estimate.issues), estimating=True))
        body = {"credits": estimate.credits, "videos": estimate.videos, "seconds": float(estimate.seconds)}
        if options.output == "ads":
            body["ads"] = list(estimate.ads)
            body["skipped"] = [{**issue, "how_to_fix": how_to_fix(issue)} for issue in estimate.skipped]
        return Response(body)

    @extend_schema(
        summary="Re-check the rows whose images failed, optionally with a zip of their images",
        operation_id="imports_recheck",
        description="Only the rows that failed because of their images go back to the image check (`status` turns "
        "`fetching`, then `ready` or `failed`); the rows that passed keep their checked photos and are not "
        "fetched again. The optional `images` zip is looked up first, by file name (`zip_name` of each issue: "
        "the row's image_file, or the last path segment of its image URL); an image it lacks is fetched again. "
        "409 `nothing_to_recheck`, `import_not_ready` while checking, `import_confirmed`; 400 for an unusable "
        "zip (`zip_unreadable`, `zip_too_large`, `zip_too_many_files`).",
        request={"multipart/form-data": ImportRecheckSerializer},
        responses={
            202: ImportSerializer,
            400: OpenApiResponse(ErrorSerializer, description="The zip cannot be used; nothing changed."),
            404: OpenApiResponse(ErrorSerializer, description="No such import in your organization."),
            409: OpenApiResponse(
                ErrorSerializer, description="`nothing_to_recheck`, `import_not_ready` or `import_confirmed`."
            ),
        },
    )
    @action(detail=True, methods=["post"], url_path="recheck")
    def recheck(self, request: Request, pk=None) -> Response:
        imp = self.get_object()
        form = ImportRecheckSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            services.recheck_failed_rows(catalog_import=imp, zip_upload=form.validated_data.get("images"))
        except services.ImportInvalid as exc:
            raise ApiError(exc.message, exc.code, fields=exc.fields) from exc
        except services.ImportNotConfirmable as exc:
            raise Conflict(exc.message, exc.code) from exc
        imp.refresh_from_db()
        return Response(ImportSerializer(imp, context={"detail": True}).data, status=status.HTTP_202_ACCEPTED)
