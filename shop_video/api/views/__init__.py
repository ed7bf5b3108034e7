"""/api/v1/ viewsets, one module per resource. Thin: every read goes through generation.selectors with the key's
organization (another organization's id is a 404, exactly like an id that does not exist), every write through
the services."""

from .audio import AudioTrackViewSet
from .base import OrgViewSet
from .batches import BatchViewSet
from .imports import ImportViewSet
from .jobs import JobViewSet
from .photos import PhotoViewSet
from .presets import MarketViewSet, PresetViewSet, SceneViewSet
from .products import ProductViewSet
from .videos import VideoViewSet
from .webhooks import (
    DeliveryDetailView,
    DeliveryListView,
    DeliveryReplayView,
    EndpointDetailView,
    EndpointListView,
    EndpointRotateSecretView,
)

__all__ = [
    "AudioTrackViewSet",
    "BatchViewSet",
    "DeliveryDetailView",
    "DeliveryListView",
    "DeliveryReplayView",
    "EndpointDetailView",
    "EndpointListView",
    "EndpointRotateSecretView",
    "ImportViewSet",
    "JobViewSet",
    "MarketViewSet",
    "OrgViewSet",
    "PhotoViewSet",
    "PresetViewSet",
    "ProductViewSet",
    "SceneViewSet",
    "VideoViewSet",
]
