"""What an import is asked for: its options (defaults for rows, cleaned), the video options chosen at
confirm, and the errors refusing them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils.translation import gettext as _

from generation.constants import ASPECT_RATIOS, ENGINES, MAX_SECONDS, MIN_SECONDS, RESOLUTIONS
from generation.models import (
    CatalogImportRow,
    MarketPreset,
    Scene,
)
from generation.presets import MARKETS_BY_SLUG
from shop_video.core.errors import BadInputError

from . import formats

if TYPE_CHECKING:
    pass


CHUNK_ROWS = 500
Row = CatalogImportRow


class ImportInvalid(BadInputError):
    """The upload or its options cannot be used: `.fields` = {field: [messages]}; nothing was stored."""

    code = "invalid_import"

    def __init__(self, message: str, code: str | None = None, fields: dict[str, list[str]] | None = None):
        super().__init__(message, code)
        self.fields = fields or {}


class ImportNotConfirmable(BadInputError):
    """`.fields` = {option: [messages]} and `.issues` = [{row, column, code, message}] when rows break the
    options chosen at confirm (a platform's rules, a price tag without a price)."""

    code = "import_not_ready"

    def __init__(
        self,
        message: str,
        code: str | None = None,
        fields: dict[str, list[str]] | None = None,
        issues: list[dict] | None = None,
    ):
        super().__init__(message, code)
        self.fields = fields or {}
        self.issues = issues or []


@dataclass(frozen=True)
class VideoOptions:
    """Chosen at confirm for every row, like in the wizard and the API's job request: the platform the videos are
    made for and the caption overlay (generation.services.VariantMatrix checks them)."""

    platform: str = ""
    captions: bool = False
    caption_price: bool = False
    caption_cta: bool = False
    looks: tuple[str, ...] = ()  # model looks for every row; only the DiT engine draws a person (look_needs_dit)
    output: str = "videos"  # "ads": one ad per product and market instead of one video per photo and variant
    ad_seconds: int | None = None  # the ads' length (default 15 s); the platform's rules decide which it takes
    ad_platform: str = ""  # the ads' platform; else `platform`, else each market's first for the format

    def as_options(self) -> dict:
        options = {
            "platform": self.platform,
            "looks": list(self.looks),
            "captions": {"enabled": self.captions, "price": self.caption_price, "cta": self.caption_cta},
            "output": self.output,
        }
        if self.output == "ads":
            options.update(ad_seconds=self.ad_seconds, ad_platform=self.ad_platform)
        return options


def max_rows() -> int:
    return int(getattr(settings, "SHOPVIDEO_IMPORT_MAX_ROWS", 100_000))


def clean_options(raw: dict | None) -> dict:
    """Defaults for rows that name no markets/scenes/formats, plus resolution and engine; raises ImportInvalid."""
    raw = raw or {}
    fields: dict[str, list[str]] = {}

    def as_list(value) -> list[str]:
        if value is None or value == "":
            return []
        if isinstance(value, str):
            return formats.split_list(value)
        return [str(v).strip() for v in value if str(v).strip()]

    markets = [m.lower() for m in as_list(raw.get("markets"))]
    known = set(MarketPreset.objects.filter(slug__in=markets).values_list("slug", flat=True))
    for m in markets:
        if m not in known or m not in MARKETS_BY_SLUG:
            fields.setdefault("markets", []).append(_("Unknown market %(slug)s.") % {"slug": m})
    scenes = [s.lower() for s in as_list(raw.get("scenes"))]
    known_scenes = set(Scene.objects.filter(slug__in=scenes).values_list("slug", flat=True))
    for s in scenes:
        if s not in known_scenes:
            fields.setdefault("scenes", []).append(_("Unknown scene %(slug)s.") % {"slug": s})
    aspects = as_list(raw.get("aspect_ratios"))
    for a in aspects:
        if a not in ASPECT_RATIOS:
            fields.setdefault("aspect_ratios", []).append(
                _("Unknown aspect ratio %(aspect)s; choose from %(choices)s.")
                % {"aspect": a, "choices": ", ".join(ASPECT_RATIOS)}
            )
    seconds: list[int] = []
    for s in as_list(raw.get("seconds")):
        try:
            value = int(s)
        except ValueError:
            value = -1
        if not MIN_SECONDS <= value <= MAX_SECONDS:
            fields.setdefault("seconds", []).append(
                _("Durations must be whole seconds from %(min)d to %(max)d.") % {"min": MIN_SECONDS, "max": MAX_SECONDS}
            )
            break
        seconds.append(value)
    resolution = str(raw.get("resolution") or "480p")
    if resolution not in RESOLUTIONS:
        fields.setdefault("resolution", []).append(_("Unknown resolution %(value)s.") % {"value": resolution})
    engine = str(raw.get("engine") or getattr(settings, "SHOPVIDEO_DEFAULT_ENGINE", "compositor"))
    if engine not in ENGINES:
        fields.setdefault("engine", []).append(_("Unknown engine %(value)s.") % {"value": engine})
    if fields:
        raise ImportInvalid(_("The import options are not valid."), fields=fields)
    return {
        "markets": list(dict.fromkeys(markets)),
        "scenes": list(dict.fromkeys(scenes)),
        "aspect_ratios": list(dict.fromkeys(aspects)),
        "seconds": list(dict.fromkeys(seconds)),
        "resolution": resolution,
        "engine": engine,
    }
