"""Re-checking the rows whose images failed, optionally with a zip of replacement images.

Only those rows go back to the worker: a row that passed keeps its staged photos and is never fetched again, and
a row with any other issue (a missing title, an unknown market) stays as it is, since only a corrected file fixes
it. The zip's images are matched by file name (`zipimages.fix_name`: the row's image_file, or the last path
segment of its image URL); an image the zip lacks is fetched (or read from the import's zip) again.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from generation.models import CatalogImport, CatalogImportRow
from generation.services.storage import _delete_files

from . import stage, zipimages
from .options import ImportInvalid, ImportNotConfirmable
from .processing import PROCESSING_FAILED
from .validate import MESSAGES, is_image_issue

Row = CatalogImportRow
_RECOMPUTED = {"no_valid_rows", PROCESSING_FAILED}  # file issues the re-check's run states again if still true


def failed_image_rows(imp: CatalogImport):
    """The rows a re-check takes: invalid only because of their images."""
    rows = imp.rows.filter(status=Row.Status.INVALID).exclude(issues=[]).only("pk", "issues")
    return [r.pk for r in rows.iterator(chunk_size=500) if all(is_image_issue(i) for i in r.issues)]


def _check_zip(zip_upload) -> None:
    try:
        if hasattr(zip_upload, "seek"):
            zip_upload.seek(0)
        zipimages.inspect_zip(zip_upload)
    except zipimages.ZipRefused as exc:
        message = str(MESSAGES[exc.code]) % exc.params if exc.params else str(MESSAGES[exc.code])
        raise ImportInvalid(message, exc.code, {"images": [message]}) from exc
    finally:
        if hasattr(zip_upload, "seek"):
            zip_upload.seek(0)


def recheck_failed_rows(*, catalog_import: CatalogImport, zip_upload=None) -> int:
    """Send the rows whose images failed back to the worker (with the zip's images, when given); returns how many.

    Refused: a confirmed import (`import_confirmed`), one still being checked (`import_not_ready`), nothing to
    re-check (`nothing_to_recheck`), an unusable zip (its zip code, nothing changed)."""
    imp = catalog_import
    if imp.status == CatalogImport.Status.CONFIRMED:
        raise ImportNotConfirmable(_("The import is confirmed; its rows cannot be checked again."), "import_confirmed")
    if imp.status == CatalogImport.Status.FETCHING:
        raise ImportNotConfirmable(_("The images are still being checked; wait for the report."), "import_not_ready")
    if not failed_image_rows(imp):
        raise ImportNotConfirmable(_("No row failed because of its images; nothing to re-check."), "nothing_to_recheck")
    if zip_upload is not None:
        _check_zip(zip_upload)
    new_name = ""
    if zip_upload is not None:
        imp.fix_zip.save("fix-images.zip", stage._as_file(zip_upload, "fix-images.zip"), save=False)
        new_name = imp.fix_zip.name
    try:
        with transaction.atomic():
            locked = CatalogImport.objects.select_for_update().get(pk=imp.pk)
            if locked.status not in (CatalogImport.Status.READY, CatalogImport.Status.FAILED):
                raise ImportNotConfirmable(_("The import changed meanwhile; reload it."), "import_not_ready")
            ids = failed_image_rows(locked)
            if not ids:
                raise ImportNotConfirmable(
                    _("No row failed because of its images; nothing to re-check."), "nothing_to_recheck"
                )
            old_name = locked.fix_zip.name if new_name else ""
            if new_name:
                locked.fix_zip.name = new_name
            # The rows' issues were all about images: the worker states them again if they still fail.
            Row.objects.filter(pk__in=ids).update(status=Row.Status.PENDING, issues=[])
            locked.status = CatalogImport.Status.FETCHING
            locked.file_issues = [i for i in locked.file_issues if i.get("code") not in _RECOMPUTED]
            locked.rows_invalid = max(0, locked.rows_invalid - len(ids))
            locked.save(update_fields=["fix_zip", "status", "file_issues", "rows_invalid", "updated_at"])
            transaction.on_commit(lambda: stage.enqueue_processing(locked.pk))
            if old_name and old_name != new_name:
                transaction.on_commit(lambda: _delete_files([old_name]))
    except BaseException:
        if new_name:
            _delete_files([new_name])
        raise
    imp.refresh_from_db()
    return len(ids)
