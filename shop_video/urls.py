from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path

from shop_video.api.exceptions import not_found_view
from shop_video.dashboard import views_files, views_lifecycle

# Merchant media goes only through these tenant-checked views; there is no public media URL.
file_patterns = [
    path("photos/<int:pk>/", views_files.photo_file, name="photo"),
    path("photos/<int:pk>/mask/", views_files.photo_mask, name="photo_mask"),
    path("videos/<int:pk>/", views_files.video_file, name="video"),
    path("videos/<int:pk>/download/", views_files.video_download, name="video_download"),
    path("videos/<int:pk>/poster/", views_files.video_poster, name="video_poster"),
    path("videos/<int:pk>/preview/", views_files.video_preview, name="video_preview"),
    # Short-lived signed links for API clients (generation.downloads): no session, the signature decides.
    path("signed/<str:token>", views_files.signed_file, name="signed"),
]

urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("files/", include((file_patterns, "files"))),
    path("api/v1/", include("shop_video.api.urls")),
    re_path(r"^api(/|$)", not_found_view),  # any other /api path: the API's JSON 404, not an HTML page
    path("billing/", include("billing.urls")),
    path("", include("shop_video.ops.urls")),
    # Dashboard actions served by the data lifecycle (the product pages themselves are the dashboard's).
    path("products/<int:pk>/delete/", views_lifecycle.product_delete, name="product_delete"),
    path("account/delete-shop/", views_lifecycle.organization_delete, name="organization_delete"),
    path("", include("shop_video.dashboard.urls")),
]

# --- Webhooks dashboard pages -----------------------------------------------------------------------------
urlpatterns += [path("webhooks/", include("shop_video.dashboard.urls_webhooks"))]
