"""Which job a log line belongs to: context variables set by the job service, read by the logging filter.

No Django imports: the logging configuration loads this module before the apps are ready."""

from __future__ import annotations

import contextlib
import contextvars
import logging
from collections.abc import Iterator

job_id_var: contextvars.ContextVar[int | None] = contextvars.ContextVar("shopvideo_job_id", default=None)
organization_id_var: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "shopvideo_organization_id", default=None
)
attempt_var: contextvars.ContextVar[int | None] = contextvars.ContextVar("shopvideo_attempt", default=None)


@contextlib.contextmanager
def job_log_context(*, job_id: int, organization_id: int | None = None) -> Iterator[None]:
    """Every log line inside carries this job (and, once known, its organization and attempt)."""
    tokens = [
        (job_id_var, job_id_var.set(job_id)),
        (organization_id_var, organization_id_var.set(organization_id)),
        (attempt_var, attempt_var.set(None)),
    ]
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


def set_job_log_fields(*, organization_id: int | None = None, attempt: int | None = None) -> None:
    if organization_id is not None:
        organization_id_var.set(organization_id)
    if attempt is not None:
        attempt_var.set(attempt)


class JobContextFilter(logging.Filter):
    """Adds job_id, organization_id and attempt (None outside a job) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.job_id = job_id_var.get()
        record.organization_id = organization_id_var.get()
        record.attempt = attempt_var.get()
        return True
