"""/api/v1/ — the REST API for shop platforms (DRF routers with trailing_slash=False)."""

urlpatterns: list = []
