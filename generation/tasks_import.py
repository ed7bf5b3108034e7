"""Celery task of the catalogue import: thin, takes the import id and calls the service (images are fetched and
checked here, in a worker, never in the web request)."""

from __future__ import annotations

from celery import Task, shared_task
from django.db import InterfaceError, OperationalError


class _ImportTask(Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        """Retries spent (or an error the service did not turn into a row issue): the import must not stay in
        `fetching` for ever; it fails with `import_processing_failed`, which "check again" resumes."""
        from generation.imports import processing

        processing.fail_processing(int(args[0]))


@shared_task(
    base=_ImportTask,
    name="generation.tasks_import.process_catalog_import",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=2,
    retry_backoff_max=60,
    max_retries=5,
    ignore_result=True,
)
def process_catalog_import(import_id: int) -> None:
    from generation.imports import processing

    processing.process_import(int(import_id))
