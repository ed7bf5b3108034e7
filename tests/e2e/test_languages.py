"""The main pages in Simplified Chinese and English, in a real browser: after the language switch no visible text
is an English msgid of the catalogue; labels, focus order and contrast are checked; screenshots of every page in
both languages (and on a phone) land under var/screens for `make screens`."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.conf import settings
from django.urls import reverse

from generation.models import Video
from tests.factories import PASSWORD, JobFactory, MembershipFactory, PhotoFactory, ProductFactory
from tests.integration.test_files import make_video

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

# Visible text: text nodes of rendered, visible elements, plus what screen readers and placeholders say.
VISIBLE_TEXT = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, el = node.parentElement, text = node.textContent.trim();
    // translate="no": brand names and the like, never translated.
    if (!text || !el || el.closest('script,style,noscript,template,[translate=no]')) continue;
    if (!el.checkVisibility({visibilityProperty: true, opacityProperty: true})) continue;
    // The language switch names each language in its own language, on purpose.
    const lang = el.closest('[lang]');
    out.push({text, lang: lang ? lang.getAttribute('lang') : ''});
  }
  for (const el of document.querySelectorAll('[aria-label],[placeholder],[title]')) {
    for (const attr of ['aria-label', 'placeholder', 'title']) {
      const v = el.getAttribute(attr);
      const lang = el.closest('[lang]');
      if (v && v.trim()) out.push({text: v.trim(), lang: lang ? lang.getAttribute('lang') : ''});
    }
  }
  return out;
}"""

UNLABELLED = """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea, button')]
  .filter(el => el.checkVisibility())
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                && !el.getAttribute('aria-labelledby') && !(el.tagName === 'BUTTON' && el.textContent.trim()))
  .map(el => el.outerHTML.slice(0, 120))"""

CONTRAST = """() => {
  const parse = c => c.match(/[\\d.]+/g).map(Number);
  const lin = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
  const lum = ([r, g, b]) => 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  // The first opaque background up the tree (white when none).
  const bg = el => {
    for (; el; el = el.parentElement) {
      const c = parse(getComputedStyle(el).backgroundColor);
      if (c.length === 3 || c[3] > 0.9) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const bad = [];
  const texts = 'a, button, label, h1, h2, h3, p, td, th, dt, dd, .badge, .subtle, .help, li';
  for (const el of document.querySelectorAll(texts)) {
    if (!el.checkVisibility() || !el.textContent.trim()) continue;
    const fg = parse(getComputedStyle(el).color).slice(0, 3), b = bg(el);
    const [l1, l2] = [lum(fg), lum(b)].sort((x, y) => y - x);
    const ratio = (l1 + 0.05) / (l2 + 0.05);
    const what = `${el.tagName}.${el.className} "${el.textContent.trim().slice(0, 30)}"`;
    if (ratio < 4.5) bad.push(`${what} ${ratio.toFixed(2)}`);
  }
  return bad;
}"""

CRAFTED_POST = """(url) => {
  const form = document.createElement('form');
  form.method = 'post';
  form.action = url;
  form.append(document.querySelector('input[name=csrfmiddlewaretoken]').cloneNode());
  document.body.append(form);
  form.submit();
}"""

NUMBERISH = re.compile(r"^[\d\s.,:×x%·#()+\-/—–→←|…]*(s|dB|fps|KB|MB|bytes|px)?[\d\s.,)]*$")


def english_msgids() -> set[str]:
    """Catalogue msgids that would show as English: those whose translation differs from the msgid."""
    path = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
    with open(path, "rb") as fh:
        catalog = read_po(fh)
    ids: set[str] = set()
    for message in catalog:
        if not message.id:
            continue
        singulars = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for msgid in singulars:
            if msgid not in strings and "%(" not in msgid and re.search(r"[A-Za-z]{2}", msgid):
                ids.add(msgid.strip())
    return ids


@pytest.fixture
def shop(db):
    """A shop with one of everything, as a merchant who has worked a while has it."""
    owner = MembershipFactory(
        organization__name="Mei's Bags", user__username="mei@example.com", user__email="mei@example.com"
    )
    org = owner.organization
    product = ProductFactory(organization=org, title="Canvas tote", sku="TOTE-1")
    photo = PhotoFactory(product=product, original_name="tote-front.png")
    done = JobFactory(photo=photo, batch__name="Spring launch", attempt=1, state="succeeded", progress=1.0)
    video = make_video(done)
    flagged = JobFactory(photo=photo, batch=done.batch, attempt=3, state="succeeded", progress=1.0, aspect_ratio="1:1")
    review = make_video(flagged, psnr_min=31.2)
    Video.objects.filter(pk=review.pk).update(
        qa_passed=False, review=Video.Review.NEEDS_REVIEW, review_note="PSNR 31.2 dB < 38 dB"
    )
    JobFactory(photo=photo, batch=done.batch)  # still queued: shows a queue position
    MembershipFactory(organization=org, role="viewer", user__username="li@example.com", user__email="li@example.com")
    return {"user": owner.user, "org": org, "product": product, "batch": done.batch, "video": video, "review": review}


def pages(shop: dict) -> list[tuple[str, str]]:
    return [
        ("home", reverse("dashboard:home")),
        ("products", reverse("dashboard:product_list")),
        ("product", reverse("dashboard:product_detail", args=[shop["product"].pk])),
        ("new-product", reverse("dashboard:product_create")),
        ("batches", reverse("dashboard:batch_list")),
        ("batch", reverse("dashboard:batch_detail", args=[shop["batch"].pk])),
        ("videos", reverse("dashboard:video_list")),
        ("video", reverse("dashboard:video_detail", args=[shop["video"].pk])),
        ("review", reverse("dashboard:review_queue")),
        ("team", reverse("dashboard:team")),
        ("email-settings", reverse("dashboard:notifications")),
        ("delete-shop", reverse("organization_delete")),
        ("looks", reverse("dashboard:look_list")),
        ("usage", reverse("billing:usage")),
    ]


def log_in(page, base: str, email: str) -> None:
    page.goto(f"{base}{reverse('login')}")
    page.locator("#id_username").fill(email)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("form[action='/accounts/login/'] button[type=submit]").click()
    page.wait_for_url(f"{base}/")


def untranslated(page, msgids: set[str], own_content: set[str]) -> list[str]:
    found = []
    for item in page.evaluate(VISIBLE_TEXT):
        text, lang = item["text"], item["lang"]
        if lang and not lang.startswith("zh"):
            continue
        if text in own_content or NUMBERISH.match(text):
            continue
        if text in msgids or text.rstrip(":：") in msgids:
            found.append(text)
    return found


def test_every_main_page_in_chinese_and_english(page, live_server, shop, screens_dir):
    base = live_server.url
    msgids = english_msgids()
    assert "Products" in msgids and "Approve" in msgids  # the check has teeth
    own = {
        "Mei's Bags",
        "Canvas tote",
        "TOTE-1",
        "tote-front.png",
        "Spring launch",
        "mei@example.com",
        "li@example.com",
    }
    own |= {"ShopVideo", "PSNR", "SSIM", "English", "简体中文"}

    # Logged out pages first.
    public = [
        ("login", reverse("login")),
        ("signup", reverse("dashboard:signup")),
        ("password-reset", reverse("dashboard:password_reset")),
    ]
    for lang in ("en", "zh-hans"):
        page.goto(f"{base}{reverse('login')}")
        page.locator(f"form.lang button[value='{lang}']").click()
        page.wait_for_load_state()
        for name, url in public:
            page.goto(f"{base}{url}")
            page.screenshot(path=str(_dir(screens_dir, lang) / f"{name}.jpg"), type="jpeg", quality=70, full_page=True)
            if lang == "zh-hans":
                assert untranslated(page, msgids, own) == [], name

    log_in(page, base, "mei@example.com")
    # The switch on the page itself, as a merchant uses it.
    page.locator("form.lang button[value='zh-hans']").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.get_by_role("navigation").get_by_role("link", name="商品").is_visible()

    for lang in ("zh-hans", "en"):
        if lang == "en":
            page.locator("form.lang button[value='en']").click()
            page.wait_for_load_state()
            assert page.get_by_role("navigation").get_by_role("link", name="Products").is_visible()
        for name, url in pages(shop):
            page.goto(f"{base}{url}")
            assert page.locator("html").get_attribute("lang") == lang, name
            page.screenshot(path=str(_dir(screens_dir, lang) / f"{name}.jpg"), type="jpeg", quality=70, full_page=True)
            if lang == "zh-hans":
                assert untranslated(page, msgids, own) == [], name
            assert page.evaluate(UNLABELLED) == [], (lang, name)
            assert page.evaluate(CONTRAST) == [], (lang, name)
    assert page.js_errors == []


def test_keyboard_focus_order_starts_with_skip_link_then_navigation(page, live_server, shop):
    base = live_server.url
    log_in(page, base, "mei@example.com")
    page.goto(f"{base}{reverse('dashboard:video_list')}")
    order = []
    for _ in range(6):
        page.keyboard.press("Tab")
        order.append(page.evaluate("() => document.activeElement.textContent.trim() || document.activeElement.name"))
    assert order[:3] == ["Skip to content", "ShopVideo", "Products"]
    assert order[3:6] == ["Videos", "Batches", "Import"]
    # The skip link moves focus to the content.
    page.keyboard.press("Shift+Tab")
    page.goto(f"{base}{reverse('dashboard:video_list')}")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"


@pytest.mark.viewport({"width": 390, "height": 844})
def test_phone_layout_has_no_horizontal_scroll(page, live_server, shop, screens_dir):
    base = live_server.url
    log_in(page, base, "mei@example.com")
    for name, url in pages(shop)[:8]:
        page.goto(f"{base}{url}")
        overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 1, (name, overflow)
        if name in {"home", "product", "video", "batch"}:
            page.screenshot(
                path=str(_dir(screens_dir, "phone") / f"{name}.jpg"), type="jpeg", quality=70, full_page=True
            )
    # The header folds its menu behind one button, so the page starts near the top of a phone's screen.
    page.goto(f"{base}{reverse('dashboard:home')}")
    header = page.locator("header.topbar")
    assert header.bounding_box()["height"] < 80
    videos_link = page.get_by_role("link", name="Videos", exact=True)
    assert not videos_link.is_visible()
    toggle = page.get_by_role("button", name="Menu")
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true"
    assert page.get_by_role("button", name="Log out").is_visible()
    videos_link.click()
    page.wait_for_url(f"{base}{reverse('dashboard:video_list')}")
    overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 1


@pytest.mark.viewport({"width": 1280, "height": 900})
def test_wide_screens_show_the_menu_without_a_button(page, live_server, shop):
    base = live_server.url
    log_in(page, base, "mei@example.com")
    page.goto(f"{base}{reverse('dashboard:home')}")
    assert page.get_by_role("link", name="Videos", exact=True).is_visible()
    assert (
        page.get_by_role("button", name="Menu").count() == 0 or not page.get_by_role("button", name="Menu").is_visible()
    )
    assert page.locator("header.topbar").bounding_box()["height"] < 100  # the links, then language and account


def test_viewer_sees_no_controls_and_is_refused_on_the_server(page, live_server, shop):
    base = live_server.url
    log_in(page, base, "li@example.com")
    page.goto(f"{base}{reverse('dashboard:video_detail', args=[shop['video'].pk])}")
    assert page.get_by_role("button", name="Approve").count() == 0
    assert page.get_by_text("Viewers can watch and download; an editor approves or rejects.").is_visible()
    page.goto(f"{base}{reverse('dashboard:product_detail', args=[shop['product'].pk])}")
    assert page.locator("#generate-form").count() == 0
    # The server decides, whatever the page shows: a crafted POST is the 403 page with a message.
    # A form the page never offered, posted from the viewer's own browser session.
    url = reverse("dashboard:video_approve", args=[shop["video"].pk])
    with page.expect_navigation():
        page.evaluate(CRAFTED_POST, url)
    assert page.get_by_text("cannot do this. Ask an owner for editor access.").is_visible()
    shop["video"].refresh_from_db()
    assert shop["video"].review == Video.Review.READY


def _dir(root: Path, lang: str) -> Path:
    folder = root / ("zh" if lang.startswith("zh") else lang)
    folder.mkdir(parents=True, exist_ok=True)
    return folder
