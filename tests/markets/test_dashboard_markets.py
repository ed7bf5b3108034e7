"""Market dashboard pages through the Django test client: localized titles on the product page, the
organization's model looks per market, captions and platform in the variant wizard, the export check on a video."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from generation.models import Job, MarketPreset, ModelLook, ProductLocalization
from generation.presets import BUILTIN_REVIEW_NOTE
from tests.factories import JobFactory, MembershipFactory, PhotoFactory, ProductFactory, ensure_presets
from tests.integration.test_files import make_video

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _presets(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    ensure_presets()


@pytest.fixture
def product(org):
    product = ProductFactory(organization=org, title="Amber glass bottle", price=Decimal("19.90"), currency="EUR")
    PhotoFactory(product=product, original_name="front.png")
    return product


@pytest.fixture
def other_product():
    product = ProductFactory(title="Someone else's bottle")
    PhotoFactory(product=product)
    return product


def page(response) -> str:
    return response.content.decode()


# --- localized titles ---------------------------------------------------------------------------------------------


def test_localized_titles_are_added_replaced_and_removed_on_the_product_page(client_a, product):
    url = reverse("dashboard:localization_save", args=[product.pk])
    response = client_a.post(url, {"language": "ja", "title": "琥珀色のガラスボトル", "cta": "今すぐ購入"})
    assert response.status_code == 302 and response["Location"].endswith("#localizations")
    row = ProductLocalization.objects.get(product=product, language="ja")
    assert (row.title, row.cta) == ("琥珀色のガラスボトル", "今すぐ購入")

    detail = page(client_a.get(reverse("dashboard:product_detail", args=[product.pk])))
    assert 'id="localizations"' in detail and "琥珀色のガラスボトル" in detail and 'id="localization-ja"' in detail

    client_a.post(url, {"language": "ja", "title": "ガラスボトル アンバー", "cta": ""})
    row = ProductLocalization.objects.get(product=product, language="ja")
    assert (row.title, row.cta) == ("ガラスボトル アンバー", "")

    delete = reverse("dashboard:localization_delete", args=[product.pk, "ja"])
    assert client_a.post(delete).status_code == 302
    assert not ProductLocalization.objects.filter(product=product).exists()


def test_a_bad_localized_title_is_a_400_with_the_message_and_nothing_saved(client_a, product):
    url = reverse("dashboard:localization_save", args=[product.pk])
    response = client_a.post(url, {"language": "xx", "title": "Titel"})
    assert response.status_code == 400
    assert "errorlist" in page(response)
    response = client_a.post(url, {"language": "de", "title": ""})
    assert response.status_code == 400
    assert not ProductLocalization.objects.exists()


def test_another_organizations_product_is_a_404_for_localized_titles(client_a, other_product):
    ProductLocalization.objects.create(product=other_product, language="de", title="Flasche")
    save = reverse("dashboard:localization_save", args=[other_product.pk])
    assert client_a.post(save, {"language": "de", "title": "Meine"}).status_code == 404
    delete = reverse("dashboard:localization_delete", args=[other_product.pk, "de"])
    assert client_a.post(delete).status_code == 404
    assert ProductLocalization.objects.get(product=other_product).title == "Flasche"


def test_a_viewer_cannot_change_localized_titles(client, product):
    viewer = MembershipFactory(organization=product.organization, role="viewer")
    client.force_login(viewer.user)
    url = reverse("dashboard:localization_save", args=[product.pk])
    assert client.post(url, {"language": "de", "title": "Flasche"}).status_code == 403
    assert not ProductLocalization.objects.exists()


# --- model looks --------------------------------------------------------------------------------------------------


def test_the_looks_page_lists_the_built_in_looks_per_market_with_their_review_note(client_a):
    response = client_a.get(reverse("dashboard:look_list"))
    assert response.status_code == 200
    text = page(response)
    assert 'id="market-de"' in text and 'id="look-de-casual-20s"' in text
    assert BUILTIN_REVIEW_NOTE[:40] in text
    assert reverse("dashboard:look_list") in page(client_a.get(reverse("dashboard:home")))  # linked in the nav


def test_a_copy_keeping_the_built_in_note_shows_it_in_the_readers_language(client_a, org, settings):
    # "Edit a copy" keeps the built-in note, stored in English; the page says it once for the built-in looks and
    # again on the copy's own row, both in Chinese for a Chinese reader.
    client_a.post(
        reverse("dashboard:look_create"),
        {
            "market": "de",
            "name": "Ours",
            "slug": "ours",
            "descriptors": "adult, linen",
            "review_note": BUILTIN_REVIEW_NOTE,
        },
    )
    assert ModelLook.objects.get(organization=org, slug="ours").review_note == BUILTIN_REVIEW_NOTE
    client_a.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    text = page(client_a.get(reverse("dashboard:look_list")))
    assert BUILTIN_REVIEW_NOTE[:40] not in text
    assert text.count("内置预设：场景和形象只描述造型") == 2  # the page's note and the copy's row
    assert '<td lang="en" translate="no">adult, linen</td>' in text  # the model's prompt, as the model reads it


def test_editing_a_built_in_look_makes_the_organizations_own_copy(client_a, org, product, settings, tmp_path):
    settings.SHOPVIDEO_MODEL_PATH = str(tmp_path)  # the wizard offers the DiT engine, the one that draws a person
    builtin = ModelLook.objects.get(market__slug="de", slug="casual-20s", organization__isnull=True)
    form = page(client_a.get(reverse("dashboard:look_list") + "?from=de:casual-20s"))
    assert builtin.descriptors in form  # the form starts from the preset's values

    response = client_a.post(
        reverse("dashboard:look_create"),
        {
            "market": "de",
            "name": "Casual, twenties (ours)",
            "slug": "casual-20s",
            "descriptors": "adult in their twenties, denim jacket, relaxed",
            "review_note": "Checked by our Berlin team",
        },
    )
    assert response.status_code == 302
    own = ModelLook.objects.get(organization=org, market__slug="de", slug="casual-20s")
    assert own.descriptors == "adult in their twenties, denim jacket, relaxed"
    builtin.refresh_from_db()
    assert builtin.descriptors != own.descriptors  # the preset itself is unchanged for everyone else
    text = page(client_a.get(reverse("dashboard:look_list")))
    assert "denim jacket" in text and "Checked by our Berlin team" in text
    # The wizard offers it, and a job made with it uses the organization's row.
    post = {
        "photos": [str(product.photos.get().pk)],
        "markets": ["de"],
        "looks": ["casual-20s"],
        "aspect_ratios": ["9:16"],
        "seconds": ["5"],
        "resolution": "480p",
        "engine": "dit",
        "name": "",
    }
    assert client_a.post(reverse("dashboard:generate", args=[product.pk]), post).status_code == 302
    assert Job.objects.get().look == own


def test_an_own_look_is_edited_and_removed(client_a, org):
    client_a.post(
        reverse("dashboard:look_create"),
        {"market": "jp", "name": "Street style", "slug": "", "descriptors": "adult, street fashion", "review_note": ""},
    )
    look = ModelLook.objects.get(organization=org)
    assert look.slug == "street-style"
    assert "adult, street fashion" in page(client_a.get(reverse("dashboard:look_edit", args=[look.pk])))
    response = client_a.post(
        reverse("dashboard:look_update", args=[look.pk]),
        {"market": "jp", "name": "Street style", "slug": "street-style", "descriptors": "adult, sneakers, cap"},
    )
    assert response.status_code == 302
    look.refresh_from_db()
    assert look.descriptors == "adult, sneakers, cap"
    assert ModelLook.objects.filter(organization=org).count() == 1

    JobFactory(photo__product__organization=org, look=look, market=look.market, state=Job.State.QUEUED)
    client_a.post(reverse("dashboard:look_delete", args=[look.pk]))
    assert ModelLook.objects.filter(pk=look.pk).exists()  # a queued job still needs it
    Job.objects.update(state=Job.State.SUCCEEDED)
    assert client_a.post(reverse("dashboard:look_delete", args=[look.pk])).status_code == 302
    assert not ModelLook.objects.filter(pk=look.pk).exists()


def test_a_look_without_descriptors_is_a_400_and_nothing_saved(client_a, org):
    response = client_a.post(
        reverse("dashboard:look_create"), {"market": "de", "name": "Empty", "slug": "", "descriptors": ""}
    )
    assert response.status_code == 400 and "errorlist" in page(response)
    assert not ModelLook.objects.filter(organization=org).exists()


def test_another_organizations_look_and_a_built_in_look_are_404s(client_a):
    stranger = MembershipFactory().organization
    theirs = ModelLook.objects.create(
        organization=stranger, market_id=ModelLook.objects.first().market_id, slug="theirs", name="T", descriptors="d"
    )
    builtin = ModelLook.objects.filter(organization__isnull=True).first()
    for pk in (theirs.pk, builtin.pk):
        assert client_a.get(reverse("dashboard:look_edit", args=[pk])).status_code == 404
        data = {"market": "de", "name": "Mine now", "slug": "", "descriptors": "x"}
        assert client_a.post(reverse("dashboard:look_update", args=[pk]), data).status_code == 404
        assert client_a.post(reverse("dashboard:look_delete", args=[pk])).status_code == 404
    assert ModelLook.objects.filter(pk__in=[theirs.pk, builtin.pk]).count() == 2
    theirs.refresh_from_db()
    assert theirs.name == "T"


# --- the wizard: captions and platform ----------------------------------------------------------------------------


def _wizard(product, **overrides) -> dict:
    data = {
        "photos": [str(product.photos.get().pk)],
        "markets": ["de", "jp"],
        "seconds": ["5"],
        "resolution": "480p",
        "engine": "compositor",
        "name": "",
        "platform": "tiktok",
        "captions": "on",
        "caption_price": "on",
    }
    data.update(overrides)
    return data


def test_the_wizard_submits_captions_and_a_platform(client_a, product):
    detail = page(client_a.get(reverse("dashboard:product_detail", args=[product.pk])))
    assert 'name="platform"' in detail and 'name="captions"' in detail and 'name="caption_price"' in detail
    # The live cost count works with the new fields: TikTok's 9:16 for two markets.
    estimate = client_a.post(reverse("dashboard:estimate"), _wizard(product), HTTP_HX_REQUEST="true")
    assert 'data-videos="2"' in page(estimate)

    response = client_a.post(reverse("dashboard:generate", args=[product.pk]), _wizard(product))
    assert response.status_code == 302
    jobs = list(Job.objects.order_by("market__slug"))
    assert [(j.market.slug, j.aspect_ratio, j.platform) for j in jobs] == [
        ("de", "9:16", "tiktok"),
        ("jp", "9:16", "tiktok"),
    ]
    assert all(j.captions and j.caption_price and not j.caption_cta for j in jobs)
    batch = page(client_a.get(reverse("dashboard:batch_detail", args=[jobs[0].batch_id])))
    assert "TikTok" in batch


def test_the_wizard_shows_platform_rule_and_caption_errors_not_500s(client_a, product):
    wrong_aspect = _wizard(product, aspect_ratios=["16:9"])
    estimate = page(client_a.post(reverse("dashboard:estimate"), wrong_aspect, HTTP_HX_REQUEST="true"))
    assert "is-invalid" in estimate and "aspect_ratio" in estimate
    response = client_a.post(reverse("dashboard:generate", args=[product.pk]), wrong_aspect)
    assert response.status_code == 400 and "aspect_ratio" in page(response)

    parts_without_captions = _wizard(product, captions="")
    response = client_a.post(reverse("dashboard:generate", args=[product.pk]), parts_without_captions)
    assert response.status_code == 400

    product.price = None
    product.save()
    response = client_a.post(reverse("dashboard:generate", args=[product.pk]), _wizard(product))
    assert response.status_code == 400 and "Amber glass bottle" in page(response)
    assert not Job.objects.exists()


# --- the video page: platform and export check --------------------------------------------------------------------


def test_the_video_page_shows_the_platform_and_the_rule_a_video_breaks(client_a, org, product):
    job = JobFactory(photo=product.photos.get(), platform="tiktok", captions=True)
    check = {
        "platform": "tiktok",
        "enforced": True,
        "passed": False,
        "violations": [
            {"rule": "file_size_max", "message": "TikTok: 0.3 MB is above 0.01 MB", "actual": 300000, "limit": 10000}
        ],
    }
    video = make_video(job, metadata={"export_check": check}, review="needs_review")
    text = page(client_a.get(reverse("dashboard:video_detail", args=[video.pk])))
    assert 'id="export-check"' in text and "TikTok" in text
    assert "File too large" in text and "file_size_max" in text and "293.0\xa0KB / 9.8\xa0KB" in text


# --- Simplified Chinese -------------------------------------------------------------------------------------------


def test_the_new_panels_and_pages_are_translated(client_a, org, product, settings):
    import html
    import re

    from django.utils.translation import trans_real

    trans_real._translations = {}  # the compiled catalogue as it is now, not one cached by an earlier test
    client_a.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    job = JobFactory(photo=product.photos.get(), platform="tiktok", captions=True, caption_price=True)
    check = {"platform": "tiktok", "enforced": True, "passed": True, "violations": []}
    video = make_video(job, metadata={"export_check": check})
    english = [
        "Localized titles",
        "Save title",
        "Made for platform",
        "Add captions",
        "Price tag",
        "Model looks",
        "Add a look",
        "Fits its rules",
        "Checked against",
        "Call to action",
    ]
    for url in (
        reverse("dashboard:product_detail", args=[product.pk]),
        reverse("dashboard:look_list"),
        reverse("dashboard:video_detail", args=[video.pk]),
    ):
        response = client_a.get(url)
        assert response.status_code == 200
        visible = html.unescape(re.sub(r"<[^>]+>", "\n", response.content.decode()))
        lines = {line.strip() for line in visible.splitlines()}
        assert not lines & set(english), f"{url}: {sorted(lines & set(english))}"
    assert "本地化标题" in page(client_a.get(reverse("dashboard:product_detail", args=[product.pk])))


def test_a_new_take_keeps_the_platform_and_captions(client_a, product):
    job = JobFactory(photo=product.photos.get(), market=MarketPreset.objects.get(slug="de"))
    Job.objects.filter(pk=job.pk).update(
        platform="reels", captions=True, caption_cta=True, aspect_ratio="9:16", seconds=5
    )
    job.refresh_from_db()
    video = make_video(job)
    response = client_a.post(reverse("dashboard:video_regenerate", args=[video.pk]))
    assert response.status_code == 302
    new = Job.objects.exclude(pk=job.pk).get()
    assert (new.platform, new.captions, new.caption_price, new.caption_cta) == ("reels", True, False, True)
    assert new.seed != job.seed
