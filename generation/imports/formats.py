"""Header → format, and records → product drafts, for our CSV format and the Shopify and WooCommerce exports.

Our format (one row per product)::

    sku, title, category, image_url | image_file, markets, scenes, aspect_ratios, seconds, title_de, title_ja, …

`image_url` and `image_file` may name several images separated by `|`; `markets`, `scenes`, `aspect_ratios` and
`seconds` are lists separated by `|`, or by `,` or `;` inside a quoted field (`"us,de"`); empty means the
import's defaults. `title_xx` columns carry localized titles (xx = a caption language such as de, ja, pt-br).
`ad_seconds` and `ad_platform` (optional) set the row's ad length and platform when the import makes ads.

Shopify (several rows per Handle: the first carries Title/Type, the next ones variants and images): one product
per Handle; sku = its first Variant SKU, else the Handle; category from Product Category or Type (best effort);
price = first Variant Price; photos = Image Src by Image Position, then Variant Image.

WooCommerce: simple/variable/external/grouped rows are products; `variation` rows refer to their parent through
Parent (`id:123` or the parent's SKU) and add their images to it. sku = SKU, else `woo-<ID>`; category from the
first of Categories; price = Regular price; photos = Images (comma-separated URLs).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from generation.models import CatalogImport, Product

LIST_SPLIT = re.compile(r"[|,;]")
TITLE_COLUMN = re.compile(r"^title_([a-z]{2,3}(?:[-_][a-z0-9]{2,8})?)$")


@dataclass
class Issue:
    row: int
    column: str
    code: str
    params: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "code": self.code, "params": self.params}


@dataclass
class ImageRef:
    kind: str  # "url" | "file"
    value: str
    row: int
    column: str

    def as_dict(self) -> dict:
        return {"kind": self.kind, "value": self.value, "row": self.row, "column": self.column}


@dataclass
class Draft:
    """A product as read from one or more lines; `group_key` merges later lines into it (Shopify, Woo)."""

    line: int
    group_key: str = ""
    sku: str = ""
    title: str = ""
    category: str = ""  # raw text; mapped in validate
    price: str = ""
    titles: dict[str, str] = field(default_factory=dict)
    lists: dict[str, str] = field(default_factory=dict)  # raw markets / scenes / aspect_ratios / seconds
    images: list[ImageRef] = field(default_factory=list)
    texts: list[tuple[int, str, str]] = field(default_factory=list)  # (row, column, value) checked for formulas
    issues: list[Issue] = field(default_factory=list)
    extends: bool = False  # a line that only adds to an earlier product (a Woo variation)

    def add_image(self, kind: str, value: str, row: int, column: str) -> None:
        value = value.strip()
        if value and all(img.value != value for img in self.images):
            self.images.append(ImageRef(kind, value, row, column))

    def merge(self, later: Draft) -> None:
        for img in later.images:
            self.add_image(img.kind, img.value, img.row, img.column)
        self.issues.extend(later.issues)
        self.texts.extend(later.texts)
        for name in ("sku", "title", "category", "price"):
            if not getattr(self, name) and getattr(later, name) and not later.extends:
                setattr(self, name, getattr(later, name))


def split_list(value: str) -> list[str]:
    return [part.strip() for part in LIST_SPLIT.split(value or "") if part.strip()]


# --- detection ----------------------------------------------------------------------------------------------------

SHOPIFY_MARKERS = {"handle", "variant sku", "image src"}
WOO_MARKERS = {"id", "type", "sku", "name", "images", "parent"}


def detect(header: list[str]) -> str | None:
    names = {h.strip().lower() for h in header}
    if {"handle", "title"} <= names and names & (SHOPIFY_MARKERS - {"handle"}):
        return CatalogImport.Format.SHOPIFY
    if {"type", "name"} <= names and names & {"images", "parent", "regular price"}:
        return CatalogImport.Format.WOOCOMMERCE
    if "sku" in names and "title" in names:
        return CatalogImport.Format.SHOPVIDEO
    return None


def required_columns(fmt: str) -> list[tuple[str, ...]]:
    """Each tuple: at least one of these columns must be present."""
    if fmt == CatalogImport.Format.SHOPIFY:
        return [("Handle",), ("Title",), ("Image Src", "Variant Image")]
    if fmt == CatalogImport.Format.WOOCOMMERCE:
        return [("Type",), ("Name",), ("Images",)]
    return [("sku",), ("title",), ("image_url", "image_file")]


# --- category mapping (best effort; an unknown category becomes "other") ----------------------------------------

_CATEGORY_WORDS: list[tuple[str, tuple[str, ...]]] = [
    ("footwear", ("shoe", "sneaker", "boot", "sandal", "footwear", "heel", "slipper")),
    ("apparel", ("apparel", "clothing", "shirt", "tee", "hoodie", "dress", "jacket", "pant", "jean", "sweater")),
    ("beauty", ("beauty", "cosmetic", "skin", "makeup", "fragrance", "perfume", "hair", "lipstick")),
    ("electronics", ("electronic", "phone", "audio", "headphone", "camera", "computer", "gadget", "charger")),
    ("home", ("home", "kitchen", "furniture", "decor", "garden", "bath", "bed", "mug", "candle")),
    ("food", ("food", "drink", "beverage", "coffee", "tea", "snack", "grocery")),
    ("toys", ("toy", "game", "puzzle", "kid", "baby")),
    ("sports", ("sport", "fitness", "outdoor", "yoga", "bike", "cycling", "camping")),
    ("accessories", ("accessor", "bag", "jewel", "watch", "belt", "wallet", "hat", "scarf", "sunglass")),
]


def map_category(text: str) -> str:
    lowered = (text or "").lower()
    for value in Product.Category.values:
        if lowered.strip() == value or lowered.strip() == str(Product.Category(value).label).lower():
            return value
    for value, words in _CATEGORY_WORDS:
        if any(w in lowered for w in words):
            return value
    return Product.Category.OTHER


# --- adapters: records (row, cells) after the header → drafts -----------------------------------------------------


class _Cells:
    """Cells by column name, case-insensitively (spreadsheets and platforms vary in capitalisation)."""

    def __init__(self, header: list[str]):
        self.index: dict[str, int] = {}
        for i, name in enumerate(header):
            self.index.setdefault(name.strip().lower(), i)

    def get(self, cells: list[str], name: str) -> str:
        i = self.index.get(name.lower())
        return cells[i].strip() if i is not None and i < len(cells) else ""


def shopvideo_drafts(header: list[str], records: Iterator[tuple[int, list[str]]]) -> Iterator[Draft]:
    cols = _Cells(header)
    title_columns = [
        (m.group(1).replace("_", "-"), name) for name in cols.index if (m := TITLE_COLUMN.match(name)) is not None
    ]
    for row, cells in records:
        if not any(c.strip() for c in cells):
            continue  # Excel leaves empty lines at the end
        d = Draft(line=row)
        d.sku = cols.get(cells, "sku")
        d.title = cols.get(cells, "title")
        d.category = cols.get(cells, "category")
        d.price = cols.get(cells, "price")
        for lang, name in title_columns:
            value = cols.get(cells, name)
            if value:
                d.titles[lang] = value
                d.texts.append((row, name, value))
        for name in ("markets", "scenes", "aspect_ratios", "seconds", "ad_seconds", "ad_platform"):
            d.lists[name] = cols.get(cells, name)
        for value in cols.get(cells, "image_url").split("|"):
            d.add_image("url", value, row, "image_url")
        for value in cols.get(cells, "image_file").split("|"):
            d.add_image("file", value, row, "image_file")
        d.texts += [(row, "sku", d.sku), (row, "title", d.title), (row, "category", d.category)]
        if not d.sku:
            d.issues.append(Issue(row, "sku", "missing_sku"))
        yield d


def shopify_drafts(header: list[str], records: Iterator[tuple[int, list[str]]]) -> Iterator[Draft]:
    cols = _Cells(header)
    current: Draft | None = None
    positions: list[tuple[int, str]] = []  # (Image Position, url) of the current handle

    def finish(d: Draft) -> Draft:
        # Images in Shopify's order (Image Position), then variant images not already listed.
        ordered = [url for _pos, url in sorted(positions, key=lambda p: p[0])]
        rest = [img for img in d.images if img.column != "Image Src"]
        by_value = {img.value: img for img in d.images}
        d.images = [by_value[u] for u in ordered if u in by_value] + rest
        if not d.sku:
            d.sku = d.group_key.removeprefix("handle:")
        return d

    for row, cells in records:
        if not any(c.strip() for c in cells):
            continue
        handle = cols.get(cells, "Handle")
        if not handle:
            issue_draft = Draft(line=row)
            issue_draft.issues.append(Issue(row, "Handle", "missing_handle"))
            yield issue_draft
            continue
        if current is None or current.group_key != f"handle:{handle}":
            if current is not None:
                yield finish(current)
            current, positions = Draft(line=row, group_key=f"handle:{handle}"), []
        d = current
        title = cols.get(cells, "Title")
        if title and not d.title:
            d.title = title
            d.texts.append((row, "Title", title))
        kind = cols.get(cells, "Product Category") or cols.get(cells, "Type")
        if kind and not d.category:
            d.category = map_category(kind)
        sku = cols.get(cells, "Variant SKU")
        if sku:
            d.texts.append((row, "Variant SKU", sku))
            if not d.sku:
                d.sku = sku
        price = cols.get(cells, "Variant Price")
        if price and not d.price:
            d.price = price
        src = cols.get(cells, "Image Src")
        if src:
            d.add_image("url", src, row, "Image Src")
            try:
                pos = int(cols.get(cells, "Image Position") or 10**6)
            except ValueError:
                pos = 10**6
            positions.append((pos, src.strip()))
        variant_image = cols.get(cells, "Variant Image")
        if variant_image:
            d.add_image("url", variant_image, row, "Variant Image")
    if current is not None:
        yield finish(current)


def woocommerce_drafts(header: list[str], records: Iterator[tuple[int, list[str]]]) -> Iterator[Draft]:
    cols = _Cells(header)
    for row, cells in records:
        if not any(c.strip() for c in cells):
            continue
        types = {t.strip().lower() for t in cols.get(cells, "Type").split(",")}
        woo_id = cols.get(cells, "ID")
        sku = cols.get(cells, "SKU")
        if "variation" in types:
            parent = cols.get(cells, "Parent")
            d = Draft(line=row, extends=True)
            if parent.lower().startswith("id:"):
                d.group_key = f"woo-id:{parent[3:].strip()}"
            elif parent:
                d.group_key = f"woo-sku:{parent}"
            else:
                d.issues.append(Issue(row, "Parent", "missing_parent"))
            for url in cols.get(cells, "Images").split(","):
                d.add_image("url", url, row, "Images")
            yield d
            continue
        d = Draft(line=row)
        # Both keys lead here: variations name their parent by "id:N" or by its SKU.
        d.group_key = f"woo-id:{woo_id}" if woo_id else (f"woo-sku:{sku}" if sku else "")
        d.sku = sku or (f"woo-{woo_id}" if woo_id else "")
        d.title = cols.get(cells, "Name")
        first_category = cols.get(cells, "Categories").split(",")[0]
        d.category = map_category(first_category) if first_category.strip() else ""
        d.price = cols.get(cells, "Regular price") or cols.get(cells, "Sale price")
        d.texts += [(row, "SKU", sku), (row, "Name", d.title)]
        for url in cols.get(cells, "Images").split(","):
            d.add_image("url", url, row, "Images")
        if not d.sku:
            d.issues.append(Issue(row, "SKU", "missing_sku"))
        if sku and woo_id:
            d.lists["alias"] = f"woo-sku:{sku}"
        yield d


ADAPTERS = {
    CatalogImport.Format.SHOPVIDEO: shopvideo_drafts,
    CatalogImport.Format.SHOPIFY: shopify_drafts,
    CatalogImport.Format.WOOCOMMERCE: woocommerce_drafts,
}
