"""The platforms' rules for ads, checked before anything is planned or rendered.

An ad is one of the lengths ad products are sold in (6, 10, 15, 30 or 60 seconds), and each platform takes only
some of them: a bumper is 6 s on YouTube, Amazon's sponsored-brand videos stop at 30 s, the short-video feeds take
all up to 60 s. The file itself is checked afterwards against the platform's upload rules
(`generation.pipeline.platforms.check_export`), exactly as single shots are.
"""

from __future__ import annotations

from django.utils.translation import gettext

from ..errors import BadInputError
from ..platforms import PLATFORMS, platform_for

AD_LENGTHS: tuple[int, ...] = (6, 10, 15, 30, 60)

# The ad lengths (seconds) each platform takes; all within the platform's own duration limits (platforms.py).
PLATFORM_AD_LENGTHS: dict[str, tuple[int, ...]] = {
    "tiktok": (6, 10, 15, 30, 60),
    "reels": (6, 10, 15, 30, 60),
    "shorts": (6, 10, 15, 30, 60),
    "amazon": (6, 10, 15, 30),
    "youtube": (6, 15, 30, 60),
    "shopify": (6, 10, 15, 30, 60),
    "feed": (6, 10, 15, 30, 60),
}


class AdRuleError(BadInputError):
    code = "ad_rule"


def ad_platform(platform: str | None, aspect_ratio: str, market_platforms: tuple[str, ...]) -> str:
    """The platform the ad is for: the merchant's, else the market's first that takes the aspect ratio."""
    if platform is not None and platform not in PLATFORMS:
        raise AdRuleError(f"unknown platform {platform!r}; choose one of {', '.join(PLATFORMS)}", "bad_platform")
    return platform or platform_for(aspect_ratio, market_platforms)


def check_ad(platform: str, aspect_ratio: str, seconds: float, fps: int) -> None:
    """Raise `aspect_not_allowed` or `ad_length_not_allowed` unless the platform takes an ad of this shape and
    length (a length counts when it is within one frame of an allowed one)."""
    preset = PLATFORMS[platform]
    if aspect_ratio not in preset.aspects:
        message = gettext("%(platform)s ads are %(allowed)s, not %(aspect)s.")
        allowed = " / ".join(preset.aspects)
        raise AdRuleError(message % {"platform": preset.name, "allowed": allowed, "aspect": aspect_ratio},
                          "aspect_not_allowed")  # fmt: skip
    allowed = PLATFORM_AD_LENGTHS.get(platform, AD_LENGTHS)
    if not any(abs(seconds - length) <= 1.0 / fps for length in allowed):
        message = gettext("%(platform)s ads are %(allowed)s seconds long, not %(seconds)s seconds.")
        values = {"platform": preset.name, "allowed": " / ".join(map(str, allowed)), "seconds": f"{seconds:g}"}
        raise AdRuleError(message % values, "ad_length_not_allowed")
    if not (preset.duration_min <= seconds <= preset.duration_max):  # pragma: no cover - the table stays inside
        raise AdRuleError(
            f"{preset.name} takes {preset.duration_min:g}–{preset.duration_max:g} s", "ad_length_not_allowed"
        )
