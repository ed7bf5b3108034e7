"""Catalogue import services: stage (parse + validate, streaming) → fetch images (worker) → report → confirm
into ONE Batch. Idempotent: the same file (CSV + zip, by SHA-256) is the same import, and products are upserted
by SKU, photos by checksum, so a re-upload duplicates neither products nor jobs.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from billing import pricing
from generation import services as gen_services
from generation.constants import ASPECT_RATIOS, ENGINES, MAX_SECONDS, MIN_SECONDS, RESOLUTIONS
from generation.market_services import set_localized_title
from generation.models import (
    Batch,
    CatalogImport,
    CatalogImportRow,
    MarketPreset,
    Photo,
    Product,
    Scene,
)
from generation.presets import MARKETS_BY_SLUG
from shop_video.core.errors import BadInputError

from . import formats, reader, zipimages
from .processing import finish_processing as finish_processing  # the worker's half, called through here
from .processing import process_import as process_import
from .validate import Context, extension_issues, issue_dict, validate_row

if TYPE_CHECKING:
    from shop_video.merchants.models import Organization

logger = logging.getLogger(__name__)

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

    def as_options(self) -> dict:
        return {
            "platform": self.platform,
            "looks": list(self.looks),
            "captions": {"enabled": self.captions, "price": self.caption_price, "cta": self.caption_cta},
        }


def max_rows() -> int:
    return int(getattr(settings, "SHOPVIDEO_IMPORT_MAX_ROWS", 100_000))


# --- options ------------------------------------------------------------------------------------------------------


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


# --- stage: upload, parse, validate -------------------------------------------------------------------------------


def _chunks(upload) -> Iterator[bytes]:
    if isinstance(upload, bytes | bytearray):
        yield bytes(upload)
        return
    if hasattr(upload, "seek"):
        upload.seek(0)
    if hasattr(upload, "chunks"):
        yield from upload.chunks()
    else:
        while chunk := upload.read(1024 * 1024):
            yield chunk
    if hasattr(upload, "seek"):
        upload.seek(0)


def file_checksum(csv_upload, zip_upload=None) -> str:
    digest = hashlib.sha256()
    for chunk in _chunks(csv_upload):
        digest.update(chunk)
    if zip_upload is not None:
        inner = hashlib.sha256()
        for chunk in _chunks(zip_upload):
            inner.update(chunk)
        digest.update(b"\x00zip\x00" + inner.digest())
    return digest.hexdigest()


def _as_file(upload, name: str):
    if isinstance(upload, bytes | bytearray):
        return ContentFile(bytes(upload), name=name)
    if hasattr(upload, "seek"):
        upload.seek(0)
    return upload


def stage_import(
    *,
    organization: Organization,
    csv_upload,
    filename: str = "catalogue.csv",
    zip_upload=None,
    options: dict | None = None,
    user=None,
) -> CatalogImport:
    """Store the upload and validate every row (streaming); images are checked by a worker after commit.

    The same file (and zip) uploaded again returns the existing import: nothing is parsed, staged or queued twice.
    """
    cleaned = clean_options(options)
    checksum = file_checksum(csv_upload, zip_upload)
    existing = CatalogImport.objects.filter(organization=organization, checksum=checksum).first()
    if existing is not None:
        return existing
    imp = CatalogImport(
        organization=organization,
        created_by=user if getattr(user, "is_authenticated", False) else None,
        original_name=gen_services._clean_filename(filename)[:255],
        checksum=checksum,
        options=cleaned,
        status=CatalogImport.Status.FETCHING,
    )
    stored: list[str] = []
    try:
        imp.file.save("source.csv", _as_file(csv_upload, "source.csv"), save=False)
        stored.append(imp.file.name)
        if zip_upload is not None:
            imp.images_zip.save("images.zip", _as_file(zip_upload, "images.zip"), save=False)
            stored.append(imp.images_zip.name)
        with transaction.atomic():
            imp.save()
            _parse(imp)
            if imp.status == CatalogImport.Status.FETCHING:
                transaction.on_commit(lambda: enqueue_processing(imp.pk))
    except IntegrityError:
        gen_services._delete_files(stored)
        found = CatalogImport.objects.filter(organization=organization, checksum=checksum).first()
        if found is None:
            raise
        return found  # a concurrent upload of the same file won
    except BaseException:
        gen_services._delete_files(stored)
        raise
    return imp


def enqueue_processing(import_id: int) -> None:
    from generation import tasks_import

    try:
        tasks_import.process_catalog_import.apply_async(
            (import_id,),
            retry=True,
            retry_policy={"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5, "interval_max": 1.0},
        )
    except Exception:  # the broker is down: the page offers to check the images again
        logger.exception("could not queue catalogue import %s", import_id)


def _fail(imp: CatalogImport, code: str, row: int = 0, column: str = "", **params) -> None:
    imp.file_issues = [*imp.file_issues, issue_dict(row, column, code, **params)]
    imp.status = CatalogImport.Status.FAILED


def _parse(imp: CatalogImport) -> None:
    """Pass 1 streams the CSV into rows (merging multi-line products); pass 2 validates the stored rows in order."""
    ctx = _context(imp)
    if imp.status == CatalogImport.Status.FAILED:
        imp.save()
        return
    with imp.file.open("rb") as fh:
        try:
            _store_drafts(imp, fh, ctx)
        except reader.CsvFileError as exc:
            _fail(imp, exc.code, exc.row, **exc.params)
        except _TooManyRows:
            _fail(imp, "too_many_rows", max=max_rows())
    if imp.status == CatalogImport.Status.FAILED:
        imp.rows.all().delete()  # nothing half-made: a broken file leaves only its report
        imp.rows_total = imp.rows_valid = imp.rows_invalid = 0
        imp.save()
        return
    if imp.rows_total == imp.rows_invalid:
        _fail(imp, "no_valid_rows")
    imp.save()


def _context(imp: CatalogImport) -> Context:
    ctx = Context(
        fmt="",
        markets={m for m in MarketPreset.objects.values_list("slug", flat=True) if m in MARKETS_BY_SLUG},
        scenes=set(Scene.objects.values_list("slug", flat=True)),
        options=imp.options,
    )
    if imp.images_zip:
        try:
            with imp.images_zip.open("rb") as fh:
                index = zipimages.inspect_zip(fh)
        except zipimages.ZipRefused as exc:
            _fail(imp, exc.code, 0, "zip", **exc.params)
            return ctx
        ctx.zip_names = index.names
        for name in index.unsafe[:50]:
            imp.file_issues = [*imp.file_issues, issue_dict(0, "zip", "zip_unsafe_name", name=name)]
    return ctx


class _TooManyRows(Exception):
    pass


def _draft_data(d: formats.Draft) -> dict:
    return {
        "titles": d.titles,
        "lists": d.lists,
        "images": [i.as_dict() for i in d.images],
        "texts": [list(t) for t in d.texts if t[2]],
        "orphan": bool(d.extends or (not d.group_key and d.issues and d.issues[0].code == "missing_handle")),
    }


def _to_row(imp: CatalogImport, position: int, d: formats.Draft) -> Row:
    return Row(
        catalog_import=imp,
        position=position,
        line=d.line,
        group_key=d.group_key[:300],
        sku=d.sku[:300],
        title=d.title[:500],
        category=d.category[:20],
        price=d.price[:40],
        data=_draft_data(d),
        issues=[i.as_dict() for i in d.issues],
    )


def _store_drafts(imp: CatalogImport, fh, ctx: Context) -> None:
    """Stream the file into rows, validating each product when its chunk is written (in file order, so the
    first of two equal SKUs wins); lines that join an already written product are merged into its row."""
    records = reader.iter_records(fh)
    try:
        _row, header = next(records)
    except StopIteration:
        raise reader.CsvFileError("empty_file", 0) from None
    fmt = formats.detect(header)
    if fmt is None:
        raise reader.CsvFileError("unknown_format", 1)
    imp.format = ctx.fmt = fmt
    present = {h.strip().lower() for h in header}
    for options in formats.required_columns(fmt):
        if not any(o.lower() in present for o in options):
            raise reader.CsvFileError("missing_column", 1, column=" / ".join(options))

    limit = max_rows()

    def counted() -> Iterator[tuple[int, list[str]]]:
        for row, cells in records:
            if row - 1 > limit:
                raise _TooManyRows
            imp.lines_total = row - 1
            yield row, cells

    keys: dict[str, int] = {}  # group key → position of its product
    buffer: dict[int, formats.Draft] = {}  # drafts not yet written, by position
    position = 0

    invalid = 0

    def flush() -> None:
        nonlocal invalid
        rows = []
        for pos, d in sorted(buffer.items()):
            row = _to_row(imp, pos, d)
            issues = row.issues if row.data.get("orphan") else validate_row(row, ctx)
            row.data.pop("texts", None)  # only needed for the formula check
            row.status = Row.Status.INVALID if issues else Row.Status.PENDING
            invalid += bool(issues)
            rows.append(row)
        Row.objects.bulk_create(rows, batch_size=CHUNK_ROWS)
        buffer.clear()

    for draft in formats.ADAPTERS[fmt](header, counted()):
        target = keys.get(draft.group_key) if draft.group_key else None
        if target is not None:
            if target in buffer:
                buffer[target].merge(draft)
            else:  # a product already written (lines of one product far apart in the file)
                invalid += _merge_stored(imp, target, draft, ctx)
            continue
        if draft.extends:  # a variation whose parent did not come before it
            draft.issues.append(formats.Issue(draft.line, "Parent", "unknown_parent", {"parent": draft.group_key}))
            draft.group_key = ""
        position += 1
        if draft.group_key:
            keys[draft.group_key] = position
            if draft.lists.get("alias"):
                keys.setdefault(draft.lists["alias"], position)
        buffer[position] = draft
        if len(buffer) >= CHUNK_ROWS:
            flush()
    flush()
    imp.rows_total = position
    imp.rows_invalid = invalid
    imp.rows_valid = 0


def _merge_stored(imp: CatalogImport, position: int, draft: formats.Draft, ctx: Context) -> int:
    """Add a late line to a written product; returns 1 when this turned the product invalid."""
    row = Row.objects.get(catalog_import=imp, position=position)
    images = row.data.get("images", [])
    added = [img.as_dict() for img in draft.images if all(i["value"] != img.value for i in images)]
    row.data["images"] = images + added
    new_issues = [i.as_dict() for i in draft.issues] + extension_issues(added, draft.texts, ctx)
    was_valid = row.status != Row.Status.INVALID
    row.issues = row.issues + new_issues
    if new_issues:
        row.status = Row.Status.INVALID
    row.save(update_fields=["data", "issues", "status"])
    return int(was_valid and bool(new_issues))


# --- estimate and confirm -----------------------------------------------------------------------------------------


def _matrix_key(row_data: dict) -> tuple:
    m = row_data.get("matrix") or {}
    return tuple(tuple(m.get(k) or ()) for k in ("markets", "scenes", "aspect_ratios", "seconds"))


def _matrix(options: dict, key: tuple) -> gen_services.VariantMatrix:
    """The batch matrix of the rows that share `key` (their markets, scenes, formats, lengths), with the import's
    options (resolution, engine) and the confirm's video options (platform, captions)."""
    markets, scenes, aspects, seconds = key
    captions = options.get("captions") or {}
    return gen_services.VariantMatrix(
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

    @property
    def confirmable(self) -> bool:
        return not self.issues

    @property
    def issue_rows(self) -> int:
        return len({i["row"] for i in self.issues if i["row"]})


def _matrix_issues(exc: gen_services.MatrixInvalid, lines: list[int], issues: list[dict]) -> None:
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
            expanded = gen_services._expand(
                organization=imp.organization, matrix=_matrix(options, key), photo_count=photos_by_key[key]
            )
        except gen_services.MatrixInvalid as exc:
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
    if not issues and videos > gen_services.max_videos_per_batch():
        message = _("This would make %(count)d videos; at most %(max)d per batch.") % {
            "count": videos,
            "max": gen_services.max_videos_per_batch(),
        }
        issues.append({"row": 0, "column": "matrix", "code": gen_services.MatrixInvalid.code, "message": message})
    if issues:
        return ImportEstimate(0, 0, 0.0, tuple(sorted(issues, key=lambda i: i["row"])), options)
    return ImportEstimate(videos, credits, seconds, (), options)


def estimate_import(catalog_import: CatalogImport, video_options: VideoOptions | None = None) -> ImportEstimate:
    """The price shown before a confirm: what confirm_import with these video options would make (the same
    expansion, _plan), or the issues that would refuse it. Raises ImportNotConfirmable when the import is not
    ready (still checking images, failed, or already confirmed)."""
    imp = catalog_import
    if imp.status == CatalogImport.Status.CONFIRMED:
        raise ImportNotConfirmable(_("This import is already confirmed: see its batch."), "import_confirmed")
    if imp.status != CatalogImport.Status.READY:
        raise ImportNotConfirmable(_("This import is not ready to be confirmed."), "import_not_ready")
    return _plan(imp, _with_video_options(imp, video_options))


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
        planned = _plan(imp, options)
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
        rows = imp.rows.filter(status=Row.Status.VALID).order_by("position")
        chunk: list[Row] = []
        for row in rows.iterator(chunk_size=CHUNK_ROWS):
            chunk.append(row)
            if len(chunk) >= CHUNK_ROWS:
                _upsert_chunk(imp, chunk, groups)
                chunk = []
        _upsert_chunk(imp, chunk, groups)
        try:
            batch = gen_services.submit_batch(
                organization=imp.organization,
                user=user,
                photos=[],
                matrix=None,
                source=Batch.Source.CSV,
                name=_("CSV import: %(name)s") % {"name": imp.original_name or imp.pk},
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
        message, codes.pop() if len(codes) == 1 else gen_services.MatrixInvalid.code, fields, issues[:MAX_OPTION_ISSUES]
    )


def _price(text: str) -> Decimal | None:
    try:
        return Decimal(text.replace(",", ".")).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        return None


def _upsert_chunk(imp: CatalogImport, rows: list[Row], groups: dict[tuple, list[Photo]]) -> None:
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
    Row.objects.bulk_update(rows, ["product"])


def discard_import(*, catalog_import: CatalogImport) -> None:
    """Delete an import that was not confirmed, with its staged files (a confirmed one is kept: its photos use
    the staged files)."""
    if catalog_import.status == CatalogImport.Status.CONFIRMED:
        raise ImportNotConfirmable(_("A confirmed import cannot be discarded."), "import_confirmed")
    names = [catalog_import.file.name, catalog_import.images_zip.name]
    for photos in catalog_import.rows.values_list("photos", flat=True).iterator(chunk_size=CHUNK_ROWS):
        names += [n for p in photos for n in (p.get("file"), p.get("mask"))]
    catalog_import.delete()
    transaction.on_commit(lambda: gen_services._delete_files(n for n in names if n))
