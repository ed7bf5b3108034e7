"""/api/v1/jobs: one product × a matrix of variants in one batch; estimate, cancel, retry."""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, PolymorphicProxySerializer, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from generation import rules, selectors, services
from generation.list_filters import filter_jobs
from generation.models import Job
from generation.pipeline.errors import BadInputError
from generation.services import ads

from .. import ad_serializers
from .. import serializers as s
from ..exceptions import ApiError, Conflict
from ..idempotency import idempotent
from ..schema import IDEMPOTENCY_KEY
from ..schema_examples import (
    AD_ESTIMATE_EXAMPLE,
    AD_REQUEST_EXAMPLE,
    BATCH_EXAMPLE,
    EXAMPLE_TIME,
    JOB_DONE_EXAMPLE,
    JOB_EXAMPLE,
    JOB_REQUEST_EXAMPLE,
    error_response,
    example,
    page_of,
)
from .base import OrgViewSet, query_filters


def _jobs_query(organization):
    return selectors.jobs_for(organization).select_related("video")


def _product_and_photos(organization, v: dict):
    """(product, photos) a job request names: its product (or the product of its photos) and those photos, in the
    order given, or all the product's photos; 400 with field messages for anything wrong."""
    wanted = v.get("photos") or []
    product_id = v.get("product")
    if product_id is None:  # the photos name it
        first = selectors.photos_for(organization).filter(pk__in=wanted).first() if wanted else None
        if first is None:
            message = _("Name the product or its photos.")
            raise ApiError(message, "product_not_found", fields={"product": [message]})
        product_id = first.product_id
    product = selectors.products_for(organization).filter(pk=product_id).first()
    if product is None:
        raise ApiError(_("Product not found."), "product_not_found", fields={"product": [_("Product not found.")]})
    photos = list(selectors.photos_for(organization, product=product))
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
    if not photos:
        raise ApiError(
            _("The product has no photos."), "no_photos", fields={"product": [_("The product has no photos.")]}
        )
    return product, photos


def _matrix_request(organization, request: Request):
    """(photos, matrix, name) from a job request body; 400 with field messages for anything wrong."""
    data = s.JobRequestSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    v = data.validated_data
    product, photos = _product_and_photos(organization, v)
    captions = v.get("captions") or {}
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


def _is_ad(request: Request) -> bool:
    return hasattr(request.data, "get") and request.data.get("format") == "ad"


def _ad_request(organization, request: Request):
    """(photos, options, name) from an ad job's body: the product's photos (the named ones, in that order)."""
    data = ad_serializers.AdJobRequestSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    v = data.validated_data
    product, photos = _product_and_photos(organization, v)
    options = ads.AdOptions(
        market=v["market"],
        seconds=v["seconds"],
        platform=v.get("platform"),
        aspect_ratio=v["aspect_ratio"],
        resolution=v["resolution"],
        engine=v["engine"],
        audio=v.get("audio"),
        scene=v.get("scene"),
        seed=v.get("seed"),
        storyboard=v.get("storyboard"),
    )
    return photos[: ads.MAX_AD_PHOTOS], options, v.get("name") or product.title


_JOB_REQUEST = PolymorphicProxySerializer(
    component_name="JobCreateRequest",
    serializers=[s.JobRequestSerializer, ad_serializers.AdJobRequestSerializer],
    resource_type_field_name=None,
)


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
    400: error_response(
        "Bad input: `validation_error`, `invalid_matrix`, `platform_rule`, `caption_options`, or `look_needs_dit` "
        "(model looks asked of the compositor, which draws no person; nothing is reserved). Ads: "
        "`ad_length_not_allowed`, `aspect_not_allowed`, `audio_not_found`, `storyboard_invalid`.",
        "look_needs_dit",
        _LOOK_NEEDS_DIT,
        {"model_looks": [_LOOK_NEEDS_DIT]},
    ),
    402: error_response(
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
        examples=[example("A page of jobs", page_of(JOB_EXAMPLE))],
    ),
    retrieve=extend_schema(
        summary="Get a job (poll this)",
        description="State (`queued`, `running`, `succeeded`, `failed`, `canceled`), progress 0..1, the error "
        "when it failed, and once it has a video the video with a short-lived signed `download_url`.",
        examples=[example("Running", JOB_EXAMPLE), example("Succeeded", JOB_DONE_EXAMPLE)],
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
            raise Http404
        return job

    def list(self, request: Request) -> Response:
        filters = query_filters(s.JobFilterSerializer, request)
        return self.paged(filter_jobs(self.get_queryset(), **filters), s.JobSerializer)

    def retrieve(self, request: Request, pk=None) -> Response:
        return Response(s.JobSerializer(self.get_object(), context=self.ctx()).data)

    @extend_schema(
        summary="Create jobs: one product × a matrix of variants",
        description=(
            "One job per photo × market × scene × model look × aspect ratio × duration, all in one batch. Empty "
            "lists mean the market's defaults (its default scene, its platforms' aspect ratios, no human model); "
            "all of the product's photos unless `photos` names some. Credits are reserved at once (402 "
            "`insufficient_credits` when they do not suffice; nothing is created then).\n\n"
            '`"format": "ad"` makes one ad instead: several shots of the product (hero, other angles, a '
            "close-up, another scene) and an end card with its title, price and call to action, `seconds` long (6, "
            "10, 15, 30 or 60 as the `platform` takes them), with optional music (`audio`). Its storyboard is "
            "planned now, shown in the job, and rendered exactly as shown; it is priced per second like a video."
        ),
        parameters=[IDEMPOTENCY_KEY],
        request=_JOB_REQUEST,
        responses={201: s.JobSubmissionSerializer, **_JOB_ERRORS},
        examples=[
            example("Two markets, two formats, two lengths", JOB_REQUEST_EXAMPLE, request=True, response=False),
            example("A 15 s ad with music", AD_REQUEST_EXAMPLE, request=True, response=False),
            example(
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
        if _is_ad(request):
            photos, options, name = _ad_request(org, request)
            job = ads.submit_ad(organization=org, photos=photos, options=options, source="api", name=name)
            body = {
                "batch": s.BatchSerializer(selectors.get_batch(org, job.batch_id), context=self.ctx()).data,
                "jobs": s.JobSerializer(_jobs_query(org).filter(pk=job.pk), many=True, context=self.ctx()).data,
            }
            return Response(body, status=status.HTTP_201_CREATED)
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
        "would cost in credits. For an ad, also its `storyboard`: send it back (shots removed or reordered, a "
        "shot's `scene` changed) in `storyboard` to price the edit, and with `POST /api/v1/jobs` to make it.",
        request=_JOB_REQUEST,
        responses={
            200: PolymorphicProxySerializer(
                component_name="JobEstimate",
                serializers=[s.EstimateSerializer, ad_serializers.AdEstimateSerializer],
                resource_type_field_name=None,
            ),
            400: _JOB_ERRORS[400],
        },
        examples=[
            example("A job request", JOB_REQUEST_EXAMPLE, request=True, response=False),
            example("An ad", AD_REQUEST_EXAMPLE, request=True, response=False),
            example("The price", {"credits": 60, "videos": 8, "seconds": 60.0}),
            example("An ad's price and storyboard", AD_ESTIMATE_EXAMPLE),
        ],
    )
    @action(detail=False, methods=["post"], url_path="estimate")
    def estimate(self, request: Request) -> Response:
        if _is_ad(request):
            photos, options, _name = _ad_request(self.organization, request)
            plan = ads.estimate_ad(organization=self.organization, photos=photos, options=options)
            body = {"credits": plan.credits, "videos": 1, "seconds": plan.seconds}
            return Response({**body, "storyboard": rules.public_storyboard(plan.storyboard)})
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
        examples=[
            example("Canceled", {**JOB_EXAMPLE, "state": "canceled", "stage": "canceled", "finished_at": EXAMPLE_TIME})
        ],
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
            409: error_response(
                "Not failed or canceled", "not_retryable", "Only a failed or canceled job can be retried."
            ),
            **_JOB_ERRORS,
        },
        examples=[example("Queued again", {**JOB_EXAMPLE, "state": "queued", "progress": 0.0, "started_at": None})],
    )
    @action(detail=True, methods=["post"], url_path="retry")
    def retry(self, request: Request, pk=None) -> Response:
        job = self.get_object()
        try:
            services.retry_job(job=job)
        except services.JobNotRetryable as exc:
            raise Conflict(exc.message, exc.code) from exc
        return Response(s.JobSerializer(self.get_object(), context=self.ctx()).data)
