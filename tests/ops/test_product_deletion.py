"""Deleting a product through the API and the dashboard: one lifecycle service. The rows go at once (the product
is gone for the merchant), the files go in the background task (S3 through moto, local disk), both audited; a
product with active jobs is refused; another organization's product is a 404."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.test import Client
from rest_framework.test import APIClient

from generation.models import Job, Photo, Product, Video
from shop_video.core import audit
from shop_video.merchants.api_keys import create_api_key
from shop_video.merchants.models import Membership
from shop_video.ops.models import AuditEvent
from tests import synthetic
from tests.factories import PASSWORD, JobFactory, MembershipFactory, PhotoFactory, ProductFactory
from tests.storage.conftest import BUCKET

from .conftest import make_video

pytestmark = pytest.mark.django_db


def _png(seed: int) -> BytesIO:
    image, _mask = synthetic.product_png_alpha(320, 400, seed=seed)
    buf = BytesIO()
    image.save(buf, "PNG")
    buf.seek(0)
    buf.name = f"p{seed}.png"
    return buf


def _keys(s3_client, prefix: str) -> set[str]:
    pages = s3_client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
    return {item["Key"] for page in pages for item in page.get("Contents", [])}


def _product_with_media(api, title: str, seeds: tuple[int, ...]) -> Product:
    response = api.post("/api/v1/products", {"title": title, "photos": [_png(s) for s in seeds]}, format="multipart")
    assert response.status_code == 201, response.content
    product = Product.objects.get(pk=response.json()["id"])
    job = JobFactory(photo=product.photos.first(), state=Job.State.SUCCEEDED, attempt=1)
    make_video(job)
    # What a crashed attempt may have left behind, known to no row.
    default_storage.save(f"orgs/{product.organization_id}/videos/job-{job.pk}/attempt-9/video.mp4", BytesIO(b"x"))
    return product


def test_api_delete_removes_every_s3_object_of_the_product_in_the_background(
    s3_storage, s3_client, eager_tasks, django_capture_on_commit_callbacks
):
    membership = MembershipFactory()
    org = membership.organization
    key, secret = create_api_key(organization=org, name="deleter")
    api = APIClient(REMOTE_ADDR="198.51.100.20")
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    doomed = _product_with_media(api, "Doomed", (1, 2))
    kept = _product_with_media(api, "Kept", (3,))
    prefix = f"orgs/{org.pk}/"
    before = _keys(s3_client, prefix)
    kept_keys = {n for p in kept.photos.all() for n in (p.file.name, p.mask.name)}
    kept_keys |= {n for v in Video.objects.filter(job__photo__product=kept) for n in (v.file.name, v.poster.name)}
    kept_keys |= {
        k
        for k in before
        if any(f"/job-{j}/" in k for j in Job.objects.filter(photo__product=kept).values_list("id", flat=True))
    }
    doomed_keys = before - kept_keys
    assert len(doomed_keys) >= 2 * 2 + 3 + 1  # two photos with masks, the video's three files, the stray file

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api.delete(f"/api/v1/products/{doomed.pk}")
        assert response.status_code == 204
    # The product is gone for the merchant at once; its files wait for the background task.
    assert not Product.objects.filter(pk=doomed.pk).exists()
    assert not Photo.objects.filter(product_id=doomed.pk).exists()
    assert api.get(f"/api/v1/products/{doomed.pk}").status_code == 404
    assert _keys(s3_client, prefix) == before
    for callback in callbacks:  # the commit sends ops.purge_product_files (run eagerly here, as a worker would)
        callback()

    assert _keys(s3_client, prefix) == kept_keys
    assert Product.objects.filter(pk=kept.pk).exists()
    requested, deleted = AuditEvent.objects.filter(action__startswith="product.").order_by("id")
    assert requested.action == audit.PRODUCT_DELETION_REQUESTED and deleted.action == audit.PRODUCT_DELETED
    assert requested.actor is None and requested.actor_label == f"api key {key.prefix}…"
    assert requested.ip == "198.51.100.20" and requested.organization == org
    assert requested.target == deleted.target == f"generation.product:{doomed.pk}"
    assert deleted.organization == org and deleted.metadata == {"title": "Doomed", "files": len(doomed_keys)}


def _dashboard(membership) -> Client:
    client = Client(REMOTE_ADDR="192.0.2.5")
    assert client.login(username=membership.user.username, password=PASSWORD)
    return client


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return Path(settings.MEDIA_ROOT)


def test_dashboard_delete_goes_through_the_same_lifecycle(media, eager_tasks, django_capture_on_commit_callbacks):
    editor = MembershipFactory(role=Membership.Role.EDITOR)
    product = ProductFactory(organization=editor.organization)
    photo = PhotoFactory(product=product)
    video = make_video(JobFactory(photo=photo, state=Job.State.SUCCEEDED, attempt=1))
    names = [photo.file.name, photo.mask.name, video.file.name, video.poster.name, video.preview.name]
    assert all((media / n).is_file() for n in names)
    client = _dashboard(editor)
    assert f"/products/{product.pk}/delete/" in client.get(f"/products/{product.pk}/").content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/products/{product.pk}/delete/", follow=True)
    assert response.redirect_chain[-1][0] == "/products/"
    assert "deleted" in response.content.decode()
    assert not Product.objects.filter(pk=product.pk).exists() and not Video.objects.filter(pk=video.pk).exists()
    assert not [n for n in names if (media / n).exists()]
    requested, deleted = AuditEvent.objects.filter(action__startswith="product.").order_by("id")
    assert requested.actor == editor.user and requested.ip == "192.0.2.5"
    assert deleted.metadata["files"] == len(names)


def test_dashboard_delete_is_refused_while_a_job_is_active_and_for_viewers(media):
    editor = MembershipFactory(role=Membership.Role.EDITOR)
    job = JobFactory(photo=PhotoFactory(product=ProductFactory(organization=editor.organization)))
    assert job.state in Job.ACTIVE_STATES
    product = job.photo.product
    response = _dashboard(editor).post(f"/products/{product.pk}/delete/", follow=True)
    assert response.redirect_chain[-1][0] == f"/products/{product.pk}/"
    assert "queued or running jobs" in response.content.decode()
    assert Product.objects.filter(pk=product.pk).exists() and default_storage.exists(job.photo.file.name)

    viewer = MembershipFactory(organization=editor.organization, role=Membership.Role.VIEWER)
    assert _dashboard(viewer).post(f"/products/{product.pk}/delete/").status_code == 403
    stranger = MembershipFactory()
    assert _dashboard(stranger).post(f"/products/{product.pk}/delete/").status_code == 404
    assert Product.objects.filter(pk=product.pk).exists()
    assert not AuditEvent.objects.filter(action__startswith="product.").exists()
