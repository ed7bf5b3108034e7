"""`python manage.py create_api_key --org SLUG [--name NAME]`: a REST API key for an organization.

The organization is created when no organization has that slug. The key is printed once; the LAST line of the
output is the bare key and nothing else, so scripts can take it with `tail -n 1`.
"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_slug
from django.db import IntegrityError, transaction

from shop_video.merchants.api_keys import create_api_key
from shop_video.merchants.models import Organization


class Command(BaseCommand):
    help = "Create a REST API key for an organization (created if missing); the last output line is the key."

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="Organization slug (created when it does not exist)")
        parser.add_argument("--name", default="", help="A name for the key, e.g. the integration using it")

    def handle(self, *args, **options):
        slug = options["org"].strip()
        try:
            validate_slug(slug)
        except ValidationError as exc:
            raise CommandError(f"--org must be a slug (letters, digits, hyphens, underscores): {slug!r}") from exc
        if len(slug) > Organization._meta.get_field("slug").max_length:
            raise CommandError("--org is too long")
        with transaction.atomic():
            org = Organization.objects.filter(slug=slug).first()
            created = False
            if org is None:
                try:
                    with transaction.atomic():
                        org = Organization.objects.create(name=slug, slug=slug)
                        created = True
                except IntegrityError:  # created concurrently
                    org = Organization.objects.get(slug=slug)
            api_key, secret = create_api_key(organization=org, name=options["name"] or "management command")
        if created:
            self.stdout.write(f"Created organization {org.slug} (id {org.pk}).")
        self.stdout.write(f"API key {api_key.prefix}… (id {api_key.pk}) for organization {org.slug}.")
        self.stdout.write("Store it now: it is shown only once. Send it as 'Authorization: Bearer <key>'.")
        self.stdout.write(secret)
