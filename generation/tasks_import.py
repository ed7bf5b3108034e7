"""Celery task of the catalogue import: thin, takes the import id and calls the service (images are fetched and
checked here, in a worker, never in the web request)."""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError


@shared_task(
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
    from generation.imports import services

    services.process_import(int(import_id))
