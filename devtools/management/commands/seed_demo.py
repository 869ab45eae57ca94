"""``manage.py seed_demo``: the platform admin and demo stores for a development database."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from devtools.demo import demo_logins, seed_demo_marketplace


class Command(BaseCommand):
    help = "Create the platform admin and the demo stores (with products) if they are missing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force", action="store_true", help="run even with DEBUG off (the demo logins share a known password)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["force"]:
            raise CommandError("seed_demo makes logins with a published password; it runs only with DEBUG=1.")
        outcome = seed_demo_marketplace()
        self.stdout.write(
            f"admin {'created' if outcome.admin_created else 'exists'}; "
            f"stores created: {', '.join(outcome.stores_created) or 'none'}; "
            f"products added: {outcome.products_created}"
        )
        for where, email, password in demo_logins():
            self.stdout.write(f"  {where}  {email} / {password}")
