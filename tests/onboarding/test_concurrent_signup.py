"""Two signups racing for one subdomain: exactly one wins, and nothing is left of the other."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from onboarding.services import SignupError, sign_up_merchant
from tenants.models import PooledSchema, Tenant
from tests.conftest import signup_request


def _schemas_like(pattern: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE %s", [pattern])
        return {name for (name,) in cursor.fetchall()}


@pytest.mark.usefixtures("committed_tenancy")
def test_concurrent_signups_for_one_subdomain_leave_one_store_and_no_orphan_schema():
    pool_before = PooledSchema.objects.count()
    schemas_before = _schemas_like("pool\\_%") | _schemas_like("t\\_%")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def sign_up(email: str) -> None:
        try:
            barrier.wait()
            sign_up_merchant(signup_request(subdomain="race-deli", email=email))
            outcomes.append("won")
        except SignupError as error:
            outcomes.append(" ".join(error.errors.get("subdomain", [])))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sign_up, args=(f"racer{i}@example.com",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes)[-1] == "won"
    assert outcomes.count("won") == 1
    loser = next(o for o in outcomes if o != "won")
    assert "taken" in loser
    assert Tenant.objects.filter(slug="race-deli").count() == 1
    # The loser's claimed pool schema went back to the pool: exactly one pooled schema was used.
    assert PooledSchema.objects.count() == pool_before - 1
    schemas_after = _schemas_like("pool\\_%") | _schemas_like("t\\_%")
    assert schemas_after - schemas_before == {"t_race_deli"}
    assert len(schemas_before - schemas_after) == 1  # the one pool schema renamed to t_race_deli
