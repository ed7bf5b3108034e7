"""What merchants tells the layers above it (billing grants the sign-up credits on `email_verified`)."""

from django.dispatch import Signal

# A new account confirmed its address; sent inside verify_email's transaction with `user` and `organization` (the
# shop the account created, or None when it has none).
email_verified = Signal()
