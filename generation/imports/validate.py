"""Row-level validation and the report (row, column, code, message).

Issues are stored as codes with parameters and rendered in the reader's language when shown or downloaded; the
downloadable report is written with defusedcsv, so no cell can run as a spreadsheet formula.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import NamedTuple
from urllib.parse import urlsplit

import defusedcsv.csv as safe_csv
from django.utils.translation import gettext_lazy as _

from generation.constants import ASPECT_RATIOS, MAX_SECONDS, MIN_SECONDS
from generation.models import CatalogImport, Product
from generation.pipeline.platforms import PLATFORMS
from generation.presets import MARKETS_BY_SLUG

from .formats import Issue, split_list
from .zipimages import fix_name, safe_member_name

MAX_TITLE = 200
MAX_SKU = 100

MESSAGES = {
    # file level
    "empty_file": _("The file is empty."),
    "not_a_csv": _("The file is not a CSV text file."),
    "not_utf8": _("The file is not valid UTF-8 from this row on; save it as “CSV UTF-8”."),
    "malformed_csv": _("The CSV is malformed at this row (an unclosed quote or a stray character)."),
    "field_too_large": _("A cell in this row is too large."),
    "unknown_format": _("The columns are not ours, Shopify's or WooCommerce's; see the column list on this page."),
    "missing_column": _("The column %(column)s is required."),
    "too_many_rows": _("The file has more than %(max)d rows; split it into several files."),
    "no_valid_rows": _("No row can be imported."),
    "zip_unreadable": _("The image archive is not a readable zip file."),
    "zip_too_large": _("The image archive would unpack to more than %(max_mb)d MB; it was refused."),
    "zip_too_many_files": _("The image archive has more than %(max)d files."),
    "zip_unsafe_name": _("The archive entry %(name)s has an unsafe path and was ignored."),
    # row level
    "missing_sku": _("A SKU is required."),
    "sku_too_long": _("The SKU is longer than %(max)d characters."),
    "duplicate_sku": _("The SKU %(sku)s is already used in row %(first_row)d of this file."),
    "missing_title": _("A title is required."),
    "title_too_long": _("The title is longer than %(max)d characters."),
    "unknown_category": _("Unknown category %(value)s; use one of %(choices)s."),
    "formula_like_value": _("The value starts with %(char)s, which spreadsheets run as a formula; it was refused."),
    "missing_handle": _("The Handle is empty."),
    "missing_parent": _("The variation names no Parent."),
    "unknown_parent": _("The parent product %(parent)s of this variation is not in the file above it."),
    "missing_image": _("The product has no image: give an image URL or a file in the zip."),
    "invalid_image_url": _("%(value)s is not an http(s) URL."),
    "no_zip": _("The row names an image file, but no image archive was uploaded."),
    "image_file_not_found": _("%(value)s is not in the image archive."),
    "unsafe_file_name": _("%(value)s is not a safe file name inside the archive."),
    "unknown_market": _("Unknown market %(value)s."),
    "missing_markets": _("Name at least one market (or choose default markets for the import)."),
    "unknown_scene": _("Unknown scene %(value)s."),
    "unknown_aspect_ratio": _("Unknown aspect ratio %(value)s; use %(choices)s."),
    "invalid_seconds": _("Durations must be whole seconds from %(min)d to %(max)d; got %(value)s."),
    "unknown_language": _("No market captions in the language %(value)s."),
    "invalid_price": _("The price %(value)s is not a number."),
    "invalid_ad_seconds": _("The ad length must be whole seconds from 1 to %(max)d; got %(value)s."),
    "unknown_platform": _("Unknown platform %(value)s; use one of %(choices)s."),
    # images (worker)
    "url_not_allowed": _("Only http and https image URLs can be fetched."),
    "host_not_found": _("The image host could not be found."),
    "address_not_allowed": _("The image URL points to a private or reserved address; it was not fetched."),
    "too_many_redirects": _("The image URL redirects too many times."),
    "http_error": _("The image server answered HTTP %(status)s."),
    "fetch_timeout": _("The image took too long to download."),
    "fetch_failed": _("The image could not be downloaded."),
    "image_too_large_bytes": _("The image is larger than %(max_mb)d MB."),
    "image_zip_corrupt": _(
        "%(value)s is damaged in the image archive (its data does not match the archive's record of it); "
        "zip the image again."
    ),
    "image_zip_unsupported": _(
        "%(value)s is encrypted or compressed in a way that cannot be read; zip it again without a password."
    ),
    "image_unreadable": _("%(value)s could not be read as an image."),
    "import_processing_failed": _("Checking the images stopped on an error; use “Check the images again”."),
}


def message_for(issue: dict) -> str:
    template = MESSAGES.get(issue.get("code", ""))
    params = issue.get("params") or {}
    if template is None:
        return str(issue.get("message") or params.get("message") or issue.get("code", ""))
    try:
        return str(template) % params if params or "%(" in str(template) else str(template)
    except (KeyError, TypeError, ValueError):
        return str(template)


def issue_dict(row: int, column: str, code: str, **params) -> dict:
    return Issue(row, column, code, params).as_dict()


_FORMULA_START = ("=", "+", "@", "\t", "\r")
_NUMBER = re.compile(r"^-\d+(?:[.,]\d+)?$")


def formula_char(value: str) -> str | None:
    """The leading character that would make a spreadsheet run the cell, if any ("-5" and "- x" are fine)."""
    if not value:
        return None
    if value[0] in _FORMULA_START:
        return {"\t": "TAB", "\r": "CR"}.get(value[0], value[0])
    # "-" starts a formula too ("-2+3+cmd|' /C calc'!A0"); only a plain number or a "- " dash is let through.
    if value[0] == "-" and len(value) > 1 and not (_NUMBER.match(value) or value[1] == " "):
        return "-"
    return None


_PRICE = re.compile(r"^\d+(?:[.,]\d{1,4})?$")


@dataclass
class Context:
    fmt: str
    markets: set[str]
    scenes: set[str]
    options: dict
    zip_names: set[str] | None = None  # None: no archive uploaded
    seen_skus: dict[str, int] = field(default_factory=dict)  # sku (case-folded) → first row


def _list_issues(name: str, raw: str, allowed, row: int, code: str, **extra) -> tuple[list[str], list[dict]]:
    values = split_list(raw)
    out, issues = [], []
    for v in values:
        key = v.lower() if name in ("markets", "scenes") else v
        if key not in allowed:
            issues.append(issue_dict(row, name, code, value=v, **extra))
        elif key not in out:
            out.append(key)
    return out, issues


def validate_row(row, ctx: Context) -> list[dict]:
    """Check a staged CatalogImportRow in place (category, matrix); returns its issues (stored ones included)."""
    data = row.data
    line = row.line
    issues: list[dict] = list(row.issues)
    col = _columns(ctx.fmt)
    # Values that a spreadsheet would run as formulas are refused, not silently rewritten.
    for r, column, value in data.get("texts", []):
        char = formula_char(value)
        if char:
            issues.append(issue_dict(r, column, "formula_like_value", char=char))
    if not row.sku and not any(i["code"] == "missing_sku" for i in issues):
        issues.append(issue_dict(line, col["sku"], "missing_sku"))
    elif len(row.sku) > MAX_SKU:
        issues.append(issue_dict(line, col["sku"], "sku_too_long", max=MAX_SKU))
    elif row.sku:
        key = row.sku.casefold()
        first = ctx.seen_skus.setdefault(key, line)
        if first != line:
            issues.append(issue_dict(line, col["sku"], "duplicate_sku", sku=row.sku, first_row=first))
    if not row.title:
        issues.append(issue_dict(line, col["title"], "missing_title"))
    elif len(row.title) > MAX_TITLE:
        issues.append(issue_dict(line, col["title"], "title_too_long", max=MAX_TITLE))
    languages = {m.caption_language for m in MARKETS_BY_SLUG.values()}
    for lang, title in (data.get("titles") or {}).items():
        if lang.split("-")[0] not in languages:
            issues.append(issue_dict(line, f"title_{lang}", "unknown_language", value=lang))
        elif len(title) > MAX_TITLE:
            issues.append(issue_dict(line, f"title_{lang}", "title_too_long", max=MAX_TITLE))
    # Category: strict in our format, best effort from the platforms' free text.
    if ctx.fmt == CatalogImport.Format.SHOPVIDEO and row.category:
        wanted = row.category.strip().lower()
        exact = [v for v in Product.Category.values if wanted in (v, str(Product.Category(v).label).lower())]
        if not exact:
            issues.append(
                issue_dict(
                    line, "category", "unknown_category", value=row.category, choices=", ".join(Product.Category.values)
                )
            )
        row.category = exact[0] if exact else Product.Category.OTHER
    else:
        row.category = row.category or Product.Category.OTHER
    if row.price and not _PRICE.match(row.price):
        issues.append(issue_dict(line, col["price"], "invalid_price", value=row.price))
    issues += _image_issues(row, ctx)
    issues += _matrix_issues(row, ctx)
    row.issues = issues
    return issues


def extension_issues(images: list[dict], texts, ctx: Context) -> list[dict]:
    """Issues of lines added to an already validated product (formula cells, its new images)."""
    issues = [
        issue_dict(r, column, "formula_like_value", char=char)
        for r, column, value in texts
        if (char := formula_char(value))
    ]
    if images:

        class _Partial:
            data = {"images": images}
            line = images[0]["row"]

        issues += _image_issues(_Partial, ctx)
    return issues


def _columns(fmt: str) -> dict[str, str]:
    if fmt == CatalogImport.Format.SHOPIFY:
        return {"sku": "Variant SKU", "title": "Title", "price": "Variant Price", "image": "Image Src"}
    if fmt == CatalogImport.Format.WOOCOMMERCE:
        return {"sku": "SKU", "title": "Name", "price": "Regular price", "image": "Images"}
    return {"sku": "sku", "title": "title", "price": "price", "image": "image_url"}


def _image_issues(row, ctx: Context) -> list[dict]:
    images = row.data.get("images") or []
    issues: list[dict] = []
    if not images:
        return [issue_dict(row.line, _columns(ctx.fmt)["image"], "missing_image")]
    for img in images:
        value = img["value"]
        if img["kind"] == "url":
            parts = urlsplit(value)
            if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
                issues.append(issue_dict(img["row"], img["column"], "invalid_image_url", value=value[:200]))
        else:
            name = safe_member_name(value)
            if name is None:
                issues.append(issue_dict(img["row"], img["column"], "unsafe_file_name", value=value[:200]))
            elif ctx.zip_names is None:  # `image`: a zip uploaded with a re-check can still bring it
                issues.append(issue_dict(img["row"], img["column"], "no_zip", image=value))
            elif name not in ctx.zip_names:
                issues.append(
                    issue_dict(img["row"], img["column"], "image_file_not_found", value=value[:200], image=value)
                )
    return issues


MAX_AD_SECONDS = 600


def _ad_issues(row, lists: dict) -> list[dict]:
    """Our format's optional `ad_seconds` and `ad_platform`: the row's own ad length and platform (used when the
    import makes ads), kept in `data["ad"]`; whether the platform takes them is checked when the ads are priced."""
    ad: dict = {}
    raw = (lists.get("ad_seconds") or "").strip()
    issues: list[dict] = []
    if raw:
        value = int(raw) if raw.isdigit() else 0
        if not 1 <= value <= MAX_AD_SECONDS:
            issues.append(issue_dict(row.line, "ad_seconds", "invalid_ad_seconds", value=raw[:20], max=MAX_AD_SECONDS))
        else:
            ad["seconds"] = value
    platform = (lists.get("ad_platform") or "").strip().lower()
    if platform:
        if platform not in PLATFORMS:
            choices = ", ".join(sorted(PLATFORMS))
            issues.append(issue_dict(row.line, "ad_platform", "unknown_platform", value=platform[:40], choices=choices))
        else:
            ad["platform"] = platform
    if ad:
        row.data["ad"] = ad
    return issues


def _matrix_issues(row, ctx: Context) -> list[dict]:
    lists = row.data.get("lists") or {}
    opts = ctx.options
    line = row.line
    issues: list[dict] = []
    markets, bad = _list_issues("markets", lists.get("markets", ""), ctx.markets, line, "unknown_market")
    issues += bad
    if not bad and not markets:
        markets = list(opts.get("markets") or [])
        if not markets:
            issues.append(issue_dict(line, "markets", "missing_markets"))
    scenes, bad = _list_issues("scenes", lists.get("scenes", ""), ctx.scenes, line, "unknown_scene")
    issues += bad
    aspects, bad = _list_issues(
        "aspect_ratios",
        lists.get("aspect_ratios", ""),
        ASPECT_RATIOS,
        line,
        "unknown_aspect_ratio",
        choices=", ".join(ASPECT_RATIOS),
    )
    issues += bad
    seconds: list[int] = []
    for raw in split_list(lists.get("seconds", "")):
        try:
            value = int(raw)
        except ValueError:
            value = -1
        if not MIN_SECONDS <= value <= MAX_SECONDS:
            issues.append(
                issue_dict(line, "seconds", "invalid_seconds", value=raw[:20], min=MIN_SECONDS, max=MAX_SECONDS)
            )
        elif value not in seconds:
            seconds.append(value)
    issues += _ad_issues(row, lists)
    row.data["matrix"] = {
        "markets": markets,
        "scenes": scenes or list(opts.get("scenes") or []),
        "aspect_ratios": aspects or list(opts.get("aspect_ratios") or []),
        "seconds": seconds or list(opts.get("seconds") or [5]),
    }
    return issues


# --- the report ---------------------------------------------------------------------------------------------------

# How an issue is fixed (the report's `fix` column, stable codes): an image that failed is replaced by a file of
# the same name in a zip, then "Re-check failed rows"; anything else is corrected in the file, uploaded again.
FIX_IMAGE = "upload_image_zip"
FIX_FILE = "edit_file"
FIX_CHECK_AGAIN = "check_again"
FIX_AD_OPTIONS = "change_ad_options"  # an ad the platform's rules refuse: other ad options at confirm
FIX_TEXTS = {
    FIX_AD_OPTIONS: _("Choose an ad length and platform this product's markets take, then confirm again."),
    FIX_IMAGE: _("Put the image in a zip as %(name)s and re-check the failed rows."),
    FIX_FILE: _("Correct the file and upload it again."),
    FIX_CHECK_AGAIN: _("Use “Check the images again”."),
}

REPORT_HEADER = (_("row"), _("column"), _("code"), _("message"), _("image"), _("fix"), _("how to fix"))


class ReportEntry(NamedTuple):
    row: int
    column: str
    code: str
    message: str
    image: str  # the failing image URL or file name, complete ("" when the issue is not about one image)
    fix: str  # FIX_IMAGE, FIX_FILE, FIX_CHECK_AGAIN or FIX_AD_OPTIONS
    zip_name: str  # for FIX_IMAGE: the file name the fix zip must use

    @property
    def how_to_fix(self) -> str:
        return str(FIX_TEXTS[self.fix]) % {"name": self.zip_name or self.image}

    def as_dict(self) -> dict:
        return {
            "row": self.row,
            "column": self.column,
            "code": self.code,
            "message": self.message,
            "image": self.image or None,
            "fix": self.fix,
            "zip_name": self.zip_name or None,
        }


def is_image_issue(issue: dict) -> bool:
    """An issue of one image that a zip and a re-check can fix (the worker's and the zip lookups' issues)."""
    return bool((issue.get("params") or {}).get("image"))


def _entry(issue: dict) -> ReportEntry:
    image = str((issue.get("params") or {}).get("image") or "")
    if image:
        kind = "url" if "://" in image else "file"
        fix, zip_name = FIX_IMAGE, fix_name({"kind": kind, "value": image})
    elif issue.get("fix") in FIX_TEXTS:  # an issue that names its own fix (a refused ad)
        fix, zip_name = issue["fix"], ""
    else:
        fix = FIX_CHECK_AGAIN if issue.get("code") == "import_processing_failed" else FIX_FILE
        zip_name = ""
    return ReportEntry(
        issue.get("row", 0), issue.get("column", ""), issue["code"], message_for(issue), image, fix, zip_name
    )


def how_to_fix(issue: dict) -> str:
    """The sentence saying how to fix one issue, in the reader's language."""
    return _entry(issue).how_to_fix


def report_entries(catalog_import: CatalogImport) -> Iterator[ReportEntry]:
    """File issues first, then row issues in file order; the queryset is iterated in chunks."""
    for issue in catalog_import.file_issues or []:
        yield _entry(issue)
    rows = catalog_import.rows.exclude(issues=[]).order_by("position").values_list("issues", flat=True)
    for issues in rows.iterator(chunk_size=500):
        for issue in sorted(issues, key=lambda i: i.get("row", 0)):
            yield _entry(issue)


def report_rows(catalog_import: CatalogImport) -> Iterator[tuple[int, str, str, str]]:
    """(row, column, code, message) of every issue, in report order."""
    for entry in report_entries(catalog_import):
        yield entry[:4]


class _Echo:
    def write(self, value: str) -> str:
        return value


def report_csv_lines(rows: Iterable[tuple]) -> Iterator[str]:
    """CSV lines of the report, defused: cells starting with = + - @ TAB CR are escaped by defusedcsv."""
    writer = safe_csv.writer(_Echo())
    yield "\ufeff" + writer.writerow([str(h) for h in REPORT_HEADER])  # BOM: Excel opens it as UTF-8
    for row in rows:
        if isinstance(row, ReportEntry):
            row = (row.row, row.column, row.code, row.message, row.image, row.fix, row.how_to_fix)
        yield writer.writerow(row)
