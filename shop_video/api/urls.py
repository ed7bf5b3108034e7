"""/api/v1/ — the REST API for shop platforms (DRF routers with trailing_slash=False)."""

urlpatterns: list = []

# --- Webhook endpoints and the delivery log (h9) -------------------------------------------------------------
from django.urls import include, path  # noqa: E402

urlpatterns += [path("", include("shop_video.webhooks.urls_api"))]
