"""Writes the API needs that the generation services do not have yet: updating and deleting a product.

Kept here (not in generation.services) while that module is being changed by several issues at once; they use
the same validation and storage clean-up rules and can move there unchanged.
"""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils.translation import gettext as _

from generation import services
from generation.models import Job, Photo, Product, Video
from generation.pipeline.errors import BadInputError


class ProductBusy(BadInputError):
    """The product still has queued or running jobs: cancel them (or wait) before deleting it."""

    code = "product_has_active_jobs"
    status_code = 409


class ProductInUse(BadInputError):
    code = "product_in_use"
    status_code = 409


def update_product(*, product: Product, title: str | None = None, sku: str | None = None, category: str | None = None):
    new_title = product.title if title is None else title
    new_sku = product.sku if sku is None else sku
    new_category = product.category if category is None else category
    new_title, new_sku, new_category = services._validate_product_fields(new_title, new_sku, new_category)
    duplicate = services.ProductInvalid(
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
    try:
        with transaction.atomic():
            product.save(update_fields=["title", "sku", "category", "updated_at"])
    except IntegrityError as exc:  # a concurrent update or create took the SKU
        raise duplicate from exc
    return product


def delete_product(*, product: Product) -> None:
    """Delete the product with its photos, jobs and videos, and their files once the deletion is committed.
    Refused while a job of the product is queued or running (its credits are reserved, a worker may hold it)."""
    with transaction.atomic():
        if Job.objects.filter(photo__product=product, state__in=Job.ACTIVE_STATES).exists():
            raise ProductBusy(_("The product has queued or running jobs; cancel them or wait until they finish."))
        names: list[str] = []
        for photo in Photo.objects.filter(product=product):
            names += [photo.file.name, photo.mask.name]
        for video in Video.objects.filter(job__photo__product=product):
            names += [video.file.name, video.poster.name, video.preview.name]
        try:
            product.delete()
        except ProtectedError as exc:
            raise ProductInUse(_("The product cannot be deleted: other records refer to it.")) from exc
        transaction.on_commit(lambda: _delete_files(names))


def _delete_files(names: list[str]) -> None:
    for name in names:
        if name:
            try:
                default_storage.delete(name)
            except Exception:
                services.logger.exception("could not delete %s from storage", name)
