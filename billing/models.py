# The credit ledger and Stripe objects arrive with the billing issue; pricing lives in billing.pricing.
