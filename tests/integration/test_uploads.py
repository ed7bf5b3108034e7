"""Uploads: every bad file gets a clear, stable error code and leaves nothing half-made (no rows, no files)."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from generation import services
from generation.models import Photo, Product
from tests import synthetic
from tests.factories import OrganizationFactory, ProductFactory, png

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def bomb_png(side: int = 40_000) -> bytes:
    """A tiny file whose header claims side × side pixels (1.6 gigapixels): refused before decoding."""
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(b"\x00" * 1024))
        + _chunk(b"IEND", b"")
    )


def jpeg_bytes() -> bytes:
    image, _mask = synthetic.product_on_white(480, 600)
    return png(image, "JPEG", quality=92)


BAD_UPLOADS = {
    "not an image": ("notes.pdf", lambda: b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n" * 20, "not_an_image"),
    "truncated JPEG": ("cut.jpg", lambda: jpeg_bytes()[: len(jpeg_bytes()) // 2], "truncated_image"),
    "1x1 image": ("pixel.png", lambda: png(Image.new("RGB", (1, 1), "red")), "image_too_small"),
    "decompression bomb": ("bomb.png", bomb_png, "decompression_bomb"),
    "20,000 px wide": ("wide.png", lambda: png(Image.new("RGB", (20_000, 300), (200, 200, 200))), "image_too_large"),
    "empty file": ("empty.jpg", lambda: b"", "empty_file"),
    "text with an image extension": ("photo.jpg", lambda: b"hello, this is not a JPEG\n" * 50, "not_an_image"),
}


@pytest.mark.parametrize("case", list(BAD_UPLOADS))
def test_a_bad_photo_is_refused_with_its_code_and_nothing_is_stored(case, media_root):
    filename, make, code = BAD_UPLOADS[case]
    product = ProductFactory()
    upload = SimpleUploadedFile(filename, make(), content_type="application/octet-stream")

    with pytest.raises(services.PhotoRejected) as caught:
        services.add_photo(product=product, upload=upload, filename=filename)

    assert caught.value.code == code
    assert caught.value.filename == filename
    assert caught.value.message
    assert Photo.objects.count() == 0
    assert stored_files(media_root) == []


def test_a_multi_file_upload_with_bad_files_stores_nothing_and_names_each_bad_file(media_root):
    org = OrganizationFactory()
    uploads = [
        ("good.jpg", jpeg_bytes()),
        ("empty.jpg", b""),
        ("alpha.png", png(synthetic.product_png_alpha(400, 500)[0])),
        ("fake.png", b"plain text"),
    ]

    with pytest.raises(services.UploadRejected) as caught:
        services.create_product_with_photos(organization=org, title="Mug", sku="MUG-1", uploads=uploads)

    assert [(name, code) for name, code, _msg in caught.value.errors] == [
        ("empty.jpg", "empty_file"),
        ("fake.png", "not_an_image"),
    ]
    assert all(message for _name, _code, message in caught.value.errors)
    assert Product.objects.count() == 0
    assert Photo.objects.count() == 0
    assert stored_files(media_root) == []


def _mask_of(photo: Photo) -> np.ndarray:
    with photo.mask.open("rb") as fh:
        return np.array(Image.open(io.BytesIO(fh.read())))


def test_valid_png_alpha_jpeg_and_webp_are_stored_with_their_masks(media_root):
    org = OrganizationFactory()
    alpha_img, alpha_mask = synthetic.product_png_alpha(400, 500, seed=1)
    white_img, white_mask = synthetic.product_on_white(480, 600, seed=2)
    uploads = [
        ("alpha.png", png(alpha_img)),
        ("white.jpg", png(white_img, "JPEG", quality=95)),
        ("white.webp", png(white_img, "WEBP", lossless=True)),
    ]

    product = services.create_product_with_photos(
        organization=org, title="Bottle", sku="B-1", category="home", uploads=uploads
    )

    photos = list(product.photos.order_by("id"))
    assert [p.original_name for p in photos] == ["alpha.png", "white.jpg", "white.webp"]
    assert [p.mask_source for p in photos] == ["alpha", "segmented", "segmented"]
    assert [(p.width, p.height) for p in photos] == [(400, 500), (480, 600), (480, 600)]
    for photo, truth in zip(photos, [alpha_mask, white_mask, white_mask], strict=True):
        assert photo.organization_id == org.pk
        assert (media_root / photo.file.name).is_file()
        mask = _mask_of(photo)
        assert mask.shape == truth.shape
        assert set(np.unique(mask)) <= {0, 255}
        assert synthetic.iou(mask > 0, truth) > 0.9
    assert len(stored_files(media_root)) == 6


def test_a_supplied_mask_replaces_the_cutout(media_root, django_capture_on_commit_callbacks):
    product = ProductFactory()
    image, _mask = synthetic.product_on_white(480, 600)
    photo = services.add_photo(product=product, upload=png(image, "JPEG"), filename="p.jpg")
    old_mask = media_root / photo.mask.name
    supplied = np.zeros((600, 480), np.uint8)
    supplied[100:400, 120:360] = 255

    with django_capture_on_commit_callbacks(execute=True):
        services.set_photo_mask(photo=photo, upload=png(Image.fromarray(supplied)))

    photo.refresh_from_db()
    assert photo.mask_source == Photo.MaskSource.SUPPLIED
    assert np.array_equal(_mask_of(photo), supplied)
    assert (media_root / photo.mask.name).is_file()
    assert not old_mask.exists()  # the replaced mask file is removed once the change is committed
    assert len(stored_files(media_root)) == 2


def test_an_empty_supplied_mask_is_refused_and_the_old_mask_kept(media_root):
    product = ProductFactory()
    image, _mask = synthetic.product_on_white(480, 600)
    photo = services.add_photo(product=product, upload=png(image, "JPEG"), filename="p.jpg")
    before = _mask_of(photo)

    with pytest.raises(services.PhotoRejected) as caught:
        services.set_photo_mask(photo=photo, upload=png(Image.new("L", (480, 600), 0)))

    assert caught.value.code == "empty_mask"
    photo.refresh_from_db()
    assert photo.mask_source == Photo.MaskSource.SEGMENTED
    assert np.array_equal(_mask_of(photo), before)
    assert len(stored_files(media_root)) == 2
