"""Moved to shop_video.core.audit."""

from shop_video.core.audit import *  # noqa: F403
from shop_video.core.audit import (  # noqa: F401
    API_KEY_CREATED,
    API_KEY_REVOKED,
    LOGIN,
    LOGIN_FAILED,
    LOGOUT,
    ORGANIZATION_DELETED,
    ORGANIZATION_DELETION_REQUESTED,
    PRODUCT_DELETED,
    PRODUCT_DELETION_REQUESTED,
    VIDEOS_PURGED,
    WEBHOOK_ENDPOINT_CREATED,
    WEBHOOK_ENDPOINT_DELETED,
    WEBHOOK_ENDPOINT_UPDATED,
    WEBHOOK_SECRET_ROTATED,
    client_ip,
    connect_signals,
    record,
)
