"""Routes under /api/v1/ (included by shop_video/api/urls.py); no trailing slashes (DESIGN.md § API)."""

from django.urls import path

from . import api

urlpatterns = [
    path("webhook-endpoints", api.EndpointListView.as_view(), name="webhook-endpoint-list"),
    path("webhook-endpoints/<int:pk>", api.EndpointDetailView.as_view(), name="webhook-endpoint-detail"),
    path(
        "webhook-endpoints/<int:pk>/rotate-secret",
        api.EndpointRotateSecretView.as_view(),
        name="webhook-endpoint-rotate-secret",
    ),
    path("webhook-deliveries", api.DeliveryListView.as_view(), name="webhook-delivery-list"),
    path("webhook-deliveries/<int:pk>", api.DeliveryDetailView.as_view(), name="webhook-delivery-detail"),
    path("webhook-deliveries/<int:pk>/replay", api.DeliveryReplayView.as_view(), name="webhook-delivery-replay"),
]
