"""In a real browser: staff approve a dedicated request in the console and watch the run go live (htmx
polling), with a real Celery worker building the store's own database."""

from __future__ import annotations

import re

import pytest

from provisioning.models import ProvisioningRun
from tenants.models import Tenant
from tests.conftest import STRONG_PASSWORD, store_api

# The provisioning suite's fixtures: dedicated databases named for this test database and dropped
# afterwards (autouse), a real Celery worker (platform staff: the root conftest's staff_user).
from tests.provisioning.conftest import (  # noqa: F401
    STAFF_EMAIL,
    dedicated_database,
    dedicated_prefix,
    worker,
)
from tests.provisioning.dedicated_stack import serving

pytestmark = pytest.mark.slow


def test_staff_approve_in_the_browser_and_watch_the_run_go_live(  # noqa: F811
    platform,
    page,
    make_store,
    staff_user,
    worker,  # noqa: F811
    tmp_path,
):
    make_store(subdomain="pottery", store_name="Calder Pottery", email="potter@example.com", tenancy="dedicated")
    page.goto(f"{platform}/admin/login/?next=/console/%3Fstatus%3Dpending_provisioning")
    page.fill("input[name=username]", STAFF_EMAIL)
    page.fill("input[name=password]", STRONG_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(r".*/console/"))
    row = page.locator("#tenant-pottery")
    assert "Pending provisioning" in row.inner_text()

    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Approve").click()

    page.wait_for_url(re.compile(r".*/console/provisioning/runs/\d+/"))
    progress = page.locator("#run-progress")
    page.wait_for_function(
        "document.querySelector('#run-progress').innerText.includes('the store is live')", timeout=90_000
    )
    assert "Succeeded" in progress.inner_text()
    assert progress.locator("tr.step-succeeded").count() == 6
    assert ProvisioningRun.objects.get().state == "succeeded"
    assert Tenant.objects.get(slug="pottery").status == "active"

    # The store's own stack serves its hostname from its own database, behind the platform's address.
    with serving("pottery", tmp_path):
        login = store_api("pottery").post(
            "/api/v1/auth/token", {"email": "potter@example.com", "password": STRONG_PASSWORD}, format="json"
        )
        product = {"title": "Moon jar", "price": 12500, "sku": "POT-MOON", "status": "active", "stock": 1}
        assert (
            store_api("pottery", login.json()["token"]).post("/api/v1/products", product, format="json").status_code
            == 201
        )
        page.goto(platform.replace("localhost", "pottery.localhost") + "/")
        assert "Moon jar" in page.content()
    database = Tenant.objects.get(slug="pottery").database_name
    with dedicated_database(database) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT title FROM catalog_product")
        assert cursor.fetchall() == [("Moon jar",)]
