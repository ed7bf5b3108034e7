"""/api/v1/ — the REST API for shop platforms (DRF routers with trailing_slash=False: no trailing slashes).

Other apps add their endpoints below (webhooks, credits, CSV import), with the same defaults from
REST_FRAMEWORK (API key authentication, per-key throttling, the error format, cursor pagination). Paths under
/api/ that match nothing get the JSON 404 of shop_video.api.exceptions.not_found_view (shop_video/urls.py).
"""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter(trailing_slash=False)
router.register("products", views.ProductViewSet, basename="product")
router.register("photos", views.PhotoViewSet, basename="photo")
router.register("markets", views.MarketViewSet, basename="market")
router.register("scenes", views.SceneViewSet, basename="scene")
router.register("jobs", views.JobViewSet, basename="job")
router.register("batches", views.BatchViewSet, basename="batch")
router.register("videos", views.VideoViewSet, basename="video")
router.register("audio", views.AudioTrackViewSet, basename="audio")

urlpatterns = [
    path("schema", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    *router.urls,
]

# --- Webhook endpoints and the delivery log -------------------------------------------------------------
urlpatterns += [
    path("webhook-endpoints", views.EndpointListView.as_view(), name="webhook-endpoint-list"),
    path("webhook-endpoints/<int:pk>", views.EndpointDetailView.as_view(), name="webhook-endpoint-detail"),
    path(
        "webhook-endpoints/<int:pk>/rotate-secret",
        views.EndpointRotateSecretView.as_view(),
        name="webhook-endpoint-rotate-secret",
    ),
    path("webhook-deliveries", views.DeliveryListView.as_view(), name="webhook-delivery-list"),
    path("webhook-deliveries/<int:pk>", views.DeliveryDetailView.as_view(), name="webhook-delivery-detail"),
    path("webhook-deliveries/<int:pk>/replay", views.DeliveryReplayView.as_view(), name="webhook-delivery-replay"),
]

# --- Credits (billing) ----------------------------------------------------------------------------------
from billing.api import CreditsView  # noqa: E402

urlpatterns += [path("credits", CreditsView.as_view(), name="api-credits")]

# --- Catalogue import: upload a CSV, read the row report, confirm into one batch ------------------------

_imports = SimpleRouter(trailing_slash=False)
_imports.register("imports", views.ImportViewSet, basename="import")
urlpatterns += _imports.urls
