"""Moved to shop_video.dashboard.views_import."""

from shop_video.dashboard.views_import import *  # noqa: F403
from shop_video.dashboard.views_import import ConfirmForm, ImportForm  # noqa: F401
