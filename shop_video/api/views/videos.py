"""/api/v1/videos: metadata, QA figures, signed downloads; approving or rejecting a video held for review."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from generation import selectors
from generation.list_filters import filter_videos
from generation.services import review as review_services

from .. import serializers as s
from ..schema_examples import VIDEO_EXAMPLE, error_response, example, page_of
from .base import OrgViewSet, query_filters


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
        examples=[example("A page of videos", page_of(VIDEO_EXAMPLE))],
    ),
    retrieve=extend_schema(
        summary="Get a video: metadata, QA figures, signed download URL",
        description="`download_url` is signed and expires after `download_expires_in` seconds: fetch the video "
        "again for a fresh one. A video below the QA thresholds is kept for review and is not delivered "
        "(`delivered: false`, no `download_url`).",
        examples=[example("A video", VIDEO_EXAMPLE)],
    ),
)
class VideoViewSet(OrgViewSet):
    serializer_class = s.VideoSerializer

    def get_queryset(self):
        return selectors.videos_for(self.organization)

    def list(self, request: Request) -> Response:
        filters = query_filters(s.VideoFilterSerializer, request)
        return self.paged(filter_videos(self.get_queryset(), **filters), s.VideoSerializer)

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
            402: error_response(
                "Not enough credits",
                "insufficient_credits",
                "Not enough credits: this needs 5 credits and 2 are available.",
            ),
        },
        examples=[example("Approved", {**VIDEO_EXAMPLE, "review": "approved"})],
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
            400: error_response(
                "No reason",
                "validation_error",
                "reason: This field is required.",
                {"reason": ["This field is required."]},
            ),
        },
        examples=[
            example("A reason", {"reason": "The label is cut off"}, request=True, response=False),
            example("Rejected", {**VIDEO_EXAMPLE, "review": "rejected", "delivered": False, "download_url": None}),
        ],
    )
    @action(detail=True, methods=["post"], url_path="reject")
    def reject(self, request: Request, pk=None) -> Response:
        video = selectors.get_video(self.organization, pk)
        body = s.VideoRejectSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        review_services.reject_video(video=video, reason=body.validated_data["reason"])
        return Response(s.VideoSerializer(selectors.get_video(self.organization, pk), context=self.ctx()).data)
