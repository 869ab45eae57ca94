"""The customer portal page in a store's admin (`/admin/billing/`, the store's owner only): plan and
period, usage and the projected bill, a usage chart, plan changes with a proration preview (htmx),
cancel and resume, payment retry, invoices with their PDFs. The work is done by billing.services."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, cast

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from billing import selectors, services
from billing.api import invoice_pdf_response
from billing.dunning import billing_notice
from billing.errors import BillingError
from billing.models import Metric, Subscription
from billing.providers import get_provider
from billing.serializers import usage_summary
from billing.usage_chart import daily_bars
from tenants.accounts.models import Membership, User

PORTAL_URL = "/admin/billing/"
INVOICES_SHOWN = 24

View = Callable[..., HttpResponse]


def owner_only(view: View) -> View:
    """Logged in to this store's admin (else its login page), and its owner (else 403)."""

    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # admin_view has let only a logged-in member of this store's admin through.
        user = cast(User, request.user)
        if not Membership.objects.filter(user=user, role=Membership.Role.OWNER).exists():
            raise PermissionDenied("Only the store's owner may see or change its billing.")
        return view(request, *args, **kwargs)

    return admin.site.admin_view(guarded)


def _subscription(request: HttpRequest) -> Subscription:
    subscription = selectors.subscription_for(request.tenant.pk)  # type: ignore[attr-defined]
    if subscription is None:
        raise PermissionDenied("This store has no subscription.")
    return subscription


@require_GET
@owner_only
def portal_page(request: HttpRequest) -> HttpResponse:
    projected = selectors.projected_invoice(request.tenant)  # type: ignore[attr-defined]
    if projected is None:
        raise PermissionDenied("This store has no subscription.")
    subscription = projected.subscription
    metric = request.GET.get("metric", Metric.ORDERS)
    if metric not in Metric.values:
        metric = Metric.ORDERS
    start, end = subscription.current_period_start, subscription.current_period_end
    last_day = (min(end, max(timezone.now(), start)) - timedelta(microseconds=1)).date()
    chart = daily_bars(
        selectors.daily_usage(subscription.tenant_id, metric, start, end), start.date(), max(last_day, start.date())
    )
    provider = get_provider(subscription.provider)
    context = {
        **admin.site.each_context(request),
        "title": "Billing",
        "subscription": subscription,
        "notice": billing_notice(subscription),
        "usage": usage_summary(projected),
        "chart": chart,
        "chart_metric": metric,
        "metrics": Metric.choices,
        "plans": selectors.portal_plans(subscription),
        "invoices": selectors.invoices_for(subscription.tenant_id)[:INVOICES_SHOWN],
        "payment_methods_url": provider.payment_methods_url(subscription, request.build_absolute_uri(PORTAL_URL)),
        "can_retry": provider.issues_invoices and subscription.status == Subscription.Status.PAST_DUE,
    }
    return render(request, "billing/portal/page.html", context)


@require_POST
@owner_only
def preview_change(request: HttpRequest) -> HttpResponse:
    """The htmx partial: what moving to the chosen plan costs now, with a button to confirm."""
    subscription = _subscription(request)
    try:
        change = selectors.preview_plan_change(subscription, request.POST.get("plan", ""), timezone.now())
    except BillingError as error:
        return render(request, "billing/portal/preview.html", {"error": error.message})
    return render(request, "billing/portal/preview.html", {"change": change})


def _acting(request: HttpRequest, action: Callable[[], str]) -> HttpResponseRedirect:
    try:
        messages.success(request, action())
    except BillingError as error:
        messages.error(request, error.message)
    return HttpResponseRedirect(PORTAL_URL)


@require_POST
@owner_only
def change_plan(request: HttpRequest) -> HttpResponse:
    def act() -> str:
        change = services.change_plan(request.tenant, request.POST.get("plan", ""))  # type: ignore[attr-defined]
        return f"Your store is now on the {change.new_plan.name} plan; the proration is on your next invoice."

    return _acting(request, act)


@require_POST
@owner_only
def cancel(request: HttpRequest) -> HttpResponse:
    def act() -> str:
        subscription = services.cancel_at_period_end(_subscription(request))
        return f"Your subscription will end on {subscription.current_period_end:%d %B %Y}."

    return _acting(request, act)


@require_POST
@owner_only
def resume(request: HttpRequest) -> HttpResponse:
    def act() -> str:
        services.resume_subscription(_subscription(request))
        return "Your subscription goes on: it renews at the end of the period."

    return _acting(request, act)


@require_POST
@owner_only
def retry_payment(request: HttpRequest) -> HttpResponse:
    def act() -> str:
        outcomes = services.retry_payment(_subscription(request))
        failed = [outcome for outcome in outcomes if not outcome.paid]
        if failed:
            raise BillingError(f"The payment failed again: {failed[0].error}", "payment_failed")
        return "Thank you: the payment went through and your account is up to date."

    return _acting(request, act)


@require_GET
@owner_only
def invoice_pdf(request: HttpRequest, number: str) -> HttpResponse:
    return invoice_pdf_response(request.tenant.pk, number)  # type: ignore[attr-defined]
