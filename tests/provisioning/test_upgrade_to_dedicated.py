"""A live shared store upgraded to dedicated: its own database is built, the store closes while its
schema's every row is copied (counts verified), routing switches, and it answers from its own database
with its owner's token; the shared schema is kept until staff confirm, then dropped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from django.conf import settings
from django.db import connection, transaction
from django_tenants.utils import schema_exists, tenant_context
from rest_framework.test import APIClient

from billing.models import InvoiceItem, Subscription
from provisioning import execution, stack_state
from provisioning.backends import local
from provisioning.backends.base import Outcome, StepContext
from provisioning.backends.local import database_url
from provisioning.models import ProvisioningRun
from storefront.catalog.models import ImportJob, Product
from tenants.accounts.services import add_staff_member
from tenants.models import Tenant
from tests.conftest import STRONG_PASSWORD, store_api, wait_for
from tests.provisioning.conftest import dedicated_database, step_states
from tests.provisioning.dedicated_stack import serving
from tests.web_server import REPO, app_server, request

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
        created = api.post("/api/v1/products", body, format="json")
        assert created.status_code == 201
    # A gap in the ids: the last one. (Ids need not start at 1: a pool schema a rolled-back test claimed
    # keeps the sequence values it used, as PostgreSQL sequences do.)
    assert api.delete(f"/api/v1/products/{created.json()['id']}").status_code == 204
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
    with connection.cursor() as cursor:
        cursor.execute("SELECT last_value FROM t_bakery.catalog_product_id_seq")
        (last_product_id,) = cursor.fetchone()  # the deleted product's

    response = staff_api.post("/api/v1/staff/tenants/bakery/upgrade-to-dedicated")

    assert response.status_code == 202, response.content
    body = response.json()
    assert body["kind"] == "upgrade" and [s["name"] for s in body["steps"]] == UPGRADE_STEPS
    assert Tenant.objects.get(slug="bakery").status == "active"  # open while its database is built
    assert execution.execute_run(body["id"]) == "succeeded"
    run = ProvisioningRun.objects.get(pk=body["id"])
    tenant = Tenant.objects.get(slug="bakery")
    assert (tenant.tenancy, tenant.status) == ("dedicated", "active")
    # Its subscription moved to the dedicated plan, prorated: the shared fee's unused part credited, the
    # dedicated fee for the rest of the period charged, both on the next invoice.
    subscription = Subscription.objects.select_related("plan").get(tenant=tenant)
    assert (subscription.plan.code, subscription.plan.tenancy, tenant.plan_code) == (
        "dedicated",
        "dedicated",
        "dedicated",
    )
    prorated = sorted(InvoiceItem.objects.filter(subscription=subscription).values_list("amount", flat=True))
    assert len(prorated) == 2 and prorated[0] < 0 < prorated[1] and prorated[1] > -prorated[0]
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
        assert new.json()["id"] == last_product_id + 1
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


# --- The store closed before its copy: in every process, and a copy killed halfway ----------------------


def test_the_upgrade_copies_only_once_every_other_process_has_dropped_the_open_stores_route(
    staff_api, make_store, no_queue, settings, tmp_path
):
    # Given a store served by another web process that keeps the routes it used for 4 s
    signup = shared_store_with_data(make_store)
    run = ProvisioningRun.objects.get(
        pk=staff_api.post("/api/v1/staff/tenants/bakery/upgrade-to-dedicated").json()["id"]
    )
    settings.TENANT_ROUTE_MEMO_SECONDS = 4
    memo = {"TENANT_ROUTE_MEMO_SECONDS": "4", "DB_CONN_MAX_AGE": "0"}
    database = database_url(connection.settings_dict["NAME"])
    with app_server("web", database, tmp_path, 0, workers=1, threads=1, behind_pooler=False, env_overrides=memo) as web:
        # that has just routed a request to it (so it remembers the store open)
        status, _ = request(web.port, "GET", "bakery.localhost", "/api/v1/products", signup.token)
        assert status == 200

        # When the upgrade closes the store (this process evicts the route here and in Redis; the
        # other process only notices once its memo expires)
        stack_state.close_shared_store(StepContext(run=run))

        # Then by the time the step returns (and the copy may start), the other process refuses writes too
        status, body = request(
            web.port, "POST", "bakery.localhost", "/api/v1/products", signup.token, {"title": "Late", "price": 1}
        )
        assert status == 403, body  # not 201: the product would be lost with the shared schema
        assert body["code"] == "tenant_migrating"
    with tenant_context(Tenant.objects.get(slug="bakery")):
        assert not Product.objects.filter(title="Late").exists()


COPY_PAUSE_LOCK = 7_340_117  # an advisory lock key the paused copy waits on


def _copy_sessions(database: str) -> list[tuple[int, str | None, str | None]]:
    with dedicated_database(database) as conn, conn.cursor() as cursor:
        cursor.execute(
            "SELECT pid, wait_event_type, wait_event FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name = 'provisioning schema copy'"
        )
        return cursor.fetchall()


@pytest.mark.slow
def test_a_worker_killed_in_the_middle_of_the_copy_leaves_the_target_empty_and_the_next_copies_each_row_once(
    staff_api, make_store, no_queue, monkeypatch, tmp_path
):
    shared_store_with_data(make_store)
    before = schema_counts("t_bakery")
    run_id = staff_api.post("/api/v1/staff/tenants/bakery/upgrade-to-dedicated").json()["id"]
    # Given the run up to its copy (its database made and migrated, the store closed)
    monkeypatch.setattr(local, "copy_shared_data", lambda ctx: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        execution.execute_run(run_id)
    monkeypatch.undo()
    database = Tenant.objects.get(slug="bakery").database_name
    tables = sorted(before)
    last = tables[-1]
    target_before = database_counts(database, tables)  # as migrate left it
    # and the copy made to wait, inside its target transaction, when it reaches the last table
    with dedicated_database(database) as target:
        with target.cursor() as cursor:
            cursor.execute(
                "CREATE FUNCTION pause_copy() RETURNS trigger LANGUAGE plpgsql AS "
                f"$$ BEGIN PERFORM pg_advisory_xact_lock({COPY_PAUSE_LOCK}); RETURN NULL; END $$"
            )
            cursor.execute(
                f'CREATE TRIGGER pause_copy BEFORE INSERT ON "{last}" FOR EACH STATEMENT EXECUTE FUNCTION pause_copy()'
            )
            cursor.execute("SELECT pg_advisory_lock(%s)", [COPY_PAUSE_LOCK])
        env = {
            **os.environ,
            "DATABASE_URL": database_url(connection.settings_dict["NAME"]),
            "PROVISIONING_DATABASE_PREFIX": settings.PROVISIONING_DATABASE_PREFIX,
        }
        script = "import django, sys; django.setup(); from provisioning import execution as e; e.execute_run(int(sys.argv[1]))"  # noqa: E501
        with (tmp_path / "worker.log").open("wb") as log:
            worker = subprocess.Popen(  # noqa: S603
                [sys.executable, "-c", script, str(run_id)], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        try:
            # When the worker running it is killed while every earlier table is copied, uncommitted
            wait_for(
                lambda: [s for s in _copy_sessions(database) if s[1:] == ("Lock", "advisory")],
                seconds=120,
                what=f"the copy to reach {last} ({tmp_path / 'worker.log'})",
            )
            worker.send_signal(signal.SIGKILL)
            assert worker.wait(timeout=30) == -signal.SIGKILL
        finally:
            worker.kill()
            worker.wait(timeout=30)
        wait_for(lambda: not _copy_sessions(database), seconds=60, what="the killed copy's session to end")
        with target.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [COPY_PAUSE_LOCK])
            cursor.execute(f'DROP TRIGGER pause_copy ON "{last}"')

    # Then nothing of the half-done copy is in the target, and the source is no longer locked
    assert database_counts(database, tables) == target_before
    with connection.cursor() as cursor, transaction.atomic():
        cursor.execute('LOCK TABLE "t_bakery"."catalog_product" IN EXCLUSIVE MODE NOWAIT')
    run = ProvisioningRun.objects.get(pk=run_id)
    assert step_states(run)["copy_shared_data"] == "running"

    # And the run resumed copies every row once and goes live
    assert execution.execute_run(run_id) == "succeeded"
    run.refresh_from_db()
    assert run.steps.get(name="copy_shared_data").attempts == 3
    assert database_counts(database, tables) == before
    assert Tenant.objects.get(slug="bakery").status == "active"
