"""/billing/ — credit packs, plans, usage, and Stripe's webhook."""

from django.urls import path

from billing import views, webhooks

app_name = "billing"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("packs/<slug:slug>/buy/", views.buy_pack, name="buy_pack"),
    path("payments/<int:pk>/pay/", views.pay, name="pay"),
    path("payments/<int:pk>/", views.payment_detail, name="payment_detail"),
    path("invoices/", views.invoices, name="invoices"),
    path("usage/", views.usage, name="usage"),
    path("usage.csv", views.usage_csv, name="usage_csv"),
    path("subscribe/", views.subscribe, name="subscribe"),
    path("subscriptions/<int:pk>/cancel/", views.cancel_subscription, name="cancel_subscription"),
    path("stripe/webhook/", webhooks.stripe_webhook, name="stripe_webhook"),
]
