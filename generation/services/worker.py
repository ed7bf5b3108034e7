"""The worker side: claim, execute, heartbeat, render and commit a job.

The database row is the truth about a job; Celery carries only its id:
- a job is *claimed* by one atomic UPDATE (`state='queued'` → `running`, `attempt + 1`), so a duplicate delivery
  does nothing;
- every later write of a worker is *fenced* by its attempt number, so a worker that was cut off and comes back
  never overwrites a newer attempt;
- results are uploaded under a key of job and attempt and committed in one short transaction.
Workers never hold a transaction while they render (short transactions only).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import shutil
import socket
import threading
import time
from pathlib import Path

import numpy as np
from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import DatabaseError, close_old_connections, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from generation import photo_cutouts
from generation.models import Job, ModelLook, Photo, Video
from generation.pipeline import cutout
from generation.pipeline.errors import BadInputError, JobCanceled, PipelineError
from generation.pipeline.spec import VariantSpec
from generation.presets import LookPreset
from generation.services.dispatch import _dispatch_one, _finished, dispatch_jobs_safely
from generation.services.storage import _delete_files
from shop_video.core.context import job_log_context, set_job_log_fields

logger = logging.getLogger(__name__)


def _work_dir(job_id: int, attempt: int) -> Path:
    return Path(settings.SHOPVIDEO_WORK_DIR) / f"job-{job_id}" / f"attempt-{attempt}"


def _running(job_id: int, attempt: int):
    return Job.objects.filter(id=job_id, attempt=attempt, state=Job.State.RUNNING)


class _JobSpec(VariantSpec):
    """VariantSpec whose model look comes from the database row (organizations edit and add looks)."""

    def __init__(self, *, look_row: ModelLook | None = None, **kwargs):
        super().__init__(**kwargs)
        object.__setattr__(self, "_look_row", look_row)

    @property
    def look_preset(self) -> LookPreset | None:
        row = self._look_row
        if row is None:
            return super().look_preset
        return LookPreset(row.slug, row.name, row.descriptors)


class ProgressReporter:
    """The progress callback: writes progress, stage and heartbeat at most ~2×/s, fenced by attempt; raises
    JobCanceled when the row was canceled or a newer attempt took over. A heartbeat thread keeps the row alive
    through stages that report nothing (encode, QA) so that a slow but alive job is not reaped."""

    def __init__(self, job_id: int, attempt: int):
        self.job_id = job_id
        self.attempt = attempt
        self.stopped = threading.Event()  # the row is no longer ours (canceled or superseded)
        self._done = threading.Event()
        self._last = 0.0
        self._stage = ""
        self._thread: threading.Thread | None = None

    def __call__(self, stage: str, fraction: float) -> None:
        if self.stopped.is_set():
            raise JobCanceled(f"job {self.job_id} attempt {self.attempt} was canceled or superseded")
        now = time.monotonic()
        if stage == self._stage and now - self._last < 0.5:
            return
        self._last, self._stage = now, stage
        fraction = min(1.0, max(0.0, float(fraction)))
        if not _running(self.job_id, self.attempt).update(
            progress=fraction, stage=stage[:20], heartbeat_at=timezone.now()
        ):
            self.stopped.set()
            raise JobCanceled(f"job {self.job_id} attempt {self.attempt} was canceled or superseded")

    def _beat(self) -> None:
        interval = max(0.5, min(10.0, float(settings.SHOPVIDEO_HEARTBEAT_STALE_SECONDS) / 4))
        try:
            while not self._done.wait(interval):
                try:
                    if not _running(self.job_id, self.attempt).update(heartbeat_at=timezone.now()):
                        self.stopped.set()
                        return
                except Exception:
                    logger.warning("heartbeat of job %s failed", self.job_id, exc_info=True)
        finally:
            connection.close()  # this thread's own connection

    def __enter__(self) -> ProgressReporter:
        if connection.in_atomic_block:
            # The beat runs on its own connection, which cannot see rows this transaction has not committed: it
            # would find no running row and stop the job. A job run inside a caller's transaction (in-process, as
            # tests do) keeps its heartbeat through the progress writes above instead.
            return self
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-job-{self.job_id}", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        if self._thread is not None:
            self._thread.join(timeout=30)


def _load_mask(photo: Photo) -> np.ndarray | None:
    if not photo.mask:
        return None
    with photo.mask.open("rb") as fh:
        return cutout.load_mask(fh.read())


def _attempt_prefix(job: Job) -> str:
    probe = Video(organization_id=job.organization_id, job_id=job.pk, attempt=0)
    return os.path.dirname(os.path.dirname(Video._meta.get_field("file").generate_filename(probe, "x")))


def _delete_other_attempts(job: Job, keep_attempt: int | None) -> None:
    """Remove stored files of every attempt of this job but `keep_attempt` (crashed or superseded attempts)."""
    prefix = _attempt_prefix(job)
    try:
        dirs, _files = default_storage.listdir(prefix)
    # Nothing stored yet, or a storage backend without listdir (Django's base Storage raises NotImplementedError).
    except (FileNotFoundError, NotImplementedError, OSError):
        return
    for name in dirs:
        if keep_attempt is not None and name == f"attempt-{keep_attempt}":
            continue
        _delete_tree(f"{prefix}/{name}")


def _delete_tree(prefix: str) -> None:
    try:
        dirs, files = default_storage.listdir(prefix)
    except (FileNotFoundError, OSError):
        return
    _delete_files(f"{prefix}/{f}" for f in files)
    for d in dirs:
        _delete_tree(f"{prefix}/{d}")
    local = getattr(default_storage, "location", None)
    if local:  # FileSystemStorage leaves empty folders behind
        with contextlib.suppress(OSError):
            os.rmdir(Path(local) / prefix)


class _Fenced(Exception):
    """The attempt lost its claim before committing (canceled, or a newer attempt took over)."""


def commit_result(job: Job, attempt: int, result) -> bool:
    """Upload the files under org/job/attempt, then in one short transaction check the fence, create the Video
    and finish the job. Returns False (and removes the uploads) when the fence fails."""
    export = result.export_check or {}  # the pipeline's last stage: enforced only for a platform the job names
    # A video made for a platform whose rules it breaks is kept for review, not delivered, not charged (like QA).
    export_failed = bool(export.get("enforced")) and not export.get("passed", True)
    # A mask its method was not sure of, and the merchant has not checked: held for review like a QA failure.
    photo_cutout = getattr(result, "photo_cutout", None) or {}
    cutout_doubtful = bool(photo_cutout.get("needs_review"))
    passed = bool(result.qa_passed) and not export_failed and not cutout_doubtful
    video = Video(
        organization_id=job.organization_id,
        job=job,
        attempt=attempt,
        width=result.width,
        height=result.height,
        fps=result.fps,
        frames=result.frames,
        duration_seconds=result.duration_seconds,
        size_bytes=Path(result.video_path).stat().st_size,
        psnr_min=_num(result.qa, "psnr_min"),
        psnr_mean=_num(result.qa, "psnr_mean"),
        ssim_min=_num(result.qa, "ssim_min"),
        edge_iou=_num(result.qa, "edge_iou"),
        flicker=_num(result.qa, "flicker"),
        qa_passed=bool(result.qa_passed) and not cutout_doubtful,
        review=Video.Review.READY if passed else Video.Review.NEEDS_REVIEW,
        metadata={
            **{k: v for k, v in result.contract().items() if k != "placements"},
            **({"export_check": export} if export else {}),
            **({"cutout": photo_cutout} if photo_cutout else {}),
        },
    )
    uploaded: list[str] = []
    try:
        for field_name, path, name in (
            ("file", result.video_path, "video.mp4"),
            ("poster", result.poster_path, "poster.jpg"),
            ("preview", result.preview_path, "preview.mp4"),
        ):
            if path and Path(path).exists():
                with open(path, "rb") as fh:
                    getattr(video, field_name).save(name, File(fh), save=False)
                uploaded.append(getattr(video, field_name).name)
        now = timezone.now()
        with transaction.atomic():
            if passed:
                update = {"state": Job.State.SUCCEEDED, "error_code": "", "error_message": ""}
            elif cutout_doubtful:
                update = {
                    "state": Job.State.FAILED,
                    "error_code": "cutout_needs_review",
                    "error_message": _(
                        "The product's cutout in this photo is doubtful (confidence %(confidence).2f): the video is "
                        "kept for review and was not delivered. Check the cutout with the box tool on the photo, "
                        "or approve the video if the product looks right."
                    )
                    % {"confidence": photo_cutout.get("confidence") or 0.0},
                }
            elif result.qa_passed:
                broken = export.get("violations") or []
                update = {
                    "state": Job.State.FAILED,
                    "error_code": "export_check_failed",
                    "error_message": _(
                        "The video breaks the export rules of %(platform)s (%(rules)s): %(details)s. It is kept for "
                        "review and was not delivered."
                    )
                    % {
                        "platform": export.get("platform", ""),
                        "rules": ", ".join(v["rule"] for v in broken),
                        "details": "; ".join(v["message"] for v in broken),
                    },
                }
            else:
                update = {
                    "state": Job.State.FAILED,
                    "error_code": "qa_failed",
                    "error_message": _(
                        "The video did not keep the product faithful enough (PSNR %(psnr).1f dB, SSIM %(ssim).3f); "
                        "it is kept for review and was not delivered."
                    )
                    % {"psnr": video.psnr_min or 0.0, "ssim": video.ssim_min or 0.0},
                }
            if not _running(job.pk, attempt).update(
                progress=1.0, stage="done", heartbeat_at=now, finished_at=now, **update
            ):
                raise _Fenced
            # A video kept for review by an earlier attempt is replaced (OneToOne: one video per job, ever).
            old = list(Video.objects.filter(job_id=job.pk).exclude(attempt=attempt))
            for row in old:
                row.delete()
            video.save()
            _finished([job.pk])
    except _Fenced:
        logger.info("job %s attempt %s lost its claim before commit; discarding its files", job.pk, attempt)
        _delete_files(uploaded)
        _delete_tree(f"{_attempt_prefix(job)}/attempt-{attempt}")  # the folder is this attempt's alone
        return False
    except BaseException:
        _delete_files(uploaded)
        raise
    _delete_other_attempts(job, keep_attempt=attempt)
    # Local work folders of crashed attempts on this machine (a killed worker could not clean up).
    for other in _work_dir(job.pk, attempt).parent.glob("attempt-*"):
        if other.name != f"attempt-{attempt}":
            shutil.rmtree(other, ignore_errors=True)
    return True


def _num(report, name: str) -> float | None:
    value = getattr(report, name, None)
    if value is None and hasattr(report, "summary"):
        value = report.summary().get(name)
    return None if value is None else float(value)


def _fail(job_id: int, attempt: int, code: str, message: str) -> bool:
    now = timezone.now()
    with transaction.atomic():
        changed = _running(job_id, attempt).update(
            state=Job.State.FAILED, error_code=code[:40], error_message=message, finished_at=now, heartbeat_at=now
        )
        if changed:
            _finished([job_id])
    return bool(changed)


def _requeue(job_id: int, attempt: int, code: str, message: str) -> bool:
    """Give a transient failure another attempt, with exponential backoff before it is sent again."""
    with transaction.atomic():
        changed = _running(job_id, attempt).update(
            state=Job.State.QUEUED,
            stage="retrying",
            worker="",
            error_code=code[:40],
            error_message=message,
            queued_at=timezone.now(),
            dispatched_at=None,
        )
    if changed:
        job = Job.objects.only("engine").get(pk=job_id)
        backoff = min(300.0, float(getattr(settings, "SHOPVIDEO_RETRY_BACKOFF_SECONDS", 5.0)) * 2 ** (attempt - 1))
        _dispatch_one(job_id, job.engine, countdown=backoff)
    return bool(changed)


def default_worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def claim_job(*, job_id: int, worker_name: str = "") -> int | None:
    """One atomic UPDATE: queued → running with attempt + 1. Returns the attempt number, or None when there was
    nothing to claim (a duplicate delivery, a canceled or finished job)."""
    now = timezone.now()
    claimed = Job.objects.filter(id=job_id, state=Job.State.QUEUED).update(
        state=Job.State.RUNNING,
        attempt=F("attempt") + 1,
        worker=(worker_name or default_worker_name())[:200],
        started_at=now,
        heartbeat_at=now,
        finished_at=None,
        progress=0.0,
        stage="claimed",
        error_code="",
        error_message="",
    )
    if not claimed:
        return None
    return Job.objects.values_list("attempt", flat=True).get(pk=job_id)


def execute_job(*, job_id: int, worker_name: str = "") -> None:
    """Claim the job (a duplicate delivery finds nothing to claim), render it outside any transaction with a
    fenced progress callback, and commit the result exactly once."""
    # Every log line of the job carries its id, organization and attempt (shop_video.ops, JSON logs).
    with job_log_context(job_id=job_id):
        _execute_job(job_id=job_id, worker_name=worker_name)


def _execute_job(*, job_id: int, worker_name: str) -> None:
    attempt = claim_job(job_id=job_id, worker_name=worker_name)
    if attempt is None:
        logger.info("job %s: nothing to claim (already running, finished or canceled)", job_id)
        return
    job = Job.objects.select_related("photo__product", "market", "scene", "look").get(pk=job_id)
    set_job_log_fields(organization_id=job.organization_id, attempt=attempt)
    logger.info("job %s attempt %s claimed by %s", job_id, attempt, worker_name or default_worker_name())
    work_dir = _work_dir(job_id, attempt)
    try:
        with ProgressReporter(job_id, attempt) as reporter:
            try:
                result = render_job(job, work_dir, reporter)
            except JobCanceled:
                logger.info("job %s attempt %s stopped: canceled or superseded", job_id, attempt)
                return
            except BadInputError as exc:
                _fail(job_id, attempt, exc.code, exc.message)
                return
            except PipelineError as exc:
                if exc.transient and attempt < job.max_attempts:
                    _requeue(job_id, attempt, exc.code, exc.message)
                else:
                    _fail(job_id, attempt, exc.code, exc.message)
                return
            except Exception as exc:
                logger.exception("job %s attempt %s failed unexpectedly", job_id, attempt)
                close_old_connections()
                message = _("The video could not be made because of an internal error (%(kind)s).") % {
                    "kind": type(exc).__name__
                }
                if _is_timeout(exc) or attempt >= job.max_attempts:
                    _fail(job_id, attempt, "timeout" if _is_timeout(exc) else "internal_error", message)
                else:
                    _requeue(job_id, attempt, "internal_error", message)
                return
        try:
            committed = commit_result(job, attempt, result)
        except Exception as exc:
            _storage_failed(job, attempt, exc)
            return
        if committed:
            logger.info("job %s attempt %s committed its video", job_id, attempt)
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
        with contextlib.suppress(OSError):
            work_dir.parent.rmdir()  # only when no other attempt is working here
        dispatch_jobs_safely()


def _storage_failed(job: Job, attempt: int, exc: Exception) -> None:
    """Saving the result failed (storage down or full, or the database at commit): nothing half-written stays
    (the attempt's folder is this attempt's alone), and the job is retried, then fails with a clear code."""
    logger.exception("job %s attempt %s could not store its video", job.pk, attempt)
    close_old_connections()
    try:  # a commit that went through before the error keeps its files
        kept = Video.objects.filter(job_id=job.pk, attempt=attempt).exists()
    except DatabaseError:
        kept = True  # unknown: a later attempt's commit removes the files of every other attempt
    if not kept:
        _delete_tree(f"{_attempt_prefix(job)}/attempt-{attempt}")
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        code, message = "storage_full", _("The video could not be stored: the storage is full.")
    elif isinstance(exc, DatabaseError):
        code = "internal_error"
        message = _("The video could not be saved because of an internal error (%(kind)s).") % {
            "kind": type(exc).__name__
        }
    else:
        code = "storage_unavailable"
        message = _("The video could not be stored: the storage did not accept it (%(kind)s).") % {
            "kind": type(exc).__name__
        }
    if attempt < job.max_attempts:
        _requeue(job.pk, attempt, code, message)
    else:
        _fail(job.pk, attempt, code, message)


def _is_timeout(exc: BaseException) -> bool:
    return type(exc).__name__ in {"SoftTimeLimitExceeded", "TimeLimitExceeded"}


def render_job(job: Job, work_dir: Path, reporter: ProgressReporter):
    from generation.market_services import caption_inputs
    from generation.pipeline.run import run_pipeline

    if work_dir.exists():
        shutil.rmtree(work_dir, ignore_errors=True)
    work_dir.mkdir(parents=True, exist_ok=True)
    if job.format == "ad":
        from generation.services.ads import render_ad_job

        return render_ad_job(job, work_dir, reporter)  # the stored storyboard, as it is
    with job.photo.file.open("rb") as fh:
        photo_bytes = fh.read()
    caption = caption_inputs(product=job.photo.product, market=job.market) if job.captions else {}
    spec = _JobSpec(
        look_row=job.look,
        engine=job.engine,
        market=job.market.slug,
        scene=job.scene.slug,
        look=job.look.slug if job.look else None,
        aspect_ratio=job.aspect_ratio,
        resolution=job.resolution,
        seconds=float(job.seconds),
        fps=job.fps,
        seed=int(job.seed),
        product_title=job.photo.product.title,
        product_category=job.photo.product.category,
        captions=job.captions,
        caption_title=caption.get("caption_title", ""),
        price=caption.get("price") if job.caption_price else None,
        currency=caption.get("currency") if job.caption_price else None,
        cta=caption.get("cta") if job.caption_cta else "",  # None: the market's own call to action; "": none
        platform=job.platform or None,
    )
    reporter("prepare", 0.0)
    photo = job.photo
    result = run_pipeline(
        photo=photo_bytes,
        out_path=work_dir / "video.mp4",
        spec=spec,
        supplied_mask=_load_mask(photo),
        on_progress=reporter,
    )
    # The stored mask reaches the pipeline as a supplied one; whether its method was sure is the photo's to say.
    result.photo_cutout = photo_cutouts.render_report(photo)
    return result
