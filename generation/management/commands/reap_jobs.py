"""Run the job reaper once (for cron or an operator): requeue jobs of lost workers, re-send lost messages."""

from django.core.management.base import BaseCommand

from generation.services.reaper import reap_jobs


class Command(BaseCommand):
    help = "Requeue running jobs whose heartbeat went stale, re-send old queued jobs, dispatch waiting jobs."

    def handle(self, *args, **options) -> None:
        report = reap_jobs()
        self.stdout.write(
            f"requeued={len(report.requeued)} failed={len(report.failed)} "
            f"resent={len(report.resent)} dispatched={report.dispatched}"
        )
