"""Health check of a dedicated database (single-tenant mode): every migration applied and the owner
able to log in. Exits non-zero, saying what is wrong, otherwise. The owner's email comes as
`{"owner_email": ...}` JSON on stdin, never on the command line (see bootstrap_dedicated_owner)."""

from __future__ import annotations

import json
import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db.migrations.executor import MigrationExecutor

from tenants.accounts.models import Membership, User
from tenants.db_backend import connection


class Command(BaseCommand):
    help = 'Check that this dedicated database is fully migrated and has its active owner ({"owner_email"} on stdin).'

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.TENANCY_MODE != "dedicated":
            raise CommandError("Run with TENANCY_MODE=dedicated against a dedicated database.")
        try:
            owner_email = str(json.loads(sys.stdin.read())["owner_email"])
        except (ValueError, KeyError, TypeError) as error:
            raise CommandError(f'stdin must hold {{"owner_email": ...}} as JSON: {error}') from error
        connection.set_schema_to_public()
        executor = MigrationExecutor(connection)
        unapplied = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if unapplied:
            names = ", ".join(f"{m.app_label}.{m.name}" for m, _ in unapplied[:5])
            raise CommandError(f"{len(unapplied)} migrations not applied (first: {names}).")
        owner = User.objects.filter(email__iexact=owner_email).first()
        if owner is None or not owner.is_active or not owner.has_usable_password():
            raise CommandError(f"No active owner account for {owner_email} with a usable password.")
        if not Membership.objects.filter(user=owner, role=Membership.Role.OWNER).exists():
            raise CommandError(f"{owner.email} has no owner membership.")
        applied = len(executor.loader.applied_migrations)
        self.stdout.write(f"healthy: {applied} migrations applied, owner {owner.email} can log in")
