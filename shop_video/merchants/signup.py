"""Sign-up without abuse: email verification before credits and jobs, a limit on sign-ups per client address, and
the same answer whether or not an email already has an account.

- `register` makes the account (no credits yet) and a one-time verification token, or, for an email that already
  has an account, makes nothing and mails that address's owner instead; the caller answers both the same way.
- `verify_email` consumes the emailed token once, within SHOPVIDEO_EMAIL_VERIFICATION_DAYS (the invitations'
  mechanism: a random token, only its hash stored), and grants the sign-up credits in the same transaction.
- `needs_verification` is what the dashboard's EmailVerificationMiddleware asks on every request.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.cache import caches
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from . import services
from .models import EmailVerification, Membership, NotificationSettings
from .signals import email_verified


class VerificationError(Exception):
    """A verification link that cannot be used; `code` is stable, `message` is for the person."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


# --- sign-ups per client address -------------------------------------------------------------------------------------

SIGNUP_WINDOW_SECONDS = 3600


def _throttle_cache():
    return caches[getattr(settings, "SHOPVIDEO_THROTTLE_CACHE", "default")]


def _signup_key(address: str | None) -> str:
    return f"signups:{address or 'unknown'}"


def signups_allowed(address: str | None) -> bool:
    """False once SHOPVIDEO_SIGNUPS_PER_ADDRESS sign-ups came from this address within the hour."""
    return int(_throttle_cache().get(_signup_key(address), 0)) < int(settings.SHOPVIDEO_SIGNUPS_PER_ADDRESS)


def count_signup(address: str | None) -> None:
    cache = _throttle_cache()
    key = _signup_key(address)
    cache.add(key, 0, timeout=SIGNUP_WINDOW_SECONDS)  # the window starts with the first sign-up
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=SIGNUP_WINDOW_SECONDS)


# --- registering -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Registration:
    """What `register` did: a new account and its token, or nothing because the email has an account."""

    email: str
    user: object | None = None
    organization: object | None = None
    token: str = ""

    @property
    def created(self) -> bool:
        return self.user is not None


def _hash(token: str) -> str:
    return services._hash(token)


def _existing_user(email: str):
    return get_user_model().objects.filter(email__iexact=email).first() or (
        get_user_model().objects.filter(username__iexact=email).first()
    )


def register(*, email: str, password: str, organization_name: str, language: str = "") -> Registration:
    """A new merchant waiting for email verification, or (email taken) the owner of the address is told."""
    email = email.strip().lower()
    existing = _existing_user(email)
    if existing is None:
        try:
            user, org = services.sign_up(
                email=email, password=password, organization_name=organization_name, language=language
            )
        except IntegrityError:  # the same email signed up at the same moment
            existing = _existing_user(email)
        else:
            return Registration(email=email, user=user, organization=org, token=issue_token(user))
    make_password(password)  # as much work as a new account's password hash: the answer takes as long
    if existing is not None:
        send_signup_attempt_notice(existing)
    return Registration(email=email)


# --- verification ----------------------------------------------------------------------------------------------------


def verification_days() -> int:
    return int(getattr(settings, "SHOPVIDEO_EMAIL_VERIFICATION_DAYS", 7))


def issue_token(user) -> str:
    """A new one-time link for `user` (an earlier link stops working)."""
    token = secrets.token_urlsafe(32)
    EmailVerification.objects.update_or_create(
        user=user, defaults={"token_hash": _hash(token), "sent_at": timezone.now(), "verified_at": None}
    )
    return token


def needs_verification(user) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return EmailVerification.objects.filter(user=user, verified_at__isnull=True).exists()


def pending_for(user) -> EmailVerification | None:
    return EmailVerification.objects.filter(user=user, verified_at__isnull=True).first()


def verification_for_token(token: str) -> EmailVerification | None:
    return EmailVerification.objects.select_related("user").filter(token_hash=_hash(token or "")).first()


def verification_problem(verification: EmailVerification | None) -> VerificationError | None:
    if verification is None:
        return VerificationError("verification_invalid", _("This link is not valid. Check that you copied all of it."))
    if verification.verified_at is not None:
        return VerificationError(
            "verification_used", _("This link was already used: your email is confirmed. Log in to continue.")
        )
    if timezone.now() >= verification.sent_at + timedelta(days=verification_days()):
        return VerificationError(
            "verification_expired", _("This link has expired. Log in, and we will send you a new one.")
        )
    return None


@transaction.atomic
def verify_email(token: str):
    """Confirm the address of the link's account, once: the sign-up credits go to the shop it created. Returns
    the user; raises VerificationError for a bad, used or expired link."""
    found = verification_for_token(token)
    locked = EmailVerification.objects.select_for_update().filter(pk=found.pk).first() if found else None
    problem = verification_problem(locked)
    if problem:
        raise problem
    locked.verified_at = timezone.now()
    locked.save(update_fields=["verified_at"])
    own_shop = (
        Membership.objects.filter(user=locked.user, role=Membership.Role.OWNER)
        .select_related("organization")
        .order_by("created_at", "id")
        .first()
    )
    email_verified.send(
        sender=EmailVerification, user=locked.user, organization=own_shop.organization if own_shop else None
    )
    return locked.user


RESEND_AFTER_SECONDS = 60


def can_resend(verification: EmailVerification) -> bool:
    return timezone.now() - verification.sent_at >= timedelta(seconds=RESEND_AFTER_SECONDS)


# --- emails ----------------------------------------------------------------------------------------------------------


def _site_url() -> str:
    return str(getattr(settings, "SHOPVIDEO_SITE_URL", "") or "http://localhost:8000").rstrip("/")


def _language_of(user) -> str:
    row = NotificationSettings.objects.filter(user=user).only("language").first()
    wanted = row.language if row else ""
    return wanted if wanted in dict(settings.LANGUAGES) else translation.get_language() or settings.LANGUAGE_CODE


def send_verification_email(user, token: str) -> None:
    link = _site_url() + reverse("dashboard:verify_email", args=[token])
    with translation.override(_language_of(user)):
        body = render_to_string(
            "registration/email/verify_email.txt", {"link": link, "days": verification_days(), "email": user.email}
        )
        send_mail(_("Confirm your email for ShopVideo"), body, settings.DEFAULT_FROM_EMAIL, [user.email])


def send_signup_attempt_notice(user) -> None:
    """To the owner of an address someone tried to sign up with: nothing was changed; how to get in."""
    with translation.override(_language_of(user)):
        body = render_to_string(
            "registration/email/signup_attempt.txt",
            {
                "email": user.email,
                "login_link": _site_url() + reverse("login"),
                "reset_link": _site_url() + reverse("dashboard:password_reset"),
            },
        )
        send_mail(_("Someone tried to sign up with your email"), body, settings.DEFAULT_FROM_EMAIL, [user.email])
