"""Billing's errors: bad input from the caller's side (HTTP 4xx), with stable codes."""

from __future__ import annotations

from django.utils.translation import gettext as _

from shop_video.core.errors import BadInputError


class InsufficientCredits(BadInputError):
    """The organization cannot afford the submission; nothing was created. The API answers 402."""

    code = "insufficient_credits"
    status_code = 402  # Payment Required; the API's exception handler reads it
    http_status = 402

    def __init__(self, *, required: int, available: int):
        self.required = required
        self.available = available
        super().__init__(
            _("Not enough credits: this needs %(required)d credits and %(available)d are available.")
            % {"required": required, "available": available},
            params={"required": required, "available": available},
        )


class BillingError(BadInputError):
    code = "billing_error"
