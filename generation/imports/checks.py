"""System check: the fetch allowlist (private addresses allowed for tests) must never reach production."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, register


@register("security")
def fetch_allowlist_check(app_configs=None, **kwargs) -> list[Error]:
    if getattr(settings, "SHOPVIDEO_FETCH_ALLOWLIST", None) and not settings.DEBUG:
        return [
            Error(
                "SHOPVIDEO_FETCH_ALLOWLIST is set while DEBUG is off.",
                hint="It lets catalogue imports fetch from private addresses; it exists for tests only.",
                id="generation.E001",
            )
        ]
    return []
