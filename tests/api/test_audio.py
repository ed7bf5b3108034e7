"""/api/v1/audio: music uploads checked before they are stored (each bad file a clear 400 code, no row and no
file left), listed and deleted per organization, Idempotency-Key replays an upload."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from generation.models import AudioTrack
from tests import audio_samples as samples

from .conftest import error_of


def refused(response, status: int) -> dict:
    assert response.status_code == status, response.content
    return error_of(response)


pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def audio_files(tmp_path_factory) -> dict[str, bytes]:
    d = tmp_path_factory.mktemp("api-audio")
    music = samples.music(2.0)
    mp3 = samples.encode(d / "music.mp3", music).read_bytes()
    return {
        "mp3": mp3,
        "m4a": samples.encode(d / "music.m4a", music).read_bytes(),
        "text": b"Not music at all, just a text file renamed.\n" * 40,
        "truncated": mp3[: len(mp3) // 2],
        "empty": b"",
        "two-hours": samples.mp3_declaring(d / "long.mp3", 7200).read_bytes(),
    }


def upload(client, data: bytes, name: str = "track.mp3", **headers):
    return client.post(
        "/api/v1/audio",
        {"file": SimpleUploadedFile(name, data, content_type="audio/mpeg")},
        format="multipart",
        **headers,
    )


def stored_audio_files(org) -> list[str]:
    folder = f"orgs/{org.pk}/audio"
    return default_storage.listdir(folder)[1] if default_storage.exists(folder) else []


def test_upload_list_get_delete(api, org, audio_files, django_capture_on_commit_callbacks):
    response = upload(api, audio_files["mp3"], name="Summer Sale.mp3")
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"id", "name", "seconds", "created_at"}
    assert body["name"] == "Summer_Sale" and body["seconds"] == pytest.approx(2.0, abs=0.05)
    track = AudioTrack.objects.get(pk=body["id"], organization=org)
    assert (track.codec, track.sample_rate, track.bytes) == ("mp3float", 44_100, len(audio_files["mp3"]))
    assert track.file.name.endswith(".mp3") and track.file.read() == audio_files["mp3"]
    m4a = upload(api, audio_files["m4a"], name="named-wrongly.mp3")
    assert m4a.status_code == 201
    assert AudioTrack.objects.get(pk=m4a.json()["id"]).file.name.endswith(".m4a")  # by content, not by name

    listed = api.get("/api/v1/audio")
    assert listed.status_code == 200
    assert [t["id"] for t in listed.json()["results"]] == [m4a.json()["id"], body["id"]]
    assert api.get(f"/api/v1/audio/{body['id']}").json() == body

    name = track.file.name
    with django_capture_on_commit_callbacks(execute=True):
        assert api.delete(f"/api/v1/audio/{body['id']}").status_code == 204
    assert not AudioTrack.objects.filter(pk=body["id"]).exists()
    assert not default_storage.exists(name)
    AudioTrack.objects.get(pk=m4a.json()["id"]).file.delete(save=False)
    assert refused(api.get(f"/api/v1/audio/{body['id']}"), 404)["code"] == "not_found"


@pytest.mark.parametrize(
    "kind, code",
    [("text", "audio_invalid"), ("truncated", "audio_invalid"), ("empty", "audio_invalid"),
     ("two-hours", "audio_too_long")],
)  # fmt: skip
def test_a_bad_file_is_refused_and_nothing_is_stored(api, org, audio_files, kind, code):
    before = stored_audio_files(org)
    error = refused(upload(api, audio_files[kind]), 400)
    assert error["code"] == code
    assert error["fields"]["file"] == [error["message"]]
    assert not AudioTrack.objects.filter(organization=org).exists()
    assert stored_audio_files(org) == before


def test_a_file_over_the_byte_limit_is_refused(api, org, audio_files, settings):
    settings.SHOPVIDEO_AUDIO_MAX_BYTES = 10_000
    before = stored_audio_files(org)
    error = refused(upload(api, audio_files["mp3"]), 400)
    assert error["code"] == "audio_too_large"
    assert "MB" in error["message"]
    assert not AudioTrack.objects.filter(organization=org).exists()
    assert stored_audio_files(org) == before


def test_the_length_limit_is_a_setting(api, org, audio_files, settings):
    settings.SHOPVIDEO_AUDIO_MAX_SECONDS = 1.0
    assert refused(upload(api, audio_files["mp3"]), 400)["code"] == "audio_too_long"
    assert not AudioTrack.objects.filter(organization=org).exists()


def test_another_organization_sees_none_of_it(api, other_api, org, audio_files):
    track_id = upload(api, audio_files["mp3"]).json()["id"]
    assert other_api.get("/api/v1/audio").json()["results"] == []
    assert refused(other_api.get(f"/api/v1/audio/{track_id}"), 404)["code"] == "not_found"
    assert refused(other_api.delete(f"/api/v1/audio/{track_id}"), 404)["code"] == "not_found"
    assert AudioTrack.objects.filter(pk=track_id, organization=org).exists()


def test_the_idempotency_key_replays_the_upload(api, org, audio_files):
    first = upload(api, audio_files["mp3"], HTTP_IDEMPOTENCY_KEY="music-1")
    again = upload(api, audio_files["mp3"], HTTP_IDEMPOTENCY_KEY="music-1")
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true" and again.json() == first.json()
    assert AudioTrack.objects.filter(organization=org).count() == 1
    other = upload(api, audio_files["m4a"], name="other.m4a", HTTP_IDEMPOTENCY_KEY="music-1")
    assert refused(other, 422)["code"] == "idempotency_key_reused"


def test_the_upload_needs_a_file(api):
    error = refused(api.post("/api/v1/audio", {}, format="multipart"), 400)
    assert error["code"] == "validation_error" and "file" in error["fields"]
