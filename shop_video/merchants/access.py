"""Who may open a merchant page: the organization's members, by role."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from .models import Membership
from .selectors import membership_for
from .services import role_at_least


def set_role(request: HttpRequest) -> None:
    """The request's role in its organization, and the flags templates read (`can_edit`, `is_owner`)."""
    membership = membership_for(request.user, request.organization) if request.organization else None
    request.role = membership.role if membership else None
    request.can_edit = role_at_least(request.role, Membership.Role.EDITOR)
    request.is_owner = role_at_least(request.role, Membership.Role.OWNER)


def merchant_view(view=None, *, role: str = Membership.Role.VIEWER):
    """Login required (anonymous → login page); a user without an organization sees nothing (404); a role
    below `role` gets the 403 page with a message (the controls are hidden too, but the server decides)."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.organization is None:
                raise Http404
            set_role(request)
            if not role_at_least(request.role, role):
                raise PermissionDenied(
                    _("Your role in this shop (%(role)s) cannot do this. Ask an owner for editor access.")
                    % {"role": Membership.Role(request.role).label if request.role else "—"}
                )
            return view(request, *args, **kwargs)

        return login_required(wrapper)

    return decorate(view) if view is not None else decorate


editor_view = merchant_view(role=Membership.Role.EDITOR)
owner_view = merchant_view(role=Membership.Role.OWNER)
