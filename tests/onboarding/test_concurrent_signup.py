"""Two signups racing for one subdomain, or for one email address: exactly one wins, the other gets the
field's "just taken" error, and nothing is left of it."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection, connections, transaction
from rest_framework.test import APIClient

from tenants.models import Domain, PooledSchema, Tenant
from tests.conftest import ROOT_HOST, STRONG_PASSWORD, wait_for

pytestmark = pytest.mark.usefixtures("committed_tenancy")

EMAIL_TAKEN = "A store is already registered with this email address; log in instead."


def _schemas_like(pattern: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE %s", [pattern])
        return {name for (name,) in cursor.fetchall()}


def _store_schemas() -> set[str]:
    return _schemas_like("pool\\_%") | _schemas_like("t\\_%")


def _signup_body(email: str, subdomain: str) -> dict[str, str]:
    return {
        "email": email,
        "password": STRONG_PASSWORD,
        "store_name": f"Racing {subdomain}",
        "subdomain": subdomain,
        "town": "Hebden Bridge",
        "postcode": "HX7 8AD",
    }


def _waiting_inserts() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE relation = 'tenants_tenant'::regclass AND NOT granted")
        return int(cursor.fetchone()[0])


def _race(bodies: list[dict[str, str]]) -> list[tuple[dict[str, str], int, Any]]:
    """POST the signups at once, each on its own connection, and let their inserts go only when every
    one has passed the checks and waits to insert: the database's constraints, not the checks, must
    then refuse the loser. Returns (body, status, JSON answer) per signup."""
    outcomes: list[tuple[dict[str, str], int, Any]] = []

    def sign_up(body: dict[str, str]) -> None:
        try:
            response = APIClient(HTTP_HOST=ROOT_HOST).post("/api/v1/signup", body, format="json")
            outcomes.append((body, response.status_code, response.json()))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sign_up, args=(body,)) for body in bodies]
    # SHARE mode lets the checks read tenants_tenant and holds every INSERT into it.
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("LOCK TABLE tenants_tenant IN SHARE MODE")
        for thread in threads:
            thread.start()
        wait_for(lambda: _waiting_inserts() == len(bodies), seconds=60, what="every signup to wait to insert")
    for thread in threads:
        thread.join(timeout=60)
    assert len(outcomes) == len(bodies), outcomes
    return outcomes


def test_concurrent_signups_for_one_subdomain_leave_one_store_and_no_orphan_schema():
    pool_before = PooledSchema.objects.count()
    schemas_before = _store_schemas()

    outcomes = _race([_signup_body(f"racer{i}@example.com", "race-deli") for i in range(2)])

    assert sorted(status for _, status, _ in outcomes) == [201, 400]
    (loser,) = [answer for _, status, answer in outcomes if status == 400]
    # The race's own message: the ordinary "is already taken" would mean the checks caught it, not the race
    assert loser == {"subdomain": ["'race-deli' was just taken by another signup; choose another."]}
    assert Tenant.objects.filter(slug="race-deli").count() == 1
    # The loser's claimed pool schema went back to the pool: exactly one pooled schema was used.
    assert PooledSchema.objects.count() == pool_before - 1
    schemas_after = _store_schemas()
    assert schemas_after - schemas_before == {"t_race_deli"}
    assert len(schemas_before - schemas_after) == 1  # the one pool schema renamed to t_race_deli


def test_concurrent_signups_with_one_email_leave_one_store_and_nothing_of_the_other():
    # Given two merchants signing up for different subdomains with one email address, cased differently
    pool_before = PooledSchema.objects.count()
    schemas_before = _store_schemas()
    bodies = [_signup_body("Baker@Example.com", "race-bakery"), _signup_body("baker@example.COM", "race-patisserie")]

    # When both pass the checks before either inserts
    outcomes = _race(bodies)

    # Then one store is made, and the other signup is told its email is taken (not its subdomain)
    assert sorted(status for _, status, _ in outcomes) == [201, 400]
    (winner,) = [body["subdomain"] for body, status, _ in outcomes if status == 201]
    ((loser, answer),) = [(body["subdomain"], answer) for body, status, answer in outcomes if status == 400]
    assert answer == {"email": [EMAIL_TAKEN]}
    assert list(Tenant.objects.filter(owner_email__iexact="baker@example.com").values_list("slug", flat=True)) == [
        winner
    ]
    # And nothing is left of the loser: no tenant, no domain, no schema; its pool schema is back in the pool
    assert not Tenant.objects.filter(slug=loser).exists()
    assert not Domain.objects.filter(domain__startswith=f"{loser}.").exists()
    assert PooledSchema.objects.count() == pool_before - 1
    schemas_after = _store_schemas()
    assert schemas_after - schemas_before == {f"t_{winner.replace('-', '_')}"}
    assert len(schemas_before - schemas_after) == 1
