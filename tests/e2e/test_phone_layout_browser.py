"""Every main page on a 390×844 phone, in one Chromium context with the data seeded once: nothing is wider than
the screen. Tables scroll inside their own box or become cards, long names wrap. A failure names the element."""

from __future__ import annotations

import io
import pprint
import zipfile

import pytest
from django.urls import reverse

from billing.services.ledger import grant_credits
from generation.imports import services as imports
from generation.models import Job, Video
from shop_video.merchants.api_keys import create_api_key
from shop_video.webhooks.services import create_endpoint
from tests.e2e.test_languages import log_in
from tests.factories import JobFactory, MembershipFactory, PhotoFactory, ProductFactory
from tests.imports.conftest import csv_bytes
from tests.integration.test_files import make_video

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

LONG_TITLE = "Handwoven organic cotton market tote with extra long leather handles and an inner zip pocket"
LONG_FILE = "IMG_20261206_handwoven_organic_cotton_market_tote_front_view_final_final_v2_export.png"
LONG_ERROR = (
    "The cutout lost the product's edge on frame 12: the product's outline moved by more than 3 px against "
    "the photo (https://shop.example.com/products/handwoven-organic-cotton-market-tote-extra-long-handles)."
)

# What sticks out: the document wider than the window, or any visible element whose right edge is past it
# (unless an ancestor that scrolls or clips keeps it inside the screen, as a table's scroll box does).
OVERFLOW = """() => {
  const width = window.innerWidth, out = [];
  if (document.documentElement.scrollWidth > width) {
    out.push(`document: scrollWidth ${document.documentElement.scrollWidth} > ${width}`);
  }
  // An ancestor that scrolls or clips holds the element in, unless the element is positioned out of it: an
  // absolutely positioned one is clipped only from its containing block (its nearest positioned ancestor) up.
  const clippedInside = el => {
    const position = getComputedStyle(el).position;
    if (position === 'fixed') return false;
    let a = el.parentElement;
    const isStatic = n => getComputedStyle(n).position === 'static';
    if (position === 'absolute') while (a && a !== document.body && isStatic(a)) a = a.parentElement;
    for (; a && a !== document.body; a = a.parentElement) {
      const ox = getComputedStyle(a).overflowX;
      if (ox !== 'visible' && a.getBoundingClientRect().right <= width + 1) return true;
    }
    return false;
  };
  for (const el of document.body.querySelectorAll('*')) {
    if (!el.checkVisibility({visibilityProperty: true})) continue;
    const r = el.getBoundingClientRect();
    if (!r.width || !r.height || r.right <= width + 1 || clippedInside(el)) continue;
    const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
      (el.classList.length ? '.' + [...el.classList].join('.') : '');
    out.push(`${name} right=${Math.round(r.right)} "${(el.textContent || '').trim().slice(0, 40)}"`);
  }
  return out.slice(0, 8);
}"""

# The import report's issue table on a phone: how far its box scrolls sideways, where the image names and the
# zip form end, against the box and the screen.
IMPORT_REPORT_FIT = """() => {
  const wrap = document.querySelector('#import-issues').closest('.table-wrap');
  const codes = [...document.querySelectorAll('#import-issues code.truncate')];
  return {
    width: window.innerWidth,
    scroll: wrap.scrollWidth - wrap.clientWidth,
    wrap_right: wrap.getBoundingClientRect().right,
    images: codes.length,
    image_right: Math.max(...codes.map(c => c.getBoundingClientRect().right)),
    form_right: document.querySelector('#import-recheck-failed').getBoundingClientRect().right,
  };
}"""


@pytest.fixture
def shop():
    """A shop a month in: long names, a failed job, a failed import, credits bought, a key and a webhook."""
    owner = MembershipFactory(
        organization__name="Mei's Handwoven Bags and Accessories Studio",
        user__username="mei@example.com",
        user__email="mei@example.com",
    )
    org = owner.organization
    product = ProductFactory(organization=org, title=LONG_TITLE, sku="TOTE-HANDWOVEN-ORGANIC-COTTON-XL-0001")
    photo = PhotoFactory(product=product, original_name=LONG_FILE)
    done = JobFactory(photo=photo, batch__name=f"Spring launch: {LONG_TITLE}", state="succeeded", progress=1.0)
    video = make_video(done)
    review = make_video(JobFactory(photo=photo, batch=done.batch, state="succeeded", aspect_ratio="9:16"))
    Video.objects.filter(pk=review.pk).update(qa_passed=False, review=Video.Review.NEEDS_REVIEW, review_note=LONG_ERROR)
    JobFactory(photo=photo, batch=done.batch, state=Job.State.FAILED, error_code="qa_failed", error_message=LONG_ERROR)
    JobFactory(photo=photo, batch=done.batch)  # queued
    for _ in range(3):
        ProductFactory(organization=org, title=LONG_TITLE.replace("tote", "bag"))
    grant_credits(organization=org, credits=500, reason=f"Welcome pack for {LONG_TITLE}")
    header = "sku,title,image_file,markets"
    rows = [f"LONG-{i},{LONG_TITLE} {i},{LONG_FILE.replace('.png', f'_{i}.png')},us" for i in range(3)]
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("another-photo.png", b"")
    archive.seek(0)
    failed_import = imports.stage_import(
        organization=org, csv_upload=csv_bytes([header, *rows]), filename=f"{LONG_FILE}.csv", zip_upload=archive
    )
    failed_import = imports.process_import(failed_import.pk)  # every row names an image the archive lacks
    create_api_key(organization=org, name=f"Storefront sync for {LONG_TITLE}")
    create_endpoint(
        organization=org,
        url="https://hooks.example.com/shopvideo/notifications/very-long-path-for-the-storefront-integration-v2",
        description=LONG_TITLE,
    )
    return {"product": product, "batch": done.batch, "video": video, "import": failed_import}


def pages(shop: dict) -> list[tuple[str, str]]:
    return [
        ("home", reverse("dashboard:home")),
        ("products", reverse("dashboard:product_list")),
        ("product and wizard", reverse("dashboard:product_detail", args=[shop["product"].pk])),
        ("ad storyboard", reverse("dashboard:ad_new", args=[shop["product"].pk]) + AD_QUERY),
        ("new product", reverse("dashboard:product_create")),
        ("videos", reverse("dashboard:video_list")),
        ("video", reverse("dashboard:video_detail", args=[shop["video"].pk])),
        ("review", reverse("dashboard:review_queue")),
        ("batches", reverse("dashboard:batch_list")),
        ("batch", reverse("dashboard:batch_detail", args=[shop["batch"].pk])),
        ("imports", reverse("dashboard:import_list")),
        ("import report", reverse("dashboard:import_detail", args=[shop["import"].pk])),
        ("credits", reverse("billing:overview")),
        ("usage", reverse("billing:usage")),
        ("invoices", reverse("billing:invoices")),
        ("email settings", reverse("dashboard:notifications")),
        ("team", reverse("dashboard:team")),
        ("delete shop", reverse("organization_delete")),
        ("looks", reverse("dashboard:look_list")),
        ("api keys", reverse("dashboard:api_keys")),
        ("webhooks", reverse("webhooks:endpoint_list")),
        ("webhook deliveries", reverse("webhooks:delivery_list")),
    ]


# Pages this test photographs for docs/screens.md (the phone screenshots of home, product, video and batch are
# tests/e2e/test_languages.py's).
SHOTS = {"import report": "import-report", "credits": "credits", "looks": "looks", "ad storyboard": "ad-storyboard"}
AD_QUERY = "?market=us&platform=tiktok&aspect_ratio=9%3A16&seconds=6"  # a planned storyboard, thumbnails and all


@pytest.mark.slow  # 24 pages in one browser: about 7 s
@pytest.mark.viewport({"width": 390, "height": 844})
def test_every_main_page_fits_a_phone(page, live_server, shop, screens_dir):
    base = live_server.url
    problems = {}
    phone = screens_dir / "phone"
    phone.mkdir(parents=True, exist_ok=True)
    for name, url in [("login", reverse("login")), ("sign-up", reverse("dashboard:signup"))]:
        page.goto(f"{base}{url}")
        problems[name] = page.evaluate(OVERFLOW)
    log_in(page, base, "mei@example.com")
    for name, url in pages(shop):
        response = page.goto(f"{base}{url}")
        assert response.status == 200, name
        problems[name] = page.evaluate(OVERFLOW)
        if name in SHOTS:
            page.screenshot(path=str(phone / f"{SHOTS[name]}.jpg"), type="jpeg", quality=70, full_page=True)
    # The billing page's cards have room inside.
    page.goto(f"{base}{reverse('billing:overview')}")
    paddings = page.locator("main section.card").evaluate_all(
        "els => els.map(e => parseFloat(getComputedStyle(e).paddingLeft))"
    )
    assert paddings and min(paddings) >= 12, paddings
    # The import report lists the failed rows with their long file names.
    page.goto(f"{base}{reverse('dashboard:import_detail', args=[shop['import'].pk])}")
    assert page.get_by_text(LONG_FILE.replace(".png", "_2.png"), exact=False).first.is_visible()
    # Its rows are cards that need no sideways scrolling: the failing image's name is cut to the card, and the
    # form for a zip of the failed rows' images fits the screen.
    fit = page.evaluate(IMPORT_REPORT_FIT)
    assert fit["images"] == 3 and fit["scroll"] <= 1 and fit["image_right"] <= fit["wrap_right"] + 1, fit
    assert fit["form_right"] <= fit["width"] + 1, fit
    # The phone's menu and its More dropdown, opened.
    page.get_by_role("button", name="Menu").click()
    page.get_by_text("More", exact=True).click()
    problems["menu"] = page.evaluate(OVERFLOW)
    page.screenshot(path=str(phone / "menu.jpg"), type="jpeg", quality=70)
    wide = {name: found for name, found in problems.items() if found}
    assert not wide, "wider than a phone:\n" + pprint.pformat(wide, width=120)
    assert page.js_errors == []
