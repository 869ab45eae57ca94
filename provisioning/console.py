"""The staff console's provisioning pages: approve or reject a dedicated request from the tenant list or
the tenant's page, and a run page whose progress fragment htmx polls every second until the run stops.
It also gives the console (tenants.console_extensions) each row's latest run and the tenant page's runs."""

from __future__ import annotations

from django.db.models import OuterRef, Subquery
from django.db.models.expressions import BaseExpression
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from billing import fleet_overview
from billing.fleet_overview import FleetFigure
from provisioning import selectors, services
from provisioning.models import ProvisioningRun
from tenants import console, console_extensions
from tenants.accounts.models import User
from tenants.console_extensions import Panel
from tenants.models import Tenant
from tenants.permissions import platform_staff_required
from tenants.routing import store_url


def _redirect_to_run(request: HttpRequest, run: ProvisioningRun) -> HttpResponse:
    url = reverse("console-provisioning-run", args=[run.pk])
    if request.headers.get("HX-Request"):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return HttpResponseRedirect(url)


def _tenant_row(request: HttpRequest, tenant: Tenant, error: str = "") -> HttpResponse:
    return console.answer_action(request, tenant, error)


def _staff(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


@platform_staff_required()
@require_POST
def approve(request: HttpRequest, slug: str) -> HttpResponse:
    tenant = get_object_or_404(Tenant, slug=slug)
    try:
        run = services.approve_dedicated_request(tenant, _staff(request))
    except services.ProvisioningConflict as error:
        return _tenant_row(request, tenant, str(error))
    return _redirect_to_run(request, run)


@platform_staff_required()
@require_POST
def reject(request: HttpRequest, slug: str) -> HttpResponse:
    tenant = get_object_or_404(Tenant, slug=slug)
    reason = request.headers.get("HX-Prompt") or request.POST.get("reason", "")
    try:
        tenant = services.reject_dedicated_request(tenant, reason, _staff(request))
    except services.ProvisioningConflict as error:
        return _tenant_row(request, tenant, str(error))
    return _tenant_row(request, tenant)


@platform_staff_required(operator=True)
@require_POST
def deprovision(request: HttpRequest, slug: str) -> HttpResponse:
    tenant = get_object_or_404(Tenant, slug=slug)
    try:
        run = services.request_deprovisioning(tenant, _staff(request))
    except services.ProvisioningConflict as error:
        return _tenant_row(request, tenant, str(error))
    return _redirect_to_run(request, run)


@platform_staff_required()
@require_POST
def upgrade(request: HttpRequest, slug: str) -> HttpResponse:
    tenant = get_object_or_404(Tenant, slug=slug)
    try:
        run = services.request_upgrade(tenant, _staff(request))
    except services.ProvisioningConflict as error:
        return _tenant_row(request, tenant, str(error))
    return _redirect_to_run(request, run)


def _run_or_404(run_id: int) -> ProvisioningRun:
    run = selectors.run_with_steps(run_id)
    if run is None:
        raise Http404("No such provisioning run.")
    return run


def _progress_context(run: ProvisioningRun) -> dict[str, object]:
    upgraded = run.kind == ProvisioningRun.Kind.UPGRADE and run.state == ProvisioningRun.State.SUCCEEDED
    return {
        "run": run,
        "store_url": store_url(run.tenant.slug),
        # Only once an upgrade is done (no more polling): the shared schema staff may now drop.
        "kept_schema": services.kept_shared_schema(run.tenant) if upgraded else None,
    }


def _progress(request: HttpRequest, run_id: int, error: str = "", notice: str = "") -> HttpResponse:
    context = {**_progress_context(_run_or_404(run_id)), "error": error, "notice": notice}
    return render(request, "provisioning/run_progress.html", context)


@platform_staff_required()
def run_page(request: HttpRequest, run_id: int) -> HttpResponse:
    run = _run_or_404(run_id)
    return render(
        request,
        "provisioning/run.html",
        {**_progress_context(run), "other_runs": selectors.runs_of(run.tenant).exclude(pk=run.pk)[:20]},
    )


@platform_staff_required()
def run_progress(request: HttpRequest, run_id: int) -> HttpResponse:
    return _progress(request, run_id)


@platform_staff_required()
@require_POST
def retry(request: HttpRequest, run_id: int) -> HttpResponse:
    try:
        services.retry_run(_run_or_404(run_id))
    except services.ProvisioningConflict as error:
        return _progress(request, run_id, str(error))
    return _progress(request, run_id)


@platform_staff_required()
@require_POST
def cancel(request: HttpRequest, run_id: int) -> HttpResponse:
    try:
        services.cancel_run(_run_or_404(run_id), _staff(request))
    except services.ProvisioningConflict as error:
        return _progress(request, run_id, str(error))
    return _progress(request, run_id)


@platform_staff_required(operator=True)
@require_POST
def confirm_upgrade(request: HttpRequest, run_id: int) -> HttpResponse:
    """From an upgrade's run page: drop the shared schema the store left behind."""
    run = _run_or_404(run_id)
    try:
        schema = services.confirm_upgrade(run.tenant)
    except services.ProvisioningConflict as error:
        return _progress(request, run_id, str(error))
    return _progress(request, run_id, notice=f"Upgrade confirmed: the shared schema {schema} was dropped.")


# --- What provisioning adds to the console's tenant list and pages ------------------------------------

RUNS_SHOWN = 20


def latest_run_id() -> BaseExpression:
    """Each console row links to its tenant's latest run, if any."""
    return Subquery(ProvisioningRun.objects.filter(tenant=OuterRef("pk")).order_by("-pk").values("pk")[:1])


def tenant_panel(tenant: Tenant) -> dict[str, object]:
    """The tenant's latest runs with who asked for them (one query)."""
    return {"runs": list(selectors.runs_of(tenant).select_related("requested_by")[:RUNS_SHOWN])}


def runs_in_flight() -> int:
    """Runs a worker is on or about to take (a failed run waits for staff, not for a worker)."""
    return ProvisioningRun.objects.filter(
        state__in=[ProvisioningRun.State.PENDING, ProvisioningRun.State.RUNNING]
    ).count()


def register() -> None:
    fleet_overview.add_figure(FleetFigure("provisioning-in-flight", "Provisioning runs in flight", runs_in_flight))
    console_extensions.add_row_value("latest_run_id", latest_run_id)
    console_extensions.add_panel(
        Panel("provisioning", "Provisioning runs", "provisioning/tenant_panel.html", tenant_panel, 20)
    )
