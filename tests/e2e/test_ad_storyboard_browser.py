"""In Chromium: a merchant makes an ad from a product with two photos. The storyboard is shown before paying (a
thumbnail and a kind per shot), edited (a shot moved up, another removed, a scene changed) and re-priced by the
server beside the balance and its warning; the job submitted stores exactly the shots the page showed, at the price
it showed."""

from __future__ import annotations

import pytest
from django.urls import reverse

from generation.models import Job
from generation.services import ads
from tests.e2e.test_languages import log_in
from tests.factories import MembershipFactory, PhotoFactory, ProductFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def shots_shown(page) -> list[str]:
    return page.locator("[data-shot]").evaluate_all("els => els.map(e => e.dataset.key)")


def price_shown(page) -> int:
    return int(page.locator("#ad-price").get_attribute("data-credits"))


def key(shot: dict) -> str:
    return f"{shot['kind']}:{'' if shot['photo'] is None else shot['photo']}:{shot['seed']}"


@pytest.mark.slow
def test_storyboard_before_paying_edited_repriced_and_submitted_as_shown(page, live_server, screens_dir):
    owner = MembershipFactory(organization__credits=5, user__username="ana@example.com", user__email="ana@example.com")
    org = owner.organization
    product = ProductFactory(organization=org, title="Linen tote", price="24.00", currency="USD")
    photos = [PhotoFactory(product=product, width=256, height=320) for _ in range(2)]
    base = live_server.url
    log_in(page, base, "ana@example.com")
    page.goto(f"{base}{reverse('dashboard:product_detail', args=[product.pk])}")

    page.locator("[data-make-ad]").click()
    page.wait_for_url(f"{base}{reverse('dashboard:ad_new', args=[product.pk])}")
    page.locator("#id_platform").select_option("tiktok")
    page.locator('input[name="seconds"][value="6"]').check()
    page.locator("[data-plan-ad]").click()
    page.wait_for_selector("#storyboard [data-shot]")

    planned = shots_shown(page)
    assert [k.split(":")[0] for k in planned] == ["hero", "angle", "endcard"]
    thumbs = page.locator("[data-shot] img.shot-thumb")
    assert thumbs.count() == 3
    assert all(w > 0 for w in thumbs.evaluate_all("els => els.map(e => e.naturalWidth)"))  # real images
    kinds = page.locator("[data-shot-kind]").all_inner_texts()
    assert kinds == ["Whole product", "Another angle", "End card"]
    box = page.locator("#ad-price")
    assert price_shown(page) == 6 and "6 credits" in box.inner_text()
    assert "Balance: 5 credits available" in box.inner_text()
    warning = box.get_by_role("alert")
    assert warning.is_visible() and "1 credit missing for this price" in warning.inner_text()
    assert "remove shots or choose a shorter ad" in warning.inner_text()
    assert box.locator("[data-get-credits]").get_attribute("href").startswith(reverse("billing:overview"))
    (screens_dir / "en").mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(screens_dir / "en" / "ad-storyboard.jpg"), type="jpeg", quality=70, full_page=True)

    page.locator("[data-shot]").nth(1).locator("[data-shot-up]").click()  # the angle first
    page.wait_for_function("k => document.querySelector('[data-shot]').dataset.key === k", arg=planned[1])
    assert shots_shown(page) == [planned[1], planned[0], planned[2]]
    page.locator("[data-shot]").nth(1).locator("[data-shot-remove]").click()  # the hero out
    page.wait_for_function("() => document.querySelectorAll('[data-shot]').length === 2")

    edited = shots_shown(page)
    assert edited == [planned[1], planned[2]]
    scene = page.locator("[data-shot-scene]").first
    other = scene.locator("option:not([selected])").first.get_attribute("value")
    with page.expect_navigation():
        scene.select_option(other)  # posted at once by the page's script
    assert page.locator("[data-shot-scene]").first.input_value() == other and shots_shown(page) == edited
    price = price_shown(page)
    seed = int(page.locator('#storyboard input[name="seed"]').get_attribute("value"))
    shots = [{"kind": kind, "photo": int(photo), "seed": int(shot_seed)} for kind, photo, shot_seed in
             (k.split(":") for k in edited)]  # fmt: skip
    shots[0]["scene"] = other
    options = ads.AdOptions(market="us", seconds=6, platform="tiktok", storyboard={"seed": seed, "shots": shots})
    server = ads.estimate_ad(organization=org, photos=photos, options=options)  # what the server says it costs
    assert price == server.credits < 6
    assert f"{price} credits" in page.locator("#ad-price").inner_text()
    assert page.locator("#ad-price [data-credits-short]").count() == (1 if price > 5 else 0)
    assert "Balance: 5 credits available" in page.locator("#ad-price").inner_text()
    assert not Job.objects.exists()  # nothing before Submit

    page.locator("[data-submit-ad]").click()
    page.wait_for_url(f"{base}/batches/**")

    job = Job.objects.get()
    assert job.format == "ad" and job.organization_id == org.pk
    assert [key(s) for s in job.storyboard["shots"]] == edited
    assert job.storyboard["shots"][0]["scene"] == other
    assert job.credits == price
    assert page.js_errors == []
