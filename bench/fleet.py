"""Grow a benchmark database to thousands of real tenant schemas quickly.

Each fleet schema is a faithful copy of the migrated template (every table, index, constraint and
migration record), made by replaying the template's own pg_dump with the schema renamed, in batches:
tens of milliseconds a schema instead of seconds by migrations. Registry rows are bulk-inserted.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2


def database_url_for(name: str) -> str:
    """DATABASE_URL with its database name replaced by `name`."""
    base = urlsplit(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/localbazaar"))
    return urlunsplit(base._replace(path=f"/{name}"))


def recreate_database(url: str) -> None:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = psycopg2.connect(urlunsplit(parts._replace(path="/postgres")))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()


def _pg_dump_binary(server_version: int) -> str:
    """A pg_dump at least as new as the server: the system one, else the embedded server's own."""
    candidates = [shutil.which("pg_dump")]
    import pgserver  # the embedded PostgreSQL wheel ships a matching pg_dump

    candidates.append(str(Path(pgserver.__file__).parent / "pginstall" / "bin" / "pg_dump"))
    for binary in filter(None, candidates):
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False).stdout
        match = re.search(r"(\d+)", out.split(")")[-1])
        if match and int(match.group(1)) >= server_version // 10000:
            return binary
    raise RuntimeError(f"no pg_dump for server version {server_version}")


def template_script(url: str, template: str) -> str:
    """The template schema as SQL (tables, indexes, constraints and rows as INSERTs)."""
    conn = psycopg2.connect(url)
    server_version = conn.server_version
    conn.close()
    dump = subprocess.run(
        [_pg_dump_binary(server_version), "--no-owner", "--no-privileges", "--inserts", f"--schema={template}", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    # Drop psql meta-commands and session settings; keep only the DDL and data.
    lines = [line for line in dump.splitlines() if not line.startswith(("\\", "SET ", "SELECT pg_catalog.set_config"))]
    return "\n".join(lines)


def fleet_slug(n: int) -> str:
    return f"fleet{n:05d}"


def register_fleet_tenants(numbers: range) -> None:
    """Registry rows for fleet schemas, through the ORM so they follow the Tenant model as it grows."""
    from tenants.models import Domain, Tenant

    tenants = Tenant.objects.bulk_create(
        Tenant(
            schema_name=f"t_{fleet_slug(n)}",
            slug=fleet_slug(n),
            name=f"Fleet store {n}",
            owner_email=f"{fleet_slug(n)}@fleet.example.com",
            town="Leeds",
            postcode="LS1 1AA",
            plan_code="starter",
        )
        for n in numbers
    )
    Domain.objects.bulk_create(
        Domain(domain=f"{tenant.slug}.fleet.localhost", tenant=tenant, is_primary=True) for tenant in tenants
    )


# Locks one transaction may hold in PostgreSQL's default shared lock table (64 per connection x 100
# connections, shared with whatever else runs): each created table, index and sequence holds one.
_LOCK_BUDGET = 3000


def create_fleet(url: str, template: str, first: int, count: int, batch: int | None = None) -> float:
    """Create schemas t_fleet<first>..t_fleet<first+count-1> with registry rows. Returns seconds.

    Django must be set up (the registry rows go through the ORM). Schemas are created `batch` to a
    transaction: by default as many as keep the transaction's locks within _LOCK_BUDGET, so a store schema
    that grows tables never runs the server out of shared memory ("increase max_locks_per_transaction").
    """
    script = template_script(url, template)
    if batch is None:
        objects = len(re.findall(r"^CREATE (?:UNIQUE )?(?:TABLE|INDEX|SEQUENCE)\b", script, re.MULTILINE))
        batch = max(1, min(50, _LOCK_BUDGET // max(1, objects)))
    started = time.perf_counter()
    conn = psycopg2.connect(url)
    pattern = re.compile(rf"\b{re.escape(template)}\b")
    try:
        for start in range(first, first + count, batch):
            numbers = range(start, min(start + batch, first + count))
            with conn, conn.cursor() as cursor:
                for n in numbers:
                    cursor.execute(pattern.sub(f"t_{fleet_slug(n)}", script))
            register_fleet_tenants(numbers)
            done = numbers[-1] - first + 1
            print(f"  fleet: {done}/{count} schemas", file=sys.stderr, flush=True)
    finally:
        conn.close()
    return time.perf_counter() - started


_NAME_WORDS = (
    ("Hebden", "Calder", "Pennine", "Moorland", "Riverside", "Old Town", "Harbour", "Northern", "Little", "Corner"),
    ("Bakery", "Pottery", "Books", "Florist", "Deli", "Cycles", "Records", "Tea Room", "Wool Shop", "Hardware"),
)
_MAIL_DOMAINS = ("example.com", "mail.example.net", "shops.example.org", "fleet.example.com")


def register_registry_fleet(count: int, first: int = 0, *, batch: int = 5_000) -> list[int]:
    """`count` stores in the registry only (tenant, platform hostname, subscription; no schema), for what
    reads the registry and never a store's schema, such as the staff console. Returns their ids.

    Names, owners, statuses, tenancies, plans and signup dates vary as a fleet's do: mostly active shared
    stores on three plans, one in 50 suspended, one in 40 dedicated (some waiting for approval or taken
    down), one in 25 past due, one in 7 paying yearly, signups spread over two years.
    """
    from datetime import timedelta

    from django.db import connection
    from django.utils import timezone

    from billing.models import Plan, Subscription
    from tenants.models import Domain, Tenant
    from tenants.routing import store_hostname

    plans = {plan.code: plan for plan in Plan.objects.filter(code__in=["starter", "growth", "scale", "dedicated"])}
    shared_plans = ["starter", "growth", "scale"]
    now = timezone.now()
    ids: list[int] = []
    for start in range(first, first + count, batch):
        numbers = range(start, min(start + batch, first + count))
        rows = []
        for n in numbers:
            dedicated = n % 40 == 0
            status = Tenant.Status.ACTIVE
            if n % 50 == 1:
                status = Tenant.Status.SUSPENDED
            elif dedicated and n % 120 == 0:
                status = Tenant.Status.PENDING_PROVISIONING
            elif dedicated and n % 200 == 0:
                status = Tenant.Status.DEPROVISIONED
            first_word, second_word = _NAME_WORDS[0][n % 10], _NAME_WORDS[1][(n // 10) % 10]
            rows.append(
                Tenant(
                    schema_name=f"t_reg{n:06d}",
                    slug=f"reg{n:06d}",
                    name=f"{first_word} {second_word} {n}",
                    status=status,
                    tenancy=Tenant.Tenancy.DEDICATED if dedicated else Tenant.Tenancy.SHARED,
                    owner_email=f"owner{n:06d}@{_MAIL_DOMAINS[n % len(_MAIL_DOMAINS)]}",
                    town="Leeds",
                    postcode="LS1 1AA",
                    plan_code="dedicated" if dedicated else shared_plans[n % 3],
                    suspension_reason="Chargeback dispute" if status == Tenant.Status.SUSPENDED else "",
                )
            )
        tenants = Tenant.objects.bulk_create(rows)
        Domain.objects.bulk_create(
            Domain(domain=store_hostname(tenant.slug), tenant=tenant, is_primary=True)
            for tenant in tenants
            if tenant.status != Tenant.Status.DEPROVISIONED
        )
        period_start = now - timedelta(days=10)
        Subscription.objects.bulk_create(
            Subscription(
                tenant=tenant,
                plan=plans[tenant.plan_code],
                status=Subscription.Status.PAST_DUE if n % 25 == 0 else Subscription.Status.ACTIVE,
                interval="year" if n % 7 == 0 else "month",
                billing_anchor=period_start,
                current_period_start=period_start,
                current_period_end=period_start + timedelta(days=30),
                provider="local",
            )
            for n, tenant in zip(numbers, tenants, strict=True)
            if tenant.tenancy == Tenant.Tenancy.SHARED and tenant.plan_code in plans
        )
        ids += [tenant.pk for tenant in tenants]
        # auto_now_add stamps every row with the moment of the insert: spread the signups over two years.
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE tenants_tenant SET created_at = now() - (((id * 7919) %% 63072000) * interval '1 second') "
                "WHERE id = ANY(%s)",
                [[tenant.pk for tenant in tenants]],
            )
    return ids
