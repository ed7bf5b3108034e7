"""A merchant's first hour, in Chromium: brush edits to a mask that stick across two saves, a top bar with the
daily pages up front and the rest behind one menu, QA figures behind "Details", a short model-looks page, a
credits chart with axes (or none while there is no data), and one name per video whether it is downloaded alone
or in a zip. The phone layout of every page is tests/e2e/test_phone_layout_browser.py."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from django.urls import reverse
from PIL import Image

from billing.models import CreditAccount, LedgerEntry
from billing.services.ledger import debit_adjustment, grant_credits
from generation.models import Photo
from generation.presets import BUILTIN_REVIEW_NOTE
from tests.e2e.conftest import chromium_context
from tests.e2e.test_languages import log_in
from tests.factories import JobFactory, MembershipFactory, PhotoFactory
from tests.integration.test_files import make_video, mp4_bytes

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture(scope="module")
def browser_context(playwright_driver) -> Iterator:
    """One Chromium for the whole module (cheap); each test starts logged out (cookies cleared)."""
    with chromium_context(playwright_driver, {"width": 1280, "height": 800}) as context:
        yield context


@pytest.fixture
def shop(browser_context):
    browser_context.clear_cookies()
    owner = MembershipFactory(
        organization__name="Alpha Teas", user__username="ana@example.com", user__email="ana@example.com"
    )
    photo = PhotoFactory(product__organization=owner.organization, product__title="Jasmine tin")
    return {"user": owner.user, "org": owner.organization, "photo": photo}


def shot(page, screens_dir: Path, name: str, *, full_page: bool = True) -> None:
    """A screenshot for docs/screens.md (`make screens` copies them)."""
    folder = screens_dir / "en"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.jpg"), type="jpeg", quality=70, full_page=full_page)


def _mask(photo: Photo) -> np.ndarray:
    with photo.mask.open("rb") as fh:
        return np.asarray(Image.open(io.BytesIO(fh.read())).convert("L"))


def _paint(page, canvas, photo: Photo, x: int, y: int) -> None:
    """A short horizontal drag with the brush centred on photo pixel (x, y)."""
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    sx, sy = box["x"] + x * box["width"] / photo.width, box["y"] + y * box["height"] / photo.height
    page.mouse.move(sx - 6, sy)
    page.mouse.down()
    page.mouse.move(sx, sy, steps=3)
    page.mouse.move(sx + 6, sy, steps=3)
    page.mouse.up()


def _brush_and_save(page, photo: Photo, x: int, y: int) -> None:
    article = page.locator(f"#photo-{photo.pk}")
    article.get_by_text("Touch up the mask with a brush").click()
    form = article.locator("form[data-mask-editor]")
    form.and_(page.locator("[data-ready=true]")).wait_for()  # the saved mask is loaded into the editor
    form.get_by_label("Remove").check()
    _paint(page, form.locator("canvas[data-canvas]"), photo, x, y)
    with page.expect_navigation():  # the editor posts, then reloads the page
        form.get_by_role("button", name="Save mask").click()
    page.get_by_text(re.compile(r"Mask for .+ replaced\.")).wait_for()


PIXELS = """(img, points) => {
  const c = document.createElement('canvas');
  c.width = img.naturalWidth;
  c.height = img.naturalHeight;
  const ctx = c.getContext('2d');
  ctx.drawImage(img, 0, 0);
  return points.map(([x, y]) => ctx.getImageData(x, y, 1, 1).data[0]);
}"""


def _shown_versions(page, photo: Photo) -> set[str]:
    """The ?v= of every mask URL the photo's block uses (the mask image, the cutout, the brush)."""
    article = page.locator(f"#photo-{photo.pk}")
    urls = article.locator("img[alt=Mask]").evaluate_all("els => els.map(e => e.getAttribute('src'))")
    urls += article.locator("[data-mask-url]").evaluate_all("els => els.map(e => e.dataset.maskUrl)")
    assert len(urls) == 3, urls
    return {url.rsplit("?v=", 1)[-1] for url in urls}


def test_two_brush_edits_saved_one_after_the_other_are_both_in_the_mask(page, live_server, shop):
    photo = shop["photo"]
    before = _mask(photo)
    ys, xs = np.nonzero(before)
    cx = int(xs.mean())
    first, second = (cx, int(np.percentile(ys, 25))), (cx, int(np.percentile(ys, 75)))
    assert before[first[1], first[0]] == 255 and before[second[1], second[0]] == 255  # both on the product
    versions = [photo.mask_version]
    base = live_server.url
    log_in(page, base, "ana@example.com")
    page.goto(f"{base}{reverse('dashboard:product_detail', args=[photo.product_id])}")
    assert _shown_versions(page, photo) == {versions[0]}

    for x, y in (first, second):
        _brush_and_save(page, photo, x, y)
        photo.refresh_from_db()
        versions.append(photo.mask_version)
        assert _shown_versions(page, photo) == {versions[-1]}
        page.reload()
        assert _shown_versions(page, photo) == {versions[-1]}
    assert len(set(versions)) == 3

    after = _mask(photo)
    assert after[first[1], first[0]] == 0, "the first stroke was lost"
    assert after[second[1], second[0]] == 0, "the second stroke was lost"
    # Nothing else moved: only the two brushed spots changed.
    changed = np.argwhere(after != before)
    assert changed.size and all(min(abs(y - first[1]), abs(y - second[1])) < 40 for y, _x in changed)
    # The page's mask image is the saved file, not a cached earlier one.
    img = page.locator(f"#photo-{photo.pk} img[alt=Mask]")
    img.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=img.element_handle())
    assert img.evaluate(PIXELS, [first, second]) == [0, 0]
    assert page.js_errors == []


MOVED = [  # (link in the menu, the page it opens)
    ("Credits", "billing:overview"),
    ("Model looks", "dashboard:look_list"),
    ("Webhooks", "webhooks:endpoint_list"),
    ("API keys", "dashboard:api_keys"),
    ("Team", "dashboard:team"),
    ("Review", "dashboard:review_queue"),
    ("Email settings", "dashboard:notifications"),
]


def test_the_top_bar_has_the_daily_pages_up_front_and_one_menu_for_the_rest(page, live_server, shop, screens_dir):
    type(shop["user"]).objects.filter(pk=shop["user"].pk).update(is_staff=True)  # an operator: admin in the menu
    base = live_server.url
    log_in(page, base, "ana@example.com")
    nav = page.get_by_role("navigation", name="Main")
    top = nav.locator(":scope > a, :scope > details > summary")
    assert top.count() <= 6
    assert [t.strip() for t in top.all_inner_texts()[:4]] == ["Products", "Videos", "Batches", "Import"]
    nav.get_by_text("More", exact=True).click()
    shot(page, screens_dir, "more-menu", full_page=False)
    nav.get_by_text("More", exact=True).click()
    for name, url_name in MOVED:
        assert not page.get_by_role("link", name=name, exact=True).is_visible(), name
        nav.get_by_text("More", exact=True).click()
        page.get_by_role("link", name=name, exact=True).click()
        page.wait_for_url(f"{base}{reverse(url_name)}")
        # The page it opened is marked in the top bar: the menu's summary says where you are.
        assert nav.locator("details[data-current]").count() == 1, name
    # Staff find the operator pages (Django's admin) in the same menu.
    nav.get_by_text("More", exact=True).click()
    page.get_by_role("link", name="Operator admin", exact=True).click()
    page.wait_for_url(f"{base}{reverse('admin:index')}")
    assert page.js_errors == []


def test_the_video_page_keeps_the_qa_figures_behind_details(page, live_server, shop):
    video = make_video(JobFactory(photo=shop["photo"], state="succeeded"), psnr_min=47.25)
    base = live_server.url
    log_in(page, base, "ana@example.com")
    page.goto(f"{base}{reverse('dashboard:video_detail', args=[video.pk])}")
    assert page.get_by_text("Product exact", exact=True).is_visible()
    for figure in ("PSNR, worst frame", "SSIM, worst frame", "Edge IoU", "Background flicker"):
        assert not page.get_by_text(figure).is_visible(), figure
    assert not page.get_by_text("47.3 dB").first.is_visible()
    page.get_by_text("Details", exact=True).click()
    for figure in ("PSNR, worst frame", "SSIM, worst frame", "Edge IoU", "Background flicker"):
        assert page.get_by_text(figure).is_visible(), figure
    assert page.get_by_text("47.3 dB").first.is_visible()
    assert page.js_errors == []


def test_the_model_looks_page_is_short_and_says_the_built_in_note_once(page, live_server, shop):
    base = live_server.url
    log_in(page, base, "ana@example.com")
    page.goto(f"{base}{reverse('dashboard:look_list')}")
    assert page.evaluate("() => document.documentElement.scrollHeight") < 4000
    assert page.locator("main").inner_text().count(str(BUILTIN_REVIEW_NOTE)) == 1
    # Every market's looks are one click away, and the built-in ones can still be copied to edit.
    germany = page.locator("#market-de")
    germany.locator("summary").click()
    edit = germany.get_by_role("link", name="Edit a copy").first
    assert edit.is_visible()
    edit.click()
    page.wait_for_url(re.compile(r"from=de:"))
    assert page.locator("#look-form").is_visible()
    assert page.js_errors == []


def test_credits_over_time_has_no_empty_box_then_a_chart_with_axes(page, live_server, shop, screens_dir):
    # A shop with no movements yet (the factory's shop starts with granted credits).
    LedgerEntry.objects.filter(organization=shop["org"]).delete()
    CreditAccount.objects.filter(organization=shop["org"]).update(balance=0, reserved=0)
    base = live_server.url
    log_in(page, base, "ana@example.com")
    page.goto(f"{base}{reverse('billing:usage')}")
    assert page.locator("figure.chart").count() == 0
    assert page.get_by_text("No movements yet.").first.is_visible()

    grant_credits(organization=shop["org"], credits=120, reason="welcome")
    debit_adjustment(organization=shop["org"], credits=20, reason="correction")
    page.reload()
    chart = page.locator("figure.chart")
    assert chart.is_visible()
    # The y axis runs from 0 to the balance; the x axis names the days.
    assert {"0", "100"} <= set(chart.locator("text.axis-y").all_text_contents())
    days = chart.locator("text.axis-x").all_text_contents()
    assert days and all(re.search(r"\d", day) for day in days), days
    shot(page, screens_dir, "usage-chart")
    assert page.js_errors == []


def test_a_zip_of_two_videos_names_its_entries_as_the_single_downloads(page, live_server, shop, tmp_path):
    videos = [
        make_video(JobFactory(photo=shop["photo"], aspect_ratio=aspect, state="succeeded"), data=mp4_bytes(frames=4))
        for aspect in ("9:16", "1:1")
    ]
    base = live_server.url
    log_in(page, base, "ana@example.com")
    singles = []
    for video in videos:
        page.goto(f"{base}{reverse('dashboard:video_detail', args=[video.pk])}")
        with page.expect_download() as info:
            page.get_by_role("link", name="Download MP4").click()
        singles.append(info.value.suggested_filename)

    page.goto(f"{base}{reverse('dashboard:video_list')}")
    for video in videos:
        page.locator(f"#video-{video.pk}").get_by_label("Select").check()
    with page.expect_download() as info:
        page.get_by_role("button", name="Download selected (zip)").click()
    path = tmp_path / "selection.zip"
    info.value.save_as(path)
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == sorted(singles)
    assert all(name.startswith("Jasmine-tin-us-") for name in singles), singles
    assert page.js_errors == []
