"""Data lifecycle: deleting an organization or a product removes its media from storage and its rows (through the
background task), with audit entries; old videos expire after the retention."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.utils import timezone

from generation.models import Job, Photo, Product, Video
from shop_video.core import audit
from shop_video.merchants.models import Organization
from shop_video.ops import lifecycle, tasks
from shop_video.ops.models import AuditEvent
from tests.factories import JobFactory, MembershipFactory, PhotoFactory, ProductFactory

from .conftest import make_video

pytestmark = pytest.mark.django_db


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return Path(settings.MEDIA_ROOT)


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def test_deleting_an_organization_removes_its_files_and_rows_not_others(media, django_capture_on_commit_callbacks):
    mine, other = make_video(), make_video()
    org = mine.organization
    membership = MembershipFactory(organization=org)
    JobFactory(photo=mine.job.photo, batch=mine.job.batch, state=Job.State.QUEUED)  # active: canceled first
    # A file a crashed attempt left behind, known to no row.
    default_storage.save(f"orgs/{org.pk}/videos/job-{mine.job_id}/attempt-9/video.mp4", StringIO("x"))
    others = {f for f in _files(media) if f.startswith(f"orgs/{other.organization_id}/")}
    assert any(f.startswith(f"orgs/{org.pk}/photos/") for f in _files(media))

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        lifecycle.request_organization_deletion(organization=org, actor=membership.user)
    assert len(callbacks) == 1  # the purge is sent only after the request commits
    assert Organization.objects.filter(pk=org.pk).exists()
    tasks.purge_organization.apply(args=[org.pk]).get()  # what the worker runs

    assert not Organization.objects.filter(pk=org.pk).exists()
    assert not Photo.objects.filter(organization_id=org.pk).exists()
    assert not Video.objects.filter(organization_id=org.pk).exists()
    assert not [f for f in _files(media) if f.startswith(f"orgs/{org.pk}/")]
    assert {f for f in _files(media) if f.startswith(f"orgs/{other.organization_id}/")} == others
    assert Video.objects.filter(pk=other.pk).exists()
    org_events = AuditEvent.objects.filter(action__startswith="organization.").order_by("id")
    actions = list(org_events.values_list("action", "organization_label"))
    assert actions == [
        (audit.ORGANIZATION_DELETION_REQUESTED, org.name),
        (audit.ORGANIZATION_DELETED, org.name),
    ]
    assert org_events.filter(organization__isnull=True).count() == 2  # kept after the deletion


def test_deleting_a_product_keeps_a_file_another_product_shares(media):
    product = ProductFactory()
    twin = ProductFactory(organization=product.organization)
    photo = PhotoFactory(product=product, image_seed=5)
    shared = PhotoFactory(product=twin, image_seed=5)
    # Same bytes → same checksum → same key: on S3 (file_overwrite) both rows name one object.
    Photo.objects.filter(pk=shared.pk).update(file=photo.file.name)
    shared.refresh_from_db()
    own = PhotoFactory(product=product, image_seed=6)
    video = make_video(JobFactory(photo=photo, state=Job.State.SUCCEEDED, attempt=1))
    names = [video.file.name, video.poster.name, video.preview.name, own.file.name, own.mask.name]

    lifecycle.purge_product(product.pk)

    assert not Product.objects.filter(pk=product.pk).exists()
    assert not Video.objects.filter(pk=video.pk).exists()
    for name in names:
        assert not default_storage.exists(name), name
    assert default_storage.exists(shared.file.name)  # still used by the twin product's photo
    assert Photo.objects.filter(pk=shared.pk).exists()
    assert AuditEvent.objects.filter(action=audit.PRODUCT_DELETED, organization=product.organization).count() == 1


def test_purge_old_videos_removes_only_videos_past_the_retention(media, settings):
    old, recent = make_video(), make_video()
    Video.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))
    settings.SHOPVIDEO_VIDEO_RETENTION_DAYS = 30

    out = StringIO()
    call_command("purge_old_videos", "--dry-run", stdout=out)
    assert "would delete 1 video(s)" in out.getvalue()
    assert Video.objects.count() == 2

    out = StringIO()
    call_command("purge_old_videos", stdout=out)
    assert "deleted 1 video(s) older than 30 days" in out.getvalue()
    assert list(Video.objects.values_list("pk", flat=True)) == [recent.pk]
    assert not default_storage.exists(old.file.name) and not default_storage.exists(old.poster.name)
    assert default_storage.exists(recent.file.name)
    old.job.refresh_from_db()
    assert old.job.state == Job.State.SUCCEEDED and old.job.stage == "expired"
    event = AuditEvent.objects.get(action=audit.VIDEOS_PURGED)
    assert event.organization_id == old.organization_id and event.metadata == {"count": 1, "days": 30}


def test_retention_zero_keeps_everything(media, settings):
    video = make_video()
    Video.objects.filter(pk=video.pk).update(created_at=timezone.now() - timedelta(days=4000))
    settings.SHOPVIDEO_VIDEO_RETENTION_DAYS = 0
    out = StringIO()
    call_command("purge_old_videos", stdout=out)
    assert "nothing deleted" in out.getvalue()
    assert Video.objects.filter(pk=video.pk).exists()


def test_the_nightly_purge_is_scheduled_with_celery_beat():
    from shop_video.celery import app

    entry = app.conf.beat_schedule["ops-purge-expired-videos"]
    assert entry["task"] == tasks.purge_expired_videos.name == "ops.purge_expired_videos"
    assert entry["task"] in app.tasks  # registered under that name, so beat's message reaches it
    assert entry["schedule"].hour == {3} and entry["schedule"].minute == {17}


def test_the_nightly_purge_applies_each_organizations_retention(media, settings):
    def aged(days: int, **job_kwargs) -> Video:
        video = make_video(**job_kwargs)
        Video.objects.filter(pk=video.pk).update(created_at=timezone.now() - timedelta(days=days))
        return video

    long_keep = aged(40)  # an organization with 90 days
    long_gone = aged(100, photo=long_keep.job.photo, batch=long_keep.job.batch)
    default_gone, default_kept = aged(40), aged(10)
    forever = aged(4000)  # an organization that keeps everything
    settings.SHOPVIDEO_VIDEO_RETENTION_DAYS = 30
    settings.SHOPVIDEO_VIDEO_RETENTION_BY_ORG = {
        long_keep.organization.slug: 90,
        forever.organization.slug: 0,
        "no-such-org": 1,
    }

    assert tasks.purge_expired_videos.apply().get() == 2  # what beat runs

    remaining = set(Video.objects.values_list("pk", flat=True))
    assert remaining == {long_keep.pk, default_kept.pk, forever.pk}
    for gone in (long_gone, default_gone):
        assert not default_storage.exists(gone.file.name) and not default_storage.exists(gone.preview.name)
    for kept in (long_keep, default_kept, forever):
        assert default_storage.exists(kept.file.name)
    purged = AuditEvent.objects.filter(action=audit.VIDEOS_PURGED).order_by("metadata__days")
    assert [(e.organization_id, e.metadata) for e in purged] == [
        (default_gone.organization_id, {"count": 1, "days": 30}),
        (long_gone.organization_id, {"count": 1, "days": 90}),
    ]


def test_the_operator_command_deletes_an_organization_with_its_files(media):
    video, other = make_video(), make_video()
    org = video.organization
    assert any(f.startswith(f"orgs/{org.pk}/") for f in _files(media))
    with pytest.raises(Exception, match="--confirm must repeat the slug"):
        call_command("delete_organization", "--org", org.slug, "--confirm", "other", "--now")
    with pytest.raises(Exception, match="no organization"):
        call_command("delete_organization", "--org", "no-such-shop", "--confirm", "no-such-shop")
    assert Organization.objects.filter(pk=org.pk).exists()

    out = StringIO()
    call_command("delete_organization", "--org", org.slug, "--confirm", org.slug, "--now", stdout=out)
    assert f"deleted {org.slug}" in out.getvalue()
    assert not Organization.objects.filter(pk=org.pk).exists()
    assert not [f for f in _files(media) if f.startswith(f"orgs/{org.pk}/")]
    assert Video.objects.filter(pk=other.pk).exists() and default_storage.exists(other.file.name)
    assert AuditEvent.objects.filter(action=audit.ORGANIZATION_DELETED, organization_label=org.name).exists()


def test_the_operator_command_refuses_while_stripe_still_bills_the_organization(media):
    from billing.models import Subscription

    video = make_video()
    org = video.organization
    Subscription.objects.create(organization=org, subscription_id="sub_live_1", plan="pro", status="active")
    with pytest.raises(Exception, match="live subscription \\(sub_live_1\\)"):
        call_command("delete_organization", "--org", org.slug, "--confirm", org.slug, "--now")
    assert Organization.objects.filter(pk=org.pk).exists()
    assert default_storage.exists(video.file.name)
