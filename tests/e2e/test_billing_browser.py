"""Paying in Chromium against localstripe: its fake Stripe.js (Card Element, confirmCardSetup) really talks to the
fake Stripe server, localstripe delivers its signed webhooks to the live server, and the credits appear once.

The fake Card Element renders plain inputs (placeholders number, exp_month, exp_year, cvc, postal_code) in the
page, not an iframe. The page's Content-Security-Policy is the real one, built by shop_video.ops.conf from the
Stripe.js URL setting, and no page may report a violation."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import stripe
from django.test import Client
from django.urls import reverse

from billing import selectors
from billing.models import Invoice, LedgerEntry, Payment, StripeEvent, Subscription
from shop_video.ops.conf import content_security_policy
from tests.billing.conftest import SECRET_KEY, WEBHOOK_SECRET, localstripe, localstripe_post, stripe_on  # noqa: F401
from tests.factories import MembershipFactory, OrganizationFactory
from tests.integration.conftest import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# Every CSP violation is reported to the page as an event; the init script runs outside the page's policy.
LISTEN = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' @' + e.sourceFile);
});
"""


@pytest.fixture
def stripe_live(stripe_on, live_server, settings) -> Iterator[str]:  # noqa: F811 — stripe_on is the imported fixture
    """localstripe's webhooks go, signed, to this test's live server; the CSP is the real one for these settings."""
    settings.CONTENT_SECURITY_POLICY = content_security_policy(
        {"STRIPE_JS_URL": settings.STRIPE_JS_URL, "STRIPE_API_BASE": settings.STRIPE_API_BASE}
    )
    name = f"e2e-{time.monotonic_ns()}"
    url = f"{live_server.url}/billing/stripe/webhook/"
    assert localstripe_post(stripe_on, f"/_config/webhooks/{name}", {"url": url, "secret": WEBHOOK_SECRET}) == 200
    yield stripe_on
    localstripe_post(stripe_on, f"/_config/webhooks/{name}", {"url": "http://127.0.0.1:9/", "secret": "x"})


@pytest.fixture
def owner():
    return MembershipFactory(organization=OrganizationFactory(credits=0))


@pytest.fixture
def shop_page(page, browser_context, live_server, owner):
    """The owner's signed-in page (session cookie from Django's test client), watching for CSP violations."""
    client = Client()
    client.force_login(owner.user)
    browser_context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page.add_init_script(LISTEN)
    page.csp_console = []
    page.on("console", lambda m: page.csp_console.append(m.text) if "Content Security Policy" in m.text else None)
    return page


def assert_clean(page) -> None:
    """No CSP violation (event or console) and no script error on the page."""
    assert page.evaluate("window.__cspViolations") == []
    assert page.csp_console == []
    assert page.js_errors == []


def fill_card(page, number: str) -> None:
    card = page.locator("#card-element")
    card.locator("input[placeholder=number]").fill(number)
    card.locator("input[placeholder=exp_month]").fill("12")
    card.locator("input[placeholder=exp_year]").fill("30")
    card.locator("input[placeholder=cvc]").fill("123")
    card.locator("input[placeholder=postal_code]").fill("10115")


def open_pack(page, base: str, pack: str) -> Payment:
    page.goto(base + reverse("billing:overview"))
    page.locator(f"form[action='{reverse('billing:buy_pack', args=[pack])}'] button").click()
    page.wait_for_url(re.compile(r"/billing/payments/\d+/pay/$"))
    return Payment.objects.get(pk=int(page.url.rstrip("/").split("/")[-2]))


def test_buying_a_pack_with_a_card_adds_its_credits_once(shop_page, live_server, stripe_live, owner):
    page, org = shop_page, owner.organization
    payment = open_pack(page, live_server.url, "starter")
    assert page.locator("#card-element input").count() == 5  # the fake Card Element is mounted
    fill_card(page, "4242 4242 4242 4242".replace(" ", ""))
    page.locator("#pay-button").click()
    page.wait_for_url(live_server.url + reverse("billing:payment_detail", args=[payment.pk]))
    assert "your card was charged" in page.locator(".messages").inner_text()

    # The card typed in the browser paid this pack's PaymentIntent.
    intent = stripe.PaymentIntent.retrieve(payment.payment_intent_id, api_key=SECRET_KEY)
    assert (intent.status, intent.amount) == ("succeeded", 1000)
    assert stripe.PaymentMethod.retrieve(intent.payment_method, api_key=SECRET_KEY).card.last4 == "4242"

    # localstripe's signed payment_intent.succeeded reaches the live server and is fulfilled.
    wait_for(lambda: Payment.objects.get(pk=payment.pk).status == "succeeded", 15, what="the webhook")
    event = StripeEvent.objects.get(type="payment_intent.succeeded", payload__data__object__id=intent.id)
    assert event.processed_at is not None and event.error == ""

    page.goto(live_server.url + reverse("billing:overview"))
    credits = page.locator("#credits")
    assert (credits.get_attribute("data-balance"), credits.get_attribute("data-available")) == ("100", "100")
    rows = list(LedgerEntry.objects.filter(organization=org).values_list("kind", "credits", "external_ref"))
    assert rows == [("purchase", 100, intent.id)]
    assert selectors.ledger_is_consistent(org)
    assert_clean(page)


def test_a_declined_card_shows_a_message_and_adds_nothing(shop_page, live_server, stripe_live, owner):
    page, org = shop_page, owner.organization
    payment = open_pack(page, live_server.url, "starter")
    # Declined when charged: the server's charge fails and the page says so.
    fill_card(page, "4000000000000341")
    page.locator("#pay-button").click()
    page.wait_for_url(live_server.url + reverse("billing:pay", args=[payment.pk]))
    message = page.locator(".messages li.error")
    assert "Your card was declined" in message.inner_text()
    assert "Nothing was charged" in message.inner_text()
    assert Payment.objects.get(pk=payment.pk).status == "failed"

    # Declined when saved (this card fails at attach): Stripe.js's error is shown under the card, nothing is posted.
    fill_card(page, "4000000000000002")
    page.locator("#pay-button").click()
    page.locator("#card-errors", has_text="declined").wait_for()
    assert page.locator("#pay-button").is_enabled()  # the merchant can try another card

    # localstripe's payment_intent.payment_failed arrives and changes nothing either.
    wait_for(
        lambda: StripeEvent.objects.filter(
            type="payment_intent.payment_failed",
            processed_at__isnull=False,
            payload__data__object__id=payment.payment_intent_id,
        ).exists(),
        15,
        what="the payment_failed webhook",
    )
    assert Payment.objects.get(pk=payment.pk).status == "failed"
    assert not LedgerEntry.objects.filter(organization=org).exists()
    assert selectors.credits_for(org).balance == 0
    assert_clean(page)


def test_a_card_with_3d_secure_pays_after_the_banks_challenge(shop_page, live_server, stripe_live, owner):
    """The fake Stripe.js shows 3-D Secure as a dialog: once when the card is saved, once more when the server's
    charge asks for it (requires_action, handed back to confirmCardPayment)."""
    page, org = shop_page, owner.organization
    payment = open_pack(page, live_server.url, "starter")
    fill_card(page, "4000002500003155")
    page.locator("#pay-button").click()
    page.get_by_role("button", name="Complete authentication").click()  # saving the card
    page.wait_for_url(live_server.url + reverse("billing:pay", args=[payment.pk]))  # the server's answer
    page.get_by_role("button", name="Complete authentication").click()  # the payment itself
    page.wait_for_url(live_server.url + reverse("billing:payment_detail", args=[payment.pk]))
    intent = stripe.PaymentIntent.retrieve(payment.payment_intent_id, api_key=SECRET_KEY)
    assert intent.status == "succeeded"
    wait_for(lambda: Payment.objects.get(pk=payment.pk).status == "succeeded", 15, what="the webhook")
    assert list(LedgerEntry.objects.filter(organization=org).values_list("kind", "credits")) == [("purchase", 100)]
    assert_clean(page)


def test_subscribing_with_a_card_grants_the_first_month_once(shop_page, live_server, stripe_live, owner):
    page, org = shop_page, owner.organization
    page.goto(live_server.url + reverse("billing:overview"))
    page.locator("#choose-plan").click()
    page.wait_for_url(live_server.url + reverse("billing:subscribe"))
    page.locator("input[name=plan][value=pro]").check()
    fill_card(page, "4242424242424242")
    page.locator("#subscribe-button").click()
    page.locator(".messages li.success").wait_for()
    assert "subscribed to the pro plan" in page.locator(".messages").inner_text()

    sub = Subscription.objects.get(organization=org)
    assert (sub.plan, sub.status) == ("pro", "active")
    assert sub.current_period_end is not None and sub.current_period_end > sub.current_period_start
    current = page.locator("#current-subscription")
    assert current.get_attribute("data-plan") == "pro"
    assert page.locator("#next-period").is_visible()
    assert page.locator("#card-form").count() == 0  # no second plan while this one runs

    # The first invoice, paid by localstripe with the card from the browser, is fulfilled once from its webhook.
    invoice = wait_for(lambda: Invoice.objects.filter(organization=org).first(), 15, what="invoice.payment_succeeded")
    assert (invoice.plan, invoice.credits, invoice.subscription_id) == ("pro", 1200, sub.subscription_id)
    customer = stripe.Customer.retrieve(sub.organization.stripe_customer.customer_id, api_key=SECRET_KEY)
    card = stripe.PaymentMethod.retrieve(customer.invoice_settings.default_payment_method, api_key=SECRET_KEY)
    assert card.card.last4 == "4242"
    rows = list(LedgerEntry.objects.filter(organization=org).values_list("kind", "credits", "external_ref"))
    assert rows == [("purchase", 1200, invoice.invoice_id)]
    page.goto(live_server.url + reverse("billing:overview"))
    assert page.locator("#credits").get_attribute("data-balance") == "1200"

    # Cancel from the plan page: the form to choose a plan comes back.
    page.goto(live_server.url + reverse("billing:subscribe"))
    page.get_by_role("button", name="Cancel the plan").click()
    page.locator("#card-form").wait_for()
    assert Subscription.objects.get(pk=sub.pk).status == "canceled"
    assert Subscription.objects.filter(organization=org).count() == 1
    assert_clean(page)


def test_the_csp_allows_the_configured_stripe_js_and_nothing_is_violated(
    shop_page, live_server, stripe_live, owner, settings
):
    page = shop_page
    origin = stripe_live  # localstripe's http://localhost:PORT serves Stripe.js and the API
    response = page.goto(live_server.url + reverse("billing:subscribe"))
    policy = response.headers["content-security-policy"]
    directives = {d.split()[0]: d.split()[1:] for d in policy.split("; ") if d}
    assert origin in directives["script-src"] and origin in directives["connect-src"]
    assert "'unsafe-inline'" not in directives["script-src"]
    script = page.locator(f"script[src='{settings.STRIPE_JS_URL}']")
    assert script.count() == 1
    assert page.evaluate("typeof window.Stripe") == "function"  # loaded under the policy, not blocked
    assert page.locator("#card-element input[placeholder=number]").is_visible()
    # confirmCardSetup's fetch to the fake Stripe API is a connect-src the policy must allow.
    fill_card(page, "4000000000000002")
    page.locator("#subscribe-button").click()
    page.locator("#card-errors", has_text="declined").wait_for()
    assert not Subscription.objects.exists()
    assert_clean(page)


def test_the_billing_pages_in_chinese_show_no_english(shop_page, browser_context, live_server, stripe_live, owner):
    from tests.e2e.test_languages import CONTRAST, UNLABELLED, english_msgids, untranslated

    page, org = shop_page, owner.organization
    browser_context.add_cookies([{"name": "django_language", "value": "zh-hans", "url": live_server.url}])
    msgids = english_msgids()
    own = {org.name, "starter", "growth", "scale", "basic", "pro", "localstripe:"}
    payment = open_pack(page, live_server.url, "starter")
    urls = [
        reverse("billing:overview"),
        reverse("billing:subscribe"),
        reverse("billing:pay", args=[payment.pk]),
        reverse("billing:payment_detail", args=[payment.pk]),
        reverse("billing:invoices"),
        reverse("billing:usage"),
    ]
    Subscription.objects.create(organization=org, subscription_id="sub_zh", plan="basic", status="canceled")
    for url in urls:
        page.goto(live_server.url + url)
        assert page.locator("html").get_attribute("lang") == "zh-hans"
        assert untranslated(page, msgids, own) == [], url
        assert page.evaluate(CONTRAST) == [], url
        # The fake Card Element's own inputs (plain, unlabelled) stand in for Stripe's labelled iframe.
        assert [html for html in page.evaluate(UNLABELLED) if "placeholder=" not in html] == [], url
    # A running plan: its period and the cancel button, in Chinese too.
    now = int(time.time())
    Subscription.objects.create(
        organization=org,
        subscription_id="sub_zh_live",
        plan="pro",
        status="active",
        current_period_start=datetime.fromtimestamp(now, tz=UTC),
        current_period_end=datetime.fromtimestamp(now + 30 * 86400, tz=UTC),
    )
    for url in (reverse("billing:subscribe"), reverse("billing:overview")):
        page.goto(live_server.url + url)
        assert untranslated(page, msgids, own) == [], url
    assert page.get_by_text("下次扣费").is_visible()
    assert_clean(page)
