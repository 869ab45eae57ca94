"""Health check of a dedicated database (single-tenant mode): every migration applied and the owner
able to log in. Exits non-zero, saying what is wrong, otherwise."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.migrations.executor import MigrationExecutor

from config.db_backend import connection
from tenants.accounts.models import Membership, User


class Command(BaseCommand):
    help = "Check that this dedicated database is fully migrated and has its active owner."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--owner-email", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.TENANCY_MODE != "dedicated":
            raise CommandError("Run with TENANCY_MODE=dedicated against a dedicated database.")
        connection.set_schema_to_public()
        executor = MigrationExecutor(connection)
        unapplied = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if unapplied:
            names = ", ".join(f"{m.app_label}.{m.name}" for m, _ in unapplied[:5])
            raise CommandError(f"{len(unapplied)} migrations not applied (first: {names}).")
        owner = User.objects.filter(email__iexact=options["owner_email"]).first()
        if owner is None or not owner.is_active or not owner.has_usable_password():
            raise CommandError(f"No active owner account for {options['owner_email']} with a usable password.")
        if not Membership.objects.filter(user=owner, role=Membership.Role.OWNER).exists():
            raise CommandError(f"{owner.email} has no owner membership.")
        applied = len(executor.loader.applied_migrations)
        self.stdout.write(f"healthy: {applied} migrations applied, owner {owner.email} can log in")
