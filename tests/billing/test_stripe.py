"""Stripe against localstripe (a real, stateful fake server) and webhooks signed with the webhook secret.

End to end: a PaymentIntent confirmed with a test card, the signed webhook delivered by localstripe to a live
server, credits added once; a declined card adds nothing. Renewals and refunds use events this test signs itself
(localstripe sends no renewals and no charge.* events)."""

from __future__ import annotations

import re
import time

import pytest
import stripe
from django.test import Client

from billing import gateway, selectors, services
from billing.models import Invoice, LedgerEntry, Payment, StripeEvent, Subscription
from tests.billing.conftest import SECRET_KEY, WEBHOOK_SECRET, event, localstripe_post, post_event, sign
from tests.factories import OrganizationFactory

live = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def card(number: str) -> str:
    pm = stripe.PaymentMethod.create(
        api_key=SECRET_KEY, type="card", card={"number": number, "exp_month": 12, "exp_year": 2030, "cvc": "123"}
    )
    return pm.id


def confirm(payment_intent_id: str, payment_method: str):
    """What Stripe.js does in the browser, from the server: attach the card to the intent and confirm it."""
    stripe.PaymentIntent.modify(payment_intent_id, payment_method=payment_method, api_key=SECRET_KEY)
    return stripe.PaymentIntent.confirm(payment_intent_id, api_key=SECRET_KEY)


def wait_for(predicate, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError("timed out waiting for the webhook")


def totals(org):
    c = selectors.credits_for(org)
    assert selectors.ledger_sums(org) == c
    return c.balance, c.reserved, c.available


@pytest.fixture
def hooked(stripe_on, live_server):
    """localstripe delivers its events, signed, to this test's live server."""
    name = f"h10-{time.monotonic_ns()}"
    url = f"{live_server.url}/billing/stripe/webhook/"
    assert localstripe_post(stripe_on, f"/_config/webhooks/{name}", {"url": url, "secret": WEBHOOK_SECRET}) == 200
    yield stripe_on
    # Point the hook nowhere so later tests' servers do not receive this one's deliveries.
    localstripe_post(stripe_on, f"/_config/webhooks/{name}", {"url": "http://127.0.0.1:9/", "secret": "x"})


@live
def test_buying_a_pack_end_to_end_adds_its_credits_once(hooked):
    org = OrganizationFactory(credits=0)
    payment, client_secret = services.start_pack_purchase(organization=org, pack="starter")
    assert client_secret.startswith(payment.payment_intent_id)
    pi = confirm(payment.payment_intent_id, card("4242424242424242"))
    assert pi.status == "succeeded"

    wait_for(lambda: Payment.objects.get(pk=payment.pk).status == "succeeded")
    assert totals(org) == (100, 0, 100)
    entry = LedgerEntry.objects.get(organization=org)
    assert (entry.kind, entry.external_ref) == ("purchase", payment.payment_intent_id)
    stored = StripeEvent.objects.get(type="payment_intent.succeeded", payload__data__object__id=pi.id)
    assert stored.processed_at is not None

    # Stripe delivers the same event again: stored once, credited once.
    payload = _stored_payload(stored)
    response = post_event(Client(), payload)
    assert response.status_code == 200 and response.json()["duplicate"] is True
    services.fulfil_payment(payment_intent_id=pi.id, amount_received=1000, currency="usd")
    assert totals(org) == (100, 0, 100)


def _stored_payload(row: StripeEvent) -> bytes:
    import json

    return json.dumps(row.payload).encode()


@live
def test_a_declined_card_adds_nothing(hooked):
    org = OrganizationFactory(credits=0)
    payment, _secret = services.start_pack_purchase(organization=org, pack="starter")
    customer = services.ensure_customer(org)
    declined = card("4000000000000341")
    stripe.PaymentMethod.attach(declined, customer=customer, api_key=SECRET_KEY)
    with pytest.raises(stripe.CardError):
        confirm(payment.payment_intent_id, declined)
    wait_for(lambda: Payment.objects.get(pk=payment.pk).status == "failed")
    assert totals(org) == (0, 0, 0)
    assert not LedgerEntry.objects.filter(organization=org).exists()


@live
def test_a_subscription_grants_its_plan_on_each_paid_invoice_once(hooked):
    org = OrganizationFactory(credits=0)
    sub = services.subscribe(organization=org, plan="basic", payment_method_id=card("4242424242424242"))
    assert sub.status == "active"
    # localstripe pays the first invoice and sends invoice.payment_succeeded.
    first = wait_for(lambda: Invoice.objects.filter(organization=org).first())
    assert (first.plan, first.credits, first.subscription_id) == ("basic", 300, sub.subscription_id)
    assert totals(org) == (300, 0, 300)

    # A renewal (localstripe sends none: signed here), delivered twice and out of order with its replay.
    renewal = {
        "id": "in_renewal_h10_1",
        "object": "invoice",
        "customer": services.ensure_customer(org),
        "subscription": sub.subscription_id,
        "amount_paid": 2900,
        "currency": "usd",
        "billing_reason": "subscription_cycle",
        "period_start": 1_767_225_600,
        "period_end": 1_769_904_000,
    }
    client = Client()
    assert post_event(client, event("evt_renew_h10_1", "invoice.payment_succeeded", renewal)).status_code == 200
    assert post_event(client, event("evt_renew_h10_1", "invoice.payment_succeeded", renewal)).status_code == 200
    # A second delivery under a new event id (Stripe retries can re-wrap) still grants once: keyed by invoice.
    assert post_event(client, event("evt_renew_h10_1b", "invoice.payment_succeeded", renewal)).status_code == 200
    assert totals(org) == (600, 0, 600)
    assert Invoice.objects.filter(organization=org).count() == 2

    services.cancel_subscription(subscription=sub)
    assert Subscription.objects.get(pk=sub.pk).status == "canceled"


def test_a_bad_signature_is_refused_and_changes_nothing(db, settings):
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    org = OrganizationFactory(credits=0)
    Payment.objects.create(
        organization=org, payment_intent_id="pi_bad_sig", pack="starter", credits=100, amount=1000, currency="usd"
    )
    payload = event(
        "evt_bad_sig", "payment_intent.succeeded", {"id": "pi_bad_sig", "amount_received": 1000, "currency": "usd"}
    )
    client = Client()
    for signature in (
        sign(payload, "whsec_wrong"),
        "",
        "t=1,v1=deadbeef",
        sign(payload, timestamp=int(time.time()) - 3600),
    ):
        response = post_event(client, payload, signature)
        assert response.status_code == 400 and response.json()["code"] == "invalid_signature"
    tampered = payload.replace(b"1000", b"9000")
    assert post_event(client, tampered, sign(payload)).status_code == 400
    assert post_event(client, b"not json", sign(b"not json")).status_code == 400
    assert not StripeEvent.objects.exists()
    assert totals(org) == (0, 0, 0)
    assert Payment.objects.get().status == "pending"


def _paid(org, credits=100, amount=1000, pi="pi_refund_h10"):
    Payment.objects.create(
        organization=org, payment_intent_id=pi, pack="starter", credits=credits, amount=amount, currency="usd"
    )
    services.fulfil_payment(payment_intent_id=pi, amount_received=amount, currency="usd")


def _refund_event(n: int, pi: str, amount_refunded: int) -> bytes:
    charge = {
        "id": "ch_h10",
        "object": "charge",
        "payment_intent": pi,
        "amount": 1000,
        "amount_refunded": amount_refunded,
    }
    return event(f"evt_refund_h10_{n}", "charge.refunded", charge)


def test_refunds_take_credits_back_once_and_never_below_what_was_spent(db, settings, deliver):
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    org = OrganizationFactory(credits=0)
    _paid(org)
    # 30% refunded: 30 credits back.
    assert deliver(_refund_event(1, "pi_refund_h10", 300)).status_code == 200
    assert totals(org) == (70, 0, 70)
    # Replayed, and an older event arriving late: nothing more.
    deliver(_refund_event(1, "pi_refund_h10", 300))
    deliver(_refund_event(2, "pi_refund_h10", 200))
    assert totals(org) == (70, 0, 70)
    # 50 of the remaining credits are spent (captured) and 10 reserved; the full refund takes back only the rest.
    services.debit_adjustment(organization=org, credits=50, reason="spent on videos")
    from django.db import transaction

    from billing.models import CreditAccount

    with transaction.atomic():
        account = CreditAccount.objects.select_for_update().get(organization=org)
        entry = services._entry(account, LedgerEntry.Kind.RESERVE, 10, 0, 10)
        services._save(account, [entry])
    assert totals(org) == (20, 10, 10)
    assert deliver(_refund_event(3, "pi_refund_h10", 1000)).status_code == 200
    assert totals(org) == (10, 10, 0)  # the available 10 taken; the reserved 10 stay for the running job
    payment = Payment.objects.get(payment_intent_id="pi_refund_h10")
    assert (payment.status, payment.credits_refunded, payment.credits_not_recovered) == ("refunded", 40, 60)
    assert LedgerEntry.objects.filter(organization=org, kind="refund").count() == 2


@live
def test_a_refund_through_localstripe_takes_the_credits_back(stripe_on):
    org = OrganizationFactory(credits=0)
    payment, _secret = services.start_pack_purchase(organization=org, pack="growth")  # 600 credits for 5000
    confirm(payment.payment_intent_id, card("4242424242424242"))
    services.fulfil_payment(payment_intent_id=payment.payment_intent_id, amount_received=5000, currency="usd")
    services.refund_payment(payment=Payment.objects.get(pk=payment.pk), amount=2500)
    assert totals(org) == (300, 0, 300)
    services.refund_payment(payment=Payment.objects.get(pk=payment.pk))
    assert totals(org) == (0, 0, 0)
    assert Payment.objects.get(pk=payment.pk).status == "refunded"


def test_demo_mode_without_keys(db, settings, client):
    settings.STRIPE_SECRET_KEY = ""
    assert gateway.enabled() is False
    org = OrganizationFactory(credits=0)
    with pytest.raises(services.BillingError) as info:
        services.start_pack_purchase(organization=org, pack="starter")
    assert info.value.code == "payments_disabled"


def test_the_buy_flow_pages_render_the_card_element(db, stripe_on, client):
    from django.urls import reverse

    from tests.factories import PASSWORD, MembershipFactory

    member = MembershipFactory(organization=OrganizationFactory(credits=0))
    client.login(username=member.user.username, password=PASSWORD)
    response = client.post(reverse("billing:buy_pack", args=["starter"]))
    payment = Payment.objects.get(organization=member.organization)
    assert response.status_code == 302 and response["Location"] == reverse("billing:pay", args=[payment.pk])
    page = client.get(response["Location"]).content.decode()
    assert f"{stripe_on}/js.stripe.com/v3/" in page
    # The card is saved by Stripe.js with a SetupIntent on the organization's customer, then charged by the server.
    secret = re.search(r'data-secret="(seti_\w+)_secret_\w+"', page)
    assert secret is not None
    setup = stripe.SetupIntent.retrieve(secret.group(1), api_key=SECRET_KEY)
    assert setup.customer == services.ensure_customer(member.organization)
    assert 'id="card-element"' in page and "/static/billing/card.js" in page
    assert client.get(reverse("billing:payment_detail", args=[payment.pk])).status_code == 200
