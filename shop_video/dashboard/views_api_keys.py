"""API keys page: owners create (the key is shown once), list and revoke their organization's REST API keys."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from shop_video.merchants.api_keys import api_keys_for, create_api_key, get_api_key, revoke_api_key
from shop_video.merchants.models import Membership

from .views import merchant_view

owner_view = merchant_view(role=Membership.Role.OWNER)


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=100,
        required=False,
        help_text=gettext_lazy("Which integration uses it, e.g. “Shopify sync”."),
    )


def _render(request: HttpRequest, form: ApiKeyForm, *, new_key: str = "", status: int = 200) -> HttpResponse:
    response = render(
        request,
        "dashboard/api_keys.html",
        {"form": form, "keys": api_keys_for(request.organization), "new_key": new_key},
        status=status,
    )
    if new_key:
        response["Cache-Control"] = "no-store"  # the page with the secret is never cached
    return response


@owner_view
@require_http_methods(["GET", "POST"])
def api_keys(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = ApiKeyForm(request.POST)
        if form.is_valid():
            api_key, secret = create_api_key(
                organization=request.organization,
                name=form.cleaned_data["name"],
                created_by=request.user,
                request=request,
            )
            messages.success(
                request,
                _("API key %(prefix)s… created. Copy it now: it is shown only once.") % {"prefix": api_key.prefix},
            )
            # Rendered, not redirected: the secret must not travel through a URL or the session.
            return _render(request, ApiKeyForm(), new_key=secret, status=201)
        return _render(request, form, status=400)
    return _render(request, ApiKeyForm())


@owner_view
@require_POST
def api_key_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    api_key = get_api_key(request.organization, pk)
    revoke_api_key(api_key=api_key, actor=request.user, request=request)
    messages.success(request, _("API key %(prefix)s… revoked.") % {"prefix": api_key.prefix})
    return redirect("dashboard:api_keys")
