"""Writes the API needs that the generation services do not have yet: updating and deleting a product (the
deletion itself is the data lifecycle's, shared with the dashboard).

Kept here (not in generation.services) while that module is being changed by several issues at once; they use
the same validation and storage clean-up rules and can move there unchanged.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from generation import services
from generation.models import Product
from shop_video.ops import lifecycle

# Deletion goes through the data lifecycle (rows now, files in a background task, audited).
ProductBusy = lifecycle.ProductBusy
ProductInUse = lifecycle.ProductInUse


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


def delete_product(*, product: Product, request=None) -> None:
    """Delete the product with its photos, jobs and videos (shop_video.ops.lifecycle.request_product_deletion):
    refused (409 product_has_active_jobs) while a job of the product is queued or running."""
    lifecycle.request_product_deletion(product=product, request=request)
