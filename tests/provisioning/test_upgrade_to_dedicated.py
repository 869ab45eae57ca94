"""A live shared store upgraded to dedicated: its own database is built, the store closes while its
schema's every row is copied (counts verified), routing switches, and it answers from its own database
with its owner's token; the shared schema is kept until staff confirm, then dropped."""

from __future__ import annotations

import pytest
from django.db import connection
from django_tenants.utils import schema_exists, tenant_context
from rest_framework.test import APIClient

from provisioning import execution
from provisioning.backends import local
from provisioning.backends.base import Outcome
from provisioning.models import ProvisioningRun
from storefront.catalog.models import ImportJob
from tenants.accounts.services import add_staff_member
from tenants.models import Tenant
from tests.conftest import STRONG_PASSWORD, store_api
from tests.provisioning.conftest import dedicated_database, step_states
from tests.provisioning.dedicated_stack import serving

pytestmark = pytest.mark.usefixtures("committed_tenancy")

UPGRADE_STEPS = [
    "create_database",
    "migrate_database",
    "close_shared_store",
    "copy_shared_data",
    "register_store",
    "verify_health",
    "switch_routing",
]


def shared_store_with_data(make_store):
    """A live shared store with rows in every kind of table: catalog, profile, imports, staff, tokens."""
    signup = make_store(subdomain="bakery", store_name="Hebden Bakery", email="baker@example.com")
    api = store_api("bakery", signup.token)
    assert api.post("/api/v1/categories", {"name": "Bread", "slug": "bread"}, format="json").status_code == 201
    for n in range(1, 13):
        body = {"title": f"Loaf {n}", "price": 300 + n, "sku": f"LOAF-{n}", "status": "active", "category": "bread"}
        assert api.post("/api/v1/products", body, format="json").status_code == 201
    assert api.delete("/api/v1/products/12").status_code == 204  # a gap in the ids
    profile = {"story": "Baking since 1982.", "town": "Hebden Bridge", "postcode": "HX7 8AD"}
    assert api.put("/api/v1/seller-profile", profile, format="json").status_code == 200
    tenant = Tenant.objects.get(slug="bakery")
    with tenant_context(tenant):
        add_staff_member("shop@example.com", STRONG_PASSWORD)
        ImportJob.objects.create(status="succeeded", source_name="old.csv", file="catalog/imports/x/old.csv")
    connection.set_schema_to_public()
    return signup


def schema_counts(schema: str) -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s AND tablename <> 'django_migrations'", [schema]
        )
        counts = {}
        for (table,) in cursor.fetchall():
            cursor.execute(f'SELECT count(*) FROM "{schema}"."{table}"')
            counts[table] = cursor.fetchone()[0]
    return counts


def database_counts(database: str, tables: list[str]) -> dict[str, int]:
    with dedicated_database(database) as conn, conn.cursor() as cursor:
        counts = {}
        for table in tables:
            cursor.execute(f'SELECT count(*) FROM "{table}"')
            counts[table] = cursor.fetchone()[0]
    return counts


@pytest.mark.slow
def test_a_shared_store_upgraded_to_dedicated_keeps_every_row_and_answers_from_its_own_database(
    staff_api, make_store, no_queue, tmp_path
):
    signup = shared_store_with_data(make_store)
    before = schema_counts("t_bakery")
    assert before["catalog_product"] == 11 and before["accounts_apitoken"] == 1 and before["accounts_user"] == 2

    response = staff_api.post("/api/v1/staff/tenants/bakery/upgrade-to-dedicated")

    assert response.status_code == 202, response.content
    body = response.json()
    assert body["kind"] == "upgrade" and [s["name"] for s in body["steps"]] == UPGRADE_STEPS
    assert Tenant.objects.get(slug="bakery").status == "active"  # open while its database is built
    assert execution.execute_run(body["id"]) == "succeeded"
    run = ProvisioningRun.objects.get(pk=body["id"])
    tenant = Tenant.objects.get(slug="bakery")
    assert (tenant.tenancy, tenant.status) == ("dedicated", "active")
    # Every row is in the dedicated database, table by table, as the step recorded.
    assert run.outputs["row_counts"] == before
    assert database_counts(tenant.database_name, list(before)) == before
    # The shared schema is kept until staff confirm.
    assert schema_exists("t_bakery") and schema_counts("t_bakery") == before

    with serving("bakery", tmp_path):
        # The owner's token from the shared days works on the store's own database.
        api = store_api("bakery", signup.token)
        listed = api.get("/api/v1/products?page_size=100")
        assert listed.status_code == 200, listed.content
        assert sorted(p["sku"] for p in listed.json()["results"]) == sorted(f"LOAF-{n}" for n in range(1, 12))
        assert api.get("/api/v1/seller-profile").json()["story"] == "Baking since 1982."
        # New rows get fresh ids (sequences were moved past the copied ones).
        new = api.post("/api/v1/products", {"title": "Bun", "price": 90, "sku": "BUN"}, format="json")
        assert new.status_code == 201, new.content
        assert new.json()["id"] == 13
        staff_login = store_api("bakery").post(
            "/api/v1/auth/token", {"email": "shop@example.com", "password": STRONG_PASSWORD}, format="json"
        )
        assert staff_login.status_code == 200
    with dedicated_database(tenant.database_name) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM catalog_product WHERE sku = 'BUN'")
        assert cursor.fetchone()[0] == 1
    assert schema_counts("t_bakery")["catalog_product"] == 11  # the new product is not in the shared schema

    confirmed = staff_api.post("/api/v1/staff/tenants/bakery/confirm-upgrade")

    assert confirmed.status_code == 200 and confirmed.json()["dropped_schema"] == "t_bakery"
    assert not schema_exists("t_bakery")
    again = staff_api.post("/api/v1/staff/tenants/bakery/confirm-upgrade")
    assert again.status_code == 409
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_namespace WHERE nspname = 't_bakery'")
        assert cursor.fetchone()[0] == 0


def test_a_copy_killed_and_run_again_copies_each_row_once(staff_api, make_store, no_queue, monkeypatch):
    shared_store_with_data(make_store)
    before = schema_counts("t_bakery")
    run_id = staff_api.post("/api/v1/staff/tenants/bakery/upgrade-to-dedicated").json()["id"]
    # The run stops right after the copy committed, as a killed worker would leave it: copy still `running`.
    monkeypatch.setattr(local, "register_store", lambda ctx: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        execution.execute_run(run_id)
    run = ProvisioningRun.objects.get(pk=run_id)
    run.steps.filter(name="copy_shared_data").update(state="running")
    assert Tenant.objects.get(slug="bakery").status == "migrating"
    # Meanwhile the store is closed to everything, its admin included: nothing can be written.
    closed = store_api("bakery").get("/api/v1/products")
    assert closed.status_code == 403 and closed.json()["code"] == "tenant_migrating"
    assert store_api("bakery").get("/admin/").status_code == 503

    monkeypatch.undo()
    assert execution.execute_run(run_id) == "succeeded"

    run.refresh_from_db()
    assert step_states(run)["copy_shared_data"] == "succeeded"
    assert run.steps.get(name="copy_shared_data").attempts == 2
    database = Tenant.objects.get(slug="bakery").database_name
    assert database_counts(database, list(before)) == before


def test_upgrade_refused_for_stores_that_are_not_live_and_shared_and_nothing_happens(staff_api, make_store, no_queue):
    make_store(subdomain="kiln", tenancy="dedicated")
    shared = make_store(subdomain="mill")
    Tenant.objects.filter(slug="mill").update(status="suspended")

    for slug in ("kiln", "mill"):
        response = staff_api.post(f"/api/v1/staff/tenants/{slug}/upgrade-to-dedicated")
        assert response.status_code == 409, response.content
    assert not ProvisioningRun.objects.exists()
    assert schema_exists(shared.tenant.schema_name)
    # Only platform staff may ask.
    assert APIClient(HTTP_HOST="localhost").post("/api/v1/staff/tenants/mill/upgrade-to-dedicated").status_code == 403
    assert not ProvisioningRun.objects.exists()


def test_an_upgrade_waits_for_running_imports_and_reopens_when_cancelled(staff_api, make_store, no_queue, monkeypatch):
    shared_store_with_data(make_store)
    monkeypatch.setattr(local, "migrate_database", lambda ctx: Outcome.DONE)  # not what this test is about
    with tenant_context(Tenant.objects.get(slug="bakery")):
        ImportJob.objects.create(status="running", source_name="big.csv", file="catalog/imports/y/big.csv")
    connection.set_schema_to_public()
    run_id = staff_api.post("/api/v1/staff/tenants/bakery/upgrade-to-dedicated").json()["id"]

    assert execution.execute_run(run_id) == "failed"

    run = ProvisioningRun.objects.get(pk=run_id)
    assert step_states(run)["close_shared_store"] == "failed"
    assert "imports are still running" in run.steps.get(name="close_shared_store").error
    assert step_states(run)["copy_shared_data"] == "pending"
    assert staff_api.post(f"/api/v1/staff/provisioning-runs/{run_id}/cancel").status_code == 200
    tenant = Tenant.objects.get(slug="bakery")
    assert (tenant.tenancy, tenant.status) == ("shared", "active")
    assert store_api("bakery").get("/").status_code == 200
    assert schema_counts("t_bakery")["catalog_product"] == 11
