import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

# API keys live in .api_keys; re-exported so that services stay the one place that writes.
from .api_keys import create_api_key, revoke_api_key  # noqa: F401
from .models import Invitation, Membership, NotificationSettings, Organization


@transaction.atomic
def create_organization(*, name: str, slug: str | None = None, owner=None) -> Organization:
    org = Organization.objects.create(name=name, slug=slug or slugify(name)[:80])
    if owner is not None:
        Membership.objects.create(user=owner, organization=org, role=Membership.Role.OWNER)
    return org


@transaction.atomic
def create_merchant_user(*, email: str, password: str, organization_name: str, org_slug: str | None = None):
    """A user with their own organization, as sign-up and the demo seed create them."""
    user = get_user_model().objects.create_user(username=email, email=email, password=password)
    org = create_organization(name=organization_name, slug=org_slug, owner=user)
    return user, org


# --- sign-up, invitations, roles, notification settings -----------------------------------------------------------

ROLE_RANK = {Membership.Role.VIEWER: 0, Membership.Role.EDITOR: 1, Membership.Role.OWNER: 2}


class MembershipError(Exception):
    """A team change that is not allowed; `message` is for the merchant."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def role_at_least(role: str | None, wanted: str) -> bool:
    return role is not None and ROLE_RANK.get(role, -1) >= ROLE_RANK[wanted]


def unique_slug(name: str) -> str:
    base = slugify(name)[:60] or "shop"
    slug, n = base, 1
    while Organization.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def sign_up(*, email: str, password: str, organization_name: str, language: str = ""):
    """A new merchant: the user, their organization and an owner membership, in one transaction. `language` (the
    page's language at sign-up) becomes the language of their emails. No credits yet: the sign-up grant comes with
    the email verification (shop_video.merchants.signup, which also calls this)."""
    with transaction.atomic():
        user, org = create_merchant_user(
            email=email.strip().lower(),
            password=password,
            organization_name=organization_name.strip(),
            org_slug=unique_slug(organization_name),
        )
        NotificationSettings.objects.create(user=user, language=_known_language(language))
    return user, org


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invite(*, organization: Organization, email: str, role: str, invited_by) -> tuple[Invitation, str]:
    """An invitation and its one-time token (only the hash is stored; the token goes into the email link)."""
    if role not in Membership.Role.values:
        raise MembershipError(_("Choose a role."))
    email = email.strip().lower()
    if Membership.objects.filter(organization=organization, user__email__iexact=email).exists():
        raise MembershipError(_("%(email)s is already a member of this shop.") % {"email": email})
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        organization=organization, email=email, role=role, token_hash=_hash(token), invited_by=invited_by
    )
    return invitation, token


def invitation_for_token(token: str) -> Invitation | None:
    """The invitation of a link, used or not (the page then says why it cannot be used); None for a bad token."""
    return Invitation.objects.select_related("organization").filter(token_hash=_hash(token or "")).first()


def invitation_expires_at(invitation: Invitation):
    return invitation.created_at + timedelta(days=int(getattr(settings, "SHOPVIDEO_INVITATION_DAYS", 7)))


def invitation_problem(invitation: Invitation, user=None) -> str | None:
    """Why this invitation cannot be accepted (by `user`, when given), for the merchant; None when it can."""
    if invitation.accepted_at is not None:
        return _("This invitation was already used. Ask the shop owner to invite you again.")
    if timezone.now() >= invitation_expires_at(invitation):
        return _("This invitation has expired. Ask the shop owner to invite you again.")
    if user is not None and (user.email or "").strip().lower() != invitation.email:
        return _(
            "This invitation is for %(invited)s, but you are logged in as %(you)s. Log out, then log in or sign up "
            "as %(invited)s."
        ) % {"invited": invitation.email, "you": user.email}
    return None


@transaction.atomic
def accept_invitation(*, invitation: Invitation, user) -> Membership:
    """The invited person (same email) joins with the invitation's role; used, expired or someone else's: refused.
    A member already in the shop keeps their role."""
    locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
    problem = invitation_problem(locked, user)
    if problem:
        raise MembershipError(problem)
    membership, _created = Membership.objects.get_or_create(
        user=user, organization=locked.organization, defaults={"role": locked.role}
    )
    locked.accepted_at = timezone.now()
    locked.accepted_by = user
    locked.save(update_fields=["accepted_at", "accepted_by"])
    return membership


@transaction.atomic
def change_role(*, membership: Membership, role: str) -> Membership:
    if role not in Membership.Role.values:
        raise MembershipError(_("Choose a role."))
    owners = Membership.objects.select_for_update().filter(
        organization_id=membership.organization_id, role=Membership.Role.OWNER
    )
    if membership.role == Membership.Role.OWNER and role != Membership.Role.OWNER and owners.count() <= 1:
        raise MembershipError(_("A shop keeps at least one owner."))
    membership.role = role
    membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def remove_member(*, membership: Membership) -> None:
    owners = Membership.objects.select_for_update().filter(
        organization_id=membership.organization_id, role=Membership.Role.OWNER
    )
    if membership.role == Membership.Role.OWNER and owners.count() <= 1:
        raise MembershipError(_("A shop keeps at least one owner."))
    membership.delete()


def notification_settings_for(user) -> NotificationSettings:
    settings_row, _created = NotificationSettings.objects.get_or_create(user=user)
    return settings_row


def _known_language(language: str | None) -> str:
    return language if language in dict(settings.LANGUAGES) else ""


def update_notification_settings(
    *, user, batch_finished: bool, needs_review: bool, credits_low: bool, language: str | None = None
):
    row = notification_settings_for(user)
    row.batch_finished, row.needs_review, row.credits_low = batch_finished, needs_review, credits_low
    if language is not None:
        row.language = _known_language(language)
    row.save()
    return row
