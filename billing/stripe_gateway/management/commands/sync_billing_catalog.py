"""`manage.py sync_billing_catalog`: mirror the plan catalog to Stripe (idempotent, safe to rerun)."""

from typing import Any

from django.core.management.base import BaseCommand

from billing.stripe_gateway.catalog import sync_catalog


class Command(BaseCommand):
    help = "Create or update Stripe Billing Meters, Products and Prices for every plan (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        result = sync_catalog()
        for line in result.created:
            self.stdout.write(f"created {line}")
        for line in result.archived:
            self.stdout.write(f"archived {line}")
        for line in result.inexact:
            self.stdout.write(self.style.WARNING(f"approximated at Stripe: {line}"))
        created, archived = len(result.created), len(result.archived)
        self.stdout.write(f"catalog synced: created={created} archived={archived} unchanged={result.unchanged}")
