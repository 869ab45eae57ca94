"""What billing adds to the staff console (through tenants.console_extensions, registered in BillingConfig):
the plan and past-due filters of the tenant list, a past-due mark on its rows, and the billing panel of a
tenant's page (the subscription, this period's usage and projected bill, the latest invoices)."""

from __future__ import annotations

from django.db.models import OuterRef, QuerySet, Subquery
from django.db.models.expressions import BaseExpression

from billing import selectors
from billing.models import Plan, Subscription
from billing.serializers import usage_summary
from tenants import console_extensions
from tenants.console_extensions import ListFilter, Panel
from tenants.models import Tenant

INVOICES_SHOWN = 12


def plan_choices() -> list[tuple[str, str]]:
    """Every plan of the catalog, public or not (one query of a table of a few rows)."""
    return [
        (code, f"{name} ({code})")
        for code, name in Plan.objects.order_by("sort_order", "code").values_list("code", "name")
    ]


def on_plan(tenants: QuerySet[Tenant], code: str) -> QuerySet[Tenant]:
    # The registry's copy of the plan, which billing keeps in step (lifecycle.record_plan on a change).
    return tenants.filter(plan_code=code)


def past_due(tenants: QuerySet[Tenant], _: str) -> QuerySet[Tenant]:
    return tenants.filter(pk__in=Subscription.objects.filter(status=Subscription.Status.PAST_DUE).values("tenant_id"))


def subscription_status() -> BaseExpression:
    return Subquery(Subscription.objects.filter(tenant=OuterRef("pk")).values("status")[:1])


def tenant_panel(tenant: Tenant) -> dict[str, object]:
    """The subscription with its usage and projected bill (five queries) and the latest invoices (one)."""
    projected = selectors.projected_invoice(tenant)
    return {
        "subscription": projected.subscription if projected else None,
        "usage": usage_summary(projected) if projected else None,
        "invoices": list(selectors.invoices_for(tenant.pk)[:INVOICES_SHOWN]),
    }


def register() -> None:
    console_extensions.add_list_filter(ListFilter("plan", "Plan", on_plan, choices=plan_choices))
    console_extensions.add_list_filter(ListFilter("past_due", "Past due", past_due))
    console_extensions.add_row_value("subscription_status", subscription_status)
    panel = Panel("billing", "Billing", "billing/console/tenant_panel.html", tenant_panel, position=10)
    console_extensions.add_panel(panel)
