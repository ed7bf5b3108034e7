"""Moved to shop_video.dashboard.views_markets."""

from shop_video.dashboard.views_markets import *  # noqa: F403
from shop_video.dashboard.views_markets import LocalizationForm, LookForm, language_name  # noqa: F401
