"""Cards saved with a SetupIntent (what Stripe.js's confirmCardSetup does in the browser), charged by the server:
pack payments and monthly plans against localstripe. Double submits, another shop's card, declines at each step,
roles, and subscription events that arrive late."""

from __future__ import annotations

import threading

import pytest
import stripe
from django.db import connection
from django.urls import reverse

from billing import services
from billing.models import LedgerEntry, Payment, Subscription
from tests.billing.conftest import SECRET_KEY, event, post_event
from tests.factories import PASSWORD, MembershipFactory, OrganizationFactory


def saved_card(organization, number: str = "4242424242424242") -> str:
    """A SetupIntent of the organization, confirmed with a card as Stripe.js would; returns its id."""
    secret = services.start_card_setup(organization=organization, purpose="test")
    setup_id = secret.split("_secret_")[0]
    pm = stripe.PaymentMethod.create(
        api_key=SECRET_KEY, type="card", card={"number": number, "exp_month": 12, "exp_year": 2030, "cvc": "123"}
    )
    setup = stripe.SetupIntent.confirm(setup_id, payment_method=pm.id, api_key=SECRET_KEY)
    if setup.status == "requires_action":  # 3-D Secure: Stripe.js confirms again once the bank's challenge passed
        stripe.SetupIntent.confirm(setup_id, api_key=SECRET_KEY)
    return setup_id


def stripe_subscriptions(organization) -> list:
    customer = services.ensure_customer(organization)
    return list(stripe.Subscription.list(customer=customer, status="all", api_key=SECRET_KEY, limit=100).data)


@pytest.fixture
def owner(db):
    return MembershipFactory(organization=OrganizationFactory(credits=0))


@pytest.fixture
def signed_in(client, owner):
    assert client.login(username=owner.user.username, password=PASSWORD)
    return client


# --- packs -------------------------------------------------------------------------------------------------------


def test_paying_a_pack_charges_the_saved_card_once_even_when_submitted_twice(stripe_on, signed_in, owner):
    org = owner.organization
    payment, _secret = services.start_pack_purchase(organization=org, pack="starter")
    setup = saved_card(org)
    url = reverse("billing:pay", args=[payment.pk])
    first = signed_in.post(url, {"setup_intent": setup})
    second = signed_in.post(url, {"setup_intent": setup})  # a double click that got through
    receipt = reverse("billing:payment_detail", args=[payment.pk])
    assert (first.status_code, first["Location"]) == (302, receipt)
    assert (second.status_code, second["Location"]) == (302, receipt)
    intent = stripe.PaymentIntent.retrieve(payment.payment_intent_id, api_key=SECRET_KEY)
    assert intent.status == "succeeded"
    charges = stripe.Charge.list(customer=services.ensure_customer(org), api_key=SECRET_KEY, limit=100).data
    assert [(c.payment_intent, c.amount) for c in charges] == [(intent.id, 1000)]
    # Credits come only from the signed webhook (not delivered in this test): none yet, none twice.
    assert not LedgerEntry.objects.filter(organization=org).exists()


def test_another_shops_card_is_refused_and_nothing_is_charged(stripe_on, owner):
    org = owner.organization
    payment, _secret = services.start_pack_purchase(organization=org, pack="starter")
    stranger = saved_card(OrganizationFactory(credits=0))
    with pytest.raises(services.BillingError) as info:
        services.pay_with_card(payment=payment, setup_intent_id=stranger)
    assert info.value.code == "invalid_card_setup"
    for bogus in ("", "pi_123", "seti_does_not_exist", "seti_" + "x" * 200):
        with pytest.raises(services.BillingError):
            services.pay_with_card(payment=payment, setup_intent_id=bogus)
    intent = stripe.PaymentIntent.retrieve(payment.payment_intent_id, api_key=SECRET_KEY)
    assert intent.status == "requires_payment_method"
    assert Payment.objects.get(pk=payment.pk).status == "pending"


def test_a_card_declined_at_charge_marks_the_payment_failed_with_a_clear_message(stripe_on, signed_in, owner):
    org = owner.organization
    payment, _secret = services.start_pack_purchase(organization=org, pack="starter")
    response = signed_in.post(
        reverse("billing:pay", args=[payment.pk]), {"setup_intent": saved_card(org, "4000000000000341")}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("billing:pay", args=[payment.pk])
    text = response.content.decode()
    assert "Your card was declined" in text and "Nothing was charged" in text
    assert Payment.objects.get(pk=payment.pk).status == "failed"
    assert not LedgerEntry.objects.filter(organization=org).exists()


def test_a_card_that_needs_3d_secure_hands_the_challenge_to_stripe_js(stripe_on, signed_in, owner):
    org = owner.organization
    payment, _secret = services.start_pack_purchase(organization=org, pack="starter")
    response = signed_in.post(
        reverse("billing:pay", args=[payment.pk]), {"setup_intent": saved_card(org, "4000002500003155")}
    )
    assert response.status_code == 200
    intent = stripe.PaymentIntent.retrieve(payment.payment_intent_id, api_key=SECRET_KEY)
    assert intent.status == "requires_action"
    assert f'data-action-secret="{intent.client_secret}"' in response.content.decode()


# --- plans -------------------------------------------------------------------------------------------------------


def test_the_subscribe_page_shows_plans_and_a_setup_intent(stripe_on, signed_in, owner):
    page = signed_in.get(reverse("billing:subscribe")).content.decode()
    assert 'name="plan" value="basic"' in page and 'name="plan" value="pro"' in page
    assert 'data-secret="seti_' in page and 'id="card-element"' in page
    assert f"{stripe_on}/js.stripe.com/v3/" in page


def test_subscribing_twice_with_the_same_form_creates_one_subscription(stripe_on, signed_in, owner):
    org = owner.organization
    setup = saved_card(org)
    url = reverse("billing:subscribe")
    assert signed_in.post(url, {"plan": "basic", "setup_intent": setup})["Location"] == url
    assert signed_in.post(url, {"plan": "basic", "setup_intent": setup})["Location"] == url
    sub = Subscription.objects.get(organization=org)
    assert (sub.plan, sub.status, sub.setup_intent_id) == ("basic", "active", setup)
    assert [s.id for s in stripe_subscriptions(org)] == [sub.subscription_id]
    page = signed_in.get(url).content.decode()
    assert 'id="current-subscription"' in page and 'id="card-form"' not in page

    # Another card while the plan runs: refused with a message, still one subscription.
    with pytest.raises(services.BillingError) as info:
        services.subscribe_with_card(organization=org, plan="pro", setup_intent_id=saved_card(org))
    assert info.value.code == "already_subscribed"
    assert Subscription.objects.filter(organization=org).count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_subscribe_submits_create_one_subscription(stripe_on, settings):
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip("row locks need PostgreSQL")
    org = OrganizationFactory(credits=0)
    setup = saved_card(org)
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def submit() -> None:
        try:
            barrier.wait()
            services.subscribe_with_card(organization=org, plan="basic", setup_intent_id=setup)
            outcomes.append("ok")
        except services.BillingError as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert outcomes == ["ok"] * 4  # the later ones find the first one's subscription for this very form
    assert Subscription.objects.filter(organization=org).count() == 1
    assert len(stripe_subscriptions(org)) == 1


def test_a_card_declined_for_the_first_month_leaves_no_subscription(stripe_on, signed_in, owner):
    org = owner.organization
    response = signed_in.post(
        reverse("billing:subscribe"), {"plan": "pro", "setup_intent": saved_card(org, "4000000000000341")}, follow=True
    )
    assert "declined for the first month" in response.content.decode()
    assert not Subscription.objects.filter(organization=org).exists()
    assert [s.status for s in stripe_subscriptions(org)] == ["canceled"]  # not left to be billed later
    assert 'id="card-form"' in response.content.decode()  # try another card


def test_an_unknown_plan_or_an_unconfirmed_card_is_refused(stripe_on, owner):
    org = owner.organization
    with pytest.raises(services.BillingError) as info:
        services.subscribe_with_card(organization=org, plan="gold", setup_intent_id=saved_card(org))
    assert info.value.code == "unknown_plan"
    unconfirmed = services.start_card_setup(organization=org, purpose="test").split("_secret_")[0]
    with pytest.raises(services.BillingError) as info:
        services.subscribe_with_card(organization=org, plan="basic", setup_intent_id=unconfirmed)
    assert info.value.code == "invalid_card_setup"
    assert not Subscription.objects.exists() and stripe_subscriptions(org) == []


@pytest.mark.parametrize("role", ["viewer", "editor"])
def test_only_owners_pay_or_subscribe(db, stripe_on, client, role):
    member = MembershipFactory(organization=OrganizationFactory(credits=0), role=role)
    assert client.login(username=member.user.username, password=PASSWORD)
    assert client.get(reverse("billing:subscribe")).status_code == 403
    assert client.post(reverse("billing:subscribe"), {"plan": "basic", "setup_intent": "seti_x"}).status_code == 403
    assert not Subscription.objects.exists()
    # The controls are hidden too: no buy buttons, no plan link on the credits page.
    overview = client.get(reverse("billing:overview")).content.decode()
    assert 'id="credits"' in overview
    assert reverse("billing:buy_pack", args=["starter"]) not in overview and 'id="choose-plan"' not in overview


def test_demo_mode_subscribe_page_says_payments_are_disabled(settings, signed_in):
    settings.STRIPE_SECRET_KEY = ""
    page = signed_in.get(reverse("billing:subscribe")).content.decode()
    assert 'id="demo-mode"' in page and 'id="card-form"' not in page


def test_subscription_events_move_the_period_forward_and_never_revive_a_canceled_plan(db, settings, client):
    settings.STRIPE_WEBHOOK_SECRET = "whsec_test_h10"
    org = OrganizationFactory(credits=0)
    sub = Subscription.objects.create(organization=org, subscription_id="sub_evt_1", plan="basic", status="active")
    renewed = {"id": "sub_evt_1", "object": "subscription", "status": "active"}
    renewed["items"] = {"data": [{"current_period_start": 1_767_225_600, "current_period_end": 1_769_904_000}]}
    older = {
        **renewed,
        "items": {"data": [{"current_period_start": 1_764_547_200, "current_period_end": 1_767_225_600}]},
    }
    for payload in (
        event("evt_sub_upd_new", "customer.subscription.updated", renewed),
        event("evt_sub_upd_old", "customer.subscription.updated", older),  # late: must not move the period back
    ):
        assert post_event(client, payload).status_code == 200
    services.process_pending_events()
    sub.refresh_from_db()
    assert int(sub.current_period_end.timestamp()) == 1_769_904_000
    deleted = {"id": "sub_evt_1", "object": "subscription", "status": "canceled"}
    created_late = {"id": "sub_evt_1", "object": "subscription", "status": "active"}
    post_event(client, event("evt_sub_del", "customer.subscription.deleted", deleted))
    post_event(client, event("evt_sub_created_late", "customer.subscription.created", created_late))
    services.process_pending_events()
    sub.refresh_from_db()
    assert sub.status == "canceled"
