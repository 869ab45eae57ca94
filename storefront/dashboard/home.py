"""The dashboard's home page: what a merchant checks between customers."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.safestring import mark_safe

from billing.limits import current_store
from storefront.analytics import charts
from storefront.dashboard import selectors
from storefront.dashboard.access import member_required


@member_required
def home(request: HttpRequest) -> HttpResponse:
    summary = selectors.home(current_store(), timezone.localdate())
    # Built from numbers and ISO dates only, each escaped (storefront/analytics/charts.py).
    summary["chart"] = mark_safe(charts.views_and_orders_svg(summary["week"]))  # noqa: S308
    return render(request, "dashboard/home.html", {"section": "home", **summary})
