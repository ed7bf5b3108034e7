from rest_framework.permissions import BasePermission

from shop_video.merchants.models import ApiKey


class HasApiKey(BasePermission):
    """Every endpoint but the schema and docs: a valid, unrevoked key (ApiKeyAuthentication checked it)."""

    def has_permission(self, request, view) -> bool:
        return isinstance(request.auth, ApiKey)
