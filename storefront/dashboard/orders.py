"""The dashboard's Orders section: the orders by tab (to prepare, ready, all), newest first a page at a time,
and an order's page with its lines, address or pickup, payment, history and the moves its rules allow now.
A move posts to storefront.orders.moves (the admin's own): with htmx the status panel is swapped in place,
without JavaScript the page comes back by a 303 with a notice."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from storefront.dashboard import orders_selectors as selectors
from storefront.dashboard.access import member_required
from storefront.dashboard.redirects import see_other
from storefront.orders import moves
from storefront.orders.models import Order


@member_required
def order_list(request: HttpRequest) -> HttpResponse:
    tab = selectors.tab_named(request.GET.get("show", ""))
    page = selectors.orders_page(tab, request.GET.get("after", ""))
    context = {
        "section": "orders",
        "tabs": selectors.TABS,
        "tab": tab,
        "counts": selectors.tab_counts(),
        "page": page,
        "first_page": not request.GET.get("after"),
    }
    return render(request, "dashboard/orders_list.html", context)


def _status_context(order: Order) -> dict[str, Any]:
    allowed = moves.legal_moves(order)
    return {
        "moves": allowed,
        "asks_reason": moves.asks_reason(allowed),
        "needs_reason": moves.NEEDS_REASON,
        "reason_max": moves.REASON_MAX,
    }


def _order_page(order_id: int) -> dict[str, Any]:
    page = selectors.order_page(order_id)
    if page is None:
        raise Http404("No such order in this store.")
    return {"section": "orders", **page, **_status_context(page["order"])}


@member_required
def order_detail(request: HttpRequest, order_id: int) -> HttpResponse:
    return render(request, "dashboard/orders_detail.html", _order_page(order_id))


@require_POST
@member_required
def order_move(request: HttpRequest, order_id: int) -> HttpResponse:
    moves.move_from_form(request, order_id)
    if request.headers.get("HX-Request"):
        # The status panel (with the notice) in place of the old one, and the history swapped out of band.
        return render(request, "dashboard/orders_moved.html", _order_page(order_id))
    return see_other("dashboard:order", order_id=order_id)
