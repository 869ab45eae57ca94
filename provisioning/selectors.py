"""Reading provisioning state: a run with its steps, a tenant's runs."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Max, QuerySet

from provisioning.models import ProvisioningRun
from tenants.models import Tenant


def run_with_steps(run_id: int) -> ProvisioningRun | None:
    return (
        ProvisioningRun.objects.select_related("tenant", "requested_by").prefetch_related("steps").filter(pk=run_id)
    ).first()


def latest_run_ids(tenant_ids: Iterable[int]) -> dict[int, int]:
    """Each tenant's most recent run id (one query), for linking a tenant to its progress page."""
    rows = (
        ProvisioningRun.objects.filter(tenant_id__in=list(tenant_ids))
        .values("tenant_id")
        .annotate(latest=Max("pk"))
        .values_list("tenant_id", "latest")
    )
    return dict(rows)


def runs_of(tenant: Tenant) -> QuerySet[ProvisioningRun]:
    return ProvisioningRun.objects.filter(tenant=tenant).order_by("-pk")
