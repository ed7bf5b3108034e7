from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from shop_video.ops import lifecycle


class Command(BaseCommand):
    help = (
        "Delete videos (files and rows) older than the retention (SHOPVIDEO_VIDEO_RETENTION_DAYS or --days); "
        "the nightly beat task ops.purge_expired_videos does the same with per-organization overrides."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--days", type=int, default=None, help="Override the retention setting.")
        parser.add_argument("--dry-run", action="store_true", help="Only count what would be deleted.")

    def handle(self, *args, days: int | None = None, dry_run: bool = False, **options) -> None:
        days = settings.SHOPVIDEO_VIDEO_RETENTION_DAYS if days is None else days
        if days < 0:
            raise CommandError("--days must be 0 (keep forever) or more")
        if days == 0:
            self.stdout.write("retention is 0 (keep forever): nothing deleted")
            return
        count = lifecycle.purge_old_videos(days=days, dry_run=dry_run)
        verb = "would delete" if dry_run else "deleted"
        self.stdout.write(f"{verb} {count} video(s) older than {days} days")
