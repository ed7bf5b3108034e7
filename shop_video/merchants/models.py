from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Organization(models.Model):
    """A merchant: the tenant. Every row of merchant data points to exactly one."""

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", _("Owner")
        EDITOR = "editor", _("Editor")
        VIEWER = "viewer", _("Viewer")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.OWNER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="membership_unique_user_org"),
            models.CheckConstraint(
                condition=models.Q(role__in=["owner", "editor", "viewer"]), name="membership_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organization} ({self.role})"


class Invitation(models.Model):
    """An invitation to join an organization with a role; the link carries a token, only its hash is stored."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(_("email"))
    role = models.CharField(_("role"), max_length=16, choices=Membership.Role.choices, default=Membership.Role.EDITOR)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role__in=["owner", "editor", "viewer"]), name="invitation_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} → {self.organization} ({self.role})"


class EmailVerification(models.Model):
    """A sign-up's email address waiting to be confirmed: until `verified_at` the account gets no credits and can
    start nothing. The emailed link carries a one-time token; only its hash is stored (as for invitations). Users
    without a row (the demo merchant, invited people who signed up before this existed, staff) count as verified."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="email_verification")
    token_hash = models.CharField(max_length=64, unique=True)
    sent_at = models.DateTimeField(help_text=_("When the current link was sent; it expires from then"))
    verified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("email verification")
        verbose_name_plural = _("email verifications")

    def __str__(self) -> str:
        return f"{self.user} ({'verified' if self.verified_at else 'pending'})"


class NotificationSettings(models.Model):
    """Which emails a user wants; a user without a row gets the defaults (all on)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_settings"
    )
    batch_finished = models.BooleanField(_("a batch is finished"), default=True)
    needs_review = models.BooleanField(_("a video needs review"), default=True)
    credits_low = models.BooleanField(_("credits are running low"), default=True)
    # The language of the emails; blank: the site's default (LANGUAGE_CODE). Sign-up stores the page's language.
    language = models.CharField(_("email language"), max_length=16, blank=True, choices=settings.LANGUAGES)

    class Meta:
        verbose_name = _("notification settings")
        verbose_name_plural = _("notification settings")

    def __str__(self) -> str:
        return f"notifications of {self.user}"


class NotificationSent(models.Model):
    """One email of one kind for one event to one user. The unique key makes sending idempotent: a duplicate task
    delivery or a second check of the same event finds the row and sends nothing."""

    class Kind(models.TextChoices):
        BATCH_FINISHED = "batch_finished", _("Batch finished")
        NEEDS_REVIEW = "needs_review", _("Batch needs review")
        CREDITS_LOW = "credits_low", _("Credits low")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    event_key = models.CharField(max_length=200)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("notification sent")
        verbose_name_plural = _("notifications sent")
        constraints = [
            models.UniqueConstraint(fields=["user", "kind", "event_key"], name="notification_sent_once"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.event_key} → {self.user}"


class ApiKey(models.Model):
    """A REST API key of one organization. The secret is shown once; only its SHA-256 is stored
    (the key is 256 random bits, so a fast hash is the right one: nothing to brute-force). `prefix` is the
    visible start of the key (e.g. ``sv_live_3fK9a2Qx``), enough to recognise a key in a list."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(_("name"), max_length=100, blank=True)
    prefix = models.CharField(_("prefix"), max_length=32)
    key_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name or self.organization})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
