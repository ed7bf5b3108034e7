from django.urls import path

from . import (
    views,
    views_account,
    views_ads,
    views_api_keys,
    views_cutout,
    views_import,
    views_markets,
    views_products,
    views_signup,
)

app_name = "dashboard"

urlpatterns = [
    path("", views.home, name="home"),
    path("products/", views.product_list, name="product_list"),
    path("products/new/", views.product_create, name="product_create"),
    path("products/<int:pk>/", views.product_detail, name="product_detail"),
    path("products/<int:pk>/generate/", views.generate, name="generate"),
    path("products/<int:pk>/ad/", views_ads.ad_new, name="ad_new"),
    path("products/<int:pk>/ad/music/", views_ads.ad_music, name="ad_music"),
    path("products/<int:pk>/edit/", views_products.product_edit, name="product_edit"),
    path("products/<int:pk>/photos/", views_products.photo_add, name="photo_add"),
    path("photos/<int:pk>/remove/", views_products.photo_remove, name="photo_remove"),
    path("photos/<int:pk>/mask/", views.photo_mask_upload, name="photo_mask_upload"),
    path("photos/<int:pk>/cutout/preview/", views_cutout.photo_cutout_preview, name="photo_cutout_preview"),
    path("photos/<int:pk>/cutout/", views_cutout.photo_cutout_save, name="photo_cutout_save"),
    path("estimate/", views.estimate, name="estimate"),
    path("batches/", views.batch_list, name="batch_list"),
    path("batches/<int:pk>/", views.batch_detail, name="batch_detail"),
    path("batches/<int:pk>/jobs/", views.batch_jobs, name="batch_jobs"),
    path("batches/<int:pk>/cancel/", views.batch_cancel, name="batch_cancel"),
    path("jobs/<int:pk>/cancel/", views.job_cancel, name="job_cancel"),
    path("jobs/<int:pk>/retry/", views.job_retry, name="job_retry"),
    path("videos/", views.video_list, name="video_list"),
    path("videos/review/", views.review_queue, name="review_queue"),
    path("videos/zip/", views.video_zip, name="video_zip"),
    path("videos/<int:pk>/", views.video_detail, name="video_detail"),
    path("videos/<int:pk>/approve/", views.video_approve, name="video_approve"),
    path("videos/<int:pk>/reject/", views.video_reject, name="video_reject"),
    path("videos/<int:pk>/regenerate/", views.video_regenerate, name="video_regenerate"),
    # Accounts, team and settings
    path("signup/", views_signup.signup, name="signup"),
    path("signup/sent/", views_signup.signup_sent, name="signup_sent"),
    path("verify-email/<str:token>/", views_signup.verify_email, name="verify_email"),
    path("account/verify/", views_signup.verification_pending, name="verification_pending"),
    path("account/verify/resend/", views_signup.verification_resend, name="verification_resend"),
    path("account/password-reset/", views_account.PasswordReset.as_view(), name="password_reset"),
    path("account/password-reset/sent/", views_account.PasswordResetSent.as_view(), name="password_reset_done"),
    path(
        "account/reset/<uidb64>/<token>/", views_account.PasswordResetConfirm.as_view(), name="password_reset_confirm"
    ),
    path("account/reset/done/", views_account.PasswordResetComplete.as_view(), name="password_reset_complete"),
    path("account/organization/", views_account.switch_organization, name="switch_organization"),
    path("account/notifications/", views_account.notifications, name="notifications"),
    path("team/", views_account.team, name="team"),
    path("team/members/<int:pk>/role/", views_account.member_role, name="member_role"),
    path("team/members/<int:pk>/remove/", views_account.member_remove, name="member_remove"),
    path("invitations/<str:token>/", views_account.accept_invitation, name="accept_invitation"),
    # REST API keys
    path("api-keys/", views_api_keys.api_keys, name="api_keys"),
    path("api-keys/<int:pk>/revoke/", views_api_keys.api_key_revoke, name="api_key_revoke"),
]

# --- Catalogue import ------------------------------------------------------------------------------------
urlpatterns += [
    path("imports/", views_import.import_list, name="import_list"),
    path("imports/<int:pk>/", views_import.import_detail, name="import_detail"),
    path("imports/<int:pk>/report.csv", views_import.import_report, name="import_report"),
    path("imports/<int:pk>/confirm/", views_import.import_confirm, name="import_confirm"),
    path("imports/<int:pk>/recheck/", views_import.import_recheck, name="import_recheck"),
    path("imports/<int:pk>/recheck-failed/", views_import.import_recheck_failed, name="import_recheck_failed"),
    path("imports/<int:pk>/discard/", views_import.import_discard, name="import_discard"),
]

# --- Localized titles and model looks per market -------------------------------
urlpatterns += [
    path("products/<int:pk>/localizations/", views_markets.localization_save, name="localization_save"),
    path(
        "products/<int:pk>/localizations/<str:language>/delete/",
        views_markets.localization_delete,
        name="localization_delete",
    ),
    path("looks/", views_markets.look_list, name="look_list"),
    path("looks/new/", views_markets.look_save, name="look_create"),
    path("looks/<int:pk>/", views_markets.look_edit, name="look_edit"),
    path("looks/<int:pk>/save/", views_markets.look_save, name="look_update"),
    path("looks/<int:pk>/delete/", views_markets.look_delete, name="look_delete"),
]
