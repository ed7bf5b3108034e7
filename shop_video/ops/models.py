from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AuditEvent(models.Model):
    """One security-relevant action. Append-only (written by shop_video.core.audit.record, never updated).

    Actor and organization are kept as labels too, so the trail survives the deletion of either."""

    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="audit_events"
    )
    actor_label = models.CharField(_("actor"), max_length=254, blank=True)
    organization = models.ForeignKey(
        "merchants.Organization", on_delete=models.SET_NULL, null=True, blank=True, related_name="audit_events"
    )
    organization_label = models.CharField(_("organization"), max_length=200, blank=True)
    action = models.CharField(_("action"), max_length=60, db_index=True)
    target = models.CharField(_("target"), max_length=200, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    metadata = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["organization", "at"], name="audit_org_at")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.action} {self.target}"
