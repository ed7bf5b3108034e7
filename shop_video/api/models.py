from django.db import models


class IdempotencyRecord(models.Model):
    """One `Idempotency-Key` of an organization: the request it was first used with (a fingerprint of method,
    path and body) and, once done, the response to replay. The unique constraint is what makes two concurrent
    requests with one key create one thing: the second insert fails and that request waits for, then replays,
    the first one's response (shop_video.api.idempotency)."""

    organization = models.ForeignKey("merchants.Organization", on_delete=models.CASCADE, related_name="+")
    api_key = models.ForeignKey("merchants.ApiKey", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=300)
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True, help_text="null while in progress")
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "key"], name="api_idempotency_unique_org_key"),
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.key}]"
