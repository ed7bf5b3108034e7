"""Gallery actions through the Django test client: reject with a reason, a new take with another seed, and a zip of
the selected videos (real MP4s, decoded), never with another organization's video."""

from __future__ import annotations

import io
import zipfile

import av
import pytest
from django.urls import reverse

from generation.models import Batch, Job, Video
from tests.factories import JobFactory, MembershipFactory, PhotoFactory
from tests.integration.test_files import make_video, mp4_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def videos(member):
    photo = PhotoFactory(product__organization=member.organization, product__title="Linen shirt")
    first = make_video(JobFactory(photo=photo, aspect_ratio="9:16", seed=7), data=mp4_bytes(frames=12))
    second = make_video(JobFactory(photo=photo, aspect_ratio="1:1", seed=8), data=mp4_bytes(frames=8))
    third = make_video(JobFactory(photo=photo, aspect_ratio="16:9", seed=9), data=mp4_bytes(frames=4))
    return first, second, third


@pytest.fixture
def foreign_video():
    other = MembershipFactory()
    photo = PhotoFactory(product__organization=other.organization, product__title="Secret prototype")
    return make_video(JobFactory(photo=photo), data=mp4_bytes(frames=6))


def text(response) -> str:
    return response.content.decode()


# --- reject and regenerate ---------------------------------------------------------------------------------------


def test_reject_with_a_reason_then_a_new_take_with_another_seed(client_a, videos):
    video = videos[0]
    old_job = video.job

    response = client_a.post(reverse("dashboard:video_reject", args=[video.pk]), {"reason": "Collar is blurred"})
    assert response.status_code == 302
    video.refresh_from_db()
    assert (video.review, video.review_note) == (Video.Review.REJECTED, "Collar is blurred")
    page = text(client_a.get(reverse("dashboard:video_detail", args=[video.pk])))
    assert "Collar is blurred" in page

    batches_before = set(Batch.objects.values_list("pk", flat=True))
    response = client_a.post(reverse("dashboard:video_regenerate", args=[video.pk]))
    assert response.status_code == 302
    (new_batch,) = Batch.objects.exclude(pk__in=batches_before)
    assert response["Location"] == reverse("dashboard:batch_detail", args=[new_batch.pk])
    (new_job,) = new_batch.jobs.all()
    assert new_job.seed != old_job.seed
    assert new_job.state == Job.State.QUEUED
    same = ("photo_id", "market_id", "scene_id", "look_id", "aspect_ratio", "resolution", "seconds", "engine")
    assert [getattr(new_job, f) for f in same] == [getattr(old_job, f) for f in same]
    assert new_batch.organization_id == old_job.organization_id
    # The old take stays rejected, with its reason.
    video.refresh_from_db()
    assert (video.review, video.review_note) == (Video.Review.REJECTED, "Collar is blurred")
    assert "A new take is queued with another seed." in text(client_a.get(response["Location"]))


def test_reject_without_a_reason_is_a_field_error_and_changes_nothing(client_a, videos):
    video = videos[0]
    response = client_a.post(reverse("dashboard:video_reject", args=[video.pk]), {"reason": "   "})
    assert response.status_code == 400
    assert "Say why the video is rejected, so the next one can be better." in text(response)
    video.refresh_from_db()
    assert video.review == Video.Review.READY


def test_reject_and_regenerate_another_shops_video_is_a_404(client_a, foreign_video):
    for name in ("dashboard:video_reject", "dashboard:video_regenerate"):
        assert client_a.post(reverse(name, args=[foreign_video.pk]), {"reason": "x"}).status_code == 404
    foreign_video.refresh_from_db()
    assert foreign_video.review == Video.Review.READY
    assert Job.objects.filter(organization=foreign_video.organization).count() == 1


# --- zip of selected videos -----------------------------------------------------------------------------------


def read_zip(response) -> zipfile.ZipFile:
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def decoded_frames(data: bytes) -> int:
    with av.open(io.BytesIO(data)) as container:
        return sum(1 for _frame in container.decode(video=0))


def test_zip_of_the_selected_videos_holds_exactly_them_as_playable_mp4s(client_a, videos):
    first, _second, third = videos
    response = client_a.get(reverse("dashboard:video_zip"), {"video": [third.pk, first.pk]})
    assert 'filename="shopvideo-selection.zip"' in response["Content-Disposition"]
    archive = read_zip(response)
    names = archive.namelist()
    assert names == [f"Linen-shirt-us-16x9-1s-{third.pk}.mp4", f"Linen-shirt-us-9x16-1s-{first.pk}.mp4"]
    assert archive.testzip() is None
    assert [decoded_frames(archive.read(n)) for n in names] == [4, 12]
    assert archive.read(names[1]) == first.file.open("rb").read()


def test_zip_with_another_shops_video_in_the_selection_is_refused_and_leaks_nothing(client_a, videos, foreign_video):
    response = client_a.get(reverse("dashboard:video_zip"), {"video": [videos[0].pk, foreign_video.pk]})
    assert response.status_code == 404
    assert response.get("Content-Type", "").startswith("text/html")
    body = text(response)
    assert "Secret prototype" not in body and "ftyp" not in body


@pytest.mark.parametrize("bad", ["abc", "-1", "999999999"])
def test_zip_with_a_bad_id_is_a_404(client_a, videos, bad):
    assert client_a.get(reverse("dashboard:video_zip"), {"video": [videos[0].pk, bad]}).status_code == 404


def test_zip_with_nothing_selected_says_what_to_do(client_a, videos):
    response = client_a.get(reverse("dashboard:video_zip"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("dashboard:video_list")
    assert "Nothing to download: tick some videos, or approve some first." in text(response)


def test_zip_of_approved_videos_only(client_a, videos):
    first, second, _third = videos
    for video in (first, second):
        client_a.post(reverse("dashboard:video_approve", args=[video.pk]))
    archive = read_zip(client_a.get(reverse("dashboard:video_zip"), {"review": "approved"}))
    assert sorted(archive.namelist()) == sorted(
        [f"Linen-shirt-us-9x16-1s-{first.pk}.mp4", f"Linen-shirt-us-1x1-1s-{second.pk}.mp4"]
    )


# --- why a video is held back ----------------------------------------------------------------------------------


def test_the_review_queue_says_why_and_when_4_2_0_is_the_limit(client_a, videos):
    ceiling, texture = videos[0], videos[1]
    for video, predicted, psnr in ((ceiling, 31.6, 31.4), (texture, 40.2, 36.9)):
        video.review, video.qa_passed, video.psnr_min, video.ssim_min = Video.Review.NEEDS_REVIEW, False, psnr, 0.99
        video.metadata = {**video.metadata, "fidelity": {"fill": 0.62, "predicted_psnr": predicted}}
        video.save()
    page = text(client_a.get(reverse("dashboard:review_queue")))
    held = {v.pk: page[page.index(f'id="review-{v.pk}"') :] for v in (ceiling, texture)}
    held = {pk: block[: block.index("</article>")] for pk, block in held.items()}
    assert "fell to 31.4 dB; 38.0 dB or more is exact" in held[ceiling.pk]
    assert "more than web video (H.264, 4:2:0) can carry at this size" in held[ceiling.pk]
    # The forecast said 4:2:0 allowed 40.2 dB: the codec is not why, so the page does not say it is.
    assert "fell to 36.9 dB" in held[texture.pk] and "4:2:0" not in held[texture.pk]


@pytest.mark.parametrize(
    ("resolution", "with_look", "advice"),
    [
        ("480p", True, "720p, or a shot without a model, shows the product larger"),
        ("480p", False, "720p shows the product larger"),
        ("720p", True, "a shot without a model shows the product larger"),
        ("720p", False, "the largest size this frame allows; check the video yourself"),
    ],
)
def test_the_4_2_0_reason_suggests_only_what_would_help(member, resolution, with_look, advice):
    from shop_video.notifications.services import review_reasons
    from tests.factories import ModelLookFactory

    look = ModelLookFactory(organization=member.organization) if with_look else None
    job = JobFactory(photo=PhotoFactory(product__organization=member.organization), resolution=resolution, look=look)
    video = make_video(job, psnr_min=33.0, metadata={"fidelity": {"fill": 0.9, "predicted_psnr": 33.2}})
    psnr, ceiling = review_reasons(video)
    assert "fell to 33.0 dB" in psnr
    assert "H.264, 4:2:0" in ceiling and advice in ceiling
