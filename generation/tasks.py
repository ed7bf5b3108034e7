"""Celery tasks: thin. They take a job id and call the job service; the database row is the truth."""

from __future__ import annotations

import os

from celery import shared_task
from django.db import InterfaceError, OperationalError

from generation.services import deletion, reaper, worker

# Database hiccups before the claim are retried with backoff; everything about the job itself (bad input,
# transient pipeline errors, the attempt budget) is decided by worker.execute_job.
_TRANSIENT = (OperationalError, InterfaceError)
_JOB_TASK = {
    "bind": True,
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": _TRANSIENT,
    "retry_backoff": 2,
    "retry_backoff_max": 60,
    "retry_jitter": True,
    "max_retries": 5,
    "ignore_result": True,
}


@shared_task(name="generation.tasks.run_job_cpu", **_JOB_TASK)
def run_job_cpu(self, job_id: int) -> None:
    worker.execute_job(job_id=int(job_id), worker_name=_worker_name(self))


@shared_task(name="generation.tasks.run_job_gpu", **_JOB_TASK)
def run_job_gpu(self, job_id: int) -> None:
    worker.execute_job(job_id=int(job_id), worker_name=_worker_name(self))


@shared_task(name="generation.tasks.reap_jobs", ignore_result=True, acks_late=False)
def reap_jobs() -> str:
    return str(reaper.reap_jobs())


def _worker_name(task) -> str:
    host = getattr(task.request, "hostname", None) or ""
    return f"{host}:{os.getpid()}" if host else worker.default_worker_name()


# Product deletion: the registered names stay as they were, so messages already queued still find their task.
@shared_task(name="ops.purge_product", ignore_result=True, acks_late=True)
def purge_product(product_id: int) -> int:
    return deletion.purge_product(int(product_id))


@shared_task(name="ops.purge_product_files", ignore_result=True, acks_late=True)
def purge_product_files(organization_id: int, product_id: int, names: list[str], prefixes: list[str], title="") -> int:
    return deletion.purge_product_files(int(organization_id), int(product_id), list(names), list(prefixes), title)
