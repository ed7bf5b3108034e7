"""The demo merchant (seed_demo) and the process handling of `make demo` (scripts/demo.py)."""

import io
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from PIL import Image

from generation.demo_photos import demo_photos
from generation.management.commands.seed_demo import DEMO_EMAIL, DEMO_PASSWORD, seed_demo
from generation.models import Photo, Product
from generation.pipeline.cutout import compute_cutout
from generation.pipeline.ingest import ingest_photo
from scripts import demo
from shop_video.merchants.models import Membership, Organization


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.logical_and(a, b).sum() / np.logical_or(a, b).sum())


def _counts() -> tuple[int, ...]:
    return (
        Organization.objects.count(),
        get_user_model().objects.count(),
        Membership.objects.count(),
        Product.objects.count(),
        Photo.objects.count(),
    )


@pytest.mark.parametrize("sample", demo_photos(), ids=lambda s: s.slug)
def test_sample_photo_passes_ingest_and_cutout(sample):
    photo = ingest_photo(sample.encode())
    assert photo.size == (sample.image.width, sample.image.height)
    cutout = compute_cutout(photo)
    assert cutout.source == ("alpha" if sample.backdrop == "alpha" else "segmented")
    # The cutout finds the product that was drawn, shadow and backdrop left out.
    assert _iou(cutout.mask > 0, sample.mask) > 0.93


def test_sample_photos_cover_the_three_kinds_of_backdrop():
    samples = demo_photos()
    assert [s.backdrop for s in samples[:3]] == ["white", "alpha", "gradient"]
    assert len({s.sku for s in samples}) == len(samples)
    png = Image.open(io.BytesIO(samples[1].encode()))
    assert png.format == "PNG" and png.mode == "RGBA"
    # A soft shadow: the white backdrop darkens towards the product's base, but is never the product's colour.
    white = np.asarray(samples[0].image.convert("L"), np.float32)
    below = white[samples[0].mask.nonzero()[0].max() + 6, :]
    assert 150 < below.min() < 245


@pytest.mark.django_db
def test_seed_demo_creates_the_merchant_products_and_masks():
    seed = seed_demo()
    org = Organization.objects.get(slug="demo-shop")
    assert org.name == "Demo Shop"
    user = get_user_model().objects.get(email=DEMO_EMAIL)
    assert user.check_password(DEMO_PASSWORD)
    assert Membership.objects.filter(user=user, organization=org, role="owner").exists()

    samples = {s.sku: s for s in demo_photos()}
    products = Product.objects.filter(organization=org)
    assert {p.sku for p in products} == set(samples)
    assert [p.sku for p in seed.products] == list(samples)
    for product in products:
        sample = samples[product.sku]
        assert product.title == sample.title and product.category == sample.category
        (photo,) = product.photos.all()
        assert (photo.width, photo.height) == sample.image.size
        assert photo.mask_source == ("alpha" if sample.backdrop == "alpha" else "segmented")
        with photo.mask.open("rb") as f:
            stored = np.asarray(Image.open(f).convert("L")) > 127
        assert _iou(stored, sample.mask) > 0.93


@pytest.mark.django_db
def test_seed_demo_is_idempotent_and_restores_the_printed_login():
    seed_demo()
    first = _counts()
    user = get_user_model().objects.get(email=DEMO_EMAIL)
    user.set_password("changed-by-someone")
    user.save()
    again = seed_demo()
    assert _counts() == first
    assert again.created == []
    user.refresh_from_db()
    assert user.check_password(DEMO_PASSWORD)


@pytest.mark.django_db
def test_seed_demo_command_prints_the_login():
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    call_command("seed_demo", stdout=out)
    text = out.getvalue()
    assert f"login: {DEMO_EMAIL} / {DEMO_PASSWORD}" in text
    assert "already present" in text


# --- scripts/demo.py: processes ----------------------------------------------------------------------------------


def test_embedded_redis_starts_answers_and_stops_without_leftovers(tmp_path):
    redis = demo.EmbeddedRedis(tmp_path)
    redis.start()
    pid = redis.proc.pid
    try:
        assert demo._socket_answers(redis.socket_path)
        assert redis.pid_file.read_text().strip() == str(pid)
        assert redis.url == f"redis+socket://{tmp_path / 'redis.sock'}"
    finally:
        redis.stop()
    assert not demo._pid_alive(pid)
    assert not demo._group_alive(pid)
    assert not redis.socket_path.exists()
    assert not redis.pid_file.exists()


def test_a_leftover_redis_from_a_killed_run_is_stopped_on_the_next_start(tmp_path):
    first = demo.EmbeddedRedis(tmp_path)
    first.start()
    leftover = first.proc.pid  # the demo "crashed": nobody called stop()
    second = demo.EmbeddedRedis(tmp_path)
    second.start()
    try:
        assert second.proc.pid != leftover
        assert not demo._pid_alive(leftover)
        assert demo._socket_answers(second.socket_path)
    finally:
        second.stop()
        first.proc.wait(timeout=5)
    assert not second.socket_path.exists()


def test_stop_kills_a_process_group_that_ignores_sigterm(tmp_path):
    # A parent that ignores SIGTERM and a child of it: both must be gone after stop(), the child included.
    child_pid_file = tmp_path / "child.pid"
    script = f"trap '' TERM; sleep 300 & echo $! > {child_pid_file}; wait"
    service = demo.Service("stubborn", ["bash", "-c", script], run_dir=tmp_path, log_dir=tmp_path)
    service.start()
    try:
        deadline = time.monotonic() + 5
        while not child_pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        child = int(child_pid_file.read_text())
        leader = service.proc.pid
        started = time.monotonic()
        service.stop(timeout=1.0)
        assert time.monotonic() - started < 8
        assert not demo._pid_alive(leader)
        assert not demo._pid_alive(child)
        assert not demo._group_alive(leader)
        assert not service.pid_file.exists()
    finally:
        child_pid_file.unlink(missing_ok=True)


def test_children_get_sigterm_when_the_demo_dies(tmp_path):
    # The demo killed with SIGKILL cannot clean up; PR_SET_PDEATHSIG still ends its children.
    helper = tmp_path / "fake_demo.py"
    helper.write_text(
        "import sys, time\n"
        "from pathlib import Path\n"
        f"sys.path.insert(0, {str(demo.ROOT)!r})\n"
        "from scripts import demo\n"
        f"d = Path({str(tmp_path)!r})\n"
        "s = demo.Service('sleeper', ['sleep', '300'], run_dir=d, log_dir=d)\n"
        "s.start()\n"
        "print(s.proc.pid, flush=True)\n"
        "time.sleep(300)\n"
    )
    parent = subprocess.Popen([sys.executable, str(helper)], stdout=subprocess.PIPE, text=True)
    try:
        child = int(parent.stdout.readline())
        assert demo._pid_alive(child)
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(timeout=5)
        deadline = time.monotonic() + 5
        while demo._pid_alive(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not demo._pid_alive(child)
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
