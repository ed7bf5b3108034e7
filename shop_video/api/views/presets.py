"""/api/v1/markets and /api/v1/scenes: read-only presets addressed by slug."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.request import Request
from rest_framework.response import Response

from generation import selectors

from .. import serializers as s
from ..pagination import SlugCursorPagination
from ..schema_examples import MARKET_EXAMPLE, SCENE_EXAMPLE, example, page_of
from .base import SLUG_REGEX, OrgViewSet


@extend_schema_view(
    list=extend_schema(
        summary="List markets",
        description="Market presets (read-only): locale, currency, platforms and their default aspect ratios, "
        "scenes (the first is the default) and model looks, built-in and your organization's own.",
        examples=[example("Markets", page_of(MARKET_EXAMPLE))],
    ),
    retrieve=extend_schema(summary="Get a market", examples=[example("A market", MARKET_EXAMPLE)]),
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
    list=extend_schema(summary="List scenes", examples=[example("Scenes", page_of(SCENE_EXAMPLE))]),
    retrieve=extend_schema(summary="Get a scene", examples=[example("A scene", SCENE_EXAMPLE)]),
)
class SceneViewSet(PresetViewSet):
    serializer_class = s.SceneSerializer

    def get_queryset(self):
        return selectors.all_scenes()
