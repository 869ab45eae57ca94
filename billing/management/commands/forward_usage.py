"""`manage.py forward_usage` on a dedicated stack: hand the usage it recorded to the platform's bill now
(what the beat task `billing.forward_usage` does)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from billing.usage_batches import MAX_BATCH_SIZE
from billing.usage_forwarding import ForwardFailed, forward_usage


class Command(BaseCommand):
    help = "Send this dedicated stack's usage events not forwarded yet to the platform, oldest first."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=MAX_BATCH_SIZE, help="events per request")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            forwarded = forward_usage(batch_size=options["batch_size"])
        except (ForwardFailed, ValueError) as error:
            raise CommandError(f"Usage not forwarded (kept for the next run): {error}") from error
        self.stdout.write(f"forwarded {forwarded} usage events")
