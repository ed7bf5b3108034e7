"""The merchant dashboard through the Django test client: real uploads, real services, rendered pages."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from django.utils.translation import trans_real
from PIL import Image

from generation.models import Batch, Job, MarketPreset, Photo, Product
from generation.pipeline.ingest import ingest_photo
from generation.presets import MARKETS
from tests import synthetic
from tests.factories import PASSWORD, JobFactory, PhotoFactory, ProductFactory
from tests.integration.test_files import make_video

pytestmark = pytest.mark.django_db


def encode(image: Image.Image, fmt: str, **kwargs) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **kwargs)
    return buf.getvalue()


def jpeg_upload(name: str = "bottle.jpg", seed: int = 0) -> SimpleUploadedFile:
    image, _mask = synthetic.product_on_white(400, 500, seed=seed)
    return SimpleUploadedFile(name, encode(image, "JPEG", quality=92), content_type="image/jpeg")


def png_alpha_upload(name: str = "bag.png") -> SimpleUploadedFile:
    image, _mask = synthetic.product_png_alpha(320, 400, seed=3)
    return SimpleUploadedFile(name, encode(image, "PNG"), content_type="image/png")


def webp_upload(name: str = "shoe.webp") -> SimpleUploadedFile:
    image, _mask = synthetic.product_on_gradient(400, 480, seed=5)
    return SimpleUploadedFile(name, encode(image, "WEBP", quality=90), content_type="image/webp")


def text(response) -> str:
    return response.content.decode()


def stored_files() -> set[Path]:
    """Every file in the test media folder (earlier tests leave theirs; compare before and after)."""
    root = Path(settings.MEDIA_ROOT)
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


@pytest.fixture
def product(org):
    product = ProductFactory(organization=org, title="Amber glass bottle", sku="AMB-1")
    PhotoFactory(product=product, original_name="front.png")
    return product


# --- login, logout, language ----------------------------------------------------------------------------------


def test_login_and_logout(client, member):
    page = client.get(reverse("login"))
    assert page.status_code == 200
    assert 'name="username"' in text(page)
    response = client.post(reverse("login"), {"username": member.user.username, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard:home")
    home = client.get(reverse("dashboard:home"))
    assert member.organization.name in text(home)
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("dashboard:home"))["Location"].startswith(reverse("login"))


def test_wrong_password_shows_an_error(client, member):
    response = client.post(reverse("login"), {"username": member.user.username, "password": "nope"})
    assert response.status_code == 200
    assert "errorlist" in text(response)


def test_language_switch_to_simplified_chinese(client_a):
    po = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
    mo = po.with_suffix(".mo")
    if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
        # What `make install` does; the .mo is git-ignored, so this leaves the tree clean.
        call_command("compilemessages", locale=["zh_Hans"], verbosity=0)
        trans_real._translations = {}
    response = client_a.post(
        reverse("set_language"), {"language": "zh-hans", "next": reverse("dashboard:product_list")}
    )
    assert response.status_code == 302
    page = client_a.get(reverse("dashboard:product_list"))
    assert '<html lang="zh-hans"' in text(page)
    assert "商品" in text(page)
    assert "退出登录" in text(page)
    client_a.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert "Products" in text(client_a.get(reverse("dashboard:product_list")))


def test_user_without_organization_sees_a_message_not_an_error(client):
    from tests.factories import UserFactory

    client.force_login(UserFactory())
    assert client.get(reverse("dashboard:home")).status_code == 200
    assert client.get(reverse("dashboard:product_list")).status_code == 404


def test_htmx_is_vendored_not_from_a_cdn(client_a):
    page = text(client_a.get(reverse("dashboard:home")))
    scripts = re.findall(r'<script[^>]*src="([^"]+)"', page)
    # Only our own files: vendored htmx and the dashboard's script; no inline <script> bodies (CSP).
    assert scripts == ["/static/vendor/htmx.min.js", "/static/js/app.js"]
    assert not re.search(r"<script(?![^>]*src=)[^>]*>", page)
    vendored = (Path(settings.BASE_DIR) / "static" / "vendor" / "htmx.min.js").read_text()
    assert vendored.startswith("/*! htmx 2.")
    assert "license" in vendored.splitlines()[0].lower()
    templates = Path(settings.BASE_DIR) / "templates"
    for template in templates.rglob("*.html"):
        assert "cdn" not in template.read_text().lower(), template


# --- products -------------------------------------------------------------------------------------------------


def test_product_list_empty_and_with_products(client_a, org):
    empty = client_a.get(reverse("dashboard:product_list"))
    assert empty.status_code == 200
    assert "No products yet." in text(empty)
    product = ProductFactory(organization=org, title="Walnut board")
    photo = PhotoFactory(product=product)
    page = text(client_a.get(reverse("dashboard:product_list")))
    assert "Walnut board" in page
    assert reverse("files:photo", args=[photo.pk]) in page
    assert "1 photo" in page


def test_create_form_offers_a_multi_file_picker(client_a):
    page = text(client_a.get(reverse("dashboard:product_create")))
    field = re.search(r"<input[^>]*type=\"file\"[^>]*>", page).group(0)
    assert "multiple" in field
    assert 'accept="image/jpeg,image/png,image/webp' in field
    assert 'enctype="multipart/form-data"' in page


def test_create_product_with_jpeg_png_alpha_and_webp(client_a, org):
    response = client_a.post(
        reverse("dashboard:product_create"),
        {
            "title": "Amber bottle",
            "sku": "AMB-7",
            "category": "beauty",
            "photos": [jpeg_upload(), png_alpha_upload(), webp_upload()],
        },
    )
    assert response.status_code == 302
    product = Product.objects.get(organization=org, sku="AMB-7")
    assert response["Location"] == reverse("dashboard:product_detail", args=[product.pk])
    photos = list(product.photos.order_by("id"))
    assert [p.original_name for p in photos] == ["bottle.jpg", "bag.png", "shoe.webp"]
    assert photos[1].mask_source == Photo.MaskSource.ALPHA
    assert all(p.mask for p in photos)

    page = text(client_a.get(response["Location"]))
    assert "Amber bottle" in page
    assert "Product “Amber bottle” created." in page
    for photo in photos:
        assert reverse("files:photo", args=[photo.pk]) in page
        mask_url = f"{reverse('files:photo_mask', args=[photo.pk])}?v={photo.mask_version}"
        assert f'data-mask-url="{mask_url}"' in page  # versioned: a new mask is never a cached old one
        assert reverse("dashboard:photo_mask_upload", args=[photo.pk]) in page
    assert 'class="frame checker cutout"' in page


def test_bad_files_are_listed_and_nothing_is_saved(client_a, org):
    tiny = SimpleUploadedFile("tiny.png", encode(Image.new("RGB", (40, 40), "red"), "PNG"), content_type="image/png")
    not_image = SimpleUploadedFile("notes.jpg", b"this is not a jpeg at all", content_type="image/jpeg")
    files_before = stored_files()
    response = client_a.post(
        reverse("dashboard:product_create"),
        {"title": "Half good", "sku": "HG-1", "category": "toys", "photos": [jpeg_upload(), tiny, not_image]},
    )
    assert response.status_code == 400
    page = text(response)
    assert "Nothing was saved" in page
    assert "tiny.png" in page
    assert "notes.jpg" in page
    assert "bottle.jpg</span>" not in page  # the good file is not reported as bad
    # the form keeps what was typed
    assert 'value="Half good"' in page
    assert 'value="HG-1"' in page
    assert re.search(r'<option value="toys"[^>]*selected', page)
    assert not Product.objects.filter(organization=org).exists()
    assert not Photo.objects.filter(organization=org).exists()
    assert stored_files() == files_before


def test_too_many_files_at_once_is_a_clear_400(client_a, org):
    files = [SimpleUploadedFile(f"p{i}.jpg", b"x", content_type="image/jpeg") for i in range(51)]
    response = client_a.post(reverse("dashboard:product_create"), {"title": "Many", "photos": files})
    assert response.status_code == 400
    assert "send fewer at a time" in text(response)
    assert not Product.objects.filter(organization=org).exists()


def test_missing_title_and_photos_are_field_errors(client_a, org):
    response = client_a.post(reverse("dashboard:product_create"), {"title": "", "category": "other"})
    assert response.status_code == 400
    page = text(response)
    assert "This field is required." in page
    assert "Choose at least one photo." in page
    assert not Product.objects.filter(organization=org).exists()


def test_duplicate_sku_is_a_field_error(client_a, org, product):
    response = client_a.post(
        reverse("dashboard:product_create"),
        {"title": "Another", "sku": product.sku, "category": "other", "photos": [jpeg_upload()]},
    )
    assert response.status_code == 400
    assert "This SKU is already used." in text(response)
    assert Product.objects.filter(organization=org).count() == 1
    assert Photo.objects.filter(organization=org).count() == 1


def test_replace_a_mask(client_a, product):
    photo = product.photos.get()
    mask = np.zeros((photo.height, photo.width), np.uint8)
    mask[100:300, 80:240] = 255
    upload = SimpleUploadedFile("mask.png", encode(Image.fromarray(mask, "L"), "PNG"), content_type="image/png")
    response = client_a.post(reverse("dashboard:photo_mask_upload", args=[photo.pk]), {"mask": upload})
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard:product_detail", args=[product.pk]) + f"#photo-{photo.pk}"
    photo.refresh_from_db()
    assert photo.mask_source == Photo.MaskSource.SUPPLIED
    served = client_a.get(reverse("files:photo_mask", args=[photo.pk]))
    got = np.array(Image.open(io.BytesIO(b"".join(served.streaming_content))).convert("L")) > 127
    with photo.file.open("rb") as fh:
        alpha = ingest_photo(fh.read()).alpha
    # The merchant's mask, within the photo's visible pixels (transparent ones have no colour to keep).
    visible = alpha > 0 if alpha is not None else np.ones_like(got)
    assert np.array_equal(got, (mask > 127) & visible)
    assert got.sum() > 0.5 * (mask > 127).sum()
    assert "Mask for front.png replaced." in text(client_a.get(response["Location"]))


def test_a_bad_mask_keeps_the_old_one(client_a, product):
    photo = product.photos.get()
    old_name = photo.mask.name
    with default_storage.open(old_name, "rb") as fh:
        old_bytes = fh.read()
    bad = SimpleUploadedFile("mask.png", b"not a png", content_type="image/png")
    response = client_a.post(reverse("dashboard:photo_mask_upload", args=[photo.pk]), {"mask": bad}, follow=True)
    assert response.status_code == 200
    assert "The mask for front.png was not saved" in text(response)
    photo.refresh_from_db()
    assert photo.mask.name == old_name
    with default_storage.open(old_name, "rb") as fh:
        assert fh.read() == old_bytes
    missing = client_a.post(reverse("dashboard:photo_mask_upload", args=[photo.pk]), {}, follow=True)
    assert "Choose a mask image." in text(missing)


# --- generate: form, estimate, submit -------------------------------------------------------------------------


def test_generate_form_lists_every_market_and_the_options(client_a, product):
    page = text(client_a.get(reverse("dashboard:product_detail", args=[product.pk])))
    for preset in MARKETS:
        assert f'name="markets" value="{preset.slug}"' in page
    for aspect in ("9:16", "1:1", "16:9", "4:5"):
        assert f'name="aspect_ratios" value="{aspect}"' in page
    for seconds in (5, 10, 15):
        assert f'name="seconds" value="{seconds}"' in page
    assert 'name="resolution" value="720p"' in page
    assert 'name="scenes" value="studio-sweep"' in page
    assert f'hx-post="{reverse("dashboard:estimate")}"' in page
    assert 'hx-trigger="load, change"' in page
    assert 'value="compositor"' in page
    assert 'value="dit"' not in page


@override_settings(SHOPVIDEO_MODEL_PATH="/models/wan-vace")
def test_dit_engine_is_offered_when_a_model_is_configured(client_a, product):
    page = text(client_a.get(reverse("dashboard:product_detail", args=[product.pk])))
    assert 'name="engine" value="dit"' in page


def matrix_post(photo_ids, **overrides) -> dict:
    data = {
        "photos": [str(pk) for pk in photo_ids],
        "markets": ["us", "de"],
        "aspect_ratios": ["9:16", "1:1"],
        "seconds": ["5", "10"],
        "resolution": "480p",
        "engine": "compositor",
        "name": "",
    }
    data.update(overrides)
    return data


def test_estimate_shows_videos_and_credits(client_a, product):
    photo = product.photos.get()
    response = client_a.post(reverse("dashboard:estimate"), matrix_post([photo.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    # 2 markets × 2 aspect ratios × (5 s + 10 s) at 1 credit per second (compositor, 480p)
    assert "8 videos · 60 credits" in text(response)
    hd = client_a.post(reverse("dashboard:estimate"), matrix_post([photo.pk], resolution="720p", seconds=["15"]))
    assert "4 videos · 120 credits" in text(hd)


def test_estimate_with_market_defaults(client_a, product):
    """No aspect ratios chosen: each market's platform formats (us: 9:16, 16:9, 1:1, 4:5)."""
    photo = product.photos.get()
    response = client_a.post(
        reverse("dashboard:estimate"), matrix_post([photo.pk], markets=["us"], aspect_ratios=[], seconds=["5"])
    )
    assert "4 videos · 20 credits" in text(response)


def test_estimate_explains_what_is_missing(client_a, product):
    photo = product.photos.get()
    response = client_a.post(reverse("dashboard:estimate"), matrix_post([photo.pk], seconds=[]))
    assert response.status_code == 200
    assert "Choose at least one duration." in text(response)
    assert "is-invalid" in text(response)
    assert "credits" not in text(response)
    unknown = client_a.post(reverse("dashboard:estimate"), matrix_post([photo.pk], markets=["us", "zz"]))
    assert "Select a valid choice. zz is not one of the available choices." in text(unknown)


def test_estimate_before_any_market_is_chosen_is_a_hint(client_a, product):
    photo = product.photos.get()
    response = client_a.post(reverse("dashboard:estimate"), matrix_post([photo.pk], markets=[]))
    assert response.status_code == 200
    assert "Choose markets to see the cost." in text(response)
    assert "is-invalid" not in text(response)


def test_submit_creates_a_batch_and_shows_it(client_a, org, member, product):
    photo = product.photos.get()
    response = client_a.post(
        reverse("dashboard:generate", args=[product.pk]), matrix_post([photo.pk], name="Spring launch")
    )
    assert response.status_code == 302
    batch = Batch.objects.get(organization=org)
    assert response["Location"] == reverse("dashboard:batch_detail", args=[batch.pk])
    assert batch.name == "Spring launch"
    assert batch.created_by == member.user
    jobs = batch.jobs.all()
    assert jobs.count() == 8
    assert {j.market.slug for j in jobs} == {"us", "de"}
    assert sum(j.credits for j in jobs) == 60
    page = text(client_a.get(response["Location"]))
    assert "Batch submitted: 8 videos queued." in page
    assert 'hx-trigger="every 2s"' in page


def test_submit_without_js_shows_errors_and_keeps_choices(client_a, org, product):
    photo = product.photos.get()
    response = client_a.post(
        reverse("dashboard:generate", args=[product.pk]), matrix_post([photo.pk], markets=[], seconds=["5", "15"])
    )
    assert response.status_code == 400
    page = text(response)
    assert "Choose at least one market." in page
    assert re.search(r'name="seconds" value="15"[^>]*checked', page)
    assert not Batch.objects.filter(organization=org).exists()


@override_settings(SHOPVIDEO_MAX_VIDEOS_PER_BATCH=3)
def test_matrix_errors_from_the_service_are_shown(client_a, org, product):
    photo = product.photos.get()
    response = client_a.post(reverse("dashboard:generate", args=[product.pk]), matrix_post([photo.pk]))
    assert response.status_code == 400
    assert "This would make 8 videos; at most 3 per batch." in text(response)
    assert not Batch.objects.filter(organization=org).exists()


def test_submit_with_an_unknown_photo_is_an_error(client_a, org, product):
    response = client_a.post(reverse("dashboard:generate", args=[product.pk]), matrix_post([999999]))
    assert response.status_code == 400
    assert "Select a valid choice." in text(response)
    assert not Batch.objects.filter(organization=org).exists()


# --- batches and jobs -----------------------------------------------------------------------------------------


@pytest.fixture
def batch_jobs(org):
    """One batch with a job in every state, a failed one with its message, a succeeded one with its video."""
    product = ProductFactory(organization=org, title="Ceramic mug")
    photo = PhotoFactory(product=product)
    queued = JobFactory(photo=photo)
    batch = queued.batch
    running = JobFactory(photo=photo, batch=batch, state=Job.State.RUNNING, progress=0.42, stage="render", attempt=1)
    failed = JobFactory(
        photo=photo,
        batch=batch,
        state=Job.State.FAILED,
        attempt=3,
        error_code="bad_image",
        error_message="The photo is smaller than 256 pixels.",
    )
    succeeded = JobFactory(photo=photo, batch=batch, market=MarketPreset.objects.get(slug="jp"), attempt=1)
    video = make_video(succeeded)
    canceled = JobFactory(photo=photo, batch=batch, state=Job.State.CANCELED)
    return batch, {
        "queued": queued,
        "running": running,
        "failed": failed,
        "succeeded": succeeded,
        "canceled": canceled,
        "video": video,
    }


def test_batch_list_shows_progress(client_a, batch_jobs):
    batch, _jobs = batch_jobs
    page = text(client_a.get(reverse("dashboard:batch_list")))
    assert reverse("dashboard:batch_detail", args=[batch.pk]) in page
    # (1 + 1 + 1 + 0.42 + 0) / 5 finished-or-progress → 68 %
    assert "68%" in page
    assert "Failed 1" in page


def test_batch_list_empty(client_a):
    assert "No batches yet." in text(client_a.get(reverse("dashboard:batch_list")))


def test_batch_detail_renders_every_state(client_a, batch_jobs):
    batch, jobs = batch_jobs
    page = text(client_a.get(reverse("dashboard:batch_detail", args=[batch.pk])))
    assert "The photo is smaller than 256 pixels." in page
    assert "(bad_image)" in page
    assert "rendering" in page  # the running job's stage, in words
    assert 'aria-valuenow="42"' in page
    assert reverse("dashboard:video_detail", args=[jobs["video"].pk]) in page
    assert reverse("dashboard:job_retry", args=[jobs["failed"].pk]) in page
    assert reverse("dashboard:job_cancel", args=[jobs["running"].pk]) in page
    assert reverse("dashboard:job_cancel", args=[jobs["failed"].pk]) not in page
    assert reverse("dashboard:batch_cancel", args=[batch.pk]) in page
    for label in ("Queued", "Running", "Succeeded", "Failed", "Canceled"):
        assert f">{label}</span>" in page


def test_polling_stops_when_every_job_is_final(client_a, batch_jobs):
    batch, jobs = batch_jobs
    url = reverse("dashboard:batch_jobs", args=[batch.pk])
    live = text(client_a.get(url, HTTP_HX_REQUEST="true"))
    assert live.startswith('<section id="batch-jobs" hx-get="' + url + '" hx-trigger="every 2s"')
    assert "<html" not in live
    Job.objects.filter(pk__in=[jobs["queued"].pk, jobs["running"].pk]).update(state=Job.State.SUCCEEDED, progress=1)
    done = text(client_a.get(url, HTTP_HX_REQUEST="true"))
    assert done.startswith('<section id="batch-jobs"')
    assert "hx-trigger" not in done.split(">", 1)[0]
    assert "every 2s" not in done
    assert "100%" in done


def test_batch_with_no_jobs_renders(client_a, org):
    from tests.factories import BatchFactory

    batch = BatchFactory(organization=org)
    page = text(client_a.get(reverse("dashboard:batch_detail", args=[batch.pk])))
    assert "This batch has no jobs." in page
    assert "every 2s" not in page


def test_cancel_a_job_with_htmx_returns_the_partial(client_a, batch_jobs):
    _batch, jobs = batch_jobs
    response = client_a.post(reverse("dashboard:job_cancel", args=[jobs["queued"].pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    jobs["queued"].refresh_from_db()
    assert jobs["queued"].state == Job.State.CANCELED
    body = text(response)
    assert body.startswith('<section id="batch-jobs"')
    assert f"Job {jobs['queued'].pk} canceled." in body


def test_cancel_a_job_without_js_redirects(client_a, batch_jobs):
    batch, jobs = batch_jobs
    response = client_a.post(reverse("dashboard:job_cancel", args=[jobs["running"].pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard:batch_detail", args=[batch.pk])
    jobs["running"].refresh_from_db()
    assert jobs["running"].state == Job.State.CANCELED


def test_cancel_the_batch(client_a, batch_jobs):
    batch, jobs = batch_jobs
    response = client_a.post(reverse("dashboard:batch_cancel", args=[batch.pk]), follow=True)
    assert "2 jobs canceled." in text(response)
    states = dict(batch.jobs.values_list("pk", "state"))
    assert states[jobs["queued"].pk] == states[jobs["running"].pk] == Job.State.CANCELED
    assert states[jobs["succeeded"].pk] == Job.State.SUCCEEDED
    assert states[jobs["failed"].pk] == Job.State.FAILED


def test_retry_a_failed_job(client_a, batch_jobs):
    _batch, jobs = batch_jobs
    response = client_a.post(reverse("dashboard:job_retry", args=[jobs["failed"].pk]), follow=True)
    assert f"Job {jobs['failed'].pk} queued again." in text(response)
    jobs["failed"].refresh_from_db()
    assert jobs["failed"].state == Job.State.QUEUED
    assert jobs["failed"].error_message == ""


def test_retry_a_succeeded_job_is_refused_with_a_message(client_a, batch_jobs):
    _batch, jobs = batch_jobs
    response = client_a.post(reverse("dashboard:job_retry", args=[jobs["succeeded"].pk]), follow=True)
    assert response.status_code == 200
    assert "Only a failed or canceled job can be retried." in text(response)
    jobs["succeeded"].refresh_from_db()
    assert jobs["succeeded"].state == Job.State.SUCCEEDED


def test_actions_need_post(client_a, batch_jobs):
    _batch, jobs = batch_jobs
    assert client_a.get(reverse("dashboard:job_cancel", args=[jobs["queued"].pk])).status_code == 405
    jobs["queued"].refresh_from_db()
    assert jobs["queued"].state == Job.State.QUEUED


# --- videos ---------------------------------------------------------------------------------------------------


def test_video_page_plays_inline_with_poster_download_and_qa(client_a, batch_jobs):
    _batch, jobs = batch_jobs
    video = jobs["video"]
    page = text(client_a.get(reverse("dashboard:video_detail", args=[video.pk])))
    tag = re.search(r"<video[^>]*>", page).group(0)
    assert "controls" in tag
    assert 'preload="metadata"' in tag
    assert f'poster="{reverse("files:video_poster", args=[video.pk])}"' in tag
    assert f'<source src="{reverse("files:video", args=[video.pk])}" type="video/mp4">' in page
    assert f'href="{reverse("files:video_download", args=[video.pk])}"' in page
    assert "47.3 dB" in page  # PSNR min (47.25)
    assert "0.9931" in page  # SSIM min
    assert "0.42" in page  # flicker
    assert "Japan" in page


def test_video_list(client_a, batch_jobs):
    _batch, jobs = batch_jobs
    page = text(client_a.get(reverse("dashboard:video_list")))
    assert reverse("dashboard:video_detail", args=[jobs["video"].pk]) in page
    assert reverse("files:video_poster", args=[jobs["video"].pk]) in page


def test_video_list_empty(client_a):
    assert "No videos yet." in text(client_a.get(reverse("dashboard:video_list")))


def test_video_needing_review_says_so(client_a, org):
    job = JobFactory(photo=PhotoFactory(product__organization=org))
    video = make_video(job, review="needs_review", psnr_min=31.0)
    page = text(client_a.get(reverse("dashboard:video_detail", args=[video.pk])))
    assert "Needs review" in page
    assert "31.0 dB" in page


def test_home_overview(client_a, batch_jobs, org):
    batch, _jobs = batch_jobs
    page = text(client_a.get(reverse("dashboard:home")))
    assert org.name in page
    assert reverse("dashboard:batch_detail", args=[batch.pk]) in page


def test_the_wizard_refuses_720p_for_a_1_3b_model(client_a, org, product, settings, tmp_path):
    from billing.selectors import credits_for
    from tests.model_folders import config_only_folder

    settings.SHOPVIDEO_MODEL_PATH = str(config_only_folder(tmp_path / "vace-1.3b", "vace-1.3B"))
    photo = product.photos.get()
    data = matrix_post([photo.pk], engine="dit", resolution="720p")
    before = credits_for(org)
    response = client_a.post(reverse("dashboard:generate", args=[product.pk]), data)
    assert response.status_code == 400
    assert "The installed video model was not trained for 720p; choose 480p." in text(response)
    assert not Batch.objects.filter(organization=org).exists()
    assert credits_for(org).reserved == before.reserved
    estimate = client_a.post(reverse("dashboard:estimate"), data, HTTP_HX_REQUEST="true")
    assert "The installed video model was not trained for 720p; choose 480p." in text(estimate)
