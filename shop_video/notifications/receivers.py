"""Notification receivers of billing's signals (connected by the dashboard app, which sends the emails)."""

from __future__ import annotations

from django.dispatch import receiver

from billing.signals import credits_low


@receiver(credits_low, dispatch_uid="notifications.on_credits_low")
def _credits_low(sender, organization_id, **kwargs) -> None:
    """The members' email; queued after the ledger's transaction commits."""
    from shop_video.dashboard.notifications import queue_credits_low

    queue_credits_low(organization_id)
