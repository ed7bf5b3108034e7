"""Products and their photos: create, add photos, set masks."""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

import numpy as np
from babel.numbers import is_currency
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _
from PIL import Image

from generation import photo_cutouts
from generation.models import Job, Photo, Product
from generation.pipeline import cutout, ingest, sanitize
from generation.pipeline.errors import PipelineError
from generation.presets import currency_decimals
from generation.services.errors import PhotoInUse, PhotoRejected, ProductInvalid, UploadRejected
from generation.services.storage import _delete_files

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile

    from shop_video.merchants.models import Organization

_EXTENSIONS = {"JPEG": "jpg", "MPO": "jpg", "PNG": "png", "WEBP": "webp", "HEIF": "heic"}


def _read_upload(upload: UploadedFile | bytes | io.IOBase) -> bytes:
    """The upload's bytes, reading at most one byte past the size limit (ingest refuses bigger files)."""
    if isinstance(upload, bytes | bytearray):
        return bytes(upload)
    limit = ingest.MAX_BYTES + 1
    if hasattr(upload, "chunks"):
        if hasattr(upload, "seek"):
            upload.seek(0)
        buf = bytearray()
        for chunk in upload.chunks():
            buf += chunk
            if len(buf) >= limit:
                break
        return bytes(buf[:limit])
    if hasattr(upload, "seek"):
        upload.seek(0)
    return upload.read(limit)


def _clean_filename(filename: str) -> str:
    base = os.path.basename((filename or "").replace("\\", "/")).strip()
    try:
        return get_valid_filename(base)[:200] if base else "photo"
    except Exception:
        return "photo"


@dataclass
class _PreparedPhoto:
    filename: str
    data: bytes
    ext: str
    width: int
    height: int
    checksum: str
    mask_png: bytes | None  # None: the automatic cutout was refused; the merchant draws one (needs a cutout)
    mask_source: str
    cutout_confidence: float | None
    cutout_needs_review: bool


def _mask_png(mask: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(mask, "L").save(buf, "PNG", optimize=True)
    return buf.getvalue()


def _prepare_photo(upload, filename: str, mask_upload=None) -> _PreparedPhoto:
    """Decode, check and cut out one upload in memory; raises PhotoRejected. Nothing is stored here."""
    name = _clean_filename(filename)
    try:
        data = _read_upload(upload)
        photo_in = ingest.ingest_photo(data)
        supplied = cutout.load_mask(_read_upload(mask_upload)) if mask_upload is not None else None
        cut = photo_cutouts.automatic_cutout(photo_in, supplied)
    except PipelineError as exc:
        raise PhotoRejected(exc.message, exc.code, name) from exc
    except MemoryError as exc:
        raise PhotoRejected(_("The image is too large to be processed."), "image_too_large", name) from exc
    return _PreparedPhoto(
        filename=name,
        # The image's own bytes only: a polyglot's trailing archive or HTML and text chunks are not stored.
        data=sanitize.image_bytes_only(data, photo_in.format),
        ext=_EXTENSIONS.get(photo_in.format, "img"),
        width=photo_in.width,
        height=photo_in.height,
        checksum=photo_in.checksum,
        mask_png=_mask_png(cut.mask) if cut is not None else None,
        mask_source=cut.method if cut is not None else "",
        cutout_confidence=cut.confidence if cut is not None else None,
        cutout_needs_review=cut.needs_review if cut is not None else True,
    )


def _store_photo(product: Product, prepared: _PreparedPhoto, stored: list[str]) -> Photo:
    """Write the files and the row; every stored storage name is appended to `stored` for clean-up."""
    photo = Photo(
        organization_id=product.organization_id,
        product=product,
        original_name=prepared.filename,
        width=prepared.width,
        height=prepared.height,
        checksum=prepared.checksum,
        mask_source=prepared.mask_source,
        cutout_confidence=prepared.cutout_confidence,
        cutout_needs_review=prepared.cutout_needs_review,
    )
    photo.file.save(f"photo.{prepared.ext}", ContentFile(prepared.data), save=False)
    stored.append(photo.file.name)
    if prepared.mask_png is not None:
        photo.mask.save("mask.png", ContentFile(prepared.mask_png), save=False)
        stored.append(photo.mask.name)
    photo.save()
    return photo


def _validate_product_fields(title: str, sku: str, category: str) -> tuple[str, str, str]:
    fields: dict[str, list[str]] = {}
    title = (title or "").strip()
    sku = (sku or "").strip()
    category = category or Product.Category.OTHER
    if not title:
        fields["title"] = [_("A title is required.")]
    elif len(title) > 200:
        fields["title"] = [_("At most 200 characters.")]
    if len(sku) > 100:
        fields["sku"] = [_("At most 100 characters.")]
    if category not in Product.Category.values:
        fields["category"] = [_("Unknown category %(category)s.") % {"category": category}]
    if fields:
        raise ProductInvalid(_("The product is not valid."), fields=fields)
    return title, sku, category


# The column's bounds: 14 digits with 2 after the point; a currency with more (KWD, BHD) is kept to 2.
_MAX_PRICE = Decimal("1e12")
_STORED_DECIMALS = 2
_UNSET = object()


def validate_price(price: Decimal | str | float | int | None, currency: str | None) -> tuple[Decimal | None, str]:
    """A price as stored: an amount >= 0 with at most the currency's decimals and an ISO 4217 code, or no price
    (None, ""). A price needs its currency; raises ProductInvalid (`invalid_currency`, `currency_required`,
    `invalid_price`) naming the field."""
    code = (currency or "").strip().upper()
    if code and not (len(code) == 3 and code.isalpha() and is_currency(code)):
        raise ProductInvalid(
            _("%(currency)s is not an ISO 4217 currency code (e.g. EUR, USD, JPY).") % {"currency": currency},
            "invalid_currency",
            {"currency": [_("Use an ISO 4217 code such as EUR, USD or JPY.")]},
        )
    if price is None or (isinstance(price, str) and not price.strip()):
        return None, code
    if not code:
        raise ProductInvalid(
            _("A price needs its currency."), "currency_required", {"currency": [_("Choose the price's currency.")]}
        )
    try:
        amount = Decimal(str(price).strip())
    except (InvalidOperation, ValueError):
        amount = None
    if amount is None or not amount.is_finite() or isinstance(price, bool):
        raise ProductInvalid(
            _("The price %(price)s is not a number.") % {"price": price},
            "invalid_price",
            {"price": [_("Enter a number such as 19.99.")]},
        )
    if amount < 0 or amount >= _MAX_PRICE:
        raise ProductInvalid(
            _("The price must be zero or more and below one trillion."),
            "invalid_price",
            {"price": [_("Enter zero or more.")]},
        )
    decimals = min(currency_decimals(code), _STORED_DECIMALS)
    if -amount.as_tuple().exponent > decimals and amount != amount.quantize(Decimal(1).scaleb(-decimals)):
        message = _("%(currency)s prices have at most %(decimals)d decimal places.") % {
            "currency": code,
            "decimals": decimals,
        }
        raise ProductInvalid(message, "invalid_price", {"price": [message]})
    return amount.quantize(Decimal(1).scaleb(-_STORED_DECIMALS)), code


def create_product(
    *,
    organization: Organization,
    title: str,
    sku: str = "",
    category: str = "other",
    price: Decimal | str | None = None,
    currency: str = "",
) -> Product:
    title, sku, category = _validate_product_fields(title, sku, category)
    price, currency = validate_price(price, currency)
    if sku and Product.objects.filter(organization=organization, sku=sku).exists():
        raise ProductInvalid(
            _("A product with SKU %(sku)s already exists.") % {"sku": sku},
            "duplicate_sku",
            {"sku": [_("This SKU is already used.")]},
        )
    try:
        with transaction.atomic():
            return Product.objects.create(
                organization=organization, title=title, sku=sku, category=category, price=price, currency=currency
            )
    except IntegrityError as exc:  # a concurrent create with the same SKU
        raise ProductInvalid(
            _("A product with SKU %(sku)s already exists.") % {"sku": sku},
            "duplicate_sku",
            {"sku": [_("This SKU is already used.")]},
        ) from exc


def update_product(
    *,
    product: Product,
    title: str | None = None,
    sku: str | None = None,
    category: str | None = None,
    price=_UNSET,
    currency: str | None = None,
) -> Product:
    """Change a product's fields (None keeps one; `price=None` removes the price); the same validation as creating
    it, SKUs unique per organization."""
    new_title = product.title if title is None else title
    new_sku = product.sku if sku is None else sku
    new_category = product.category if category is None else category
    new_title, new_sku, new_category = _validate_product_fields(new_title, new_sku, new_category)
    if price is _UNSET and currency is None:
        # Untouched: a price a CSV import stored without a currency (captions use the market's) stays as it is.
        new_price, new_currency = product.price, product.currency
    else:
        new_price, new_currency = validate_price(
            product.price if price is _UNSET else price, product.currency if currency is None else currency
        )
    duplicate = ProductInvalid(
        _("A product with SKU %(sku)s already exists.") % {"sku": new_sku},
        "duplicate_sku",
        {"sku": [_("This SKU is already used.")]},
    )
    if (
        new_sku
        and Product.objects.filter(organization_id=product.organization_id, sku=new_sku).exclude(pk=product.pk).exists()
    ):
        raise duplicate
    product.title, product.sku, product.category = new_title, new_sku, new_category
    product.price, product.currency = new_price, new_currency
    try:
        with transaction.atomic():
            product.save(update_fields=["title", "sku", "category", "price", "currency", "updated_at"])
    except IntegrityError as exc:  # a concurrent update or create took the SKU
        raise duplicate from exc
    return product


def add_photo(*, product: Product, upload: UploadedFile | bytes, filename: str, mask_upload=None) -> Photo:
    """Ingest, cut out and store one photo with its mask PNG; on any error nothing is left behind."""
    prepared = _prepare_photo(upload, filename, mask_upload)
    stored: list[str] = []
    try:
        with transaction.atomic():
            return _store_photo(product, prepared, stored)
    except BaseException:
        _delete_files(stored)
        raise


def create_product_with_photos(
    *,
    organization: Organization,
    title: str,
    sku: str = "",
    category: str = "other",
    price: Decimal | str | None = None,
    currency: str = "",
    uploads: Sequence[tuple[str, UploadedFile | bytes]],
) -> Product:
    """All or nothing: one bad file → UploadRejected naming every bad file; no product, photos or files stored."""
    _validate_product_fields(title, sku, category)
    validate_price(price, currency)
    if not uploads:
        raise UploadRejected([], _("Add at least one photo."))
    prepared: list[_PreparedPhoto] = []
    errors: list[tuple[str, str, str]] = []
    for filename, upload in uploads:
        try:
            prepared.append(_prepare_photo(upload, filename))
        except PhotoRejected as exc:
            errors.append((exc.filename, exc.code, exc.message))
    if errors:
        raise UploadRejected(errors)
    stored: list[str] = []
    try:
        with transaction.atomic():
            product = create_product(
                organization=organization, title=title, sku=sku, category=category, price=price, currency=currency
            )
            for item in prepared:
                _store_photo(product, item, stored)
    except BaseException:
        _delete_files(stored)
        raise
    return product


def remove_photo(*, photo: Photo) -> None:
    """Remove a photo no video was made from, with its files (once the removal is committed); PhotoInUse else."""
    with transaction.atomic():
        locked = Photo.objects.select_for_update().get(pk=photo.pk)
        # An ad's other photos are in its storyboard's photo list (the job's `photo` is its hero).
        ads = Job.objects.filter(photo__product_id=locked.product_id, format="ad").values_list("ad_photos", flat=True)
        if locked.jobs.exists() or any(locked.pk in (ids or []) for ids in ads):
            raise PhotoInUse(
                _("Videos were made from %(photo)s: it stays with them.") % {"photo": locked.original_name or locked.pk}
            )
        names = [locked.file.name, locked.mask.name]
        locked.delete()
        transaction.on_commit(lambda: _delete_files(names))


def set_photo_mask(*, photo: Photo, upload) -> Photo:
    """A merchant-supplied mask (white = product) replaces the cutout; the photo decides the mask's size."""
    name = photo.original_name or "photo"
    try:
        supplied = cutout.load_mask(_read_upload(upload))
        with photo.file.open("rb") as fh:
            photo_in = ingest.ingest_photo(fh.read())
        cut = cutout.compute_cutout(photo_in, supplied)
    except PipelineError as exc:
        raise PhotoRejected(exc.message, exc.code, name) from exc
    old_mask = photo.mask.name
    stored: list[str] = []
    try:
        photo.mask.save("mask.png", ContentFile(_mask_png(cut.mask)), save=False)
        stored.append(photo.mask.name)
        photo.mask_source = Photo.MaskSource.SUPPLIED
        # The merchant drew or chose this mask: it is what they want, nothing is left to check.
        photo.cutout_confidence = 1.0
        photo.cutout_needs_review = False
        with transaction.atomic():
            photo.save(update_fields=["mask", "mask_source", "cutout_confidence", "cutout_needs_review"])
    except BaseException:
        _delete_files(stored)
        photo.mask.name = old_mask
        raise
    if old_mask and old_mask != photo.mask.name:
        transaction.on_commit(lambda: _delete_files([old_mask]))
    return photo
