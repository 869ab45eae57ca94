"""Payouts in the dashboard: the store's Stripe account (Stripe Connect), whether it can take cards and be
paid out, and the owner's button to start or continue Stripe's onboarding."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_POST

from storefront.dashboard.access import member_required, owner_required
from storefront.payments import services
from storefront.payments.models import StripeAccount
from storefront.payments.providers import PaymentFailed
from tenants.permissions import is_store_owner


class SeeOther(HttpResponseRedirect):
    status_code = 303


@member_required
def payouts_page(request: HttpRequest) -> HttpResponse:
    account = StripeAccount.objects.first()
    if account is not None and request.GET.get("refresh") == "1":
        try:
            account = services.refresh_account()
        except PaymentFailed as error:
            messages.error(request, str(error))
    context = {"section": "payouts", "account": account, "is_owner": is_store_owner(request.user)}
    return render(request, "dashboard/payouts.html", context)


@owner_required
@require_POST
def connect(request: HttpRequest) -> HttpResponse:
    back = request.build_absolute_uri("/dashboard/payouts/?refresh=1")
    try:
        _, url = services.start_onboarding(email=request.user.email, return_url=back, refresh_url=back)  # type: ignore[union-attr]
    except PaymentFailed as error:
        messages.error(request, f"Stripe could not be reached: {error}")
        return SeeOther("/dashboard/payouts/")
    return SeeOther(url)
