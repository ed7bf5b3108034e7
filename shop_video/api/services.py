"""Moved to generation.services.products (update_product) and generation.services.deletion (delete_product)."""

from generation.services.deletion import ProductBusy, ProductInUse
from generation.services.deletion import request_product_deletion as delete_product
from generation.services.products import update_product

__all__ = ["ProductBusy", "ProductInUse", "delete_product", "update_product"]
