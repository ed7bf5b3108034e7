"""`manage.py check --deploy`: the test-only webhook allowlist must never be on in production."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def test_allowlist_off(app_configs, **kwargs) -> list[Error]:
    if getattr(settings, "SHOPVIDEO_WEBHOOK_TEST_ALLOWLIST", None):
        return [
            Error(
                "SHOPVIDEO_WEBHOOK_TEST_ALLOWLIST is set: webhooks could reach private addresses.",
                hint="It exists for the test suite only; unset it.",
                id="webhooks.E001",
            )
        ]
    return []
