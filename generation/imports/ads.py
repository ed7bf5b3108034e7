"""An import that asks for ads: ONE ad per product (a Shopify handle, a WooCommerce product, a row of ours, with
all their photos) and market, planned and submitted with generation.services.ads at confirm time.

The estimate quotes every ad with `quote_ad` (the platform's rules, then the length and price of the storyboard
the planner will make: round(seconds · fps) frames) without reading a photo; confirm plans each storyboard with
`submit_ads` and checks the jobs add up to the estimate. A product whose ad the rules refuse is a row issue with
the rule's code and how to fix it; nothing is reserved for it and the other products still go.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.translation import gettext as _

from generation.models import CatalogImport, Photo
from generation.pipeline.platforms import PLATFORMS
from generation.services.ads import MAX_AD_PHOTOS, AdOptions, quote_ad
from generation.services.errors import AdInvalid

from .options import CHUNK_ROWS, Row
from .validate import FIX_AD_OPTIONS, FIX_FILE

OUTPUT_VIDEOS = "videos"
OUTPUT_ADS = "ads"
DEFAULT_AD_SECONDS = 15
DEFAULT_AD_ASPECT = "9:16"
# The ad request's field → the column or option of the import it comes from.
AD_COLUMNS = {"seconds": "ad_seconds", "aspect_ratio": "aspect_ratios", "platform": "ad_platform"}


@dataclass(frozen=True)
class PlannedAd:
    """One ad confirm will submit: the row's product in one market, its options and its quoted price."""

    row: int
    sku: str
    checksums: tuple[str, ...]
    options: AdOptions
    platform: str
    credits: int

    def as_dict(self) -> dict:
        return {
            "row": self.row,
            "sku": self.sku,
            "market": self.options.market,
            "platform": self.platform,
            "aspect_ratio": self.options.aspect_ratio,
            "seconds": float(self.options.seconds),
            "photos": len(self.checksums),
            "credits": self.credits,
        }


def wants_ads(options: dict) -> bool:
    return options.get("output") == OUTPUT_ADS


def _seed(imp: CatalogImport, sku: str, market: str) -> int:
    """The same storyboard for the same product and market each time this import is planned."""
    digest = hashlib.sha256(f"{imp.pk}:{sku}:{market}".encode()).hexdigest()
    return int(digest[:8], 16) % 2**31


def _aspect(matrix: dict, platform: str) -> str:
    """The row's first format, else the chosen platform's first, else vertical."""
    aspects = list(matrix.get("aspect_ratios") or [])
    if aspects:
        return aspects[0]
    if platform in PLATFORMS:
        return PLATFORMS[platform].aspects[0]
    return DEFAULT_AD_ASPECT


def _issue(line: int, exc: AdInvalid, own: dict) -> dict:
    """The refused ad as the row's issue: the column or option to change, and how (a value the row itself names
    is corrected in the file; the import's ad options are chosen again at confirm)."""
    field = next(iter(exc.fields), "seconds") if getattr(exc, "fields", None) else "seconds"
    column = AD_COLUMNS.get(field, field)
    in_file = column == "aspect_ratios" or (field in own and column in ("ad_seconds", "ad_platform"))
    fix = FIX_FILE if in_file else FIX_AD_OPTIONS
    return {"row": line, "column": column, "code": exc.code, "message": str(exc.message), "fix": fix}


def plan_ads(imp: CatalogImport, options: dict) -> tuple[list[PlannedAd], list[dict]]:
    """The ads confirming with `options` makes (one per valid row and market of the row), and the row issues of
    the products that get none (the rule's code, the column or option to change, `fix`)."""
    platform = options.get("ad_platform") or options.get("platform") or ""
    seconds = options.get("ad_seconds") or DEFAULT_AD_SECONDS
    planned: list[PlannedAd] = []
    skipped: list[dict] = []
    valid = imp.rows.filter(status=Row.Status.VALID).order_by("position")
    for line, data, sku, photos in valid.values_list("line", "data", "sku", "photos").iterator(chunk_size=CHUNK_ROWS):
        # A photo whose cutout was refused and has no mask cannot be placed in a shot.
        usable = [p for p in photos if p.get("mask") or not p.get("cutout_needs_review")]
        checksums = tuple(dict.fromkeys(p["checksum"] for p in usable))[:MAX_AD_PHOTOS]
        if not checksums:
            message = _("No photo of this product passed the image check: an ad needs at least one.")
            skipped.append({"row": line, "column": "image", "code": "ad_no_photo", "message": message,
                            "fix": FIX_FILE})  # fmt: skip
            continue
        matrix = data.get("matrix") or {}
        own = data.get("ad") or {}  # our format's ad_seconds / ad_platform columns win over the import's options
        row_platform = own.get("platform") or platform
        for market in matrix.get("markets") or []:
            ad = AdOptions(
                market=market,
                seconds=own.get("seconds") or seconds,
                platform=row_platform or None,
                aspect_ratio=_aspect(matrix, row_platform),
                resolution=options.get("resolution", "480p"),
                engine=options.get("engine", "compositor"),
                seed=_seed(imp, sku, market),
            )
            try:
                quote = quote_ad(ad)
            except AdInvalid as exc:
                skipped.append(_issue(line, exc, own))
                continue
            planned.append(PlannedAd(line, sku, checksums, ad, quote.platform, quote.credits))
    return planned, skipped


def ad_requests(
    planned: Sequence[PlannedAd], photos_by_row: dict[int, list[Photo]]
) -> list[tuple[list[Photo], AdOptions]]:
    """The confirmed photos of each planned ad's product (in the row's order, the quoted ones), with its options."""
    requests = []
    for ad in planned:
        by_checksum = {p.checksum: p for p in photos_by_row[ad.row]}
        requests.append(([by_checksum[c] for c in ad.checksums], ad.options))
    return requests


def record_skipped(imp: CatalogImport, skipped: Sequence[dict]) -> None:
    """The refused products' issues join their rows' report (kept with the confirmed import)."""
    by_line: dict[int, list[dict]] = {}
    for issue in skipped:
        by_line.setdefault(issue["row"], []).append(issue)
    if not by_line:
        return
    rows = list(imp.rows.filter(line__in=list(by_line)))
    for row in rows:
        row.issues = [*(row.issues or []), *by_line[row.line]]
    Row.objects.bulk_update(rows, ["issues"])
