"""`manage.py replay_stripe_events --days 3`: reprocess Stripe's recent events (processed ones are skipped)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from billing.stripe_gateway.webhooks import replay_events


class Command(BaseCommand):
    help = "List the last days of Stripe events and process those not processed yet, oldest first."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=3)

    def handle(self, *args: Any, **options: Any) -> None:
        counts = replay_events(options["days"])
        self.stdout.write(f"replayed: processed={counts['processed']} duplicate={counts['duplicate']}")
