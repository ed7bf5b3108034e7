"""python manage.py import_catalog --org SLUG FILE [--zip IMAGES.zip] [--markets us|de] [--platform tiktok]
[--captions [--caption-price] [--caption-cta]] [--confirm]

Stages the file, checks the images in this process (no worker needed), prints the row report, and with
--confirm turns the valid rows into one batch. Running it again with the same file changes nothing."""

from __future__ import annotations

import contextlib
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from generation.imports import services
from generation.imports.validate import report_rows
from generation.models import CatalogImport
from shop_video.merchants.models import Organization


class Command(BaseCommand):
    help = "Import a catalogue CSV (ours, Shopify or WooCommerce) for an organization."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file")
        parser.add_argument("--org", required=True, help="Organization slug")
        parser.add_argument("--zip", dest="zip_path", help="Zip of images named in image_file")
        parser.add_argument("--markets", default="", help="Default markets, e.g. us|de")
        parser.add_argument("--aspect-ratios", default="", help="Default aspect ratios, e.g. 9:16|1:1")
        parser.add_argument("--seconds", default="", help="Default lengths, e.g. 5|10")
        parser.add_argument("--resolution", default="480p")
        parser.add_argument("--platform", default="", help="Make the videos for a platform, e.g. tiktok")
        parser.add_argument("--captions", action="store_true", help="Caption overlay (title)")
        parser.add_argument("--caption-price", action="store_true", help="With --captions: the price tag")
        parser.add_argument("--caption-cta", action="store_true", help="With --captions: the call to action")
        parser.add_argument("--ads", action="store_true", help="One ad per product and market instead of videos")
        parser.add_argument("--ad-seconds", type=int, default=None, help="With --ads: the ads' length (default 15)")
        parser.add_argument("--ad-platform", default="", help="With --ads: the ads' platform, e.g. tiktok")
        parser.add_argument("--confirm", action="store_true", help="Queue the valid rows as one batch")

    def handle(self, *args, file: str, org: str, zip_path: str | None, confirm: bool, **opts) -> None:
        organization = Organization.objects.filter(slug=org).first()
        if organization is None:
            raise CommandError(f"No organization with slug {org!r}.")
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {file}")
        options = {
            "markets": opts["markets"],
            "aspect_ratios": opts["aspect_ratios"],
            "seconds": opts["seconds"],
            "resolution": opts["resolution"],
        }
        try:
            with contextlib.ExitStack() as stack:
                fh = stack.enter_context(path.open("rb"))
                zip_fh = stack.enter_context(Path(zip_path).open("rb")) if zip_path else None
                imp = services.stage_import(
                    organization=organization, csv_upload=fh, filename=path.name, zip_upload=zip_fh, options=options
                )
        except services.ImportInvalid as exc:
            raise CommandError(f"{exc.message} {exc.fields}") from exc
        if imp.status == CatalogImport.Status.FETCHING:
            imp = services.process_import(imp.pk)
        for row, column, code, message in report_rows(imp):
            self.stdout.write(f"row {row}\t{column}\t{code}\t{message}")
        self.stdout.write(
            f"import {imp.pk} ({imp.format}): {imp.status}; {imp.rows_valid} valid, {imp.rows_invalid} with errors"
        )
        video_options = services.VideoOptions(
            platform=opts["platform"],
            captions=opts["captions"],
            caption_price=opts["caption_price"],
            caption_cta=opts["caption_cta"],
            output="ads" if opts["ads"] else "videos",
            ad_seconds=opts["ad_seconds"],
            ad_platform=opts["ad_platform"],
        )
        if imp.status == CatalogImport.Status.READY:
            # The price of what --confirm with these options makes, or what would refuse it (as on the page).
            estimate = services.estimate_import(imp, video_options)
            for issue in estimate.issues:
                self.stdout.write(f"row {issue['row']}\t{issue['column']}\t{issue['code']}\t{issue['message']}")
            for issue in estimate.skipped:  # ads: products that get none
                self.stdout.write(f"row {issue['row']}\t{issue['column']}\t{issue['code']}\t{issue['message']}")
            if estimate.confirmable:
                kind = "ad(s)" if opts["ads"] else "video(s)"
                self.stdout.write(f"confirming makes {estimate.videos} {kind} for {estimate.credits} credits")
        if confirm:
            try:
                batch = services.confirm_import(catalog_import=imp, video_options=video_options)
            except services.ImportNotConfirmable as exc:
                raise CommandError(exc.message) from exc
            self.stdout.write(f"batch {batch.pk}: {batch.jobs.count()} jobs")
