"""The platform-staff console on the root domain: the tenant list (search, filters, sorts and keyset pages
of a fleet of thousands, tenants.console_list), a page per tenant, and suspend/reactivate (htmx swaps the
row in place, or reloads the tenant's page); dedicated requests are approved or rejected from the same
places (provisioning.console). Billing and provisioning add their filters, row values and page panels
through tenants.console_extensions."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_POST

from tenants import console_extensions, console_list, lifecycle
from tenants.models import Tenant
from tenants.permissions import platform_staff_required
from tenants.routing import store_url

HISTORY_SHOWN = 50
# The tenant list's results, which htmx swaps alone when a search or filter changes.
RESULTS_ID = "tenant-results"


def _row(request: HttpRequest, tenant: Tenant, error: str = "") -> HttpResponse:
    tenant = console_extensions.with_row_values(Tenant.objects.filter(pk=tenant.pk)).get()
    return render(
        request, "tenants/console_row.html", {"tenant": tenant, "url": store_url(tenant.slug), "error": error}
    )


def answer_action(request: HttpRequest, tenant: Tenant, error: str = "") -> HttpResponse:
    """What a console action answers: its row of the list again, or, when it was posted from the tenant's
    page (``from=page``), that page with the outcome as a message: htmx reloads it, a plain form is
    redirected to it."""
    if request.POST.get("from") != "page":
        return _row(request, tenant, error)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, f"{tenant.name} is now {tenant.get_status_display().lower()}.")
    url = reverse("console-tenant", args=[tenant.slug])
    if request.headers.get("HX-Request"):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return HttpResponseRedirect(url, status=303)


@platform_staff_required()
@require_GET
def tenant_list(request: HttpRequest) -> HttpResponse:
    filters = console_extensions.list_filters()
    choices = {f.param: f.choices() for f in filters if f.choices is not None}
    query = console_list.parse_query(request.GET, filters, choices)
    page = console_list.tenant_page(query, filters)
    context = {
        "rows": [{"tenant": t, "url": store_url(t.slug)} for t in page.tenants],
        "query": query,
        "next_url": f"?{urlencode(query.as_params(after=page.next_cursor))}" if page.next_cursor else "",
        "first_url": f"?{urlencode(query.as_params())}" if query.after else "",
        "results_id": RESULTS_ID,
    }
    if request.headers.get("HX-Target") == RESULTS_ID and not request.headers.get("HX-History-Restore-Request"):
        response = render(request, "tenants/console_results.html", context)
    else:
        pending = Tenant.objects.filter(
            tenancy=Tenant.Tenancy.DEDICATED, status=Tenant.Status.PENDING_PROVISIONING
        ).count()
        context |= {
            "statuses": Tenant.Status.choices,
            "tenancies": Tenant.Tenancy.choices,
            "sorts": [(key, sort.label) for key, sort in console_list.SORTS.items()],
            "extra_filters": [
                {"filter": f, "choices": choices.get(f.param), "value": query.narrowed.get(f.param, "")}
                for f in filters
            ],
            "pending_requests": pending,
        }
        response = render(request, "tenants/console.html", context)
    # The same URL answers a whole page or the results alone: caches must keep them apart.
    patch_vary_headers(response, ["HX-Request", "HX-Target"])
    return response


@platform_staff_required()
@require_GET
def tenant_page(request: HttpRequest, slug: str) -> HttpResponse:
    """One tenant: its record and hostnames, the actions its state allows, its status history, and the
    panels billing and provisioning add (plan, invoices and usage; provisioning runs)."""
    tenant = get_object_or_404(Tenant.objects.defer("pending_owner_password"), slug=slug)
    panels = [
        {"panel": panel, "context": {"tenant": tenant, **panel.context(tenant)}}
        for panel in console_extensions.panels()
    ]
    context = {
        "tenant": tenant,
        "url": store_url(tenant.slug),
        "domains": list(tenant.domains.order_by("-is_primary", "domain")),
        "history": list(tenant.state_changes.order_by("-created_at", "-pk")[:HISTORY_SHOWN]),
        "actions": allowed_actions(tenant),
        "panels": panels,
    }
    return render(request, "tenants/console_tenant.html", context)


def allowed_actions(tenant: Tenant) -> list[dict[str, str]]:
    """The console's actions this tenant's state allows, as the page's buttons show them (the endpoints
    check again: operators only for suspend and deprovision, and the lifecycle's transitions)."""
    name, status, dedicated = tenant.name, tenant.status, tenant.is_dedicated
    actions: list[dict[str, str]] = []
    if status == Tenant.Status.SUSPENDED:
        actions.append({"url": "console-reactivate", "label": "Reactivate"})
    if status == Tenant.Status.ACTIVE:
        actions.append({"url": "console-suspend", "label": "Suspend", "prompt": f"Reason for suspending {name}?"})
        if not dedicated:
            actions.append(
                {
                    "url": "console-upgrade",
                    "label": "Upgrade to dedicated",
                    "confirm": f"Move {name} to its own dedicated database? "
                    "The store closes briefly while its data is copied.",
                }
            )
    if status == Tenant.Status.PENDING_PROVISIONING and dedicated:
        actions.append(
            {
                "url": "console-approve",
                "label": "Approve",
                "confirm": f"Approve {name}'s dedicated stack and start provisioning it?",
            }
        )
        actions.append(
            {
                "url": "console-reject",
                "label": "Reject",
                "prompt": f"Reason for rejecting {name}'s request (sent to the merchant)?",
            }
        )
    if dedicated and status in (Tenant.Status.ACTIVE, Tenant.Status.SUSPENDED):
        actions.append(
            {
                "url": "console-deprovision",
                "label": "Deprovision",
                "confirm": f"Deprovision {name}? Its database is exported, then dropped.",
            }
        )
    return actions


@platform_staff_required(operator=True)
@require_POST
def suspend(request: HttpRequest, slug: str) -> HttpResponse:
    tenant = get_object_or_404(Tenant, slug=slug)
    reason = request.headers.get("HX-Prompt") or request.POST.get("reason", "")
    try:
        tenant = lifecycle.suspend(tenant, reason, by=lifecycle.Actor.user(request.user))
    except lifecycle.IllegalTransition as error:
        return answer_action(request, tenant, str(error))
    return answer_action(request, tenant)


@platform_staff_required()
@require_POST
def reactivate(request: HttpRequest, slug: str) -> HttpResponse:
    tenant = get_object_or_404(Tenant, slug=slug)
    try:
        tenant = lifecycle.reactivate(tenant, by=lifecycle.Actor.user(request.user))
    except lifecycle.IllegalTransition as error:
        return answer_action(request, tenant, str(error))
    return answer_action(request, tenant)
