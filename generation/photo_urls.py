"""Photos fetched from the merchant's URLs (creating a product with `photo_urls`): every URL through the import's
SSRF-safe fetcher, all of them within one overall time budget; all or nothing."""

from __future__ import annotations

import time

from django.utils.translation import gettext as _

from generation.imports.fetch import FetchError, fetch_image
from shop_video.core.errors import BadInputError

MAX_URL_FETCH_SECONDS = 20.0


class PhotoUrlsRejected(BadInputError):
    """One or more URLs could not be fetched; `fields` names each (`photo_urls.<index>`)."""

    code = "photo_url_rejected"

    def __init__(self, fields: dict[str, list[str]]):
        super().__init__(_("One or more photo URLs could not be fetched."))
        self.fields = fields


def _name_of(url: str, index: int) -> str:
    name = url.rstrip("/").rsplit("/", 1)[-1].split("?")[0] or f"photo-{index + 1}"
    return name[:200]


def fetch_photo_urls(urls: list[str], *, budget_seconds: float = MAX_URL_FETCH_SECONDS) -> list[tuple[str, bytes]]:
    """(file name, bytes) per URL, in order; a URL not reached before the budget runs out is an error too."""
    started = time.monotonic()
    out: list[tuple[str, bytes]] = []
    errors: dict[str, list[str]] = {}
    for i, url in enumerate(urls):
        left = budget_seconds - (time.monotonic() - started)
        if left <= 0:
            errors[f"photo_urls.{i}"] = [_("Not fetched: the time for fetching photos ran out.")]
            continue
        try:
            fetched = fetch_image(url, deadline_seconds=left)
        except FetchError as exc:
            errors[f"photo_urls.{i}"] = [_("Could not fetch the photo (%(code)s).") % {"code": exc.code}]
            continue
        out.append((_name_of(url, i), fetched.data))
    if errors:
        raise PhotoUrlsRejected(errors)
    return out
