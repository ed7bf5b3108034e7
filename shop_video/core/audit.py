"""The audit log: who did what, to what, from where. Others call `record(...)` (API keys, webhook endpoints,
credit adjustments, data deletion); logins, logouts and failed logins are recorded from Django's auth signals.

The rows are the ops app's `AuditEvent` model, looked up through the app registry so that this bottom layer
imports no app above it."""

from __future__ import annotations

import ipaddress
import logging
from typing import Any

from django.apps import apps
from django.contrib.auth import user_logged_in, user_logged_out, user_login_failed
from django.db.models import Model
from django.http import HttpRequest

logger = logging.getLogger(__name__)

# Action names in use (others may add theirs, dotted: <object>.<verb>).
LOGIN = "auth.login"
LOGOUT = "auth.logout"
LOGIN_FAILED = "auth.login_failed"
ORGANIZATION_DELETION_REQUESTED = "organization.delete_requested"
ORGANIZATION_DELETED = "organization.deleted"
PRODUCT_DELETION_REQUESTED = "product.delete_requested"
PRODUCT_DELETED = "product.deleted"
VIDEOS_PURGED = "videos.purged"
API_KEY_CREATED = "api_key.created"
API_KEY_REVOKED = "api_key.revoked"
WEBHOOK_ENDPOINT_CREATED = "webhook_endpoint.created"
WEBHOOK_ENDPOINT_UPDATED = "webhook_endpoint.updated"
WEBHOOK_ENDPOINT_DELETED = "webhook_endpoint.deleted"
WEBHOOK_SECRET_ROTATED = "webhook_endpoint.secret_rotated"  # noqa: S105 — an action name


def client_ip(request: HttpRequest | None) -> str | None:
    """REMOTE_ADDR: the proxy in front of gunicorn must set it (e.g. gunicorn --forwarded-allow-ips);
    X-Forwarded-For is not trusted here because any client can send it."""
    if request is None:
        return None
    value = (request.META.get("REMOTE_ADDR") or "").strip()
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def record(
    action: str,
    *,
    actor=None,
    organization=None,
    target: str | Any = "",
    request: HttpRequest | None = None,
    ip: str | None = None,
    metadata: dict | None = None,
) -> Model:
    """Append one event. `target` may be a model instance (stored as `label:pk`) or a string. `actor` is a user,
    or anything with `get_username()` (an API request's key principal: kept as a label, with no user row)."""
    if actor is None and request is not None and getattr(request, "user", None) is not None:
        actor = request.user if request.user.is_authenticated else None
    if organization is None and request is not None:
        organization = getattr(request, "organization", None) or getattr(
            getattr(request, "user", None), "organization", None
        )
    if hasattr(target, "_meta") and hasattr(target, "pk"):
        target = f"{target._meta.label_lower}:{target.pk}"
    is_user = isinstance(actor, Model) and actor.pk is not None
    label = actor.get_username() if actor is not None and hasattr(actor, "get_username") else ""
    org_obj = organization if getattr(organization, "pk", None) is not None else None
    return apps.get_model("ops", "AuditEvent").objects.create(
        actor=actor if is_user else None,
        actor_label=str(label)[:254],
        organization=org_obj,
        organization_label=(str(org_obj) if org_obj is not None else "")[:200],
        action=action[:60],
        target=str(target)[:200],
        ip=ip or client_ip(request),
        metadata=metadata or {},
    )


def _on_login(sender, request, user, **kwargs) -> None:
    record(LOGIN, actor=user, request=request, target=user)


def _on_logout(sender, request, user, **kwargs) -> None:
    if user is not None:
        record(LOGOUT, actor=user, request=request, target=user)


def _on_login_failed(sender, credentials, request=None, **kwargs) -> None:
    # The username tried, never the password (Django already masks it in `credentials`).
    username = str((credentials or {}).get("username", ""))[:150]
    record(LOGIN_FAILED, request=request, actor=None, target=f"username:{username}")


def connect_signals() -> None:
    user_logged_in.connect(_on_login, dispatch_uid="ops-audit-login")
    user_logged_out.connect(_on_logout, dispatch_uid="ops-audit-logout")
    user_login_failed.connect(_on_login_failed, dispatch_uid="ops-audit-login-failed")
