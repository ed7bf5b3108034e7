"""Localized caption titles through the REST API: `localized_titles` on the product (read, written on create in
JSON and multipart, merged on PATCH), checked against the markets' caption languages, stored by the service the
dashboard and the CSV import use, and used by a captioned job's video."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from generation import services
from generation.market_services import caption_inputs, caption_languages, set_localized_title
from generation.models import Job, MarketPreset, Product, ProductLocalization
from tests.factories import PhotoFactory, ProductFactory

from .conftest import client_for, error_of, photo_file

GERMAN = "Trinkflasche aus Braunglas"


def _titles(product: Product) -> dict[str, tuple[str, str]]:
    return {row.language: (row.title, row.cta) for row in ProductLocalization.objects.filter(product=product)}


def test_create_multipart_with_titles_as_a_json_part(api, org):
    titles = {"de": {"title": GERMAN, "cta": "Jetzt kaufen"}, "JA": {"title": "ガラスのボトル"}}
    response = api.post(
        "/api/v1/products",
        {"title": "Amber bottle", "photos": [photo_file()], "localized_titles": json.dumps(titles)},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["localized_titles"] == {
        "de": {"title": GERMAN, "cta": "Jetzt kaufen"},
        "ja": {"title": "ガラスのボトル", "cta": ""},
    }
    product = Product.objects.get(pk=body["id"], organization=org)
    assert _titles(product) == {"de": (GERMAN, "Jetzt kaufen"), "ja": ("ガラスのボトル", "")}


def test_create_json_with_photo_urls_and_titles(api, settings, image_server):
    settings.SHOPVIDEO_FETCH_ALLOWLIST = [image_server.hostport]
    response = api.post(
        "/api/v1/products",
        {
            "title": "Fetched",
            "photo_urls": [image_server.url("bottle.png")],
            "localized_titles": {"fr": {"title": "Bouteille ambrée"}},
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["localized_titles"] == {"fr": {"title": "Bouteille ambrée", "cta": ""}}


def test_patch_merges_languages_replaces_one_wholesale_and_null_removes(api, product):
    set_localized_title(product=product, language="de", title="Alt", cta="Alt-CTA")
    set_localized_title(product=product, language="ja", title="古い")
    set_localized_title(product=product, language="ko", title="유리병")
    response = api.patch(
        f"/api/v1/products/{product.pk}",
        {"localized_titles": {"de": {"title": GERMAN}, "ja": None, "fr": {"title": "Bouteille", "cta": "Voir"}}},
        format="json",
    )
    assert response.status_code == 200, response.content
    expected = {
        "de": {"title": GERMAN, "cta": ""},  # replaced as a whole: no cta sent, none kept
        "fr": {"title": "Bouteille", "cta": "Voir"},
        "ko": {"title": "유리병", "cta": ""},  # not named: kept
    }
    assert response.json()["localized_titles"] == expected
    assert _titles(product) == {k: (v["title"], v["cta"]) for k, v in expected.items()}
    # The same on a read and in the list.
    assert api.get(f"/api/v1/products/{product.pk}").json()["localized_titles"] == expected
    (listed,) = [p for p in api.get("/api/v1/products").json()["results"] if p["id"] == product.pk]
    assert listed["localized_titles"] == expected
    # Removing a language that is not there is harmless; other fields with it change together.
    again = api.patch(
        f"/api/v1/products/{product.pk}", {"title": "Renamed", "localized_titles": {"ja": None}}, format="json"
    )
    assert again.status_code == 200 and again.json()["title"] == "Renamed"
    assert again.json()["localized_titles"] == expected


@pytest.mark.parametrize("language", ["xx", "pt-br", "en-us", "zz_ZZ"])
def test_a_language_no_market_captions_in_is_400_unknown_language_and_nothing_changes(api, product, language):
    set_localized_title(product=product, language="de", title="Alt")
    response = api.patch(
        f"/api/v1/products/{product.pk}",
        {"title": "Changed", "localized_titles": {"de": {"title": GERMAN}, language: {"title": "T"}}},
        format="json",
    )
    assert response.status_code == 400
    error = error_of(response)
    normalized = language.replace("_", "-").lower()
    assert error["code"] == "unknown_language"
    assert list(error["fields"]) == [f"localized_titles.{normalized}"]
    assert all(code in error["message"] for code in caption_languages())  # says which languages there are
    product.refresh_from_db()
    assert product.title != "Changed" and _titles(product) == {"de": ("Alt", "")}


def test_create_with_an_unknown_language_creates_nothing(api, org):
    response = api.post(
        "/api/v1/products",
        {"title": "Nope", "photos": [photo_file()], "localized_titles": json.dumps({"tlh": {"title": "Qapla'"}})},
        format="multipart",
    )
    assert response.status_code == 400 and error_of(response)["code"] == "unknown_language"
    assert not Product.objects.filter(organization=org).exists()


def test_a_stored_language_outside_the_markets_can_still_be_removed(api, product):
    # The CSV import's service accepts a region variant (title_pt-br); the API can clean it up.
    set_localized_title(product=product, language="pt-BR", title="Garrafa")
    assert _titles(product) == {"pt-br": ("Garrafa", "")}
    response = api.patch(f"/api/v1/products/{product.pk}", {"localized_titles": {"pt-br": None}}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["localized_titles"] == {} and _titles(product) == {}


@pytest.mark.parametrize(
    ("titles", "field"),
    [
        ({"de": {"title": ""}}, "localized_titles.de.title"),
        ({"de": {"title": "   "}}, "localized_titles.de.title"),
        ({"de": {"cta": "Los"}}, "localized_titles.de.title"),
        ({"de": {"title": "x" * 201}}, "localized_titles.de.title"),
        ({"de": {"title": "T", "cta": "c" * 121}}, "localized_titles.de.cta"),
        ({"de": {"title": "T", "colour": "red"}}, "localized_titles.de.colour"),
        ({"de": "Trinkflasche"}, "localized_titles.de.non_field_errors"),
        ({"de-": {"title": "T"}}, "localized_titles.de-"),
        ({"d\u00e9": {"title": "T"}}, "localized_titles.d\u00e9"),
        ({"de": {"title": "T"}, "DE": {"title": "U"}}, "localized_titles.DE"),
        ({"de": {"title": "T\x00"}}, "localized_titles.de.title"),
        (["de", "Trinkflasche"], "localized_titles"),
        ("de=Trinkflasche", "localized_titles"),
        ({f"de-x{i}": {"title": "T"} for i in range(51)}, "localized_titles"),
    ],
)
def test_bad_titles_are_400_validation_errors_naming_the_field(api, product, titles, field):
    response = api.patch(f"/api/v1/products/{product.pk}", {"localized_titles": titles}, format="json")
    assert response.status_code == 400, response.content
    error = error_of(response)
    assert error["code"] == "validation_error"
    assert field in error["fields"], error
    assert not ProductLocalization.objects.exists()


def test_another_organizations_product_is_404_and_untouched(api, other_api, product):
    set_localized_title(product=product, language="de", title="Alt")
    for response in (
        other_api.get(f"/api/v1/products/{product.pk}"),
        other_api.patch(
            f"/api/v1/products/{product.pk}", {"localized_titles": {"de": {"title": "Hijack"}}}, format="json"
        ),
        other_api.patch(f"/api/v1/products/{product.pk}", {"localized_titles": {"de": None}}, format="json"),
    ):
        assert response.status_code == 404
        assert error_of(response)["code"] == "not_found"
    assert _titles(product) == {"de": ("Alt", "")}


def test_the_schema_documents_the_field_for_reading_and_writing(db):
    schema = client_for(None).get("/api/v1/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    components = schema["components"]["schemas"]
    read = components["Product"]["properties"]["localized_titles"]
    assert read["type"] == "object" and set(read["additionalProperties"]["required"]) == {"title", "cta"}
    assert "localized_titles" in components["Product"]["required"]
    for name in ("PatchedProductUpdateRequest", "ProductCreateRequest"):
        candidates = [c for c in components if c.startswith(name.removesuffix("Request"))]
        assert candidates, (name, sorted(components))
        written = [components[c]["properties"].get("localized_titles") for c in candidates]
        assert any(w and w["additionalProperties"]["nullable"] for w in written), name
    patch = schema["paths"]["/api/v1/products/{id}"]["patch"]
    examples = patch["responses"]["400"]["content"]["application/json"]["examples"]
    assert any(e["value"]["error"]["code"] == "unknown_language" for e in examples.values())


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SHOPVIDEO_WORK_DIR = tmp_path / "work"
    return settings.MEDIA_ROOT


def test_a_german_title_set_through_the_api_is_the_caption_of_a_german_job(api, org, media_root):
    product = ProductFactory(organization=org, title="Amber glass bottle", price=Decimal("19.90"), currency="EUR")
    PhotoFactory(product=product)
    response = api.patch(
        f"/api/v1/products/{product.pk}",
        {"localized_titles": {"de": {"title": GERMAN, "cta": "Jetzt kaufen"}}},
        format="json",
    )
    assert response.status_code == 200, response.content
    de, fr = MarketPreset.objects.get(slug="de"), MarketPreset.objects.get(slug="fr")
    assert caption_inputs(product=product, market=de)["caption_title"] == GERMAN
    assert caption_inputs(product=product, market=fr)["caption_title"] == ""  # the original title is used

    created = api.post(
        "/api/v1/jobs",
        {
            "product": product.pk,
            "markets": ["de"],
            "seconds": 1,
            "seed": 3,
            "platform": "tiktok",
            "captions": {"enabled": True, "cta": True},
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    (job_body,) = created.json()["jobs"]
    assert job_body["captions"] == {"enabled": True, "price": False, "cta": True}
    services.execute_job(job_id=job_body["id"], worker_name="test")
    job = Job.objects.get(pk=job_body["id"])
    assert job.state == Job.State.SUCCEEDED, (job.error_code, job.error_message)
    captions = job.video.metadata["captions"]
    assert captions["title"] == GERMAN and captions["cta"] == "Jetzt kaufen"
    assert "price" not in captions or not captions["price"]
