"""Record the store in its own dedicated database (single-tenant mode only), so that the same routing
code serves its hostnames there: one Tenant row whose schema is `public` and its Domain rows. Run by
the `local` provisioning backend with the store's record as JSON on stdin; replaying it changes nothing."""

from __future__ import annotations

import json
import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django_tenants.utils import get_public_schema_name

from tenants.db_backend import connection
from tenants.models import Domain, Tenant

STORE_FIELDS = ("slug", "name", "owner_email", "town", "postcode", "plan_code")


class Command(BaseCommand):
    help = "Register this dedicated database's store and its hostnames (JSON on stdin)."

    def handle(self, *args: Any, **options: Any) -> None:
        # In shared mode `public` is the tenant registry of every store: never write a record there.
        if settings.TENANCY_MODE != "dedicated":
            raise CommandError("Refusing to run outside TENANCY_MODE=dedicated (this is the shared database).")
        try:
            record = json.loads(sys.stdin.read())
            fields = {name: str(record[name]) for name in STORE_FIELDS}
            hostnames = [str(host).lower() for host in record["domains"]]
        except (ValueError, KeyError, TypeError) as error:
            raise CommandError(f"stdin must hold the store's record as JSON: {error}") from error
        if not hostnames:
            raise CommandError("The store needs at least one hostname.")
        connection.set_schema_to_public()
        with transaction.atomic():
            # One store per dedicated database: its data is `public` itself.
            Tenant.objects.exclude(slug=fields["slug"]).delete()
            tenant, created = Tenant.objects.update_or_create(
                slug=fields["slug"],
                defaults={
                    **fields,
                    "schema_name": get_public_schema_name(),
                    "tenancy": Tenant.Tenancy.DEDICATED,
                    "status": Tenant.Status.ACTIVE,
                },
            )
            Domain.objects.filter(tenant=tenant).exclude(domain__in=hostnames).delete()
            for position, hostname in enumerate(hostnames):
                Domain.objects.update_or_create(
                    domain=hostname, defaults={"tenant": tenant, "is_primary": position == 0}
                )
        verb = "registered" if created else "already registered; record refreshed"
        self.stdout.write(f"store {tenant.slug} {verb}: {', '.join(hostnames)}")
