"""The customer portal page in a store's admin (`/admin/billing/`, the store's owner only): plan and
period, usage and the projected bill, a usage chart, plan changes with a proration preview (htmx),
cancel and resume, payment retry, invoices with their PDFs. The work is done by billing.services.

On a dedicated store's stack the page shows the control plane's billing of the store
(billing.control_plane), "as of" its last copy while the platform cannot be asked, or 503 without one;
changes are made on the platform, so the stack's forms only say so."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from functools import wraps
from typing import Any, cast

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from billing import control_plane, selectors, services
from billing.api import invoice_pdf_response, pdf_response
from billing.dunning import billing_notice
from billing.errors import BillingError
from billing.models import Metric, Subscription
from billing.providers import get_provider
from billing.serializers import usage_summary
from billing.usage_chart import Chart, daily_bars
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


def _chart_metric(request: HttpRequest) -> str:
    metric = request.GET.get("metric", Metric.ORDERS)
    return metric if metric in Metric.values else Metric.ORDERS


def _chart(daily: Mapping[date, int], start: datetime, end: datetime) -> Chart:
    """The period's days so far, up to today."""
    last_day = (min(end, max(timezone.now(), start)) - timedelta(microseconds=1)).date()
    return daily_bars(daily, start.date(), max(last_day, start.date()))


def _billing_unavailable(request: HttpRequest) -> HttpResponse:
    context = {**admin.site.each_context(request), "title": "Billing"}
    return render(request, "billing/portal/unavailable.html", context, status=503)


def _platform_portal_page(request: HttpRequest) -> HttpResponse:
    """A dedicated store's stack: the control plane's billing of the store, unchanged here."""
    try:
        billing = control_plane.platform_billing()
    except control_plane.NoPlatformSubscription as error:
        raise PermissionDenied("This store has no subscription.") from error
    except control_plane.BillingUnavailable:
        return _billing_unavailable(request)
    subscription = billing.subscription()
    metric = _chart_metric(request)
    start, end = subscription.current_period_start, subscription.current_period_end
    context = {
        **admin.site.each_context(request),
        "title": "Billing",
        "subscription": subscription,
        "notice": billing.summary["subscription"].get("notice"),
        "usage": billing.summary["usage"],
        "chart": _chart(billing.daily_usage(metric), start, end),
        "chart_metric": metric,
        "metrics": Metric.choices,
        "invoices": billing.invoices(),
        "platform_billing": billing,
        "managed_on_platform": control_plane.MANAGED_ON_PLATFORM,
    }
    return render(request, "billing/portal/page.html", context)


@require_GET
@owner_only
def portal_page(request: HttpRequest) -> HttpResponse:
    if control_plane.is_dedicated_stack():
        return _platform_portal_page(request)
    projected = selectors.projected_invoice(request.tenant)  # type: ignore[attr-defined]
    if projected is None:
        raise PermissionDenied("This store has no subscription.")
    subscription = projected.subscription
    metric = _chart_metric(request)
    start, end = subscription.current_period_start, subscription.current_period_end
    chart = _chart(selectors.daily_usage(subscription.tenant_id, metric, start, end), start, end)
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
    if control_plane.is_dedicated_stack():
        return render(request, "billing/portal/preview.html", {"error": control_plane.MANAGED_ON_PLATFORM})
    subscription = _subscription(request)
    try:
        change = selectors.preview_plan_change(subscription, request.POST.get("plan", ""), timezone.now())
    except BillingError as error:
        return render(request, "billing/portal/preview.html", {"error": error.message})
    return render(request, "billing/portal/preview.html", {"change": change})


def _acting(request: HttpRequest, action: Callable[[], str]) -> HttpResponseRedirect:
    if control_plane.is_dedicated_stack():
        messages.error(request, control_plane.MANAGED_ON_PLATFORM)
        return HttpResponseRedirect(PORTAL_URL)
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
    if not control_plane.is_dedicated_stack():
        return invoice_pdf_response(request.tenant.pk, number)  # type: ignore[attr-defined]
    try:
        pdf = control_plane.invoice_pdf(number)
    except control_plane.BillingUnavailable:
        return _billing_unavailable(request)
    if pdf is None:
        raise Http404("No such invoice.")
    return pdf_response(pdf, number)
