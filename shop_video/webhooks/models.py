"""Outgoing webhooks: endpoints a merchant registers and the log of every delivery attempt series."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class EventType(models.TextChoices):
    JOB_SUCCEEDED = "job.succeeded", _("Job succeeded")
    JOB_FAILED = "job.failed", _("Job failed")
    BATCH_COMPLETED = "batch.completed", _("Batch completed")
    CREDITS_LOW = "credits.low", _("Credits low")


class WebhookEndpoint(models.Model):
    organization = models.ForeignKey(
        "merchants.Organization", on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(_("description"), max_length=200, blank=True)
    # Standard Webhooks symmetric secret ("whsec_" + base64 of 32 random bytes). Kept readable because every
    # delivery is signed with it; shown to the merchant only once, at creation.
    secret = models.CharField(max_length=100, editable=False)
    events = models.JSONField(_("events"), default=list, help_text=_("Event types this endpoint receives"))
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return self.url

    @property
    def secret_hint(self) -> str:
        """Enough of the secret to tell two apart, never enough to sign with."""
        return f"{self.secret[:10]}…" if self.secret else ""


class WebhookDelivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")  # waiting for its first or next attempt
        SENDING = "sending", _("Sending")  # an attempt holds the lease (next_attempt_at is its end)
        SUCCEEDED = "succeeded", _("Delivered")
        FAILED = "failed", _("Failed")  # attempts exhausted, or refused before sending

    organization = models.ForeignKey(
        "merchants.Organization", on_delete=models.CASCADE, related_name="webhook_deliveries"
    )
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    # The Standard Webhooks message id (header webhook-id): the same for every attempt and for replays, so a
    # receiver can deduplicate.
    event_id = models.CharField(max_length=64)
    event_type = models.CharField(max_length=40, choices=EventType.choices)
    payload = models.JSONField()
    replay_of = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="replays")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.CharField(max_length=1000, blank=True, help_text=_("The first bytes of the response"))
    error = models.CharField(max_length=500, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="whdelivery_status_next")]
        constraints = [
            # One original delivery per endpoint and event: emitting the same event twice (two workers that both
            # saw a batch finish) delivers it once. Replays are extra rows with the same event id.
            models.UniqueConstraint(
                fields=["endpoint", "event_id"], condition=Q(replay_of__isnull=True), name="whdelivery_unique_event"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "sending", "succeeded", "failed"]), name="whdelivery_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.endpoint_id} ({self.status})"
