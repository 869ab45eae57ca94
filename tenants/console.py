"""The platform-staff console on the root domain: every tenant, its status and tenancy, and
suspend/reactivate buttons (htmx swaps the row in place); dedicated requests are approved or rejected
from their row (provisioning.console)."""

from __future__ import annotations

from django.db.models import Max
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_POST

from tenants import lifecycle
from tenants.models import Tenant
from tenants.permissions import platform_staff_required
from tenants.routing import store_url


def _row(request: HttpRequest, tenant: Tenant, error: str = "") -> HttpResponse:
    return render(
        request, "tenants/console_row.html", {"tenant": tenant, "url": store_url(tenant.slug), "error": error}
    )


@platform_staff_required()
def tenant_list(request: HttpRequest) -> HttpResponse:
    # Each row links to the tenant's latest provisioning run, if any (one query for the whole list).
    tenants = Tenant.objects.annotate(latest_run_id=Max("provisioning_runs__id")).order_by("-created_at")
    if wanted := request.GET.get("status"):
        tenants = tenants.filter(status=wanted)
    rows = [{"tenant": t, "url": store_url(t.slug)} for t in tenants[:500]]
    pending = Tenant.objects.filter(tenancy=Tenant.Tenancy.DEDICATED, status=Tenant.Status.PENDING_PROVISIONING).count()
    return render(
        request,
        "tenants/console.html",
        {
            "rows": rows,
            "statuses": Tenant.Status.choices,
            "wanted": request.GET.get("status", ""),
            "pending_requests": pending,
        },
    )


@platform_staff_required(operator=True)
@require_POST
def suspend(request: HttpRequest, slug: str) -> HttpResponse:
    tenant = get_object_or_404(Tenant, slug=slug)
    reason = request.headers.get("HX-Prompt") or request.POST.get("reason", "")
    try:
        tenant = lifecycle.suspend(tenant, reason, by=lifecycle.Actor.user(request.user))
    except lifecycle.IllegalTransition as error:
        return _row(request, tenant, str(error))
    return _row(request, tenant)


@platform_staff_required()
@require_POST
def reactivate(request: HttpRequest, slug: str) -> HttpResponse:
    tenant = get_object_or_404(Tenant, slug=slug)
    try:
        tenant = lifecycle.reactivate(tenant, by=lifecycle.Actor.user(request.user))
    except lifecycle.IllegalTransition as error:
        return _row(request, tenant, str(error))
    return _row(request, tenant)
