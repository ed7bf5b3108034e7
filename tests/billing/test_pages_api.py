"""Billing pages, GET /api/v1/credits, and the insufficient-credits error on the dashboard and the API (402)."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from billing import services
from billing.models import Payment
from generation import services as jobs
from generation.models import Job
from shop_video.merchants.api_keys import create_api_key
from tests.factories import PASSWORD, MembershipFactory, OrganizationFactory, PhotoFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("presets")]


@pytest.fixture
def member():
    m = MembershipFactory(organization=OrganizationFactory(credits=12))
    return m


@pytest.fixture
def browser(client, member):
    assert client.login(username=member.user.username, password=PASSWORD)
    return client


def bearer(org) -> dict:
    _key, secret = create_api_key(organization=org, name="test")
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def test_credits_api_returns_the_callers_totals_only(client, member):
    org = member.organization
    photo = PhotoFactory(product__organization=org)
    jobs.submit_batch(
        organization=org, photos=[photo], matrix=jobs.VariantMatrix(markets=["us"], aspect_ratios=["1:1"], seconds=[5])
    )
    OrganizationFactory(credits=999)  # another merchant's money is never shown
    response = client.get("/api/v1/credits", **bearer(org))
    assert response.status_code == 200
    assert response.json() == {"balance": 12, "reserved": 5, "available": 7}
    assert client.get("/api/v1/credits").status_code in (401, 403)


def test_api_job_creation_without_credits_is_402_and_creates_nothing(client):
    org = OrganizationFactory(credits=4)
    photo = PhotoFactory(product__organization=org)
    body = {"product": photo.product_id, "markets": ["us"], "aspect_ratios": ["1:1"], "seconds": [5]}
    response = client.post("/api/v1/jobs", body, content_type="application/json", **bearer(org))
    assert response.status_code == 402, response.content
    assert "insufficient_credits" in response.content.decode()
    assert not Job.objects.filter(organization=org).exists()


def test_dashboard_generate_shows_insufficient_credits(browser, member):
    org = member.organization
    photo = PhotoFactory(product__organization=org)
    data = {
        "photos": [str(photo.pk)],
        "markets": ["us"],
        "aspect_ratios": ["9:16", "1:1"],
        "seconds": ["10"],
        "resolution": "480p",
        "engine": "compositor",
        "name": "",
    }
    response = browser.post(reverse("dashboard:generate", args=[photo.product_id]), data)
    page = response.content.decode()
    assert response.status_code == 400
    assert "Not enough credits: this needs 20 credits and 12 are available." in page
    assert not Job.objects.filter(organization=org).exists()


def test_overview_in_demo_mode_says_payments_are_disabled(browser, settings):
    settings.STRIPE_SECRET_KEY = ""
    page = browser.get(reverse("billing:overview")).content.decode()
    assert 'id="demo-mode"' in page and "free-credits demo mode" in page
    assert 'data-available="12"' in page
    assert reverse("billing:buy_pack", args=["starter"]) not in page
    response = browser.post(reverse("billing:buy_pack", args=["starter"]))
    assert response.status_code == 302 and not Payment.objects.exists()


def test_usage_page_and_csv_export(browser, member, settings):
    settings.SHOPVIDEO_QA_MIN_PSNR = settings.SHOPVIDEO_QA_MIN_SSIM = 0
    org = member.organization
    photo = PhotoFactory(product__organization=org)
    batch = jobs.submit_batch(
        organization=org,
        photos=[photo],
        matrix=jobs.VariantMatrix(markets=["us"], aspect_ratios=["1:1"], seconds=[1], seed=2),
        name="Spring",
    )
    jobs.execute_job(job_id=batch.jobs.get().pk, worker_name="test")
    page = browser.get(reverse("billing:usage")).content.decode()
    assert 'id="credits-chart"' in page and 'data-balance="11"' in page
    assert "United States" in page and "Spring" in page
    response = browser.get(reverse("billing:usage_csv"))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:4] == ["id", "created_at", "kind", "credits"]
    assert [(r[2], r[3]) for r in rows[1:]] == [("grant", "12"), ("reserve", "1"), ("capture", "1")]
    assert rows[-1][10] == "us"


def test_another_organizations_payment_is_404(browser):
    other = OrganizationFactory(credits=0)
    payment = Payment.objects.create(
        organization=other, payment_intent_id="pi_other", pack="starter", credits=100, amount=1000, currency="usd"
    )
    assert browser.get(reverse("billing:payment_detail", args=[payment.pk])).status_code == 404
    assert browser.get(reverse("billing:pay", args=[payment.pk])).status_code == 404
    assert "pi_other" not in browser.get(reverse("billing:invoices")).content.decode()


def test_grant_is_listed_on_the_overview(browser, member):
    services.grant_credits(organization=member.organization, credits=8, reason="Goodwill")
    page = browser.get(reverse("billing:overview")).content.decode()
    assert "Goodwill" in page and 'data-balance="20"' in page
