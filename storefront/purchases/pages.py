"""The root domain's "Your orders" page: the signed-in buyer's orders in every store, from the same selector as
the API."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from storefront.buyers.web import root_buyer
from storefront.purchases import selectors

PAGE_SIZE = 20


@never_cache
@require_GET
def your_orders(request: HttpRequest) -> HttpResponse:
    buyer = root_buyer(request)
    if buyer is None:
        return redirect("buyer-sign-in")
    try:
        number = min(max(int(request.GET.get("page", "1")), 1), 10_000)
    except ValueError:
        number = 1
    page = selectors.buyer_order_history(buyer.id, limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE)
    context = {
        "buyer": buyer,
        "orders": page.results,
        "count": page.count,
        "page_number": number,
        "previous_page": number - 1 if number > 1 else None,
        "next_page": number + 1 if number * PAGE_SIZE < page.count else None,
    }
    return render(request, "purchases/your_orders.html", context)
