"""The worker's half of a catalogue import: fetch (or unzip) and check every image of the pending rows, then
turn the import READY or FAILED.

The files are untrusted, so a failure while reading one image (a damaged or encrypted zip member, an image
that cannot be decoded, anything else raised for it) is a row-level issue with a stable code, and the import
always reaches a final status: a run that stops on an unexpected error marks the import FAILED with
`import_processing_failed`, which the dashboard's "check again" resumes. Database errors are not caught here:
the task retries them, and marks the import failed when it gives up (generation.tasks_import).
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import DatabaseError, transaction

from generation import photo_cutouts
from generation.models import CatalogImport, CatalogImportRow, unguessable_part
from generation.services.errors import PhotoRejected
from generation.services.products import _prepare_photo, _PreparedPhoto
from generation.services.storage import _delete_files

from . import fetch, zipimages
from .validate import issue_dict

logger = logging.getLogger(__name__)

Row = CatalogImportRow
PROCESSING_FAILED = "import_processing_failed"


@dataclass
class _ImageFailure(Exception):
    code: str
    params: dict


def process_import(import_id: int) -> CatalogImport | None:
    """Fetch (or unzip) and check every image of the import's pending rows; resumable and safe to run twice:
    a row is written only while still pending, and the import turns READY when none is left."""
    imp = CatalogImport.objects.filter(pk=import_id).first()
    if imp is None or imp.status != CatalogImport.Status.FETCHING:
        return imp
    try:
        with contextlib.ExitStack() as stack:
            archive = _open_archive(imp.images_zip, stack)
            fixes = _open_archive(imp.fix_zip, stack)
            while True:
                batch = list(imp.rows.filter(status=Row.Status.PENDING).order_by("position")[:50])
                if not batch:
                    break
                for row in batch:
                    _process_row(imp, row, _Sources(archive, fixes))
    except DatabaseError:
        raise  # the task retries these
    except Exception:
        logger.exception("catalogue import %s: processing stopped", import_id)
        return fail_processing(import_id)
    return finish_processing(imp.pk)


Archive = zipimages.ImageArchive | _ImageFailure | None


@dataclass
class _Sources:
    """Where a row's images come from: the import's zip, and the zip uploaded to fix failed rows (looked up
    first, by zipimages.fix_name; an image it lacks comes from its URL or the import's zip as before)."""

    archive: Archive
    fixes: Archive = None


def _open_archive(field, stack: contextlib.ExitStack) -> Archive:
    """One of the import's zips opened once, or the failure every image from it gets when it cannot be opened."""
    if not field:
        return None
    fh = stack.enter_context(field.open("rb"))
    try:
        return zipimages.ImageArchive(fh)
    except zipimages.ZipRefused as exc:
        return _ImageFailure(exc.code, {})


def finish_processing(import_id: int) -> CatalogImport:
    with transaction.atomic():
        imp = CatalogImport.objects.select_for_update().get(pk=import_id)
        if imp.status != CatalogImport.Status.FETCHING or imp.rows.filter(status=Row.Status.PENDING).exists():
            return imp
        imp.rows_valid = imp.rows.filter(status=Row.Status.VALID).count()
        imp.rows_invalid = imp.rows.filter(status=Row.Status.INVALID).count()
        imp.status = CatalogImport.Status.READY if imp.rows_valid else CatalogImport.Status.FAILED
        if not imp.rows_valid:
            imp.file_issues = [*imp.file_issues, issue_dict(0, "", "no_valid_rows")]
        imp.save()
    return imp


def fail_processing(import_id: int) -> CatalogImport | None:
    """A run that could not finish: FAILED with `import_processing_failed` (rows already checked keep their
    result; resume_processing checks the rest)."""
    with transaction.atomic():
        imp = CatalogImport.objects.select_for_update().filter(pk=import_id).first()
        if imp is None or imp.status != CatalogImport.Status.FETCHING:
            return imp
        imp.status = CatalogImport.Status.FAILED
        imp.file_issues = [*imp.file_issues, issue_dict(0, "", PROCESSING_FAILED)]
        imp.save(update_fields=["status", "file_issues", "updated_at"])
    return imp


def can_resume(imp: CatalogImport) -> bool:
    """Whether "check the images again" has something to do: a run that may have been lost (still fetching) or
    one that stopped on an error."""
    stopped = any(issue.get("code") == PROCESSING_FAILED for issue in imp.file_issues or [])
    return imp.status == CatalogImport.Status.FETCHING or (imp.status == CatalogImport.Status.FAILED and stopped)


def resume_processing(imp: CatalogImport) -> bool:
    """Back to FETCHING (a stopped run) and queued again; False when there is nothing to resume."""
    from .stage import enqueue_processing

    with transaction.atomic():
        imp = CatalogImport.objects.select_for_update().get(pk=imp.pk)
        if not can_resume(imp):
            return False
        if imp.status == CatalogImport.Status.FAILED:
            imp.status = CatalogImport.Status.FETCHING
            imp.file_issues = [i for i in imp.file_issues if i.get("code") != PROCESSING_FAILED]
            imp.save(update_fields=["status", "file_issues", "updated_at"])
        transaction.on_commit(lambda: enqueue_processing(imp.pk))
    return True


def _image_bytes(img: dict, sources: _Sources) -> bytes:
    archive = sources.archive
    if isinstance(sources.fixes, zipimages.ImageArchive):
        member = sources.fixes.find(zipimages.fix_name(img))
        if member is not None:
            return _read_member(sources.fixes, member, img)
    if img["kind"] == "url":
        try:
            return fetch.fetch_image(img["value"]).data
        except fetch.FetchError as exc:
            raise _ImageFailure(exc.code, exc.params) from exc
    if isinstance(archive, _ImageFailure):
        raise archive
    if archive is None:
        raise _ImageFailure("no_zip", {})
    return _read_member(archive, zipimages.safe_member_name(img["value"]), img)


def _read_member(archive: zipimages.ImageArchive, name: str | None, img: dict) -> bytes:
    try:
        return archive.read(name)
    except zipimages.MemberTooLarge as exc:
        mb = zipimages.max_image_bytes() // (1024 * 1024)
        raise _ImageFailure("image_too_large_bytes", {"max_mb": mb}) from exc
    except zipimages.MemberUnreadable as exc:
        raise _ImageFailure(exc.code, {"value": img["value"]}) from exc
    except KeyError as exc:
        raise _ImageFailure("image_file_not_found", {"value": img["value"]}) from exc


def _prepared_image(img: dict, archive: _Sources) -> _PreparedPhoto:
    """One image read and checked; every failure is an _ImageFailure (anything unforeseen: image_unreadable)."""
    try:
        data = _image_bytes(img, archive)
        return _prepare_photo(data, img["value"].rsplit("/", 1)[-1] or "photo")
    except _ImageFailure:
        raise
    except PhotoRejected as exc:
        raise _ImageFailure(exc.code, {"message": exc.message}) from exc
    except DatabaseError:
        raise
    except Exception as exc:
        logger.exception("catalogue import: image %r could not be read", img.get("value", "")[:200])
        raise _ImageFailure("image_unreadable", {"value": img["value"]}) from exc


def _process_row(imp: CatalogImport, row: Row, archive: _Sources) -> None:
    issues: list[dict] = []
    staged: list[dict] = []
    stored: list[str] = []
    prefix = f"orgs/{imp.organization_id}/imports/{imp.checksum[:16]}/rows/{row.position}-{unguessable_part()}"
    try:
        for n, img in enumerate(row.data.get("images", [])):
            try:
                prepared = _prepared_image(img, archive)
            except _ImageFailure as exc:
                # `image`: the failing URL or file, shown in the report with the fix (a zip, then a re-check).
                issues.append(issue_dict(img["row"], img["column"], exc.code, **exc.params, image=img["value"]))
                continue
            if prepared.mask_png is None:  # no automatic cutout: the merchant draws a box on the photo page
                issues.append(
                    issue_dict(
                        img["row"],
                        img["column"],
                        photo_cutouts.PHOTO_NEEDS_CUTOUT,
                        message=photo_cutouts.needs_cutout_text(),
                        image=img["value"],
                    )
                )
                continue
            photo_name = default_storage.save(f"{prefix}/{n}-photo.{prepared.ext}", ContentFile(prepared.data))
            stored.append(photo_name)
            mask_name = default_storage.save(f"{prefix}/{n}-mask.png", ContentFile(prepared.mask_png))
            stored.append(mask_name)
            staged.append(
                {
                    "file": photo_name,
                    "mask": mask_name,
                    "checksum": prepared.checksum,
                    "width": prepared.width,
                    "height": prepared.height,
                    "mask_source": prepared.mask_source,
                    "cutout_confidence": prepared.cutout_confidence,
                    "cutout_needs_review": prepared.cutout_needs_review,
                    "original_name": prepared.filename,
                }
            )
        status = Row.Status.INVALID if issues else Row.Status.VALID
        if issues:  # all or nothing per product: a product with a bad image is not imported
            _delete_files(stored)
            stored, staged = [], []
        won = Row.objects.filter(pk=row.pk, status=Row.Status.PENDING).update(
            status=status, issues=row.issues + issues, photos=staged
        )
        if not won:  # another delivery of the task finished this row first
            _delete_files(stored)
    except BaseException:
        _delete_files(stored)
        raise
