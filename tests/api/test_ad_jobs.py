"""Jobs of format "ad" through the API: the estimate prices the ad and shows its storyboard, the job stores that
storyboard (planned once), a client's edit is re-priced and kept, and every refusal is a 400 with the pipeline's
code before anything is reserved."""

from __future__ import annotations

import pytest

from billing import selectors as billing_selectors
from generation.models import AudioTrack, Job, Photo
from generation.pipeline.ads.storyboard import TRANSITIONS
from generation.services.errors import PhotoInUse
from generation.services.products import remove_photo

from .conftest import error_of

pytestmark = pytest.mark.django_db

SHOT_KEYS = ("kind", "photo", "start", "end", "scene", "seed", "transition_in")


def ad_body(product, **extra) -> dict:
    return {"format": "ad", "product": product.pk, "market": "us", "platform": "tiktok", "seconds": 6, "seed": 5,
            **extra}  # fmt: skip


def shots(storyboard: dict) -> list[tuple]:
    return [tuple(s[k] for k in SHOT_KEYS) for s in storyboard["shots"]]


def refused(response, code: str) -> dict:
    assert response.status_code == 400, response.content
    error = error_of(response)
    assert error["code"] == code, error
    return error


def test_estimate_then_submit_stores_the_same_storyboard_at_the_same_price(api, org, product):
    estimate = api.post("/api/v1/jobs/estimate", ad_body(product), format="json")
    assert estimate.status_code == 200, estimate.content
    planned = estimate.json()
    board = planned["storyboard"]
    assert (planned["videos"], planned["seconds"], planned["credits"]) == (1, 6.0, 6)  # 1 credit a second at 480p
    assert board["frames"] == 96 and board["shots"][-1]["kind"] == "endcard" and board["shots"][0]["kind"] == "hero"
    assert board["photo_ids"] == sorted(p.pk for p in product.photos.all())
    assert all("placements" not in s for s in board["shots"])  # kept on the server
    balance = billing_selectors.credits_for(org).balance

    created = api.post("/api/v1/jobs", ad_body(product), format="json")

    assert created.status_code == 201, created.content
    shown = created.json()["jobs"][0]
    assert (shown["format"], shown["credits"], shown["seconds"]) == ("ad", 6, 6)
    assert shots(shown["storyboard"]) == shots(board)
    job = Job.objects.get(pk=shown["id"])
    assert job.format == "ad" and len(job.storyboard["shots"][0]["placements"]) == board["shots"][0]["end"]
    assert api.get(f"/api/v1/jobs/{job.pk}").json()["storyboard"] == shown["storyboard"]
    assert billing_selectors.credits_for(org).reserved == 6 and billing_selectors.credits_for(org).balance == balance


def test_an_edited_storyboard_is_repriced_and_rendered_as_edited(api, product):
    board = api.post("/api/v1/jobs/estimate", ad_body(product, seconds=15), format="json").json()["storyboard"]
    product_shots, card = board["shots"][:-1], board["shots"][-1]
    assert len(product_shots) >= 3
    # the second shot left out, the last two product shots swapped, the hero moved to another scene
    edited_shots = [dict(product_shots[0], scene="oak-table"), *product_shots[2:][::-1], card]
    edited = {**board, "shots": edited_shots}

    estimate = api.post("/api/v1/jobs/estimate", ad_body(product, seconds=15, storyboard=edited), format="json")

    assert estimate.status_code == 200, estimate.content
    again = estimate.json()
    kept = again["storyboard"]["shots"]
    assert [(s["kind"], s["photo"], s["seed"]) for s in kept] == [(s["kind"], s["photo"], s["seed"]) for s in
                                                                  edited_shots]  # fmt: skip
    assert kept[0]["scene"] == "oak-table" and kept[0]["start"] == 0
    frames = sum(s["end"] - s["start"] for s in kept) + sum(TRANSITIONS[s["transition_in"]] for s in kept[1:])
    assert again["storyboard"]["frames"] == frames == kept[-1]["end"] < board["frames"]
    assert again["seconds"] == pytest.approx(frames / 16) and again["credits"] == -(-frames // 16)
    created = api.post("/api/v1/jobs", ad_body(product, seconds=15, storyboard=edited), format="json")
    assert created.status_code == 201, created.content
    job = created.json()["jobs"][0]
    assert shots(job["storyboard"]) == shots(again["storyboard"]) and job["credits"] == again["credits"]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"seconds": 7}, "ad_length_not_allowed"),
        ({"platform": "amazon", "aspect_ratio": "1:1", "seconds": 60}, "ad_length_not_allowed"),
        ({"aspect_ratio": "16:9"}, "aspect_not_allowed"),
        ({"audio": 999_999}, "audio_not_found"),
        ({"storyboard": {"shots": [{"kind": "hero", "photo": 0, "seed": 1}]}}, "storyboard_invalid"),
        ({"storyboard": {"shots": "all"}}, "validation_error"),
        ({"storyboard": {"seed": 10**30, "shots": []}}, "storyboard_invalid"),
        ({"storyboard": {"shots": [{"kind": ["hero"], "photo": {}, "seed": 1.5, "scene": []}]}}, "storyboard_invalid"),
    ],
)
def test_refusals_have_codes_and_reserve_nothing(api, org, product, change, code):
    for path in ("/api/v1/jobs/estimate", "/api/v1/jobs"):
        error = refused(api.post(path, ad_body(product, **change), format="json"), code)
        assert error["fields"] and set(error["fields"]) <= set(ad_body(product, **change))  # the field, as sent
    assert not Job.objects.exists() and billing_selectors.credits_for(org).reserved == 0


def test_another_organizations_music_is_not_found(api, product, other_org):
    theirs = AudioTrack.objects.create(organization=other_org, name="theirs", seconds=2.0, sample_rate=44_100,
                                       codec="pcm_s16le", file=f"orgs/{other_org.pk}/audio/loop.wav")  # fmt: skip
    error = refused(api.post("/api/v1/jobs", ad_body(product, audio=theirs.pk), format="json"), "audio_not_found")
    assert "audio" in error["fields"]
    assert not Job.objects.exists()


def test_a_storyboard_edited_with_an_unknown_scene_or_no_end_card_is_refused(api, product):
    board = api.post("/api/v1/jobs/estimate", ad_body(product), format="json").json()["storyboard"]
    no_card = {**board, "shots": board["shots"][:-1]}
    estimate = api.post("/api/v1/jobs/estimate", ad_body(product, storyboard=no_card), format="json")
    refused(estimate, "storyboard_invalid")
    bad_scene = {**board, "shots": [dict(board["shots"][0], scene="moon"), *board["shots"][1:]]}
    refused(api.post("/api/v1/jobs", ad_body(product, storyboard=bad_scene), format="json"), "storyboard_invalid")


def test_the_photos_alone_name_the_product_and_another_organizations_photos_are_not_found(api, product, other_product):
    ids = sorted(p.pk for p in product.photos.all())
    body = {k: v for k, v in ad_body(product, photos=ids[::-1]).items() if k != "product"}
    estimate = api.post("/api/v1/jobs/estimate", body, format="json")
    assert estimate.status_code == 200, estimate.content
    assert estimate.json()["storyboard"]["photo_ids"] == ids[::-1]  # the hero first, as named
    theirs = [p.pk for p in other_product.photos.all()]
    for photos in (theirs, [*ids, *theirs]):
        response = api.post("/api/v1/jobs", {**body, "photos": photos}, format="json")
        assert response.status_code == 400 and error_of(response)["code"] in ("product_not_found", "photo_not_found")
    assert not Job.objects.exists()


def test_a_photo_an_ad_uses_stays_with_it(api, product):
    hero, other = sorted(p.pk for p in product.photos.all())
    created = api.post("/api/v1/jobs", ad_body(product, photos=[hero, other]), format="json")
    assert created.status_code == 201, created.content
    with pytest.raises(PhotoInUse):  # not the job's `photo`, but one of the ad's (the dashboard's removal)
        remove_photo(photo=Photo.objects.get(pk=other))
    assert product.photos.filter(pk=other).exists()
