"""A live dedicated store answers on its hostname from its own database: a real gunicorn in
single-tenant mode (`manage.py serve_dedicated`) behind the platform's front proxy. Nothing the store
writes ever lands in the shared database."""

from __future__ import annotations

import pytest
from django.db import connection
from django_tenants.utils import schema_exists

from provisioning import execution
from provisioning.models import ProvisioningRun
from tenants.accounts.models import User
from tenants.models import Tenant
from tests.conftest import STRONG_PASSWORD, store_api
from tests.provisioning.conftest import dedicated_database
from tests.provisioning.dedicated_stack import serving

pytestmark = [pytest.mark.usefixtures("committed_tenancy"), pytest.mark.slow]


def shared_rows_with_sku(sku: str) -> int:
    """Products with `sku` in any schema of the shared database (public, store schemas, pool, template)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT table_schema FROM information_schema.tables WHERE table_name = 'catalog_product'")
        schemas = [name for (name,) in cursor.fetchall()]
        found = 0
        for schema in schemas:
            cursor.execute(f'SELECT count(*) FROM "{schema}".catalog_product WHERE sku = %s', [sku])
            found += cursor.fetchone()[0]
    return found


def test_a_live_dedicated_store_is_served_from_its_own_database_and_nothing_reaches_the_shared_one(
    staff_api, make_store, no_queue, tmp_path
):
    # Given a dedicated store provisioned by the local backend
    make_store(subdomain="pottery", store_name="Calder Pottery", email="potter@example.com", tenancy="dedicated")
    run_id = staff_api.post("/api/v1/staff/tenants/pottery/approve").json()["id"]
    assert execution.execute_run(run_id) == "succeeded", ProvisioningRun.objects.get(pk=run_id).error
    database = Tenant.objects.get(slug="pottery").database_name
    # Not served until its stack runs: the platform never falls back to its own database.
    assert store_api("pottery").get("/api/v1/products").json()["code"] == "tenant_dedicated"

    # When its own stack serves it and the owner works through the store's hostname
    with serving("pottery", tmp_path) as upstream:
        assert Tenant.objects.get(slug="pottery").upstream_url == upstream
        login = store_api("pottery").post(
            "/api/v1/auth/token", {"email": "potter@example.com", "password": STRONG_PASSWORD}, format="json"
        )
        assert login.status_code == 200, login.content
        api = store_api("pottery", login.json()["token"])
        created = api.post(
            "/api/v1/products",
            {"title": "Moon jar", "price": 12500, "sku": "POT-MOON", "status": "active", "stock": 2},
            format="json",
        )
        assert created.status_code == 201, created.content
        listed = api.get("/api/v1/products")
        home = store_api("pottery").get("/")

        # Then the store answers from its own database
        assert listed.status_code == 200 and [p["sku"] for p in listed.json()["results"]] == ["POT-MOON"]
        assert home.status_code == 200 and b"Moon jar" in home.content
        with dedicated_database(database) as conn, conn.cursor() as cursor:
            cursor.execute("SELECT title, price FROM catalog_product WHERE sku = 'POT-MOON'")
            assert cursor.fetchall() == [("Moon jar", 12500)]
            cursor.execute("SELECT slug, schema_name, status FROM tenants_tenant")
            assert cursor.fetchall() == [("pottery", "public", "active")]
        # A forged host for another store, or the root domain, is not served by the store's stack.
        assert store_api("pottery", "x").get("/api/v1/products").status_code == 401

    # And none of it is in the shared database: no product, schema, account or token there
    assert shared_rows_with_sku("POT-MOON") == 0
    assert not schema_exists("t_pottery")
    assert not User.objects.filter(email__iexact="potter@example.com").exists()
    # Once its stack stops, the upstream is withdrawn and the host says it is not served here.
    assert Tenant.objects.get(slug="pottery").upstream_url == ""
    assert store_api("pottery").get("/api/v1/products").json()["code"] == "tenant_dedicated"
