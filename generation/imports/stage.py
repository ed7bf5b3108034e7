"""Staging an import: upload, parse and validate, streaming; the same file (CSV + zip, by SHA-256) is the same
import."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction

from generation.models import (
    CatalogImport,
    MarketPreset,
    Scene,
)
from generation.presets import MARKETS_BY_SLUG
from generation.services.products import _clean_filename
from generation.services.storage import _delete_files

from . import formats, reader, zipimages
from .options import CHUNK_ROWS, Row, clean_options, max_rows
from .validate import Context, extension_issues, issue_dict, validate_row

if TYPE_CHECKING:
    from shop_video.merchants.models import Organization

logger = logging.getLogger(__name__)


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
        original_name=_clean_filename(filename)[:255],
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
        _delete_files(stored)
        found = CatalogImport.objects.filter(organization=organization, checksum=checksum).first()
        if found is None:
            raise
        return found  # a concurrent upload of the same file won
    except BaseException:
        _delete_files(stored)
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
