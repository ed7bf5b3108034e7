"""The rules the web layer asks generation for: one place each (generation.rules, generation.list_filters)."""

from __future__ import annotations

import pytest

from generation import rules
from generation.list_filters import filter_jobs, filter_videos
from generation.models import Job, Video
from generation.photo_urls import PhotoUrlsRejected, fetch_photo_urls
from generation.presets import PLATFORM_ASPECTS
from tests.factories import BatchFactory, JobFactory, market

pytestmark = pytest.mark.django_db


def test_a_market_s_aspect_ratios_are_its_platforms_ratios_each_once_in_order():
    platforms = [p for p in PLATFORM_ASPECTS if PLATFORM_ASPECTS[p]][:2]
    expected = list(dict.fromkeys(a for p in platforms for a in PLATFORM_ASPECTS[p]))
    assert rules.market_aspect_ratios(platforms + platforms) == expected


def test_a_market_without_known_platforms_gets_nine_by_sixteen():
    assert rules.market_aspect_ratios(["no-such-platform"]) == ["9:16"]


def test_the_default_engine_is_the_setting(settings):
    settings.SHOPVIDEO_DEFAULT_ENGINE = "dit"
    assert rules.default_engine() == "dit"


@pytest.mark.parametrize(
    ("review", "delivered"),
    [
        (Video.Review.READY, True),
        (Video.Review.APPROVED, True),
        (Video.Review.NEEDS_REVIEW, False),
        (Video.Review.REJECTED, False),
    ],
)
def test_only_a_ready_or_approved_video_is_delivered(review, delivered):
    assert rules.is_delivered(Video(review=review)) is delivered


def test_batch_progress_counts_finished_jobs_whole_and_running_ones_by_their_progress():
    batch = BatchFactory()
    JobFactory(batch=batch, organization=batch.organization, state=Job.State.SUCCEEDED, progress=1.0)
    JobFactory(batch=batch, organization=batch.organization, state=Job.State.FAILED, progress=0.3)
    JobFactory(batch=batch, organization=batch.organization, state=Job.State.RUNNING, progress=0.5)
    JobFactory(batch=batch, organization=batch.organization, state=Job.State.QUEUED, progress=0.0)
    got = rules.batch_progress(batch)
    assert got.progress == round((1.0 + 1.0 + 0.5 + 0.0) / 4, 4)
    assert got.counts == {"queued": 1, "running": 1, "succeeded": 1, "failed": 1, "canceled": 0}
    assert (got.job_count, got.finished) == (4, False)


def test_a_batch_is_finished_once_nothing_is_queued_or_running():
    batch = BatchFactory()
    JobFactory(batch=batch, organization=batch.organization, state=Job.State.CANCELED)
    assert rules.batch_progress(batch).finished is True


def test_job_filters_combine_and_a_value_left_out_filters_nothing():
    us, other = JobFactory(), JobFactory(market=market("de"))
    jobs = Job.objects.filter(pk__in=[us.pk, other.pk])
    assert list(filter_jobs(jobs, market="us", batch=None, state="")) == [us]
    assert set(filter_jobs(jobs)) == {us, other}
    assert list(filter_jobs(jobs, market="us", batch=other.batch_id)) == []


def test_video_filters_leave_out_empty_values():
    assert filter_videos(Video.objects.all(), product="", market=None).query.where.children == []


def test_a_title_in_a_language_no_market_captions_in_is_named():
    titles = {"de": {"title": "Flasche"}, "xx": {"title": "?"}, "yy": None}
    assert rules.unknown_title_languages(titles) == ["xx", "yy"]


def test_photo_urls_not_reached_within_the_time_budget_are_each_named():
    with pytest.raises(PhotoUrlsRejected) as caught:
        fetch_photo_urls(["https://a.example/1.jpg", "https://a.example/2.jpg"], budget_seconds=0)
    assert caught.value.code == "photo_url_rejected"
    assert sorted(caught.value.fields) == ["photo_urls.0", "photo_urls.1"]
