"""What billing tells the layers above it (notifications, webhooks), which subscribe in their own receivers."""

from django.dispatch import Signal

# The available credits fell below SHOPVIDEO_CREDITS_LOW. Sent inside the ledger's transaction with
# organization_id, balance, reserved, available, threshold: receivers defer their work until it commits.
credits_low = Signal()
