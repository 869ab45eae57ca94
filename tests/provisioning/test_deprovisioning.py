"""Deprovisioning a dedicated stack: a final export, the database dropped, the tenant recorded as
deprovisioned; nothing is left behind."""

from __future__ import annotations

import pytest

from provisioning import execution
from provisioning.models import ProvisioningRun
from tenants.models import Domain, Tenant
from tests.conftest import store_api
from tests.provisioning.conftest import databases_with_prefix, step_states

pytestmark = pytest.mark.usefixtures("committed_tenancy")


def test_deprovisioning_exports_then_drops_the_database_and_leaves_nothing(
    staff_api, make_store, no_queue, dedicated_prefix, settings
):
    make_store(subdomain="pottery", email="potter@example.com", tenancy="dedicated")
    provision = staff_api.post("/api/v1/staff/tenants/pottery/approve").json()["id"]
    assert execution.execute_run(provision) == "succeeded"

    response = staff_api.post("/api/v1/staff/tenants/pottery/deprovision")

    assert response.status_code == 202
    run_id = response.json()["id"]
    assert Tenant.objects.get(slug="pottery").status == "deprovisioning"
    assert execution.execute_run(run_id) == "succeeded"
    run = ProvisioningRun.objects.get(pk=run_id)
    assert step_states(run) == {
        "export_database": "succeeded",
        "drop_database": "succeeded",
        "record_deprovisioned": "succeeded",
    }
    [export] = list(settings.PROVISIONING_EXPORT_DIR.iterdir())
    assert export.name.startswith("pottery-") and export.suffix == ".sql"
    assert "potter@example.com" in export.read_text()  # the owner's account is in the final export
    assert run.outputs["export"] == str(export)
    assert databases_with_prefix(dedicated_prefix) == set()
    tenant = Tenant.objects.get(slug="pottery")
    assert tenant.status == "deprovisioned" and tenant.database_name == "" and tenant.upstream_url == ""
    # No hostname routes to it any more: its domains are gone and its host is unknown.
    assert not Domain.objects.filter(tenant=tenant).exists()
    assert store_api("pottery").get("/").status_code == 404
    # Replaying the finished run does nothing more.
    assert execution.execute_run(run_id) == "succeeded"


def test_rejecting_after_a_cancelled_run_takes_down_what_it_had_built(
    staff_api, make_store, no_queue, dedicated_prefix, monkeypatch
):
    make_store(subdomain="kiln", tenancy="dedicated")
    run_id = staff_api.post("/api/v1/staff/tenants/kiln/approve").json()["id"]
    # The run gets as far as creating the database, then staff cancel it.
    from provisioning.backends import local

    monkeypatch.setattr(local, "migrate_database", lambda ctx: (_ for _ in ()).throw(RuntimeError("stop here")))
    assert execution.execute_run(run_id) == "failed"
    assert staff_api.post(f"/api/v1/staff/provisioning-runs/{run_id}/cancel").status_code == 200
    assert databases_with_prefix(dedicated_prefix) == {f"{dedicated_prefix}kiln"}

    response = staff_api.post("/api/v1/staff/tenants/kiln/reject", {"reason": "Changed our mind"}, format="json")

    assert response.status_code == 200
    cleanup = ProvisioningRun.objects.get(tenant__slug="kiln", kind="deprovision")
    assert execution.execute_run(cleanup.pk) == "succeeded"
    assert databases_with_prefix(dedicated_prefix) == set()
    tenant = Tenant.objects.get(slug="kiln")
    assert tenant.status == "rejected" and tenant.database_name == ""
