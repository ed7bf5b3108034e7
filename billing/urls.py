"""/billing/ — credit packs, plans, usage, and Stripe's webhook."""

app_name = "billing"
urlpatterns: list = []
