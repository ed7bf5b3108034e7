"""Billing's own words are stored in English and read in the reader's language: ledger movements, the reasons
billing writes, credit packs and plans; a reason an operator typed is shown as typed."""

from __future__ import annotations

from django.utils import translation

from billing.models import LedgerEntry
from billing.names import PACK, WELCOME, offer_name, reason_text


def test_ledger_kinds_say_what_happened_in_both_languages():
    kinds = LedgerEntry.Kind
    with translation.override("en"):
        assert (str(kinds.CAPTURE.label), str(kinds.RESERVE.label), str(kinds.RELEASE.label)) == (
            "Charged",
            "Held for a video",
            "Returned (no video)",
        )
    with translation.override("zh-hans"):
        assert str(kinds.CAPTURE.label) == "已扣点数"
        assert "积分" not in "".join(str(label) for label in kinds.labels)


def test_reasons_and_offers_follow_the_reader():
    stored = PACK % {"pack": "growth"}
    assert stored == "Credit pack growth"  # stored in English whatever the language at the time
    with translation.override("en"):
        assert (reason_text(stored), reason_text(WELCOME), offer_name("starter")) == (
            "Credit pack Growth",
            "Welcome credits",
            "Starter",
        )
    with translation.override("zh-hans"):
        assert reason_text(WELCOME) == "欢迎点数"
        assert reason_text(stored) == "点数包 成长包"
        assert reason_text("Goodwill for the outage") == "Goodwill for the outage"
        assert offer_name("enterprise-plus") == "Enterprise plus"
