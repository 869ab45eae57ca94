"""In a real browser: staff approve a dedicated request in the console and watch the run go live (htmx
polling), with a real Celery worker building the store's own database."""

from __future__ import annotations

import re

import pytest

from provisioning.models import ProvisioningRun
from tenants.models import Tenant
from tests.conftest import STRONG_PASSWORD

# The provisioning suite's fixtures: dedicated databases named for this test database and dropped
# afterwards (autouse), platform staff, a real Celery worker.
from tests.provisioning.conftest import STAFF_EMAIL, dedicated_prefix, staff_user, worker  # noqa: F401

pytestmark = pytest.mark.slow


def test_staff_approve_in_the_browser_and_watch_the_run_go_live(platform, page, make_store, staff_user, worker):  # noqa: F811
    make_store(subdomain="pottery", store_name="Calder Pottery", tenancy="dedicated")
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
    assert progress.locator("tr.step-succeeded").count() == 5
    assert ProvisioningRun.objects.get().state == "succeeded"
    assert Tenant.objects.get(slug="pottery").status == "active"
