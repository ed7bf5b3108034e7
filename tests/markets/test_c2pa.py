"""C2PA content credentials: the manifest reads back from the MP4 and the JPEG poster with the expected assertions,
a changed byte fails verification (while the file still decodes), another certificate is not our signer, disabled
means no manifest, a signing failure fails the job without a charge, and production refuses the development chain."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

import c2pa
import numpy as np
import pytest
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings
from PIL import Image

from generation.pipeline import credentials, qa
from generation.pipeline.credentials import (
    DIGITAL_SOURCE_TYPES,
    SOURCE_ASSERTION,
    SigningIdentity,
    load_identity,
    make_chain,
    sign_file,
    sign_video,
    verify,
)
from generation.pipeline.encode import decode_mp4
from generation.pipeline.run import run_pipeline
from generation.pipeline.spec import VariantSpec
from tests import synthetic

ROOT = Path(__file__).resolve().parents[2]
CREATED = "c2pa.created"


def _workdir() -> Path:
    base = Path(settings.VAR_DIR) / "test-c2pa"
    base.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(dir=base))


@pytest.fixture(scope="module")
def made() -> dict:
    """One real video from make_video (compositor, German market: its rule asks for the visible label)."""
    work = _workdir()
    photo = work / "bottle.jpg"
    synthetic.product_on_white()[0].save(photo, quality=92)
    out = work / "made.mp4"
    call_command("make_video", str(photo), "--out", str(out), "--seconds", "1", "--market", "de", "--seed", "1")
    return {
        "work": work,
        "photo": photo,
        "video": out,
        "poster": out.with_name("made.poster.jpg"),
        "contract": json.loads(out.with_suffix(".json").read_text()),
    }


@pytest.fixture(scope="module")
def unsigned() -> dict:
    """A video, poster and preview made with credentials off (US market: no visible label)."""
    work = _workdir()
    photo = work / "bottle.jpg"
    synthetic.product_on_white()[0].save(photo, quality=92)
    with override_settings(SHOPVIDEO_C2PA_ENABLED=False):
        result = run_pipeline(
            photo=photo,
            out_path=work / "plain.mp4",
            spec=VariantSpec(market="us", aspect_ratio="16:9", seconds=0.5, seed=4),
            qa_retries=0,
        )
    return {"work": work, "result": result}


def _copy(src: Path, name: str) -> Path:
    dst = src.with_name(name)
    shutil.copyfile(src, dst)
    return dst


def _library_read(path: Path) -> tuple[dict, str]:
    """The active manifest and validation state straight from c2pa-python's Reader (default settings)."""
    with c2pa.Reader(str(path)) as reader:
        return reader.get_active_manifest(), reader.get_validation_state()


def _assertion(manifest: dict, label: str) -> dict:
    return next(a["data"] for a in manifest["assertions"] if a["label"] == label)


def test_the_manifest_reads_back_from_the_mp4_and_the_poster(made):
    photo_sha = hashlib.sha256(made["photo"].read_bytes()).hexdigest()
    identity = load_identity()
    for role in ("video", "poster"):
        manifest, state = _library_read(made[role])
        assert state == "Valid"  # the library's own read: signature and hash binding good (no trust list here)
        actions = _assertion(manifest, "c2pa.actions.v2")["actions"]
        created = next(a for a in actions if a["action"] == CREATED)
        assert created["digitalSourceType"] == DIGITAL_SOURCE_TYPES["compositor"]
        assert created["digitalSourceType"].endswith("/compositeSynthetic")
        assert "compositor" in created["softwareAgent"]["name"]
        source = _assertion(manifest, SOURCE_ASSERTION)
        assert source == {
            "engine": "compositor",
            "source_photo_sha256": photo_sha,
            "market": "de",
            "visible_ai_label": True,
        }
        assert manifest["claim_generator_info"][0]["name"] == "ShopVideo"
        assert int(manifest["signature_info"]["cert_serial_number"]) == identity.certificate.serial_number
        # Our verification: bound hash, valid signature, and the signer is the configured certificate.
        result = verify(made[role])
        assert result.verified, result.problem
        assert result.hash_valid and result.signature_valid and result.signer_matches
        assert result.validation_state == "Trusted" and not result.failures
        assert result.digital_source_type == DIGITAL_SOURCE_TYPES["compositor"]
        assert result.source["source_photo_sha256"] == photo_sha
    # The output JSON says so too.
    entry = made["contract"]["credentials"]
    assert entry["signed"] and entry["verified"] and entry["development_certificate"]
    assert entry["signer_sha256"] == identity.fingerprint and entry["source_photo_sha256"] == photo_sha
    assert entry["files"] == ["poster", "preview", "video"]
    assert "credentials" in made["contract"]["timings"]


def test_signing_leaves_the_pictures_as_qa_measured_them(made):
    # QA ran on the unsigned bytes; the signed MP4 decodes to the same frames: same count, same product PSNR.
    video = decode_mp4(made["video"])
    contract = made["contract"]
    assert len(video) == contract["frames"] and video.shape[1:3] == (contract["height"], contract["width"])
    photo = np.asarray(Image.open(made["photo"]).convert("RGB"))
    mask = np.asarray(Image.open(made["video"].with_name("made.mask.png")))
    report = qa.measure_video(made["video"], photo, mask, np.asarray(contract["placements"]))
    assert report.summary()["psnr_min"] == contract["qa"]["psnr_min"]
    # The manifest is a uuid box after ftyp, and the file is still +faststart (moov before mdat).
    boxes = _boxes(made["video"].read_bytes())
    assert boxes["ftyp"][0] == 0 and boxes["ftyp"][0] < boxes["uuid"][0] < boxes["moov"][0] < boxes["mdat"][0]


def test_the_visible_label_is_in_the_poster_where_the_market_asks_for_it(made, unsigned):
    label = made["contract"]["ai_label"]
    assert label["text"] == "Digital erstellt" and label["language"] == "de"  # compositor: not "KI-generiert"
    x0, y0, x1, y1 = label["rect"]
    plate = np.asarray(Image.open(made["poster"]).convert("RGB"))[y0:y1, x0:x1].astype(np.float32)
    assert plate.mean() < 120 and (plate.min(axis=2) > 200).mean() > 0.02  # dark plate, light text
    assert json.loads(unsigned["result"].json_path.read_text())["ai_label"] is None  # the US rule: no label


def test_the_label_reads_in_the_markets_language_from_the_line_start_corner():
    from dataclasses import replace

    from generation.pipeline.ai_label import plan_label
    from generation.pipeline.platforms import PLATFORMS
    from generation.presets import MARKETS_BY_SLUG

    safe = PLATFORMS["tiktok"].ui_zones.safe_rect(480, 832)
    arabic = plan_label(
        market=replace(MARKETS_BY_SLUG["sa"], ai_label=True), engine="dit", width=480, height=832, platform="tiktok"
    )
    assert arabic.text == "مُنشأ بالذكاء الاصطناعي" and arabic.rect[2] == safe[2] and arabic.rect[1] == safe[1]
    korean = plan_label(market=MARKETS_BY_SLUG["kr"], engine="dit", width=480, height=832, platform="tiktok")
    assert korean.text == "AI 생성" and korean.rect[0] == safe[0]
    # Text was drawn: light pixels on the dark plate.
    for plan in (arabic, korean):
        assert (plan.block[..., :3].min(axis=2) > 200).mean() > 0.02


def _boxes(data: bytes) -> dict[str, tuple[int, int]]:
    out, i = {}, 0
    while i + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[i : i + 8])
        out.setdefault(kind.decode("latin-1"), (i, size))
        i += size
    return out


def _jpeg_scan_offset(data: bytes) -> int:
    """An offset in the middle of the image's entropy-coded data (walking the segments from SOI, so the JPEG
    thumbnail inside the C2PA manifest's APP11 segments is skipped), at a byte whose flip makes no marker."""
    i = 2
    while data[i + 1] != 0xDA:  # segments up to the start of scan
        i += 2 + struct.unpack(">H", data[i + 2 : i + 4])[0]
    start = i + 2 + struct.unpack(">H", data[i + 2 : i + 4])[0]
    i = start + (len(data) - start) // 2
    while data[i] in (0xFE, 0xFF) or data[i - 1] == 0xFF or data[i + 1] == 0xFF:
        i += 1
    return i


def test_a_changed_byte_fails_verification_but_the_file_still_decodes(made):
    video = bytearray(made["video"].read_bytes())
    offset, size = _boxes(bytes(video))["mdat"]
    video[offset + size // 2] ^= 0x01
    tampered_video = made["work"] / "tampered.mp4"
    tampered_video.write_bytes(video)
    poster = bytearray(made["poster"].read_bytes())
    poster[_jpeg_scan_offset(bytes(poster))] ^= 0x01
    tampered_poster = made["work"] / "tampered.jpg"
    tampered_poster.write_bytes(poster)

    for path, code in (
        (tampered_video, "assertion.bmffHash.mismatch"),
        (tampered_poster, "assertion.dataHash.mismatch"),
    ):
        result = verify(path)
        assert not result.verified and not result.hash_valid and code in result.failures
        assert result.manifest_present and result.signature_valid  # the claim itself is intact: it is the binding
        assert _library_read(path)[1] == "Invalid"
    # The decoders do not notice: the check is the manifest's hash, not whether the file still plays.
    assert len(decode_mp4(tampered_video)) == made["contract"]["frames"]
    with Image.open(tampered_poster) as im:
        im.load()
        assert im.size == (made["contract"]["width"], made["contract"]["height"])


def _identity(chain: bytes, key: bytes, anchors: bytes) -> SigningIdentity:
    return SigningIdentity(chain, key, anchors.decode(), development=False, trust_list=False)


def test_a_file_signed_with_another_certificate_is_not_our_signer(unsigned):
    ours = load_identity()
    manifest = credentials.manifest_definition(
        engine="compositor", source_photo_sha256="0" * 64, market="us", title="poster"
    )
    # Another chain entirely, and a forgery copying our certificate's names and serial number under its own root.
    forged_chain = make_chain(
        ours.certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value,
        serial_number=ours.certificate.serial_number,
    )
    for name, (chain, key, root) in {"other": make_chain("Someone else"), "forged": forged_chain}.items():
        poster = _copy(unsigned["result"].poster_path, f"{name}.poster.jpg")
        sign_file(poster, manifest, _identity(chain, key, root))
        assert _library_read(poster)[1] == "Valid"  # a well-formed, validly signed file …
        result = verify(poster)
        assert result.manifest_present and result.hash_valid and result.signature_valid
        assert not result.signer_matches and not result.verified  # … but not by us
        if name == "forged":
            assert int(result.signer["serial"], 16) == ours.certificate.serial_number


def test_disabled_credentials_sign_nothing(unsigned):
    result = unsigned["result"]
    assert json.loads(result.json_path.read_text())["credentials"] == {"signed": False}
    for path in (result.video_path, result.poster_path, result.preview_path):
        with open(path, "rb") as fh:
            assert c2pa.Reader.try_create(credentials.mime_type(path), fh) is None
        assert not verify(path).manifest_present and not verify(path).verified


def test_the_dit_engine_is_declared_a_composite_with_trained_algorithmic_media(unsigned):
    result = unsigned["result"]
    video, poster = _copy(result.video_path, "dit.mp4"), _copy(result.poster_path, "dit.poster.jpg")
    entry = sign_video(video, poster, engine="dit", source_photo_sha256="ab" * 32, market="kr", ai_label=True)
    assert entry["verified"] and entry["digital_source_type"].endswith("/compositeWithTrainedAlgorithmicMedia")
    for path in (video, poster):
        check = verify(path)
        assert check.verified and check.digital_source_type == DIGITAL_SOURCE_TYPES["dit"]
        assert check.source == {
            "engine": "dit",
            "source_photo_sha256": "ab" * 32,
            "market": "kr",
            "visible_ai_label": True,
        }
        assert "Wan2.1 VACE" in check.actions[0]["softwareAgent"]["name"]


def test_a_configured_certificate_checked_against_a_trust_list(unsigned, settings, tmp_path):
    chain, key, root = make_chain("Example Shop signer", organization="Example Shop GmbH")
    for name, data in (("chain.pem", chain), ("key.pem", key), ("anchors.pem", root)):
        (tmp_path / name).write_bytes(data)
    settings.SHOPVIDEO_C2PA_CERT_CHAIN = str(tmp_path / "chain.pem")
    settings.SHOPVIDEO_C2PA_PRIVATE_KEY = str(tmp_path / "key.pem")
    settings.SHOPVIDEO_C2PA_TRUST_ANCHORS = str(tmp_path / "anchors.pem")
    poster = _copy(unsigned["result"].poster_path, "configured.poster.jpg")
    entry = sign_video(
        _copy(unsigned["result"].video_path, "configured.mp4"),
        poster,
        engine="compositor",
        source_photo_sha256="cd" * 32,
        market="us",
    )
    assert entry["verified"] and not entry["development_certificate"] and "Example Shop signer" in entry["signer"]
    result = verify(poster)
    assert result.verified and result.trust_list_checked
    # A trust list that does not hold our root: the same file no longer verifies.
    (tmp_path / "anchors.pem").write_bytes(make_chain("Unrelated CA")[2])
    assert not verify(poster).signer_matches


@pytest.mark.django_db
def test_a_signing_failure_fails_the_job_and_charges_nothing(settings, tmp_path):
    from billing import selectors
    from generation import services as jobs
    from generation.models import Video
    from tests.factories import OrganizationFactory, PhotoFactory, ensure_presets

    ensure_presets()
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SHOPVIDEO_WORK_DIR = tmp_path / "work"
    chain, _key, _root = make_chain("Example Shop signer", organization="Example Shop GmbH")
    (tmp_path / "chain.pem").write_bytes(chain)
    (tmp_path / "wrong.key").write_bytes(make_chain()[1])  # a key that is not the certificate's
    settings.SHOPVIDEO_C2PA_CERT_CHAIN = str(tmp_path / "chain.pem")
    settings.SHOPVIDEO_C2PA_PRIVATE_KEY = str(tmp_path / "wrong.key")
    org = OrganizationFactory(credits=20)
    matrix = jobs.VariantMatrix(markets=["us"], aspect_ratios=["1:1"], seconds=[1], seed=3)
    job = jobs.submit_batch(
        organization=org, photos=[PhotoFactory(product__organization=org)], matrix=matrix
    ).jobs.get()
    jobs.execute_job(job_id=job.pk, worker_name="test")
    job.refresh_from_db()
    assert (job.state, job.error_code) == ("failed", "credentials_failed")
    assert "does not belong" in job.error_message
    assert not Video.objects.filter(job=job).exists()
    credits = selectors.credits_for(org)
    assert (credits.balance, credits.reserved, credits.available) == (20, 0, 20)  # released, not captured


# --- production settings ---------------------------------------------------------------------------------------------

PROD_ENV = {
    "DJANGO_SETTINGS_MODULE": "shop_video.settings_production",
    "DJANGO_SECRET_KEY": "c2pa-test-" + "k" * 30 + "0123456789abcdefghij",
    "DJANGO_ALLOWED_HOSTS": "shop.example",
    "DATABASE_URL": "postgres://shopvideo@db.internal:5432/shopvideo",
    "REDIS_URL": "redis://redis.internal:6379/0",
    "SHOPVIDEO_SITE_URL": "https://shop.example",
}
_TEST_ONLY_ENV = ("DATABASE_URL", "REDIS_URL", "STRIPE_API_BASE", "DJANGO_ALLOW_ASYNC_UNSAFE", "TEST_DATABASE_NAME")


def _check(tmp_path: Path, **overrides: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in _TEST_ONLY_ENV and not k.startswith("SHOPVIDEO_C2PA")}
    env.update(PROD_ENV, SHOPVIDEO_VAR_DIR=str(tmp_path), **overrides)
    return subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_production_refuses_the_development_chain_and_starts_with_a_configured_one(tmp_path):
    dev_chain, dev_key = credentials.development_chain(tmp_path / "dev")
    out = _check(tmp_path, SHOPVIDEO_C2PA_CERT_CHAIN=str(dev_chain), SHOPVIDEO_C2PA_PRIVATE_KEY=str(dev_key))
    assert out.returncode != 0 and "development chain" in out.stderr and "ImproperlyConfigured" in out.stderr
    out = _check(tmp_path)
    assert out.returncode != 0 and "SHOPVIDEO_C2PA_PRIVATE_KEY must be set in production" in out.stderr
    chain, key, _root = make_chain("Example Shop signer", organization="Example Shop GmbH")
    (tmp_path / "chain.pem").write_bytes(chain)
    (tmp_path / "key.pem").write_bytes(key)
    out = _check(
        tmp_path,
        SHOPVIDEO_C2PA_CERT_CHAIN=str(tmp_path / "chain.pem"),
        SHOPVIDEO_C2PA_PRIVATE_KEY=str(tmp_path / "key.pem"),
    )
    assert out.returncode == 0, out.stderr
