"""Moved to shop_video.dashboard.views_files."""

from shop_video.dashboard.views_files import *  # noqa: F403
from shop_video.dashboard.views_files import (  # noqa: F401
    SAFE_CONTENT_TYPES,
    RangeNotSatisfiable,
    parse_range,
    photo_file,
    photo_mask,
    serve_field,
    video_download,
    video_file,
    video_poster,
    video_preview,
)
