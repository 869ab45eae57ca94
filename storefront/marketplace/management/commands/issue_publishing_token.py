"""Print a new marketplace publishing token for a store (replaces its earlier one)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from storefront.marketplace.services import issue_publishing_token
from tenants.models import Tenant


class Command(BaseCommand):
    help = "Issue a publishing token for the marketplace batch API (a dedicated store's MARKETPLACE_PUBLISHING_TOKEN)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("slug")

    def handle(self, *args: Any, slug: str, **options: Any) -> None:
        tenant = Tenant.objects.filter(slug=slug).first()
        if tenant is None:
            raise CommandError(f"No store '{slug}'.")
        self.stdout.write(issue_publishing_token(tenant))
