"""Shopify and WooCommerce product exports, unchanged, from their documented column sets: multi-row products,
variants, image-only rows, missing images; the same row report as our own format."""

from __future__ import annotations

import pytest

from generation.imports import services
from generation.imports.validate import report_rows
from generation.models import CatalogImport, Job, Photo, Product
from tests.imports.conftest import csv_bytes, product_jpeg

pytestmark = pytest.mark.django_db

SHOPIFY_HEADER = (
    "Handle,Title,Body (HTML),Vendor,Product Category,Type,Tags,Published,Option1 Name,Option1 Value,"
    "Option2 Name,Option2 Value,Option3 Name,Option3 Value,Variant SKU,Variant Grams,Variant Inventory Tracker,"
    "Variant Inventory Qty,Variant Inventory Policy,Variant Fulfillment Service,Variant Price,"
    "Variant Compare At Price,Variant Requires Shipping,Variant Taxable,Variant Barcode,Image Src,Image Position,"
    "Image Alt Text,Gift Card,SEO Title,SEO Description,Variant Image,Variant Weight Unit,Variant Tax Code,"
    "Cost per item,Status"
)


def _shopify_line(**cells) -> str:
    names = SHOPIFY_HEADER.split(",")
    out = []
    for name in names:
        value = str(cells.get(name, ""))
        out.append(f'"{value}"' if any(ch in value for ch in ',"\n') else value)
    return ",".join(out)


def shopify_export(server) -> bytes:
    tee_front = server.image("/files/tee-front.jpg", product_jpeg(21))
    tee_back = server.image("/files/tee-back.jpg", product_jpeg(22))
    mug = server.image("/files/mug.jpg", product_jpeg(23))
    lines = [
        SHOPIFY_HEADER,
        # A T-shirt: the first row carries the product, two more variant rows, and an image-only row.
        _shopify_line(
            Handle="organic-tee",
            Title="Organic Cotton Tee",
            **{
                "Body (HTML)": "<p>Soft, <strong>organic</strong> cotton.</p>",
                "Vendor": "Acme",
                "Product Category": "Apparel & Accessories > Clothing > Shirts & Tops",
                "Type": "T-Shirt",
                "Tags": "cotton, summer",
                "Published": "TRUE",
                "Option1 Name": "Size",
                "Option1 Value": "S",
                "Variant SKU": "TEE-S",
                "Variant Price": "19.90",
                "Image Src": tee_back,
                "Image Position": "2",
                "Status": "active",
            },
        ),
        _shopify_line(
            Handle="organic-tee",
            **{"Option1 Value": "M", "Variant SKU": "TEE-M", "Variant Price": "19.90", "Image Src": tee_front},
            **{"Image Position": "1"},
        ),
        _shopify_line(Handle="organic-tee", **{"Option1 Value": "L", "Variant SKU": "TEE-L", "Variant Price": "21.00"}),
        # A mug without variants and without SKU: the Handle becomes the SKU.
        _shopify_line(
            Handle="stone-mug",
            Title="Stone Mug",
            **{"Type": "Kitchen", "Published": "TRUE", "Variant Price": "12.00", "Image Src": mug},
            **{"Image Position": "1", "Option1 Name": "Title", "Option1 Value": "Default Title"},
        ),
        # A product with no image at all (a draft the merchant never photographed).
        _shopify_line(Handle="gift-card", Title="Gift Card", **{"Variant SKU": "GIFT", "Variant Price": "25.00"}),
        # A row with no Handle.
        _shopify_line(Title="Orphan row", **{"Variant SKU": "ORPHAN"}),
    ]
    return csv_bytes(lines)


def test_shopify_export(org, allow_server):
    imp = services.stage_import(
        organization=org, csv_upload=shopify_export(allow_server), options={"markets": "us", "aspect_ratios": "1:1"}
    )
    assert imp.format == CatalogImport.Format.SHOPIFY
    assert imp.lines_total == 6 and imp.rows_total == 4
    report = {(r, c, code) for r, c, code, _m in report_rows(imp)}
    assert report == {(6, "Image Src", "missing_image"), (7, "Handle", "missing_handle")}
    imp = services.process_import(imp.pk)
    assert (imp.status, imp.rows_valid, imp.rows_invalid) == (CatalogImport.Status.READY, 2, 2)
    batch = services.confirm_import(catalog_import=imp)
    tee = Product.objects.get(organization=org, sku="TEE-S")
    assert (tee.title, tee.category) == ("Organic Cotton Tee", "apparel")
    assert imp.rows.get(sku="TEE-S").price == "19.90"
    assert str(tee.price) == "19.90"
    # Photos in Shopify's Image Position order (front = 1, back = 2), each once.
    assert list(Photo.objects.filter(product=tee).order_by("id").values_list("original_name", flat=True)) == [
        "tee-front.jpg",
        "tee-back.jpg",
    ]
    mug = Product.objects.get(organization=org, sku="stone-mug")
    assert (mug.title, mug.category) == ("Stone Mug", "home")
    assert set(Product.objects.filter(organization=org).values_list("sku", flat=True)) == {"TEE-S", "stone-mug"}
    jobs = Job.objects.filter(batch=batch)
    assert jobs.count() == 3  # 3 photos × us × 1:1 × 5 s
    assert {(j.market.slug, j.aspect_ratio, j.seconds) for j in jobs} == {("us", "1:1", 5)}


def test_shopify_bad_image_url_reports_its_line(org, image_server):
    lines = [
        SHOPIFY_HEADER,
        _shopify_line(Handle="a", Title="A", **{"Variant SKU": "A-1", "Image Src": image_server.url("/a.jpg")}),
        _shopify_line(Handle="a", **{"Image Src": "http://169.254.169.254/latest/meta-data/"}),
    ]
    imp = services.stage_import(organization=org, csv_upload=csv_bytes(lines), options={"markets": "us"})
    imp = services.process_import(imp.pk)
    report = {(r, c, code) for r, c, code, _m in report_rows(imp)}
    # Without the allowlist both are refused; the report names each line.
    assert report >= {(2, "Image Src", "address_not_allowed"), (3, "Image Src", "address_not_allowed")}
    assert not Product.objects.exists()


WOO_HEADER = (
    "ID,Type,SKU,Name,Published,Is featured?,Visibility in catalog,Short description,Description,"
    "Date sale price starts,Date sale price ends,Tax status,Tax class,In stock?,Stock,Backorders allowed?,"
    "Sold individually?,Weight (kg),Length (cm),Width (cm),Height (cm),Allow customer reviews?,Purchase note,"
    "Sale price,Regular price,Categories,Tags,Shipping class,Images,Download limit,Download expiry days,Parent,"
    "Grouped products,Upsells,Cross-sells,External URL,Button text,Position,Attribute 1 name,"
    "Attribute 1 value(s),Attribute 1 visible,Attribute 1 global"
)


def _woo_line(**cells) -> str:
    out = []
    for name in WOO_HEADER.split(","):
        value = str(cells.get(name, ""))
        out.append(f'"{value}"' if any(ch in value for ch in ',"\n') else value)
    return ",".join(out)


def woo_export(server) -> bytes:
    hoodie1 = server.image("/wp-content/uploads/hoodie-1.jpg", product_jpeg(31))
    hoodie2 = server.image("/wp-content/uploads/hoodie-2.jpg", product_jpeg(32))
    blue = server.image("/wp-content/uploads/hoodie-blue.jpg", product_jpeg(33))
    cap = server.image("/wp-content/uploads/cap.jpg", product_jpeg(34))
    lines = [
        WOO_HEADER,
        _woo_line(
            ID=101,
            Type="variable",
            SKU="woo-hoodie",
            Name="Hoodie",
            Published=1,
            Categories="Clothing > Hoodies, Sale",
            Images=f"{hoodie1}, {hoodie2}",
            **{"Regular price": "45.00"},
            **{"Attribute 1 name": "Color", "Attribute 1 value(s)": "Blue, Red"},
        ),
        _woo_line(ID=102, Type="simple", SKU="woo-cap", Name="Cap", Published=1, Categories="Accessories", Images=cap),
        # Variations: one names its parent by id, one by the parent's SKU; their images join the parent.
        _woo_line(ID=103, Type="variation", SKU="woo-hoodie-blue", Name="Hoodie - Blue", Parent="id:101", Images=blue),
        _woo_line(ID=104, Type="variation", SKU="woo-hoodie-red", Name="Hoodie - Red", Parent="woo-hoodie"),
        _woo_line(ID=105, Type="simple", SKU="woo-pin", Name="Pin without photo", Published=1, **{"Regular price": 3}),
        _woo_line(ID=106, Type="variation", SKU="ghost", Name="Ghost", Parent="id:999"),
    ]
    return csv_bytes(lines)


def test_woocommerce_export(org, allow_server):
    imp = services.stage_import(organization=org, csv_upload=woo_export(allow_server), options={"markets": ["de"]})
    assert imp.format == CatalogImport.Format.WOOCOMMERCE
    assert imp.rows_total == 4  # hoodie, cap, pin, the orphan variation
    report = {(r, c, code) for r, c, code, _m in report_rows(imp)}
    assert report == {(6, "Images", "missing_image"), (7, "Parent", "unknown_parent")}
    imp = services.process_import(imp.pk)
    assert (imp.rows_valid, imp.rows_invalid) == (2, 2)
    batch = services.confirm_import(catalog_import=imp)
    hoodie = Product.objects.get(organization=org, sku="woo-hoodie")
    assert (hoodie.title, hoodie.category) == ("Hoodie", "apparel")
    assert imp.rows.get(sku="woo-hoodie").price == "45.00"
    assert list(Photo.objects.filter(product=hoodie).order_by("id").values_list("original_name", flat=True)) == [
        "hoodie-1.jpg",
        "hoodie-2.jpg",
        "hoodie-blue.jpg",
    ]
    cap = Product.objects.get(organization=org, sku="woo-cap")
    assert cap.category == "accessories"
    assert not Product.objects.filter(sku__in=["woo-pin", "ghost", "woo-hoodie-blue"]).exists()
    assert {j.photo.product.sku for j in Job.objects.filter(batch=batch)} == {"woo-hoodie", "woo-cap"}


def test_woocommerce_variation_far_from_its_parent_is_merged(org, allow_server, settings):
    """A variation written after its parent's chunk was stored still adds its image to the parent."""
    monkey_chunk = services.CHUNK_ROWS
    services.CHUNK_ROWS = 2
    try:
        a = allow_server.image("/a.jpg", product_jpeg(41))
        b = allow_server.image("/b.jpg", product_jpeg(42))
        lines = [
            WOO_HEADER,
            _woo_line(ID=1, Type="variable", SKU="P", Name="Parent", Images=a),
            *[_woo_line(ID=10 + i, Type="simple", SKU=f"S{i}", Name=f"S{i}", Images=a) for i in range(4)],
            _woo_line(ID=2, Type="variation", SKU="P-b", Name="Parent b", Parent="id:1", Images=b),
        ]
        imp = services.stage_import(organization=org, csv_upload=csv_bytes(lines), options={"markets": ["us"]})
        row = imp.rows.get(sku="P")
        assert [i["value"] for i in row.data["images"]] == [a, b]
    finally:
        services.CHUNK_ROWS = monkey_chunk
