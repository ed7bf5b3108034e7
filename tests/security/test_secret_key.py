"""No secret in the repository signs anything: the demo makes its own key, every other start without a key is
refused, and a link signed with the key that used to be in the repository is refused by a server started the way
`make demo` starts it. Storage names of merchant files carry a random part."""

from __future__ import annotations

import os
import re
import signal
import socket
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.core import signing

from generation import downloads
from generation.models import Photo, Video, import_upload_to, mask_upload_to, photo_upload_to, video_upload_to
from scripts import demo

ROOT = Path(__file__).resolve().parents[2]
PUBLISHED_KEY = "insecure-dev-key-only-for-the-embedded-demo-and-tests-0123456789"
# What the test process has that a merchant's shell would not.
_TEST_ENV = ("DJANGO_SECRET_KEY", "DATABASE_URL", "REDIS_URL", "TEST_DATABASE_NAME", "DJANGO_ALLOW_ASYNC_UNSAFE")


def _plain_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _TEST_ENV}
    env.update(DJANGO_SETTINGS_MODULE="shop_video.settings", SHOPVIDEO_VAR_DIR=str(tmp_path), **extra)
    return env


@pytest.mark.parametrize(
    "argv",
    [
        [sys.executable, "manage.py", "check"],
        [sys.executable, "manage.py", "runserver", "--noreload", "127.0.0.1:0"],
        [str(Path(sys.executable).with_name("celery")), "-A", "shop_video", "worker", "--pool", "solo"],
    ],
    ids=["manage-check", "runserver", "celery-worker"],
)
def test_a_start_that_is_not_the_demo_refuses_without_a_key(tmp_path, argv):
    out = subprocess.run(argv, cwd=ROOT, env=_plain_env(tmp_path), capture_output=True, text=True, timeout=60)
    assert out.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in out.stderr, out.stderr[-2000:]


def test_the_key_once_published_in_the_repository_is_refused(tmp_path):
    env = _plain_env(tmp_path, DJANGO_SECRET_KEY=PUBLISHED_KEY)
    out = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert out.returncode != 0 and "published" in out.stderr


def test_the_demo_key_is_random_owner_only_and_reused(tmp_path):
    first = demo.demo_secret_key(tmp_path)
    path = tmp_path / demo.SECRET_KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) >= 50 and first != PUBLISHED_KEY
    assert demo.demo_secret_key(tmp_path) == first
    other = tmp_path / "other"
    other.mkdir()
    assert demo.demo_secret_key(other) != first


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.fixture
def demo_server(tmp_path):
    """scripts/demo.py as `make demo` runs it (no key in the environment), without the demo batch."""
    port = _free_port()
    var_dir = tmp_path / "var"
    env = {k: v for k, v in os.environ.items() if k not in _TEST_ENV and k != "DJANGO_SETTINGS_MODULE"}
    env.update(SHOPVIDEO_VAR_DIR=str(var_dir), HOST="127.0.0.1", PORT=str(port), PYTHONUNBUFFERED="1")
    log = (tmp_path / "demo.log").open("w+")
    proc = subprocess.Popen(
        [sys.executable, "scripts/demo.py", "--no-videos"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 240
        while "ShopVideo is running" not in (tmp_path / "demo.log").read_text():
            assert proc.poll() is None, (tmp_path / "demo.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the demo did not start in time"
            time.sleep(0.5)
        yield f"http://127.0.0.1:{port}", var_dir
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _expired_token(key: str) -> str:
    """A download token for video 1 of organization 1 that expired a minute ago: a server that accepts the
    signature answers 410 (expired); one that refuses it answers 404, before looking at anything else."""
    payload = {"k": "v", "id": 1, "f": "file", "o": 1, "h": "0" * 16, "e": int(time.time()) - 60}
    return signing.dumps(payload, key=key, salt=downloads.SALT, compress=True)


@pytest.mark.slow
def test_a_link_signed_with_the_published_key_is_refused_by_the_demo_server(demo_server):
    base, var_dir = demo_server
    assert _status(f"{base}/files/signed/{_expired_token(PUBLISHED_KEY)}") == 404
    # The server signs with the key it made and kept: a token signed with that one passes (410: only expired).
    key_file = var_dir / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert _status(f"{base}/files/signed/{_expired_token(key_file.read_text().strip())}") == 410


_RANDOM = r"[A-Za-z0-9_-]{16}"


def test_video_names_carry_a_random_part():
    video = Video(organization_id=7, job_id=42, attempt=2)
    first, second = video_upload_to(video, "video.mp4"), video_upload_to(video, "video.mp4")
    assert re.fullmatch(rf"orgs/7/videos/job-42/attempt-2/video-{_RANDOM}\.mp4", first), first
    assert first != second


def test_photo_mask_and_import_names_carry_a_random_part():
    photo = Photo(organization_id=7, checksum="ab" * 32)
    folder = f"orgs/7/photos/ab/{'ab' * 32}"
    assert re.fullmatch(rf"{folder}/photo-{_RANDOM}\.png", photo_upload_to(photo, "photo.png"))
    assert re.fullmatch(rf"{folder}/mask-mask-{_RANDOM}\.png", mask_upload_to(photo, "mask.png"))
    imp = type("Import", (), {"organization_id": 7, "checksum": "cd" * 32})()
    assert re.fullmatch(rf"orgs/7/imports/{'cd' * 8}/catalog-{_RANDOM}\.csv", import_upload_to(imp, "catalog.csv"))
