"""/api/v1/batches: the jobs of one submission, their counts per state; cancel all of them."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from generation import selectors, services

from .. import serializers as s
from ..schema_examples import BATCH_EXAMPLE, example, page_of
from .base import OrgViewSet


@extend_schema_view(
    list=extend_schema(summary="List batches", examples=[example("A page of batches", page_of(BATCH_EXAMPLE))]),
    retrieve=extend_schema(
        summary="Get a batch with its job counts per state", examples=[example("A batch", BATCH_EXAMPLE)]
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
            example(
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
