"""Signals the generation services send after commit, so billing and outgoing webhooks can hook in."""

from __future__ import annotations

from django.dispatch import Signal

# Sent after commit, so billing (reserve/capture/release) and outgoing webhooks can hook in without this module
# importing them. `job_finished` carries the final state: succeeded (capture), failed/canceled (release).
batch_submitted = Signal()  # sender=Batch, batch=..., jobs=[Job]
job_finished = Signal()  # sender=Job, job=..., state=...
job_requeued = Signal()  # sender=Job, job=... (retry_job)
