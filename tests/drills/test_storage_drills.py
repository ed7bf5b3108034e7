"""Storage fails while a worker saves a video: S3 answering 500 (a proxy in front of a moto server), and a full
disk under the media root (a tiny tmpfs, root only). The job is retried, then fails with a clear code; nothing
half-written stays in storage or is served; once storage is back, a retry delivers the video.

These run the job service in the test process (the same code a worker runs), so the storage fault can be
switched at the exact moment of the save."""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from django.core.files.storage import default_storage

from generation import services
from generation.models import Job, Video
from tests.factories import JobFactory

from .conftest import free_port, record

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

ACCESS_KEY = "AKIAH12DRILLKEY00000"
SECRET_KEY = "h12-drill-secret-key-000000000000000000000"
BUCKET = "shopvideo-drill-media"
REGION = "us-east-1"


@pytest.fixture
def job_env(settings, tmp_path, clean_broker):
    """Requeues of the drill go to the real broker; work files on the real disk; QA margins out of the way."""
    settings.SHOPVIDEO_WORK_DIR = tmp_path / "work"
    settings.SHOPVIDEO_QA_MIN_PSNR = 0
    settings.SHOPVIDEO_QA_MIN_SSIM = 0
    settings.SHOPVIDEO_RETRY_BACKOFF_SECONDS = 1
    return clean_broker


def _job(job: Job) -> Job:
    job.refresh_from_db()
    return job


def _video_keys(job: Job) -> list[str]:
    prefix = f"orgs/{job.organization_id}/videos/job-{job.pk}"
    found: list[str] = []

    def walk(path: str) -> None:
        try:
            dirs, files = default_storage.listdir(path)
        except (FileNotFoundError, OSError):
            return
        found.extend(f"{path}/{f}" for f in files)
        for d in dirs:
            walk(f"{path}/{d}")

    walk(prefix)
    return found


def _run_until_final(job: Job, broker) -> list[str]:
    """Run the job's attempts as a worker would (the broker holds each retry's message); the codes seen."""
    codes = []
    for _ in range(job.max_attempts):
        services.execute_job(job_id=job.pk, worker_name="drill")
        _job(job)
        codes.append(job.error_code)
        if job.is_final:
            break
        assert job.state == Job.State.QUEUED and job.pk in broker.queued_job_ids()  # re-sent with backoff
    return codes


# --- S3 answering 500 ---------------------------------------------------------------------------------------------


class _FaultyProxy(BaseHTTPRequestHandler):
    """Passes requests to moto; while `failing` is set, every write of a video object gets a 500."""

    backend_port = 0
    failing = threading.Event()
    refused: list[str] = []
    protocol_version = "HTTP/1.1"

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        if self.failing.is_set() and self.command in ("PUT", "POST") and "/videos/" in self.path:
            self.refused.append(self.path)
            payload = b"<Error><Code>InternalError</Code><Message>drill</Message></Error>"
            self.send_response(500)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return
        conn = http.client.HTTPConnection("127.0.0.1", self.backend_port, timeout=30)
        headers = {k: v for k, v in self.headers.items() if k.lower() != "expect"}
        conn.request(self.command, self.path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        self.send_response(response.status)
        for key, value in response.getheaders():
            if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        conn.close()

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _handle

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def faulty_s3(settings) -> Iterator[type[_FaultyProxy]]:
    from moto.server import ThreadedMotoServer

    moto_port = free_port()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=moto_port, verbose=False)
    moto.start()
    handler = type("Proxy", (_FaultyProxy,), {"backend_port": moto_port, "failing": threading.Event(), "refused": []})
    proxy = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    proxy.daemon_threads = True
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{proxy.server_address[1]}"
    boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name="us-east-1",
    ).create_bucket(Bucket=BUCKET)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "endpoint_url": endpoint,
                "region_name": REGION,
                "access_key": ACCESS_KEY,
                "secret_key": SECRET_KEY,
                "default_acl": "private",
                "file_overwrite": False,
                "addressing_style": "path",
                # boto3 retries a 500 itself first; keep that short in the drill.
                "client_config": Config(retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=2),
            },
        },
    }
    assert default_storage.bucket_name == BUCKET
    try:
        yield handler
    finally:
        proxy.shutdown()
        proxy.server_close()
        moto.stop()


def test_s3_errors_while_saving_a_video_retry_then_fail_with_a_clear_code(job_env, faulty_s3):
    job = JobFactory(seconds=1, dispatched_at=None, max_attempts=2)
    photo_bytes = default_storage.open(job.photo.file.name).read()
    faulty_s3.failing.set()
    started = time.monotonic()

    codes = _run_until_final(job, job_env)
    failed_after = time.monotonic() - started

    assert codes == ["storage_unavailable", "storage_unavailable"]
    assert job.state == Job.State.FAILED and job.attempt == 2
    assert "could not be stored" in job.error_message
    assert faulty_s3.refused, "the proxy refused the video uploads"
    assert not Video.objects.filter(job=job).exists()
    assert _video_keys(job) == []  # no half-written object
    assert default_storage.open(job.photo.file.name).read() == photo_bytes  # the photo is intact

    faulty_s3.failing.clear()  # storage is back: a retry delivers
    services.retry_job(job=job)
    services.execute_job(job_id=job.pk, worker_name="drill")
    assert _job(job).state == Job.State.SUCCEEDED
    video = Video.objects.get(job=job)
    assert _video_keys(job) == sorted(n for n in (video.file.name, video.poster.name, video.preview.name) if n) or set(
        _video_keys(job)
    ) == {n for n in (video.file.name, video.poster.name, video.preview.name) if n}
    record("s3_errors_on_save", attempts=2, failed_with_code_after_s=failed_after, code="storage_unavailable")


# --- a full disk --------------------------------------------------------------------------------------------------


@pytest.fixture
def tiny_media(settings) -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs as the media root needs root")
    root = Path(tempfile.mkdtemp(prefix="sv-drill-media-"))
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(root)], capture_output=True)
    if mounted.returncode != 0:
        root.rmdir()
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    settings.MEDIA_ROOT = str(root)
    try:
        yield root
    finally:
        subprocess.run(["umount", "-l", str(root)], check=False)
        shutil.rmtree(root, ignore_errors=True)


def _fill(root: Path, leave: int) -> Path:
    """Fill the filesystem, then give back `leave` bytes: the next save starts and runs out midway."""
    filler = root / "filler"
    with open(filler, "wb") as fh, contextlib.suppress(OSError):
        while True:
            fh.write(b"\0" * 65536)
            fh.flush()
    with contextlib.suppress(OSError), open(filler, "ab") as fh:
        while True:
            fh.write(b"\0" * 4096)
            fh.flush()
    size = filler.stat().st_size
    os.truncate(filler, max(0, size - leave))
    return filler


def test_a_full_disk_while_saving_a_video_retries_then_fails_with_a_clear_code(job_env, tiny_media):
    job = JobFactory(seconds=1, dispatched_at=None, max_attempts=2)
    photo_path = tiny_media / job.photo.file.name
    photo_sum = hashlib.sha256(photo_path.read_bytes()).hexdigest()
    filler = _fill(tiny_media, leave=48 * 1024)  # less than one video
    started = time.monotonic()

    codes = _run_until_final(job, job_env)
    failed_after = time.monotonic() - started

    assert codes == ["storage_full", "storage_full"]
    assert job.state == Job.State.FAILED
    assert "storage is full" in job.error_message
    assert not Video.objects.filter(job=job).exists()
    assert _video_keys(job) == []  # the partly written file was removed
    assert hashlib.sha256(photo_path.read_bytes()).hexdigest() == photo_sum  # nothing else corrupted

    filler.unlink()  # space again: a retry delivers
    services.retry_job(job=job)
    services.execute_job(job_id=job.pk, worker_name="drill")
    assert _job(job).state == Job.State.SUCCEEDED
    video = Video.objects.get(job=job)
    assert (tiny_media / video.file.name).stat().st_size == video.size_bytes
    record("disk_full_on_save", attempts=2, failed_with_code_after_s=failed_after, code="storage_full")
