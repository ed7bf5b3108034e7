"""Email notifications: a batch is finished, a batch has videos to review, the credits are running low.

The receivers (finished jobs, billing's `credits_low`) call the `queue_*` hooks; they hand an id to a thin Celery
task on the `events` queue after the transaction commits (never from a rolled-back one). The task calls
`send_batch_notifications` or `send_credits_low`, which mail every member of the organization whose
NotificationSettings enable that kind, in the member's language, as plain text with an HTML alternative.

Each email is sent once per event: a NotificationSent row (unique user + kind + event key) is written in the
transaction that sends it. A duplicate task delivery or a second check of the same event finds the row and sends
nothing; a failed send rolls its row back, so the task's retry sends it then.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from generation.models import Batch, Job, Video
from shop_video.merchants.models import Membership, NotificationSent, NotificationSettings, Organization

logger = logging.getLogger(__name__)

Kind = NotificationSent.Kind


class NotificationsNotSent(Exception):
    """Some emails of an event could not be handed to the mail server; the task retries (sent ones are skipped)."""


# --- recipients and language --------------------------------------------------------------------------------------


def site_url() -> str:
    """Links in emails are absolute; the worker has no request to take the host from."""
    return str(getattr(settings, "SHOPVIDEO_SITE_URL", "") or "http://localhost:8000").rstrip("/")


def recipients(organization: Organization, kind: str) -> list[AbstractBaseUser]:
    """Active members with an email address whose settings enable `kind` (no settings row: everything on)."""
    members = (
        Membership.objects.filter(organization=organization, user__is_active=True)
        .exclude(user__email="")
        .select_related("user")
        .order_by("user__email")
    )
    users = [m.user for m in members]
    rows = {row.user_id: row for row in NotificationSettings.objects.filter(user__in=users)}
    return [u for u in users if u.pk not in rows or getattr(rows[u.pk], kind)]


def language_of(user: AbstractBaseUser) -> str:
    row = NotificationSettings.objects.filter(user=user).only("language").first()
    wanted = row.language if row else ""
    return wanted if wanted in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


# --- sending ---------------------------------------------------------------------------------------------------


@dataclass
class Email:
    subject: str
    text: str
    html: str


def render_email(template: str, context: dict) -> Email:
    """`dashboard/email/<template>.{subject.txt,txt,html}` rendered in the active language."""
    context = {"site_url": site_url(), **context}
    subject = " ".join(render_to_string(f"dashboard/email/{template}.subject.txt", context).split())
    return Email(
        subject=subject,
        text=render_to_string(f"dashboard/email/{template}.txt", context),
        html=render_to_string(f"dashboard/email/{template}.html", context),
    )


def send_once(
    *, user: AbstractBaseUser, organization: Organization, kind: str, event_key: str, build: Callable[[], Email]
) -> bool:
    """Send one email unless this user already got this kind for this event; True when it was sent now."""
    try:
        with transaction.atomic():
            # The row first: a concurrent sender of the same event waits on the unique index, then gets the error.
            NotificationSent.objects.create(user=user, organization=organization, kind=kind, event_key=event_key)
            with translation.override(language_of(user)):
                email = build()
            message = EmailMultiAlternatives(email.subject, email.text, settings.DEFAULT_FROM_EMAIL, [user.email])
            message.attach_alternative(email.html, "text/html")
            message.send()
    except IntegrityError:
        return False
    return True


def _send_to_all(users: Iterable, *, organization: Organization, kind: str, event_key: str, build, failed: list) -> int:
    """Each user's email; a failure is logged and appended to `failed` and the others still go out."""
    sent = 0
    for user in users:
        try:
            sent += send_once(user=user, organization=organization, kind=kind, event_key=event_key, build=build)
        except Exception as exc:  # one bad address or a mail server hiccup must not stop the others
            logger.exception("%s email for %s could not be sent to user %s", kind, event_key, user.pk)
            failed.append(exc)
    return sent


def _raise_if_failed(failed: list, event_key: str) -> None:
    if failed:
        raise NotificationsNotSent(f"{len(failed)} emails for {event_key} were not sent") from failed[0]


# --- batch finished / needs review ------------------------------------------------------------------------------


@dataclass
class ReviewItem:
    video: Video
    reasons: list[str]


@dataclass
class BatchSummary:
    batch: Batch
    event_key: str
    total: int
    ready: int
    failed: int
    canceled: int
    review: list[ReviewItem] = field(default_factory=list)

    @property
    def needs_review(self) -> int:
        return len(self.review)


def _ceiling_reason(job: Job) -> str:
    """QA's forecast said 4:2:0 cannot carry this product's detail at the size shown (ADR 0004): say what helps."""
    larger = job.resolution != "720p"
    without_model = job.look_id is not None
    if larger and without_model:
        return _(
            "the product's fine coloured detail is more than web video (H.264, 4:2:0) can carry at this size; "
            "720p, or a shot without a model, shows the product larger"
        )
    if larger:
        return _(
            "the product's fine coloured detail is more than web video (H.264, 4:2:0) can carry at this size; "
            "720p shows the product larger"
        )
    if without_model:
        return _(
            "the product's fine coloured detail is more than web video (H.264, 4:2:0) can carry at this size; "
            "a shot without a model shows the product larger"
        )
    return _(
        "the product's fine coloured detail is more than web video (H.264, 4:2:0) can carry at the largest size "
        "this frame allows; check the video yourself before you approve it"
    )


def review_reasons(video: Video) -> list[str]:
    """Why QA held the video back, from its figures (in the active language), and the note if there is one."""
    reasons = []
    min_psnr, min_ssim = settings.SHOPVIDEO_QA_MIN_PSNR, settings.SHOPVIDEO_QA_MIN_SSIM
    if video.psnr_min is not None and video.psnr_min < min_psnr:
        reasons.append(
            _("the product's sharpness (PSNR) fell to %(value).1f dB; %(min)s dB or more is exact")
            % {"value": video.psnr_min, "min": min_psnr}
        )
    if video.ssim_min is not None and video.ssim_min < min_ssim:
        reasons.append(
            _("the product's shape (SSIM) fell to %(value).3f; %(min)s or more is exact")
            % {"value": video.ssim_min, "min": min_ssim}
        )
    predicted = ((video.metadata or {}).get("fidelity") or {}).get("predicted_psnr")
    if predicted is not None and predicted < min_psnr:
        reasons.append(_ceiling_reason(video.job))
    if video.review_note:
        reasons.append(video.review_note)
    return reasons or [_("the product did not match your photo closely enough")]


def batch_summary(batch: Batch) -> BatchSummary | None:
    """None while a job of the batch is still queued or running. The event key is the batch and the time its last
    job finished: a retried job that finishes later makes a new event, a second check of the same state does not."""
    jobs = list(batch.jobs.all().only("id", "state", "finished_at"))
    if not jobs or any(j.state in Job.ACTIVE_STATES for j in jobs):
        return None
    last = batch.jobs.aggregate(last=Max("finished_at"))["last"]
    review_videos = list(
        Video.objects.filter(organization_id=batch.organization_id, job__batch=batch, review=Video.Review.NEEDS_REVIEW)
        .select_related("job__photo__product", "job__market", "job__scene")
        .order_by("job_id")
    )
    held = {v.job_id for v in review_videos}
    return BatchSummary(
        batch=batch,
        event_key=f"batch:{batch.pk}:{last.isoformat() if last else '-'}",
        total=len(jobs),
        ready=sum(j.state == Job.State.SUCCEEDED and j.pk not in held for j in jobs),
        failed=sum(j.state == Job.State.FAILED and j.pk not in held for j in jobs),
        canceled=sum(j.state == Job.State.CANCELED for j in jobs),
        review=[ReviewItem(video=v, reasons=[]) for v in review_videos],
    )


def _batch_context(summary: BatchSummary) -> dict:
    batch = summary.batch
    for item in summary.review:  # reasons in the language of the email being built
        item.reasons = review_reasons(item.video)
    return {
        "summary": summary,
        "batch_name": batch.name or _("Batch %(id)d") % {"id": batch.pk},
        "shop": batch.organization.name,
        "batch_url": site_url() + reverse("dashboard:batch_detail", args=[batch.pk]),
        "review_url": site_url() + reverse("dashboard:review_queue"),
        "settings_url": site_url() + reverse("dashboard:notifications"),
    }


def send_batch_notifications(batch_id: int) -> int:
    """Both batch emails for a batch whose jobs are all final; the number of emails sent now."""
    batch = Batch.objects.select_related("organization").filter(pk=batch_id).first()
    summary = batch_summary(batch) if batch else None
    if summary is None:
        return 0
    org, failed = batch.organization, []
    sent = _send_to_all(
        recipients(org, Kind.BATCH_FINISHED),
        organization=org,
        kind=Kind.BATCH_FINISHED,
        event_key=summary.event_key,
        build=lambda: render_email("batch_finished", _batch_context(summary)),
        failed=failed,
    )
    if summary.review:
        sent += _send_to_all(
            recipients(org, Kind.NEEDS_REVIEW),
            organization=org,
            kind=Kind.NEEDS_REVIEW,
            event_key=summary.event_key,
            build=lambda: render_email("needs_review", _batch_context(summary)),
            failed=failed,
        )
    _raise_if_failed(failed, summary.event_key)
    return sent


# --- credits low ---------------------------------------------------------------------------------------------------


def credits_low_key(organization_id: int) -> str:
    """The newest ledger entry when the credits fell below the threshold: every new fall comes after a top-up, a
    later ledger entry, so each fall has its own key; a duplicate of the same fall has the same one."""
    from billing.models import LedgerEntry

    last = LedgerEntry.objects.filter(organization_id=organization_id).aggregate(last=Max("id"))["last"]
    return f"credits:{organization_id}:{last or 0}"


def send_credits_low(organization_id: int, event_key: str) -> int:
    """The credits-low email, unless the credits are no longer low (bought in the meantime)."""
    from billing.models import CreditAccount

    org = Organization.objects.filter(pk=organization_id).first()
    account = CreditAccount.objects.filter(organization_id=organization_id).first()
    threshold = int(settings.SHOPVIDEO_CREDITS_LOW)
    if org is None or account is None or account.available >= threshold:
        return 0
    context = {
        "shop": org.name,
        "available": account.available,
        "threshold": threshold,
        "credits_url": site_url() + reverse("billing:overview"),
        "settings_url": site_url() + reverse("dashboard:notifications"),
    }
    failed: list = []
    sent = _send_to_all(
        recipients(org, Kind.CREDITS_LOW),
        organization=org,
        kind=Kind.CREDITS_LOW,
        event_key=event_key,
        build=lambda: render_email("credits_low", context),
        failed=failed,
    )
    _raise_if_failed(failed, event_key)
    return sent


# --- hooks (called by the receivers) -------------------------------------------------------------------------------


def _enqueue(task, *args) -> None:
    try:
        task.apply_async(
            args,
            queue="cpu",
            retry=True,
            retry_policy={"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5, "interval_max": 1.0},
        )
    except Exception:
        # A broker outage must never break the job path or a payment; the email is lost, the pages still show it.
        logger.exception("could not queue notification task %s%r", task.name, args)


def queue_batch_notifications(batch_id: int) -> None:
    """After commit: the batch emails (the service checks again that the batch is finished)."""
    from . import tasks

    transaction.on_commit(lambda: _enqueue(tasks.send_batch_notifications, batch_id))


def queue_credits_low(organization_id: int) -> None:
    """Inside the billing transaction that took the credits below the threshold; sent after it commits."""
    from . import tasks

    key = credits_low_key(organization_id)
    transaction.on_commit(lambda: _enqueue(tasks.send_credits_low, organization_id, key))
