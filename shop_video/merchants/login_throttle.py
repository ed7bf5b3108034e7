"""Login throttling (django-axes, counted in Django's cache): who an attempt counts against, and what a locked-out
client sees. Failed logins are counted per account (the email typed) and per client address, separately; past
AXES_FAILURE_LIMIT either one is locked for AXES_COOLOFF_TIME, and the right password does not log in meanwhile."""

from __future__ import annotations

from datetime import timedelta

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import ngettext

from shop_video.core.audit import client_ip


class LoginThrottleBackend(AxesStandaloneBackend):
    """Refuses every login of a locked-out account or address; logs nobody in itself. An authentication without
    a request (the test client's login(), a management command) has no client to count and is left to the next
    backend."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def client_address(request: HttpRequest) -> str | None:
    """The same client address the audit log records (REMOTE_ADDR as the proxy sets it; X-Forwarded-For from a
    client is not trusted)."""
    return client_ip(request)


def account_name(request: HttpRequest | None, credentials: dict | None) -> str:
    """The email typed into the login form, as sign-up stores it: `A@Shop.com ` and `a@shop.com` are one account."""
    username = (credentials or {}).get("username")
    if username is None and request is not None:
        username = request.POST.get("username")
    return str(username or "").strip().lower()


def cool_off() -> timedelta:
    return settings.AXES_COOLOFF_TIME


def lockout_message(now=None) -> str:
    """What the login page says to a locked-out client: how long, and until when (UTC)."""
    period = cool_off()
    minutes = max(1, round(period.total_seconds() / 60))
    until = (now or timezone.now()) + period
    return ngettext(
        "Too many failed login attempts. Logging in is blocked for %(minutes)d minute, until %(until)s UTC. "
        "If you forgot your password, reset it.",
        "Too many failed login attempts. Logging in is blocked for %(minutes)d minutes, until %(until)s UTC. "
        "If you forgot your password, reset it.",
        minutes,
    ) % {"minutes": minutes, "until": until.strftime("%H:%M")}


def locked_out(request: HttpRequest, original_response=None, credentials: dict | None = None) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: the login page again, with the lockout message, status 429."""
    form = AuthenticationForm(request, initial={"username": account_name(request, credentials)})
    context = {"form": form, "next": request.POST.get("next") or request.GET.get("next") or ""}
    response = render(request, "registration/login.html", context | {"lockout_message": lockout_message()}, status=429)
    response["Retry-After"] = str(int(cool_off().total_seconds()))
    return response
