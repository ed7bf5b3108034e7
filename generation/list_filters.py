"""The list filters of jobs and videos (by batch, product, market, ...), shared by the API and the dashboard.
Each takes an organization-scoped queryset from generation.selectors; a value left out (None or "") filters
nothing."""

from __future__ import annotations

from django.db.models import QuerySet

from generation.models import Job, Video


def _given(value) -> bool:
    return value is not None and value != ""


def filter_jobs(jobs: QuerySet[Job], *, state=None, batch=None, product=None, market=None) -> QuerySet[Job]:
    if _given(state):
        jobs = jobs.filter(state=state)
    if _given(batch):
        jobs = jobs.filter(batch_id=batch)
    if _given(product):
        jobs = jobs.filter(photo__product_id=product)
    if _given(market):
        jobs = jobs.filter(market__slug=market)
    return jobs


def filter_videos(
    videos: QuerySet[Video], *, job=None, batch=None, product=None, market=None, scene=None, review=None
) -> QuerySet[Video]:
    if _given(job):
        videos = videos.filter(job_id=job)
    if _given(batch):
        videos = videos.filter(job__batch_id=batch)
    if _given(product):
        videos = videos.filter(job__photo__product_id=product)
    if _given(market):
        videos = videos.filter(job__market__slug=market)
    if _given(scene):
        videos = videos.filter(job__scene__slug=scene)
    if _given(review):
        videos = videos.filter(review=review)
    return videos
