"""Billing's answers to the signals of the layers below it."""

from __future__ import annotations

from django.dispatch import receiver

from shop_video.merchants.signals import email_verified

from .services.ledger import grant_signup_credits


@receiver(email_verified, dispatch_uid="billing.grant_signup_credits")
def _grant_signup_credits(sender, user, organization=None, **kwargs) -> None:
    """The welcome credits go to the shop the confirmed account created (in the verification's transaction)."""
    if organization is not None:
        grant_signup_credits(organization)
