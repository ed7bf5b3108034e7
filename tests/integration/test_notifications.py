"""Email notifications (batch finished, batch needs review, credits low) through the services and the locmem
backend; one test through a real Celery worker writing files."""

from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from billing import services as billing_services
from generation import services as generation_services
from generation.models import Job, Video
from shop_video.celery import app as celery_app
from shop_video.merchants.models import Membership, NotificationSent, NotificationSettings
from shop_video.notifications import services as notifications
from tests.factories import JobFactory, MembershipFactory, OrganizationFactory, PhotoFactory, UserFactory
from tests.integration.conftest import wait_for

pytestmark = pytest.mark.django_db


def add_member(org, role=Membership.Role.EDITOR, **settings_fields):
    user = UserFactory()
    Membership.objects.create(user=user, organization=org, role=role)
    if settings_fields:
        NotificationSettings.objects.create(user=user, **settings_fields)
    return user


def finish(job: Job, state: str, *, minutes_ago: int = 0) -> Job:
    job.state = state
    job.finished_at = timezone.now() - timedelta(minutes=minutes_ago)
    job.save(update_fields=["state", "finished_at"])
    return job


def video_for(job: Job, *, review: str = Video.Review.READY, **qa) -> Video:
    """A Video row (its files are not read by the emails)."""
    return Video.objects.create(
        organization=job.organization,
        job=job,
        attempt=1,
        file=f"orgs/{job.organization_id}/videos/job-{job.pk}/video.mp4",
        poster=f"orgs/{job.organization_id}/videos/job-{job.pk}/poster.jpg",
        width=640,
        height=640,
        fps=16,
        frames=17,
        duration_seconds=1.0,
        psnr_min=qa.get("psnr_min", 45.0),
        ssim_min=qa.get("ssim_min", 0.99),
        qa_passed=review != Video.Review.NEEDS_REVIEW,
        review=review,
    )


@pytest.fixture
def shop():
    """An organization with an owner (defaults: all emails), an editor who turned batch emails off, a viewer in
    Chinese; and another organization with its own owner."""
    owner = MembershipFactory()
    org = owner.organization
    quiet = add_member(org, batch_finished=False, needs_review=False, credits_low=False)
    chinese = add_member(org, role=Membership.Role.VIEWER, language="zh-hans")
    other = MembershipFactory()
    return {"org": org, "owner": owner.user, "quiet": quiet, "chinese": chinese, "other": other.user}


@pytest.fixture
def finished_batch(shop):
    """Four jobs, all final: one ready video, one held for review, one failed, one canceled."""
    photo = PhotoFactory(product__organization=shop["org"], product__title="Amber glass bottle")
    ready = JobFactory(photo=photo)
    batch = ready.batch
    batch.name = "Spring bottles"
    batch.save(update_fields=["name"])
    held = JobFactory(photo=photo, batch=batch, aspect_ratio="9:16")
    failed = JobFactory(photo=photo, batch=batch)
    canceled = JobFactory(photo=photo, batch=batch)
    finish(ready, Job.State.SUCCEEDED, minutes_ago=3)
    video_for(ready)
    finish(held, Job.State.FAILED, minutes_ago=2)
    video_for(held, review=Video.Review.NEEDS_REVIEW, psnr_min=31.24, ssim_min=0.912)
    finish(failed, Job.State.FAILED, minutes_ago=1)
    finish(canceled, Job.State.CANCELED)
    return batch


def by_kind(subject_part: str) -> list:
    return [m for m in mail.outbox if subject_part in m.subject]


def html_of(message) -> str:
    (html, mimetype), *_rest = message.alternatives
    assert mimetype == "text/html"
    return html


def test_batch_finished_goes_to_members_who_want_it_with_counts_and_link(shop, finished_batch):
    sent = notifications.send_batch_notifications(finished_batch.pk)

    english = by_kind("Batch “Spring bottles” is finished")
    assert [m.to for m in english] == [[shop["owner"].email]]
    body = english[0].body
    assert "Ready to use: 1" in body
    assert "Need your review: 1" in body
    assert "Failed: 1" in body
    assert "Canceled: 1" in body
    assert f"http://localhost:8000/batches/{finished_batch.pk}/" in body
    html = html_of(english[0])
    assert f'href="http://localhost:8000/batches/{finished_batch.pk}/"' in html
    assert ">1</td>" in html and "Spring bottles" in html
    recipients = {address for m in mail.outbox for address in m.to}
    assert shop["quiet"].email not in recipients  # all emails off
    assert shop["other"].email not in recipients  # another organization
    # owner + Chinese viewer, each a "finished" and a "needs review" email
    assert sent == len(mail.outbox) == 4


def test_emails_are_in_the_members_language(shop, finished_batch):
    notifications.send_batch_notifications(finished_batch.pk)

    chinese = [m for m in mail.outbox if m.to == [shop["chinese"].email]]
    assert len(chinese) == 2
    finished = next(m for m in chinese if "Spring bottles" in m.subject and "审核" not in m.subject)
    assert finished.subject == "批次“Spring bottles”已完成"
    assert "可以使用：1" in finished.body
    assert "失败：1" in finished.body
    assert 'lang="zh-hans"' in html_of(finished)
    assert "Ready to use" not in finished.body and "Ready to use" not in html_of(finished)


def test_needs_review_lists_the_videos_with_their_reasons(shop, finished_batch):
    notifications.send_batch_notifications(finished_batch.pk)

    (review,) = by_kind("need your review")
    assert review.to == [shop["owner"].email]
    assert review.subject == "Videos of “Spring bottles” need your review (1)"
    held = Video.objects.get(job__batch=finished_batch, review=Video.Review.NEEDS_REVIEW)
    assert "Amber glass bottle" in review.body and "9:16" in review.body
    assert "PSNR) fell to 31.2 dB; 38.0 dB or more is exact" in review.body
    assert "SSIM) fell to 0.912; 0.95 or more is exact" in review.body
    assert f"http://localhost:8000/videos/{held.pk}/" in review.body
    assert "http://localhost:8000/videos/review/" in html_of(review)
    # The ready video is not listed.
    ready = Video.objects.get(job__batch=finished_batch, review=Video.Review.READY)
    assert f"/videos/{ready.pk}/" not in review.body


def test_a_batch_without_held_videos_sends_no_review_email(shop):
    job = finish(JobFactory(photo=PhotoFactory(product__organization=shop["org"])), Job.State.SUCCEEDED)
    video_for(job)

    assert notifications.send_batch_notifications(job.batch_id) == 2
    assert not by_kind("need your review")
    assert len(by_kind("is finished")) == 1  # the Chinese copy has a Chinese subject


def test_nothing_is_sent_while_a_job_is_still_running(shop, finished_batch):
    JobFactory(photo=finished_batch.jobs.first().photo, batch=finished_batch, state=Job.State.RUNNING)

    assert notifications.send_batch_notifications(finished_batch.pk) == 0
    assert mail.outbox == []
    assert not NotificationSent.objects.exists()


def test_duplicate_triggers_send_each_email_once(shop, finished_batch):
    assert notifications.send_batch_notifications(finished_batch.pk) == 4
    # A duplicate task delivery, and the webhook hook's second check of the same final state.
    assert notifications.send_batch_notifications(finished_batch.pk) == 0
    assert notifications.send_batch_notifications(finished_batch.pk) == 0
    assert len(mail.outbox) == 4
    assert NotificationSent.objects.filter(organization=shop["org"]).count() == 4


def test_a_retried_job_that_finishes_later_is_a_new_event(shop, finished_batch):
    notifications.send_batch_notifications(finished_batch.pk)
    failed = finished_batch.jobs.get(state=Job.State.FAILED, video__isnull=True)
    finish(failed, Job.State.SUCCEEDED)  # retried, and this time it worked
    video_for(failed)
    mail.outbox.clear()

    notifications.send_batch_notifications(finished_batch.pk)
    (again,) = by_kind("is finished")
    assert "Ready to use: 2" in again.body and "Failed: 0" in again.body


def test_settings_off_means_no_email_at_all(shop, finished_batch):
    for user in (shop["owner"], shop["chinese"]):
        NotificationSettings.objects.update_or_create(
            user=user, defaults={"batch_finished": False, "needs_review": False, "credits_low": False}
        )

    assert notifications.send_batch_notifications(finished_batch.pk) == 0
    assert mail.outbox == []


def test_review_email_alone_when_only_that_is_on(shop, finished_batch):
    NotificationSettings.objects.create(user=shop["owner"], batch_finished=False, needs_review=True)
    NotificationSettings.objects.filter(user=shop["chinese"]).update(batch_finished=False, needs_review=False)

    notifications.send_batch_notifications(finished_batch.pk)
    assert [(m.to, "review" in m.subject) for m in mail.outbox] == [([shop["owner"].email], True)]


class FailingForOneAddress(LocmemBackend):
    """The mail server refuses one address (once per test run of it); the others go through."""

    refused: set[str] = set()

    def send_messages(self, messages):
        for message in messages:
            if set(message.to) & self.refused:
                raise ConnectionRefusedError("mail server refused")
        return super().send_messages(messages)


def test_a_failed_send_is_retried_and_the_sent_ones_are_not_repeated(shop, finished_batch):
    FailingForOneAddress.refused = {shop["chinese"].email}
    with (
        override_settings(EMAIL_BACKEND=f"{__name__}.FailingForOneAddress"),
        pytest.raises(notifications.NotificationsNotSent),
    ):
        notifications.send_batch_notifications(finished_batch.pk)
    assert {tuple(m.to) for m in mail.outbox} == {(shop["owner"].email,)}
    assert not NotificationSent.objects.filter(user=shop["chinese"]).exists()  # rolled back with the failed send

    # The task's retry: the mail server takes it now; the owner gets nothing twice.
    FailingForOneAddress.refused = set()
    assert notifications.send_batch_notifications(finished_batch.pk) == 2
    assert sorted(m.to[0] for m in mail.outbox) == sorted([shop["owner"].email] * 2 + [shop["chinese"].email] * 2)


# --- credits low ------------------------------------------------------------------------------------------------


@pytest.fixture
def eager_tasks():
    """Tasks run in this process when queued (the hook → task → service chain, without a broker)."""
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_eager_propagates = False


@pytest.fixture
def low_org(settings):
    settings.SHOPVIDEO_CREDITS_LOW = 50
    owner = MembershipFactory(organization=OrganizationFactory(credits=100))
    quiet = add_member(owner.organization, credits_low=False)
    other = MembershipFactory(organization=OrganizationFactory(credits=10))
    return {"org": owner.organization, "owner": owner.user, "quiet": quiet, "other": other.user}


def test_credits_low_once_per_fall_below_the_threshold(low_org, eager_tasks, django_capture_on_commit_callbacks):
    org = low_org["org"]
    with django_capture_on_commit_callbacks(execute=True):
        billing_services.debit_adjustment(organization=org, credits=30, reason="test")  # 70 left: not low
    assert mail.outbox == []

    with django_capture_on_commit_callbacks(execute=True):
        billing_services.debit_adjustment(organization=org, credits=30, reason="test")  # 40 left: low
    (low,) = mail.outbox
    assert low.to == [low_org["owner"].email]
    assert low.subject == f"{org.name}: your ShopVideo credits are running low"
    assert "has 40 credits left, fewer than 50" in low.body
    assert "http://localhost:8000/billing/" in low.body
    assert 'href="http://localhost:8000/billing/"' in html_of(low)

    with django_capture_on_commit_callbacks(execute=True):
        billing_services.debit_adjustment(organization=org, credits=10, reason="test")  # still low: no new fall
    assert len(mail.outbox) == 1

    # A top-up and a new fall: a new email.
    with django_capture_on_commit_callbacks(execute=True):
        billing_services.grant_credits(organization=org, credits=100, reason="top-up")
        billing_services.debit_adjustment(organization=org, credits=100, reason="test")
    assert len(mail.outbox) == 2
    assert "has 30 credits left" in mail.outbox[1].body
    assert low_org["other"].email not in {m.to[0] for m in mail.outbox}


def test_credits_low_duplicate_delivery_sends_nothing_twice(low_org):
    org = low_org["org"]
    billing_services.debit_adjustment(organization=org, credits=60, reason="test")
    key = notifications.credits_low_key(org.pk)

    assert notifications.send_credits_low(org.pk, key) == 1
    assert notifications.send_credits_low(org.pk, key) == 0
    assert len(mail.outbox) == 1


def test_credits_low_is_not_sent_when_credits_were_bought_before_it_went_out(low_org):
    org = low_org["org"]
    billing_services.debit_adjustment(organization=org, credits=60, reason="test")
    key = notifications.credits_low_key(org.pk)
    billing_services.grant_credits(organization=org, credits=500, reason="bought")

    assert notifications.send_credits_low(org.pk, key) == 0
    assert mail.outbox == []


def test_a_rolled_back_reservation_queues_nothing(low_org, eager_tasks, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                billing_services.debit_adjustment(organization=low_org["org"], credits=60, reason="test")
                raise RuntimeError("the submission failed after the reservation")
        except RuntimeError:
            pass
    assert callbacks == []
    assert mail.outbox == []


# --- settings page ---------------------------------------------------------------------------------------------


def test_settings_page_saves_kinds_and_language(client, shop):
    client.force_login(shop["owner"])
    response = client.post(
        "/account/notifications/", {"batch_finished": "on", "credits_low": "on", "language": "zh-hans"}
    )
    assert response.status_code == 302
    row = NotificationSettings.objects.get(user=shop["owner"])
    assert (row.batch_finished, row.needs_review, row.credits_low, row.language) == (True, False, True, "zh-hans")
    page = client.get("/account/notifications/").content.decode()
    assert '<option value="zh-hans" selected>' in page


def test_sign_up_in_chinese_makes_chinese_emails(client):
    client.cookies["django_language"] = "zh-hans"
    response = client.post(
        "/signup/",
        {
            "email": "li@example.com",
            "password1": "a-long-enough-passphrase-42",
            "password2": "a-long-enough-passphrase-42",
            "organization_name": "Li's shop",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert NotificationSettings.objects.get(user__email="li@example.com").language == "zh-hans"


# --- through a real worker ---------------------------------------------------------------------------------------


@pytest.mark.worker
@pytest.mark.slow
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_real_job_through_a_real_worker_mails_the_batch_once(start_worker, tmp_path: Path):
    """submit → worker renders → job_finished → notifications receiver → notification task on the cpu queue → one email
    per member, written by the worker's file backend."""
    outbox = tmp_path / "mail"
    start_worker(
        {"DJANGO_EMAIL_URL": f"filemail:///{outbox}", "SHOPVIDEO_QA_MIN_PSNR": "0", "SHOPVIDEO_QA_MIN_SSIM": "0"}
    )
    owner = MembershipFactory()
    photo = PhotoFactory(product__organization=owner.organization, product__title="Tea tin")
    matrix = generation_services.VariantMatrix(markets=["us"], aspect_ratios=["1:1"], seconds=[1], seed=7)
    batch = generation_services.submit_batch(
        organization=owner.organization, user=None, photos=[photo], matrix=matrix, name="Tea"
    )

    wait_for(lambda: NotificationSent.objects.filter(organization=owner.organization).exists(), 120, 0.3, "the email")
    wait_for(lambda: list(outbox.glob("*.log")), 10, 0.1, "the email file")
    assert batch.jobs.get().state == Job.State.SUCCEEDED
    (sent,) = NotificationSent.objects.filter(organization=owner.organization)
    assert (sent.user_id, sent.kind) == (owner.user_id, NotificationSent.Kind.BATCH_FINISHED)
    raw = b"".join(path.read_bytes() for path in outbox.glob("*.log"))
    message = message_from_bytes(raw.split(b"\n" + b"-" * 79 + b"\n")[0], policy=policy.default)
    assert message["To"] == owner.user.email
    assert message["Subject"] == "Batch “Tea” is finished"
    assert "Ready to use: 1" in message.get_body(("plain",)).get_content()
    assert f"/batches/{batch.pk}/" in message.get_body(("html",)).get_content()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_workers_on_the_same_event_at_once_send_each_email_once(shop, finished_batch):
    """A duplicate delivery running at the same moment: the unique row makes the second one wait, then skip."""
    import threading

    from django.db import connection

    barrier = threading.Barrier(2)
    results: list[int] = []

    def worker() -> None:
        try:
            barrier.wait()
            results.append(notifications.send_batch_notifications(finished_batch.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(results) == 2 and sum(results) == 4  # however they interleave, 4 emails in all
    assert len(mail.outbox) == 4
    assert NotificationSent.objects.filter(organization=shop["org"]).count() == 4


def _english_phrases_left(text: str) -> list[str]:
    """English sentences of the email templates that stayed English: every ASCII run of 3+ words, minus the
    merchant's own content and URLs."""
    import re

    text = re.sub(r"<[^>]+>", " ", text)
    text = re.sub(r"https?://\S+", " ", text)
    for own in ("Spring bottles", "Amber glass bottle", "Shop ", "ShopVideo", "PSNR", "SSIM", "dB"):
        text = text.replace(own, " ")
    return [m.strip() for m in re.findall(r"[A-Za-z][A-Za-z'’]*(?:[ ,]+[A-Za-z][A-Za-z'’]*){2,}", text)]


def test_every_email_is_all_chinese_for_a_chinese_member(shop, finished_batch, low_org):
    NotificationSettings.objects.update_or_create(user=low_org["owner"], defaults={"language": "zh-hans"})
    notifications.send_batch_notifications(finished_batch.pk)
    billing_services.debit_adjustment(organization=low_org["org"], credits=60, reason="test")
    notifications.send_credits_low(low_org["org"].pk, notifications.credits_low_key(low_org["org"].pk))

    chinese = [m for m in mail.outbox if m.to[0] in (shop["chinese"].email, low_org["owner"].email)]
    assert len(chinese) == 3  # batch finished, needs review, credits low
    for message in chinese:
        for part in (message.subject, message.body, html_of(message)):
            assert _english_phrases_left(part) == [], (message.subject, part)
    english = [m for m in mail.outbox if m.to[0] == shop["owner"].email]
    assert all(_english_phrases_left(m.body) for m in english)  # the check has teeth


@pytest.mark.worker
@pytest.mark.slow
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_emails_go_out_while_every_render_worker_is_busy(start_worker, clean_broker, shop, finished_batch, tmp_path):
    """Short tasks have their own queue (`events`): a worker that takes only it mails the merchant while a render
    waits in `cpu` (here: with no render worker at all, the extreme of every one being busy)."""
    from shop_video.notifications import tasks as dashboard_tasks

    outbox = tmp_path / "mail"
    start_worker({"DJANGO_EMAIL_URL": f"filemail:///{outbox}"}, queues="events")
    photo = PhotoFactory(product__organization=shop["org"])
    matrix = generation_services.VariantMatrix(markets=["us"], aspect_ratios=["1:1"], seconds=[1], seed=7)
    waiting = generation_services.submit_batch(organization=shop["org"], photos=[photo], matrix=matrix).jobs.get()
    wait_for(lambda: clean_broker.queued_job_ids("cpu") == [waiting.pk], 10, 0.1, "the render in the cpu queue")

    dashboard_tasks.send_batch_notifications.delay(finished_batch.pk)

    wait_for(lambda: NotificationSent.objects.filter(organization=shop["org"]).exists(), 60, 0.2, "the email")
    wait_for(lambda: list(outbox.glob("*.log")), 10, 0.1, "the email file")
    waiting.refresh_from_db()
    assert waiting.state == Job.State.QUEUED  # the render still waits; the email did not wait for it
    assert clean_broker.queued_job_ids("cpu") == [waiting.pk]
