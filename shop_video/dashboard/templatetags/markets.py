"""Template filters for the market side of a video: platform names and export-check rules in the merchant's
language (the check's own messages are technical English; the page names each rule and shows the numbers)."""

from __future__ import annotations

from django import template
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from generation.pipeline.platforms import MB, PLATFORMS

register = template.Library()

RULE_NAMES = {
    "container": gettext_lazy("Container"),
    "codec": gettext_lazy("Codec"),
    "aspect_ratio": gettext_lazy("Aspect ratio"),
    "resolution_min": gettext_lazy("Resolution too low"),
    "resolution_max": gettext_lazy("Resolution too high"),
    "frame_rate": gettext_lazy("Frame rate"),
    "duration_min": gettext_lazy("Too short"),
    "duration_max": gettext_lazy("Too long"),
    "bitrate_max": gettext_lazy("Bitrate too high"),
    "file_size_max": gettext_lazy("File too large"),
}


@register.filter
def platform_name(slug: str) -> str:
    from shop_video.dashboard.forms import PLATFORM_NAMES

    if not slug:
        return _("None chosen")
    return str(PLATFORM_NAMES.get(slug) or (PLATFORMS[slug].name if slug in PLATFORMS else slug))


@register.filter
def export_rule_name(rule: str) -> str:
    return str(RULE_NAMES.get(rule, rule))


@register.filter
def export_rule_values(violation: dict) -> str:
    """ "actual / limit" in units a merchant reads: seconds, MB, Mbit/s, pixels."""
    rule, actual, limit = violation.get("rule"), violation.get("actual"), violation.get("limit")
    if not isinstance(actual, int | float) or not isinstance(limit, int | float):
        return f"{actual} / {limit}"
    if rule == "file_size_max":
        return f"{filesizeformat(actual)} / {filesizeformat(limit)}"
    if rule == "bitrate_max":
        return _("%(actual).1f / %(limit)g Mbit/s") % {"actual": actual / MB, "limit": limit / MB}
    if rule in ("duration_min", "duration_max"):
        return _("%(actual).2f / %(limit)g s") % {"actual": actual, "limit": limit}
    return f"{actual:g} / {limit:g}"


@register.filter
def language_name(code: str) -> str:
    from shop_video.dashboard.views_markets import language_name as name

    return name(code)


@register.simple_tag
def localization_form():
    """An empty form for the product page's "add a localized title" panel."""
    from shop_video.dashboard.views_markets import LocalizationForm

    return LocalizationForm()
