from django.core.management.base import BaseCommand, CommandError

from shop_video.merchants.models import Organization
from shop_video.ops import lifecycle


class Command(BaseCommand):
    help = (
        "Delete an organization with all its media (local or S3) and rows, e.g. on a merchant's erasure request. "
        "Queues the purge task (or runs it here with --now); an audit entry records the request and the deletion."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--org", required=True, help="The organization's slug.")
        parser.add_argument("--confirm", required=True, help="The slug again: deleting cannot be undone.")
        parser.add_argument("--now", action="store_true", help="Purge in this process instead of a worker.")

    def handle(self, *args, org: str, confirm: str, now: bool = False, **options) -> None:
        organization = Organization.objects.filter(slug=org).first()
        if organization is None:
            raise CommandError(f"no organization with the slug {org!r}")
        if confirm != org:
            raise CommandError("--confirm must repeat the slug exactly: nothing was deleted")
        try:
            if now:
                lifecycle.ensure_not_billed(organization)
                files = lifecycle.purge_organization(organization.pk)
                self.stdout.write(f"deleted {org} and {files} file(s)")
                return
            lifecycle.request_organization_deletion(organization=organization)
        except lifecycle.OrganizationStillBilled as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"deletion of {org} queued (task ops.purge_organization)")
