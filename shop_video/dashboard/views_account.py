"""Password reset, organization switcher, team invitations and roles, notification settings."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.mail import send_mail
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse, reverse_lazy
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from shop_video.merchants import selectors as merchant_selectors
from shop_video.merchants import services as merchant_services
from shop_video.merchants.middleware import SESSION_KEY
from shop_video.merchants.models import Membership

from .forms import InviteForm, NotificationForm, RoleForm
from .views import merchant_view

owner_view = merchant_view(role=Membership.Role.OWNER)


class PasswordReset(auth_views.PasswordResetView):
    template_name = "registration/password_reset.html"
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"
    success_url = reverse_lazy("dashboard:password_reset_done")


class PasswordResetSent(auth_views.PasswordResetDoneView):
    template_name = "registration/password_reset_sent.html"


class PasswordResetConfirm(auth_views.PasswordResetConfirmView):
    template_name = "registration/password_reset_confirm.html"
    success_url = reverse_lazy("dashboard:password_reset_complete")


class PasswordResetComplete(auth_views.PasswordResetCompleteView):
    template_name = "registration/password_reset_complete.html"


@login_required
@require_POST
def switch_organization(request: HttpRequest) -> HttpResponse:
    """Only organizations the user is a member of can be chosen; any other id is a 404."""
    orgs = merchant_selectors.organizations_for_user(request.user)
    try:
        org = orgs.get(pk=int(request.POST.get("organization", "")))
    except (ValueError, orgs.model.DoesNotExist):
        raise Http404("not found") from None
    request.session[SESSION_KEY] = org.pk
    messages.success(request, _("You are now working in %(shop)s.") % {"shop": org.name})
    return redirect("dashboard:home")


@merchant_view
@require_http_methods(["GET", "POST"])
def team(request: HttpRequest) -> HttpResponse:
    """Everyone sees the team; only owners invite and change roles."""
    org = request.organization
    form = InviteForm()
    status = 200
    if request.method == "POST":
        if not request.is_owner:
            raise PermissionDenied(_("Only an owner of this shop can invite people."))
        form = InviteForm(request.POST)
        if form.is_valid():
            try:
                invitation, token = merchant_services.invite(
                    organization=org,
                    email=form.cleaned_data["email"],
                    role=form.cleaned_data["role"],
                    invited_by=request.user,
                )
            except merchant_services.MembershipError as exc:
                form.add_error("email", exc.message)
            else:
                link = request.build_absolute_uri(reverse("dashboard:accept_invitation", args=[token]))
                body = render_to_string(
                    "dashboard/email/invitation.txt",
                    {
                        "shop": org.name,
                        "inviter": request.user.email,
                        "role": invitation.get_role_display(),
                        "link": link,
                        "days": int(getattr(settings, "SHOPVIDEO_INVITATION_DAYS", 7)),
                    },
                )
                send_mail(
                    _("You are invited to %(shop)s on ShopVideo") % {"shop": org.name},
                    body,
                    settings.DEFAULT_FROM_EMAIL,
                    [invitation.email],
                )
                messages.success(request, _("Invitation sent to %(email)s.") % {"email": invitation.email})
                return redirect("dashboard:team")
        status = 400
    context = {
        "members": merchant_selectors.members_of(org),
        "invitations": merchant_selectors.pending_invitations(org),
        "form": form,
        "roles": Membership.Role.choices,
    }
    return render(request, "dashboard/team.html", context, status=status)


@owner_view
@require_POST
def member_role(request: HttpRequest, pk: int) -> HttpResponse:
    membership = merchant_selectors.get_member(request.organization, pk)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a role."))
    else:
        try:
            merchant_services.change_role(membership=membership, role=form.cleaned_data["role"])
        except merchant_services.MembershipError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Role of %(email)s changed.") % {"email": membership.user.email})
    return redirect("dashboard:team")


@owner_view
@require_POST
def member_remove(request: HttpRequest, pk: int) -> HttpResponse:
    membership = merchant_selectors.get_member(request.organization, pk)
    try:
        merchant_services.remove_member(membership=membership)
    except merchant_services.MembershipError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("%(email)s no longer has access.") % {"email": membership.user.email})
    return redirect("dashboard:team")


@require_http_methods(["GET", "POST"])
def accept_invitation(request: HttpRequest, token: str) -> HttpResponse:
    """The link from the invitation email: used or expired links say so; a logged-in user with another email is
    told to switch accounts (the role goes only to the person invited)."""
    invitation = merchant_services.invitation_for_token(token)
    if invitation is None:
        return render(request, "dashboard/invitation_invalid.html", status=404)
    problem = merchant_services.invitation_problem(invitation)
    if problem:
        return render(request, "dashboard/invitation_invalid.html", {"problem": problem}, status=410)
    context = {"invitation": invitation, "next": request.path}
    if not request.user.is_authenticated:
        return render(request, "dashboard/invitation.html", context)
    problem = merchant_services.invitation_problem(invitation, request.user)
    if problem:
        return render(request, "dashboard/invitation.html", context | {"problem": problem}, status=403)
    if request.method == "POST":
        try:
            merchant_services.accept_invitation(invitation=invitation, user=request.user)
        except merchant_services.MembershipError as exc:
            messages.error(request, exc.message)
            return redirect("dashboard:home")
        request.session[SESSION_KEY] = invitation.organization_id
        messages.success(request, _("You joined %(shop)s.") % {"shop": invitation.organization.name})
        return redirect("dashboard:home")
    return render(request, "dashboard/invitation.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def notifications(request: HttpRequest) -> HttpResponse:
    row = merchant_services.notification_settings_for(request.user)
    if request.method == "POST":
        form = NotificationForm(request.POST)
        if form.is_valid():
            merchant_services.update_notification_settings(user=request.user, **form.cleaned_data)
            messages.success(request, _("Email settings saved."))
            return redirect("dashboard:notifications")
    else:
        form = NotificationForm(
            initial={
                "batch_finished": row.batch_finished,
                "needs_review": row.needs_review,
                "credits_low": row.credits_low,
                "language": row.language or translation.get_language(),
            }
        )
    return render(request, "dashboard/notifications.html", {"form": form})
