"""Estimating and confirming an import into ONE Batch (products upserted by SKU, photos by checksum, so a
re-upload duplicates neither products nor jobs), and discarding one."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from billing import pricing
from generation.market_services import set_localized_title
from generation.models import (
    Batch,
    CatalogImport,
    Photo,
    Product,
)
from generation.services.ads import submit_ads
from generation.services.errors import MatrixInvalid
from generation.services.storage import _delete_files
from generation.services.submission import VariantMatrix, _expand, max_videos_per_batch, submit_batch
from shop_video.core.errors import BadInputError

from . import ads as import_ads
from .options import CHUNK_ROWS, ImportNotConfirmable, Row, VideoOptions

if TYPE_CHECKING:
    pass

logger = logging.getLogger(__name__)


def _matrix_key(row_data: dict) -> tuple:
    m = row_data.get("matrix") or {}
    return tuple(tuple(m.get(k) or ()) for k in ("markets", "scenes", "aspect_ratios", "seconds"))


def _matrix(options: dict, key: tuple) -> VariantMatrix:
    """The batch matrix of the rows that share `key` (their markets, scenes, formats, lengths), with the import's
    options (resolution, engine) and the confirm's video options (platform, captions)."""
    markets, scenes, aspects, seconds = key
    captions = options.get("captions") or {}
    return VariantMatrix(
        markets=list(markets),
        scenes=list(scenes),
        looks=list(options.get("looks") or []),
        aspect_ratios=list(aspects),
        seconds=list(seconds),
        resolution=options.get("resolution", "480p"),
        engine=options.get("engine", "compositor"),
        platform=options.get("platform") or "",
        captions=bool(captions.get("enabled")),
        caption_price=bool(captions.get("price")),
        caption_cta=bool(captions.get("cta")),
    )


def _with_video_options(imp: CatalogImport, video_options: VideoOptions | None) -> dict:
    """The import's options as confirm would keep them: the upload's defaults plus the chosen video options."""
    options = dict(imp.options or {})
    if video_options is not None:
        options.update(video_options.as_options())
    return options


MAX_OPTION_ISSUES = 200
# Matrix fields a row sets itself; a rule broken in another one is about the options chosen for every row.
ROW_COLUMNS = ("markets", "scenes", "aspect_ratios", "seconds")


@dataclass(frozen=True)
class ImportEstimate:
    """What confirming with given video options would make: videos and credits priced like submit_batch prices
    them, or `issues` (row, column, code, message): the rows and options that would refuse the confirm, with the
    codes confirm gives (platform_rule, caption_price_missing, caption_options, invalid_matrix). With issues
    nothing would be made, so videos and credits are 0."""

    videos: int
    credits: int
    seconds: float
    issues: tuple[dict, ...] = ()
    options: dict = field(default_factory=dict)
    # Asking for ads: each ad confirm makes (row, sku, market, platform, seconds, credits, …), and the row issues
    # of the products that get none (not made, nothing reserved; the others still go).
    ads: tuple[dict, ...] = ()
    skipped: tuple[dict, ...] = ()

    @property
    def confirmable(self) -> bool:
        return not self.issues

    @property
    def issue_rows(self) -> int:
        return len({i["row"] for i in self.issues if i["row"]})


def _matrix_issues(exc: MatrixInvalid, lines: list[int], issues: list[dict]) -> None:
    for column, messages in exc.fields.items():
        for message in map(str, messages):
            if column in ROW_COLUMNS:
                issues += [{"row": line, "column": column, "code": exc.code, "message": message} for line in lines]
            else:  # about the options themselves (platform, captions, resolution, size): once, as row 0
                issue = {"row": 0, "column": column, "code": exc.code, "message": message}
                if issue not in issues:
                    issues.append(issue)


def _plan(imp: CatalogImport, options: dict) -> ImportEstimate:
    """The one expansion of the valid rows into videos, for the estimate and for confirm: rows grouped by their
    matrix (markets, scenes, formats, lengths), each group expanded by generation.services._expand, the very
    function submit_batch expands a group with, and checked by the same rules; a price tag needs a price in the
    row or on the product already stored under the SKU. A row's photos are counted as confirm stores them: one
    photo per distinct image (checksum)."""
    lines_by_key: dict[tuple, list[int]] = {}
    photos_by_key: dict[tuple, int] = {}
    unpriced: list[tuple[int, str]] = []
    captions = options.get("captions") or {}
    wants_price = bool(captions.get("enabled")) and bool(captions.get("price"))
    valid = imp.rows.filter(status=Row.Status.VALID).order_by("position")
    for line, data, sku, price, photos in valid.values_list("line", "data", "sku", "price", "photos").iterator(
        chunk_size=CHUNK_ROWS
    ):
        key = _matrix_key(data)
        lines_by_key.setdefault(key, []).append(line)
        photos_by_key[key] = photos_by_key.get(key, 0) + len({p["checksum"] for p in photos})
        if wants_price and not (price and _price(price) is not None):
            unpriced.append((line, sku))
    issues: list[dict] = []
    videos = credits = 0
    seconds = 0.0
    for key, lines in lines_by_key.items():
        try:
            expanded = _expand(
                organization=imp.organization, matrix=_matrix(options, key), photo_count=photos_by_key[key]
            )
        except MatrixInvalid as exc:
            _matrix_issues(exc, lines, issues)
            continue
        # Each photo of the group gets every variant: the group's price is one photo's times its photo count.
        one_photo = pricing.estimate((v.engine, v.resolution, v.seconds) for v in expanded)
        videos += one_photo.videos * photos_by_key[key]
        credits += one_photo.credits * photos_by_key[key]
        seconds += one_photo.seconds * photos_by_key[key]
    if unpriced:
        priced = set(
            Product.objects.filter(
                organization_id=imp.organization_id, sku__in=[sku for _line, sku in unpriced], price__isnull=False
            ).values_list("sku", flat=True)
        )
        message = _("A price tag needs the product's price: this row has none.")
        issues += [
            {"row": line, "column": "price", "code": "caption_price_missing", "message": message}
            for line, sku in unpriced
            if sku not in priced
        ]
    if not issues and videos > max_videos_per_batch():
        message = _("This would make %(count)d videos; at most %(max)d per batch.") % {
            "count": videos,
            "max": max_videos_per_batch(),
        }
        issues.append({"row": 0, "column": "matrix", "code": MatrixInvalid.code, "message": message})
    if issues:
        return ImportEstimate(0, 0, 0.0, tuple(sorted(issues, key=lambda i: i["row"])), options)
    return ImportEstimate(videos, credits, seconds, (), options)


def _plan_ads(imp: CatalogImport, options: dict) -> tuple[ImportEstimate, list[import_ads.PlannedAd]]:
    """The ads' estimate: every product's ad per market quoted by the ads service; when no product can have one,
    their issues refuse the confirm."""
    planned, skipped = import_ads.plan_ads(imp, options)
    if not planned:
        issues = skipped or [
            {"row": 0, "column": "rows", "code": "no_valid_rows", "message": _("No row can be imported.")}
        ]
        return ImportEstimate(0, 0, 0.0, tuple(issues), options, (), tuple(skipped)), []
    if len(planned) > max_videos_per_batch():
        message = _("This would make %(count)d videos; at most %(max)d per batch.") % {
            "count": len(planned),
            "max": max_videos_per_batch(),
        }
        issue = {"row": 0, "column": "matrix", "code": MatrixInvalid.code, "message": message}
        return ImportEstimate(0, 0, 0.0, (issue,), options, (), tuple(skipped)), []
    seconds = sum(float(ad.options.seconds) for ad in planned)
    credits = sum(ad.credits for ad in planned)
    ads = tuple(ad.as_dict() for ad in planned)
    return ImportEstimate(len(planned), credits, seconds, (), options, ads, tuple(skipped)), planned


def _plan_for(imp: CatalogImport, options: dict) -> ImportEstimate:
    return _plan_ads(imp, options)[0] if import_ads.wants_ads(options) else _plan(imp, options)


def estimate_import(catalog_import: CatalogImport, video_options: VideoOptions | None = None) -> ImportEstimate:
    """The price shown before a confirm: what confirm_import with these video options would make (the same
    expansion, _plan), or the issues that would refuse it. Raises ImportNotConfirmable when the import is not
    ready (still checking images, failed, or already confirmed)."""
    imp = catalog_import
    if imp.status == CatalogImport.Status.CONFIRMED:
        raise ImportNotConfirmable(_("This import is already confirmed: see its batch."), "import_confirmed")
    if imp.status != CatalogImport.Status.READY:
        raise ImportNotConfirmable(_("This import is not ready to be confirmed."), "import_not_ready")
    return _plan_for(imp, _with_video_options(imp, video_options))


def confirm_import(
    *,
    catalog_import: CatalogImport,
    user=None,
    video_options: VideoOptions | None = None,
    expected_credits: int | None = None,
) -> Batch:
    """One transaction: upsert the valid rows' products (by SKU) and photos (by checksum), then ONE Batch through
    submit_batch. Confirming twice returns the same batch; a refusal (credits, limits, rows that break the
    platform or caption options) leaves nothing behind. The options are kept in `options` with the import.

    The batch is what estimate_import gives for the same options (both go through _plan). `expected_credits`,
    the price the merchant was shown, must still be the price (a market's platforms may have been edited since),
    and the jobs submitted must add up to it: otherwise nothing is made (`price_changed`)."""
    with transaction.atomic():
        imp = CatalogImport.objects.select_for_update().get(
            pk=catalog_import.pk, organization_id=catalog_import.organization_id
        )
        if imp.status == CatalogImport.Status.CONFIRMED and imp.batch_id:
            return imp.batch
        if imp.status != CatalogImport.Status.READY:
            raise ImportNotConfirmable(_("This import is not ready to be confirmed."), "import_not_ready")
        options = _with_video_options(imp, video_options)
        wants_ads = import_ads.wants_ads(options)
        planned, planned_ads = _plan_ads(imp, options) if wants_ads else (_plan(imp, options), [])
        if planned.issues:
            raise refusal(list(planned.issues))
        if expected_credits is not None and expected_credits != planned.credits:
            raise ImportNotConfirmable(
                _(
                    "The price changed since it was shown: it is now %(credits)d credits. Nothing was made; look at "
                    "the new price and confirm again."
                )
                % {"credits": planned.credits},
                "price_changed",
            )
        imp.options = options
        groups: dict[tuple, list[Photo]] = {}
        photos_by_row: dict[int, list[Photo]] = {}
        rows = imp.rows.filter(status=Row.Status.VALID).order_by("position")
        chunk: list[Row] = []
        for row in rows.iterator(chunk_size=CHUNK_ROWS):
            chunk.append(row)
            if len(chunk) >= CHUNK_ROWS:
                _upsert_chunk(imp, chunk, groups, photos_by_row)
                chunk = []
        _upsert_chunk(imp, chunk, groups, photos_by_row)
        name = _("CSV import: %(name)s") % {"name": imp.original_name or imp.pk}
        try:
            if wants_ads:
                batch = submit_ads(
                    organization=imp.organization,
                    user=user,
                    source=Batch.Source.CSV,
                    name=name,
                    requests=import_ads.ad_requests(planned_ads, photos_by_row),
                )
                import_ads.record_skipped(imp, planned.skipped)
            else:
                batch = submit_batch(
                    organization=imp.organization,
                    user=user,
                    photos=[],
                    matrix=None,
                    source=Batch.Source.CSV,
                    name=name,
                    groups=[(photos, _matrix(options, key)) for key, photos in groups.items()],
                )
        except BadInputError as exc:
            transaction.set_rollback(True)
            raise ImportNotConfirmable(exc.message, exc.code, getattr(exc, "fields", None)) from exc
        made = batch.jobs.aggregate(videos=Count("id"), credits=Sum("credits"))
        if (made["videos"], made["credits"] or 0) != (planned.videos, planned.credits):
            transaction.set_rollback(True)
            logger.error("import %s: planned %s, submitted %s", imp.pk, planned, made)
            raise ImportNotConfirmable(
                _("The price changed while confirming; nothing was made. Look at the new price and confirm again."),
                "price_changed",
            )
        imp.batch = batch
        imp.status = CatalogImport.Status.CONFIRMED
        imp.confirmed_at = timezone.now()
        imp.save(update_fields=["batch", "status", "confirmed_at", "options", "updated_at"])
    return batch


def refusal(issues: list[dict], *, estimating: bool = False) -> ImportNotConfirmable:
    """One error for every row the options rule out: the first row's reason in the message, each row in
    `.issues` (the row report's shape) and `.fields` per option. The same code for the estimate and the confirm;
    only the message's opening differs (nothing was confirmed yet when estimating)."""
    codes = {i["code"] for i in issues}
    rows = sorted({i["row"] for i in issues if i["row"]})
    first = issues[0]
    if first["row"] == 0:
        message = first["message"]
    elif estimating:
        message = ngettext(
            "Cannot be confirmed with these options: %(count)d row breaks them. Row %(row)d: %(message)s",
            "Cannot be confirmed with these options: %(count)d rows break them. Row %(row)d: %(message)s",
            len(rows),
        ) % {"count": len(rows), "row": first["row"], "message": first["message"]}
    else:
        message = ngettext(
            "Not confirmed: %(count)d row breaks the chosen options. Row %(row)d: %(message)s",
            "Not confirmed: %(count)d rows break the chosen options. Row %(row)d: %(message)s",
            len(rows),
        ) % {"count": len(rows), "row": first["row"], "message": first["message"]}
    fields: dict[str, list[str]] = {}
    for issue in issues[:MAX_OPTION_ISSUES]:
        text = issue["message"]
        if issue["row"]:
            text = _("Row %(row)d: %(message)s") % {"row": issue["row"], "message": text}
        fields.setdefault(issue["column"], []).append(text)
    return ImportNotConfirmable(
        message, codes.pop() if len(codes) == 1 else MatrixInvalid.code, fields, issues[:MAX_OPTION_ISSUES]
    )


def _price(text: str) -> Decimal | None:
    try:
        return Decimal(text.replace(",", ".")).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        return None


def _upsert_chunk(
    imp: CatalogImport, rows: list[Row], groups: dict[tuple, list[Photo]], photos_by_row: dict[int, list[Photo]]
) -> None:
    if not rows:
        return
    org_id = imp.organization_id
    products = {p.sku: p for p in Product.objects.filter(organization_id=org_id, sku__in=[r.sku for r in rows])}
    new = [
        Product(
            organization_id=org_id,
            sku=r.sku,
            title=r.title,
            category=r.category or "other",
            price=_price(r.price) if r.price else None,
        )
        for r in rows
        if r.sku not in products
    ]
    for p in Product.objects.bulk_create(new):
        products[p.sku] = p
    changed = []
    for r in rows:
        p = products[r.sku]
        price = _price(r.price) if r.price else p.price
        if (p.title, p.category, p.price) != (r.title, r.category or p.category, price):
            p.title, p.category, p.price = r.title, r.category or p.category, price
            changed.append(p)
        for language, title in (r.data.get("titles") or {}).items():
            set_localized_title(product=p, language=language, title=title)  # checked in validation
    if changed:
        Product.objects.bulk_update(changed, ["title", "category", "price", "updated_at"])
    product_ids = [products[r.sku].pk for r in rows]
    existing = {
        (ph.product_id, ph.checksum): ph
        for ph in Photo.objects.filter(organization_id=org_id, product_id__in=product_ids)
    }
    for r in rows:
        product = products[r.sku]
        r.product = product
        photos = []
        for staged in r.photos:
            photo = existing.get((product.pk, staged["checksum"]))
            if photo is None:
                photo = Photo(
                    organization_id=org_id,
                    product=product,
                    original_name=staged["original_name"][:255],
                    width=staged["width"],
                    height=staged["height"],
                    checksum=staged["checksum"],
                    mask_source=staged["mask_source"],
                    cutout_confidence=staged.get("cutout_confidence"),
                    cutout_needs_review=bool(staged.get("cutout_needs_review")),
                )
                photo.file.name = staged["file"]  # the staged file becomes the photo's file; no copy
                photo.mask.name = staged["mask"]
                photo.save()
                existing[(product.pk, staged["checksum"])] = photo
            photos.append(photo)
        groups.setdefault(_matrix_key(r.data), []).extend(photos)
        photos_by_row[r.line] = photos
    Row.objects.bulk_update(rows, ["product"])


def discard_import(*, catalog_import: CatalogImport) -> None:
    """Delete an import that was not confirmed, with its staged files (a confirmed one is kept: its photos use
    the staged files)."""
    if catalog_import.status == CatalogImport.Status.CONFIRMED:
        raise ImportNotConfirmable(_("A confirmed import cannot be discarded."), "import_confirmed")
    names = [catalog_import.file.name, catalog_import.images_zip.name, catalog_import.fix_zip.name]
    for photos in catalog_import.rows.values_list("photos", flat=True).iterator(chunk_size=CHUNK_ROWS):
        names += [n for p in photos for n in (p.get("file"), p.get("mask"))]
    catalog_import.delete()
    transaction.on_commit(lambda: _delete_files(n for n in names if n))
