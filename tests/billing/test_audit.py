"""Credit adjustments leave an audit trail (shop_video.core.audit): grants (operator command included), debits and
refunds, each with who, which organization, the ledger entry or payment, and the amounts; written in the same
transaction as the ledger, so a refused adjustment leaves neither."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from billing import services
from billing.models import LedgerEntry, Payment
from shop_video.ops.models import AuditEvent
from tests.factories import OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db


def events(org, action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(organization=org, action=action).order_by("id"))


def test_a_grant_is_audited_with_its_actor_reason_and_entry():
    org = OrganizationFactory(credits=0)
    support = UserFactory()
    entry = services.grant_credits(organization=org, credits=40, reason="goodwill for ticket 17", user=support)
    [audit] = events(org, services.AUDIT_CREDITS_ADDED)
    assert (audit.actor, audit.actor_label, audit.organization_label) == (support, support.username, str(org))
    assert audit.target == f"billing.ledgerentry:{entry.pk}"
    assert audit.metadata == {"kind": "grant", "credits": 40, "balance_after": 40, "reason": "goodwill for ticket 17"}


def test_the_operator_command_grant_is_audited():
    org = OrganizationFactory(credits=0)
    call_command("grant_credits", "--org", org.slug, "25", "--reason", "migration from the old system")
    [audit] = events(org, services.AUDIT_CREDITS_ADDED)
    assert audit.actor is None and audit.metadata["credits"] == 25
    assert audit.metadata["reason"] == "migration from the old system"


def test_a_debit_adjustment_is_audited_and_a_refused_one_is_not():
    org = OrganizationFactory(credits=100)
    support = UserFactory()
    entry = services.debit_adjustment(organization=org, credits=30, reason="duplicate grant", user=support)
    [audit] = events(org, services.AUDIT_CREDITS_DEBITED)
    assert audit.target == f"billing.ledgerentry:{entry.pk}" and audit.actor == support
    assert audit.metadata == {"kind": "adjustment", "credits": 30, "balance_after": 70, "reason": "duplicate grant"}

    with pytest.raises(services.InsufficientCredits):
        services.debit_adjustment(organization=org, credits=71, reason="too much", user=support)
    assert len(events(org, services.AUDIT_CREDITS_DEBITED)) == 1
    assert LedgerEntry.objects.filter(organization=org, kind="adjustment").count() == 1


def test_a_refund_is_audited_with_what_was_and_was_not_taken_back():
    org = OrganizationFactory(credits=0)
    payment = Payment.objects.create(
        organization=org, payment_intent_id="pi_audit_1", pack="starter", credits=100, amount=1000, currency="usd"
    )
    services.fulfil_payment(payment_intent_id="pi_audit_1", amount_received=1000, currency="usd")
    services.debit_adjustment(organization=org, credits=80, reason="spent elsewhere")  # 20 credits left

    services.apply_refund(payment_intent_id="pi_audit_1", amount_refunded=500)  # half: 50 due, 20 available
    services.apply_refund(payment_intent_id="pi_audit_1", amount_refunded=500)  # a replay: no second event
    [audit] = events(org, services.AUDIT_CREDITS_REFUNDED)
    assert audit.target == f"billing.payment:{payment.pk}"
    assert audit.metadata == {
        "payment_intent": "pi_audit_1",
        "amount_refunded": 500,
        "currency": "usd",
        "credits_taken_back": 20,
        "credits_not_recovered": 30,
        "balance_after": 0,
    }

    # The rest refunded with nothing left to take back: still audited (the money went back).
    services.apply_refund(payment_intent_id="pi_audit_1", amount_refunded=1000)
    last = events(org, services.AUDIT_CREDITS_REFUNDED)[-1]
    assert (last.metadata["amount_refunded"], last.metadata["credits_taken_back"]) == (1000, 0)
    assert last.metadata["credits_not_recovered"] == 50
    assert len(events(org, services.AUDIT_CREDITS_REFUNDED)) == 2
