"""python manage.py grant_credits --org SLUG N [--reason TEXT]: an operator grants credits (one ledger entry)."""

from django.core.management.base import BaseCommand, CommandError

from billing import selectors, services
from shop_video.merchants.models import Organization


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise CommandError(f"N must be a positive whole number, not {value!r}") from None
    if number <= 0:
        raise CommandError(f"N must be a positive whole number, not {value!r}")
    return number


class Command(BaseCommand):
    help = "Grant credits to an organization; each grant is a ledger entry with its reason."

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="Organization slug")
        parser.add_argument("credits", help="Positive whole number of credits")
        parser.add_argument("--reason", default="Granted by an operator")

    def handle(self, *args, org: str, credits: str, reason: str, **options):
        amount = _positive_int(credits)
        organization = Organization.objects.filter(slug=org).first()
        if organization is None:
            raise CommandError(f"No organization with slug {org!r}")
        reason = (reason or "").strip()
        if not reason:
            raise CommandError("The reason must not be empty")
        entry = services.grant_credits(organization=organization, credits=amount, reason=reason)
        totals = selectors.credits_for(organization)
        self.stdout.write(
            f"Granted {entry.credits} credits to {organization.slug} (entry {entry.pk}); "
            f"balance {totals.balance}, available {totals.available}"
        )
