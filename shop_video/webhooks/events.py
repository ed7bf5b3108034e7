"""Event payloads (the `data` of a webhook) built from the job rows, and the job-path hooks that emit them."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Max

from generation.models import Batch, Job, Video

from . import services


def _iso(value) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def video_data(video: Video) -> dict[str, Any]:
    return {
        "id": video.pk,
        "width": video.width,
        "height": video.height,
        "fps": video.fps,
        "frames": video.frames,
        "duration_seconds": video.duration_seconds,
        "size_bytes": video.size_bytes,
        "review": video.review,
        "qa": {
            "passed": video.qa_passed,
            "psnr_min": video.psnr_min,
            "psnr_mean": video.psnr_mean,
            "ssim_min": video.ssim_min,
            "edge_iou": video.edge_iou,
            "flicker": video.flicker,
        },
    }


def job_data(job: Job) -> dict[str, Any]:
    product = job.photo.product
    video = Video.objects.filter(job_id=job.pk).first() if job.state == Job.State.SUCCEEDED else None
    return {
        "id": job.pk,
        "batch": job.batch_id,
        "state": job.state,
        "product": {"id": product.pk, "sku": product.sku, "title": product.title},
        "photo": job.photo_id,
        "market": job.market.slug,
        "scene": job.scene.slug,
        "model_look": job.look.slug if job.look_id else None,
        "aspect_ratio": job.aspect_ratio,
        "resolution": job.resolution,
        "seconds": job.seconds,
        "engine": job.engine,
        "credits": job.credits,
        "attempt": job.attempt,
        "error": {"code": job.error_code, "message": job.error_message} if job.error_code else None,
        "finished_at": _iso(job.finished_at),
        "video": video_data(video) if video else None,
    }


def on_job_finished(job_id: int) -> None:
    job = Job.objects.select_related("photo__product", "market", "scene", "look", "batch").filter(pk=job_id).first()
    if job is None:
        return
    event = {Job.State.SUCCEEDED: "job.succeeded", Job.State.FAILED: "job.failed"}.get(job.state)
    if event:
        services.emit(
            event,
            job.organization_id,
            job_data(job),
            key=f"{event}:{job.pk}:{job.attempt}",
            occurred_at=job.finished_at,
        )
    emit_batch_completed_if_done(job.batch)


def emit_batch_completed_if_done(batch: Batch) -> bool:
    """`batch.completed` once the batch's last job is final. Two workers finishing the last two jobs at once
    may both get here: the key (final state of the batch) makes that one event."""
    if batch.jobs.filter(state__in=Job.ACTIVE_STATES).exists():
        return False
    counts = dict(batch.jobs.values_list("state").annotate(n=Count("id")).values_list("state", "n"))
    last = batch.jobs.aggregate(last=Max("finished_at"))["last"]
    total = sum(counts.values())
    if not total:
        return False
    data = {
        "id": batch.pk,
        "name": batch.name,
        "source": batch.source,
        "jobs": total,
        "succeeded": counts.get(Job.State.SUCCEEDED, 0),
        "failed": counts.get(Job.State.FAILED, 0),
        "canceled": counts.get(Job.State.CANCELED, 0),
        "created_at": _iso(batch.created_at),
        "completed_at": _iso(last),
    }
    key = f"batch.completed:{batch.pk}:{_iso(last)}:{sorted(counts.items())}"
    services.emit("batch.completed", batch.organization_id, data, key=key, occurred_at=last)
    return True
