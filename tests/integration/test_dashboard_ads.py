"""The dashboard's ad wizard through the Django test client: the storyboard shown before paying (a thumbnail per
shot), edits posted back and re-priced, the job created with exactly the storyboard shown; bad music, another
organization's product or music, and a length the platform does not take are refused with nothing stored."""

from __future__ import annotations

import re

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from billing import selectors as billing_selectors
from generation.models import AudioTrack, Job, Video
from tests.factories import MembershipFactory, PhotoFactory, ProductFactory

pytestmark = pytest.mark.django_db

OPTIONS = {"market": "us", "platform": "tiktok", "aspect_ratio": "9:16", "seconds": 6}


@pytest.fixture
def product(org):
    product = ProductFactory(organization=org, title="Linen tote", price="24.00", currency="USD")
    PhotoFactory(product=product, width=256, height=320)
    PhotoFactory(product=product, width=256, height=320)
    return product


def text(response) -> str:
    return response.content.decode()


def shown_shots(page: str) -> list[str]:
    return re.findall(r'<input type="hidden" name="shot" value="([^"]+)">', page)


def shown_scenes(page: str) -> list[str]:
    return re.findall(r'<select name="scene"[^>]*>.*?<option value="([^"]+)" selected>', page, re.S)


def shown_credits(page: str) -> int:
    return int(re.search(r'id="ad-price"[^>]*data-credits="(\d+)"', page).group(1))


def post_back(client, url, page: str, action: str, **change):
    """The storyboard form as the page shows it, with one button pressed (and any field changed)."""
    data = {**OPTIONS, "audio": "", "seed": re.search(r'name="seed" value="(\d+)"', page).group(1),
            "shot": shown_shots(page), "scene": shown_scenes(page), "action": action, **change}  # fmt: skip
    return client.post(url, data)


def test_storyboard_edited_repriced_and_submitted_as_shown(client_a, org, product):
    url = reverse("dashboard:ad_new", args=[product.pk])
    first = client_a.get(url, OPTIONS)
    assert first.status_code == 200, text(first)
    page = text(first)
    keys = shown_shots(page)
    assert [k.split(":")[0] for k in keys] == ["hero", "angle", "endcard"]
    assert page.count('src="data:image/jpeg;base64,') == len(keys)  # one thumbnail per shot
    balance = billing_selectors.credits_for(org).available
    assert shown_credits(page) == 6 and f'data-credit-standing data-available="{balance}"' in page

    moved = text(post_back(client_a, url, page, "up:1"))
    assert shown_shots(moved) == [keys[1], keys[0], keys[2]] and shown_credits(moved) == 6
    scenes = shown_scenes(moved)
    changed = text(post_back(client_a, url, moved, "remove:1", scene=["oak-table", *scenes[1:]]))
    assert shown_shots(changed) == [keys[1], keys[2]]
    assert shown_scenes(changed)[0] == "oak-table"
    price = shown_credits(changed)
    assert price < 6
    assert not Job.objects.exists()  # nothing before Submit

    done = post_back(client_a, url, changed, "submit")

    assert done.status_code == 302, text(done)
    job = Job.objects.get()
    assert job.format == "ad" and job.credits == price
    stored = [
        f"{s['kind']}:{s['photo'] if s['photo'] is not None else ''}:{s['seed']}" for s in job.storyboard["shots"]
    ]
    assert stored == shown_shots(changed) and job.storyboard["shots"][0]["scene"] == "oak-table"
    assert billing_selectors.credits_for(org).reserved == price
    assert done["Location"] == reverse("dashboard:batch_detail", args=[job.batch_id])
    assert "Ad submitted" in text(client_a.get(done["Location"]))


def test_a_length_the_platform_does_not_take_is_not_offered_and_refused(client_a, product):
    url = reverse("dashboard:ad_new", args=[product.pk])
    page = text(client_a.get(url, {**OPTIONS, "platform": "amazon"}))
    offered = re.findall(r'type="radio" name="seconds" value="(\d+)"', page)
    assert offered == ["6", "10", "15", "30"]  # Amazon stops at 30 s
    refused = client_a.get(url, {**OPTIONS, "platform": "amazon", "seconds": 60})
    assert refused.status_code == 400 and "60 is not one of the available choices" in text(refused)
    planned = text(client_a.get(url, OPTIONS))
    posted = post_back(client_a, url, planned, "submit", platform="amazon", seconds=60)
    assert posted.status_code == 400 and not Job.objects.exists()


def test_bad_music_is_refused_on_the_page_and_nothing_is_stored(client_a, org, product):
    url = reverse("dashboard:ad_music", args=[product.pk])
    folder = f"orgs/{org.pk}/audio"
    before = default_storage.listdir(folder) if default_storage.exists(folder) else ([], [])
    bad = SimpleUploadedFile("song.mp3", b"ID3 this is not audio at all" * 40, content_type="audio/mpeg")
    response = client_a.post(url, {**OPTIONS, "music": bad})
    assert response.status_code == 400
    assert "The file is not audio we can play (MP3, WAV, M4A/AAC or OGG)." in text(response)
    assert not AudioTrack.objects.exists()
    assert (default_storage.listdir(folder) if default_storage.exists(folder) else ([], [])) == before


def test_another_organizations_product_or_music_is_not_found(client_a, product):
    other = MembershipFactory().organization
    theirs = PhotoFactory(product__organization=other).product
    assert client_a.get(reverse("dashboard:ad_new", args=[theirs.pk]), OPTIONS).status_code == 404
    for name in ("dashboard:ad_new", "dashboard:ad_music"):
        assert client_a.post(reverse(name, args=[theirs.pk]), OPTIONS).status_code == 404
    track = AudioTrack.objects.create(organization=other, name="theirs", seconds=2.0, sample_rate=44_100,
                                      codec="pcm_s16le", file=f"orgs/{other.pk}/audio/loop.wav")  # fmt: skip
    url = reverse("dashboard:ad_new", args=[product.pk])
    page = text(client_a.get(url, OPTIONS))
    assert "theirs" not in page
    response = post_back(client_a, url, page, "submit", audio=track.pk)
    assert response.status_code == 400 and not Job.objects.exists()


def test_a_finished_ads_page_and_gallery_show_each_shots_qa(client_a, product):
    from tests.factories import JobFactory
    from tests.integration.test_files import make_video, mp4_bytes

    job = JobFactory(photo=product.photos.first(), format="ad", seconds=6, platform="tiktok")
    figures = {"psnr_mean": 50.0, "flicker": 0.3, "edge_iou": 0.98}
    shots = [
        {"kind": "hero", "start": 0, "end": 40, "qa": {"psnr_min": 47.5, "ssim_min": 0.991, "frames": 40, **figures}},
        {"kind": "angle", "start": 46, "end": 70, "qa": {"psnr_min": 31.2, "ssim_min": 0.902, "frames": 24, **figures}},
        {"kind": "endcard", "start": 70, "end": 96, "qa": None},
    ]
    video = make_video(job, data=mp4_bytes(frames=4), metadata={"format": "ad", "shots": shots})
    Video.objects.filter(pk=video.pk).update(duration_seconds=6.0, frames=96)

    page = text(client_a.get(reverse("dashboard:video_detail", args=[video.pk])))

    rows = re.findall(r'data-shot-qa data-kind="(\w+)" data-frames="(\d+)" data-exact="(\w+)"', page)
    assert rows == [("hero", "40", "yes"), ("angle", "24", "no"), ("endcard", "26", "none")]
    assert "Whole product" in page and "Another angle" in page and "End card" in page
    details = page[page.index('<details class="qa-details">') : page.index("</details>", page.index("qa-details"))]
    assert "47.5 dB" in details and "31.2 dB" in details and "0.9020" in details  # the figures behind Details
    gallery = text(client_a.get(reverse("dashboard:video_list")))
    assert "Ad · 6 s" in gallery


def test_music_uploaded_on_the_page_is_chosen_for_the_ad_and_stored_with_the_job(client_a, org, product, tmp_path):
    from tests.audio_samples import music, write_wav

    wav = write_wav(tmp_path / "loop.wav", music(6.5, rate=22_050), rate=22_050)
    upload = SimpleUploadedFile("loop.wav", wav.read_bytes(), content_type="audio/wav")
    response = client_a.post(reverse("dashboard:ad_music", args=[product.pk]), {**OPTIONS, "music": upload})
    assert response.status_code == 302, text(response)
    track = AudioTrack.objects.get(organization=org)
    page = text(client_a.get(response["Location"]))
    assert f'<option value="{track.pk}" selected>loop</option>' in page
    assert f'name="audio" value="{track.pk}"' in page and shown_shots(page)  # planned with its beats
    done = post_back(client_a, reverse("dashboard:ad_new", args=[product.pk]), page, "submit", audio=track.pk)
    assert done.status_code == 302, text(done)
    job = Job.objects.get()
    assert job.audio_id == track.pk and job.storyboard["audio"] == track.pk


def test_submit_without_enough_credits_is_refused_with_the_storyboard_still_shown(client, product):
    poor = MembershipFactory(organization__credits=2)
    client.force_login(poor.user)
    mine = ProductFactory(organization=poor.organization, title="Clay mug", price="12.00", currency="USD")
    PhotoFactory(product=mine, width=256, height=320)
    url = reverse("dashboard:ad_new", args=[mine.pk])
    page = text(client.get(url, OPTIONS))
    assert "data-credits-short" in page  # warned at the price already

    refused = post_back(client, url, page, "submit")

    assert refused.status_code == 400
    again = text(refused)
    assert "data-submit-error" in again and shown_shots(again) == shown_shots(page)
    assert not Job.objects.exists() and billing_selectors.credits_for(poor.organization).reserved == 0
