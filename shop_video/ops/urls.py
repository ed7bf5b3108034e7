from django.urls import path

from . import views, views_lifecycle

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("metrics", views.metrics, name="metrics"),
    # A dashboard action served by the data lifecycle (the product pages themselves are the dashboard's).
    path("products/<int:pk>/delete/", views_lifecycle.product_delete, name="product_delete"),
]
