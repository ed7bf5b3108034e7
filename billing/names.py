"""Names a merchant reads for billing data: credit packs and plans by slug, and the reasons the system writes on
ledger entries. Reasons are stored in English (the ledger is a record, not a page) and shown in the reader's
language; a reason an operator typed is shown as it is."""

from __future__ import annotations

import re

from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

OFFER_NAMES = {
    "starter": _("Starter"),
    "growth": _("Growth"),
    "scale": _("Scale"),
    "basic": _("Basic"),
    "pro": _("Pro"),
}

# The reasons billing writes, stored in English (gettext_noop: extracted for the catalogue, not translated when
# written) and translated when shown.
WELCOME = gettext_noop("Welcome credits")
DEMO = gettext_noop("Demo credits (payments disabled)")
PACK = gettext_noop("Credit pack %(pack)s")
PACK_REFUND = gettext_noop("Refund of credit pack %(pack)s")
PLAN = gettext_noop("Monthly plan %(plan)s")
_REASONS = tuple(
    (
        re.compile(
            "^"
            + re.escape(msgid)
            .replace(re.escape("%(pack)s"), r"(?P<pack>[\w-]+)")
            .replace(re.escape("%(plan)s"), r"(?P<plan>[\w-]+)")
            + "$"
        ),
        msgid,
    )
    for msgid in (WELCOME, DEMO, PACK, PACK_REFUND, PLAN)
)


def offer_name(slug: str) -> str:
    """A pack's or plan's name in the reader's language (an installation's own offers: the slug, capitalised)."""
    name = OFFER_NAMES.get(slug)
    return str(name) if name is not None else slug.replace("-", " ").replace("_", " ").capitalize()


def reason_text(reason: str) -> str:
    """A ledger reason in the reader's language when billing wrote it; otherwise as it was typed."""
    for pattern, msgid in _REASONS:
        match = pattern.match(reason or "")
        if match:
            params = {key: offer_name(value) for key, value in match.groupdict().items()}
            return gettext(msgid) % params if params else gettext(msgid)
    return reason
