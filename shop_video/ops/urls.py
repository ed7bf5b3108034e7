from django.urls import path

from . import views, views_lifecycle

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("metrics", views.metrics, name="metrics"),
    # Dashboard actions served by the data lifecycle (the product pages themselves are the dashboard's).
    path("products/<int:pk>/delete/", views_lifecycle.product_delete, name="product_delete"),
    path("account/delete-shop/", views_lifecycle.organization_delete, name="organization_delete"),
]
