"""Moved to shop_video.api.views.imports."""

from shop_video.api.views.imports import *  # noqa: F403
from shop_video.api.views.imports import ImportUploadSerializer, ImportViewSet  # noqa: F401
