"""`Authorization: Bearer <key>`: the key decides the organization of every request."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from shop_video.merchants.api_keys import api_key_for_secret, record_api_key_use
from shop_video.merchants.models import ApiKey


class ApiKeyPrincipal:
    """request.user for an API request: the key's organization acting through the key (no Django user)."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False

    def __init__(self, api_key: ApiKey):
        self.api_key = api_key
        self.organization = api_key.organization
        self.pk = None
        self.id = None

    def __str__(self) -> str:
        return f"api key {self.api_key.prefix}…"

    def get_username(self) -> str:
        return str(self)


class ApiKeyAuthentication(BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header:
            return None
        if header[0].lower() != self.keyword.lower().encode():
            raise exceptions.AuthenticationFailed(
                _("Send the API key as 'Authorization: Bearer <key>'."), code="invalid_authorization_header"
            )
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                _("Send the API key as 'Authorization: Bearer <key>'."), code="invalid_authorization_header"
            )
        try:
            secret = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("The API key is not valid."), code="invalid_api_key") from None
        api_key = api_key_for_secret(secret)
        if api_key is None:
            raise exceptions.AuthenticationFailed(_("The API key is not valid."), code="invalid_api_key")
        if api_key.revoked_at is not None:
            raise exceptions.AuthenticationFailed(_("This API key has been revoked."), code="api_key_revoked")
        record_api_key_use(api_key=api_key)
        return ApiKeyPrincipal(api_key), api_key

    def authenticate_header(self, request) -> str:
        # Makes a missing or bad key a 401 (with this challenge), not a 403.
        return f'{self.keyword} realm="api"'
