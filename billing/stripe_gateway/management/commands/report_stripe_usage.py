"""`manage.py report_stripe_usage`: aggregate closed usage windows and send due meter events now."""

from typing import Any

from django.core.management.base import BaseCommand

from billing.stripe_gateway.metering import report_usage


class Command(BaseCommand):
    help = "Aggregate closed usage windows into meter events and send those due (what the beat task does)."

    def handle(self, *args: Any, **options: Any) -> None:
        outcome = report_usage()
        self.stdout.write(f"meter events: sent={outcome.sent} failed={outcome.failed} late={outcome.late}")
