"""Plan limits hold under real races: additions at one below the limit, made at the same moment from
separate connections on real PostgreSQL, give exactly as many as the plan allows."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import close_old_connections, connection

from billing.limits import PlanLimitReached
from billing.models import Plan
from storefront.catalog.models import Product
from storefront.catalog.services import create_product
from tenants.accounts.models import Membership, User
from tenants.accounts.services import add_staff_member
from tenants.models import Tenant
from tests.conftest import STRONG_PASSWORD

pytestmark = pytest.mark.slow
RACERS = 4


def race(tenant: Tenant, add: Callable[[int], Any]) -> tuple[int, int]:
    """Run `add(n)` in RACERS threads released together, each on its own connection in the store's schema;
    returns (added, refused by the plan)."""
    barrier = threading.Barrier(RACERS)
    outcomes: list[str] = []

    def racer(n: int) -> None:
        try:
            connection.set_tenant(tenant)
            barrier.wait(timeout=30)
            add(n)
            outcomes.append("added")
        except PlanLimitReached:
            outcomes.append("refused")
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=racer, args=(n,)) for n in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(outcomes) == RACERS, outcomes  # no racer died of anything but the plan limit
    return outcomes.count("added"), outcomes.count("refused")


def test_concurrent_product_creations_at_the_limit_give_exactly_the_plan_allowance(committed_tenancy, make_store):
    Plan.objects.filter(code="starter").update(max_products=3)
    tenant = make_store(subdomain="bakery").tenant
    connection.set_tenant(tenant)
    create_product(title="Loaf", sku="LOAF-0", price=300, stock=1)
    create_product(title="Loaf", sku="LOAF-1", price=300, stock=1)
    connection.set_schema_to_public()

    added, refused = race(tenant, lambda n: create_product(title="Bun", sku=f"BUN-{n}", price=90, stock=5))

    assert (added, refused) == (1, RACERS - 1)
    connection.set_tenant(tenant)
    assert Product.objects.count() == 3
    connection.set_schema_to_public()


def test_concurrent_staff_additions_at_the_limit_give_exactly_the_plan_seats(committed_tenancy, make_store):
    Plan.objects.filter(code="starter").update(staff_seats=2)
    tenant = make_store(subdomain="bakery").tenant
    connection.set_tenant(tenant)
    add_staff_member("first@example.com", STRONG_PASSWORD)
    connection.set_schema_to_public()

    added, refused = race(tenant, lambda n: add_staff_member(f"helper{n}@example.com", STRONG_PASSWORD))

    assert (added, refused) == (1, RACERS - 1)
    connection.set_tenant(tenant)
    assert Membership.objects.filter(role="staff").count() == 2
    # A refused addition left no account behind either.
    assert User.objects.filter(email__startswith="helper").count() == 1
    connection.set_schema_to_public()
