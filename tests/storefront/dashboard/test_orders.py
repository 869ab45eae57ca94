"""The dashboard's Orders section: the orders by tab (to prepare, ready, all) newest first and paged, an order's
page with its lines, pickup or address, payment and history, and the moves its rules allow, made through the
order service by the member signed in (htmx swaps the status panel; without JavaScript a 303 brings the page
back); refusals are told in words and change nothing. Only the store's members get in, owner or staff, and
only to this store's orders."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django_tenants.utils import tenant_context

from onboarding.services import SignupResult
from storefront.dashboard import orders_selectors
from storefront.orders.models import Order, OrderEvent
from tests.storefront.dashboard.browsers import LURKER, assert_members_only, guest, html, signed_in
from tests.storefront.messages.conftest import staff_member_api
from tests.storefront.orders.conftest import add_product, buyer, make_buyer
from tests.storefront.orders.test_order_management import place

pytestmark = pytest.mark.django_db
__all__ = ["buyer", "make_buyer"]
ORDERS = "/dashboard/orders/"


def move(browser: Any, order: dict[str, Any], to: str, reason: str = "", **headers: Any) -> Any:
    return browser.post(f"{ORDERS}{order['id']}/move/", {"to": to, "reason": reason}, **headers)


def notices(response: Any) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def listed(page: str) -> list[str]:
    """The numbers of the orders a list page shows, in its order."""
    return re.findall(r'class="order-number">Order (\w+)</a>', page)


def state(store: SignupResult, order: dict[str, Any]) -> tuple[str, int]:
    """The order's status and how many moves its history holds."""
    with tenant_context(store.tenant):
        return Order.objects.get(pk=order["id"]).status, OrderEvent.objects.filter(order_id=order["id"]).count()


@pytest.fixture
def loaf(store: SignupResult) -> int:
    return add_product(store, stock=10, price=450, title="Sourdough loaf", sku="LOAF-1")


@pytest.fixture
def owner(store: SignupResult) -> Any:
    return signed_in(store, store.owner.email)


def test_a_member_moves_a_pickup_order_placed_paid_ready_and_the_buyer_is_mailed(
    store, buyer, loaf, owner, eager_tasks, mailoutbox, django_capture_on_commit_callbacks
):
    order = place(store, buyer, (loaf, 2))
    page = html(owner.get(f"{ORDERS}{order['id']}/"))
    assert f"Order {order['number']}" in page and "Sourdough loaf" in page and "LOAF-1" in page
    assert "£9.00" in page and "Local pickup" in page and "Ada Buyer" in page
    assert 'value="paid"' in page and 'value="cancelled"' in page and 'id="move-reason"' in page
    assert 'value="ready_for_pickup"' not in page  # only the moves the rules allow from here

    # When the owner marks it paid without JavaScript, then ready for pickup with htmx
    with django_capture_on_commit_callbacks(execute=True):
        paid = move(owner, order, "paid", follow=True)
        ready = move(owner, order, "ready_for_pickup", HTTP_HX_REQUEST="true")

    # Then the first comes back by a 303 to the order's page, the second swaps the status panel in place
    assert paid.redirect_chain == [(f"{ORDERS}{order['id']}/", 303)]
    assert notices(paid) == [f"Order {order['number']} is now paid."]
    swapped = html(ready)
    assert ready.status_code == 200 and swapped.lstrip().startswith('<section class="panel order-status"')
    assert "Ready for pickup" in swapped and f"Order {order['number']} is now ready for pickup." in swapped
    assert 'value="completed"' in swapped and 'value="refunded"' in swapped and 'value="paid"' not in swapped
    assert 'id="order-history" aria-labelledby="history-title" hx-swap-oob="true"' in swapped
    assert "<!doctype" not in swapped
    assert state(store, order) == ("ready_for_pickup", 3)
    with tenant_context(store.tenant):
        actors = list(OrderEvent.objects.filter(order_id=order["id"]).values_list("to_status", "actor"))
    assert actors[1:] == [("paid", f"staff:{store.owner.email}"), ("ready_for_pickup", f"staff:{store.owner.email}")]
    assert [m.subject for m in mailoutbox] == [
        f"Order {order['number']}: payment received",
        f"Order {order['number']} is ready for pickup",
    ]
    assert all(m.to == [buyer["buyer"]["email"]] for m in mailoutbox)


def test_an_illegal_move_is_refused_in_words_and_changes_nothing(
    store, buyer, loaf, owner, eager_tasks, mailoutbox, django_capture_on_commit_callbacks
):
    order = place(store, buyer, (loaf, 1))

    with django_capture_on_commit_callbacks(execute=True):
        skipped = move(owner, order, "completed", follow=True)
        shipped = move(owner, order, "shipped", HTTP_HX_REQUEST="true")
        unknown = move(owner, order, "lost", follow=True)

    assert notices(skipped) == [
        f"Order {order['number']}: An order that is placed cannot become completed; it can become cancelled, paid."
    ]
    assert "An order that is placed cannot become shipped" in html(shipped) and 'class="error"' in html(shipped)
    assert notices(unknown) == ["Nothing changed: Select a valid choice. lost is not one of the available choices."]
    assert state(store, order) == ("placed", 1)
    assert mailoutbox == []


def test_cancelling_needs_a_reason_which_the_history_keeps(store, buyer, loaf, owner):
    order = place(store, buyer, (loaf, 3))

    refused = move(owner, order, "cancelled", "   ", follow=True)
    assert notices(refused) == ["Nothing changed: give a reason to cancel or refund an order."]
    assert state(store, order) == ("placed", 1)

    cancelled = move(owner, order, "cancelled", "The buyer called: not needed after all", follow=True)

    assert notices(cancelled) == [f"Order {order['number']} is now cancelled."]
    page = html(cancelled)
    assert "The buyer called: not needed after all" in page and "there is nothing more to do with it" in page
    assert state(store, order) == ("cancelled", 2)


def test_the_list_shows_each_tab_newest_first(store, make_buyer, loaf, owner):
    ada, bob = make_buyer(), make_buyer()
    waiting = place(store, ada, (loaf, 1))
    ready = place(store, bob, (loaf, 2))
    cancelled = place(store, ada, (loaf, 1))
    for to in ("paid", "ready_for_pickup"):
        move(owner, ready, to)
    move(owner, cancelled, "cancelled", "Out of flour")

    to_prepare = html(owner.get(ORDERS))
    ready_tab = html(owner.get(f"{ORDERS}?show=ready"))
    everything = html(owner.get(f"{ORDERS}?show=all"))

    assert listed(to_prepare) == [waiting["number"]]
    assert '<a href="?show=prepare" aria-current="page">To prepare <span class="count">1</span>' in to_prepare
    assert listed(ready_tab) == [ready["number"]]
    assert '<a href="?show=ready" aria-current="page">Ready <span class="count">1</span>' in ready_tab
    assert listed(everything) == [cancelled["number"], ready["number"], waiting["number"]]  # newest first
    assert "£9.00" in everything and ada["buyer"]["email"] in everything and "Cancelled" in everything
    assert 'aria-current="page">Orders</a>' in everything  # the dashboard's nav


def test_the_list_pages_by_keyset(store, buyer, loaf, owner, monkeypatch):
    monkeypatch.setattr(orders_selectors, "PAGE_SIZE", 2)
    oldest, middle, newest = (place(store, buyer, (loaf, 1)) for _ in range(3))

    first = html(owner.get(ORDERS))
    older = re.search(r'<a href="([^"]+)" rel="next">Older orders</a>', first)
    assert older is not None
    second = html(owner.get(ORDERS + older.group(1).replace("&amp;", "&")))

    assert listed(first) == [newest["number"], middle["number"]]
    assert listed(second) == [oldest["number"]]
    assert 'rel="next"' not in second and "Newest orders" in second


def test_a_staff_member_sees_and_moves_orders_too(store, buyer, loaf):
    staff_member_api(store, "assistant@example.com")
    order = place(store, buyer, (loaf, 1))
    staff = signed_in(store, "assistant@example.com")

    listed = staff.get(ORDERS)
    paid = move(staff, order, "paid")

    assert listed.status_code == 200 and f"Order {order['number']}" in html(listed)
    assert paid.status_code == 303
    with tenant_context(store.tenant):
        assert OrderEvent.objects.filter(order_id=order["id"]).last().actor == "staff:assistant@example.com"


def test_another_stores_order_is_not_found_here(store, make_store, buyer, loaf, owner):
    mine = place(store, buyer, (loaf, 1))
    other = make_store()
    other_loaf = add_product(other, stock=5)
    theirs = [place(other, buyer, (other_loaf, 1)) for _ in range(2)][-1]
    assert theirs["id"] != mine["id"]  # an id only the other store has

    page = owner.get(f"{ORDERS}{theirs['id']}/")
    moved = move(owner, theirs, "cancelled", "not mine")

    assert (page.status_code, moved.status_code) == (404, 404)
    assert state(other, theirs) == ("placed", 1) and state(store, mine) == ("placed", 1)


def test_only_members_get_in(store, buyer, loaf):
    order = place(store, buyer, (loaf, 1))

    assert_members_only(store, ORDERS, f"{ORDERS}{order['id']}/")
    assert move(guest(store), order, "paid").status_code == 302
    assert move(signed_in(store, LURKER), order, "paid").status_code == 403
    assert state(store, order) == ("placed", 1)


def test_the_lists_queries_do_not_grow_with_its_rows(store, buyer, loaf, owner, django_assert_num_queries):
    place(store, buyer, (loaf, 1))
    owner.get(ORDERS)

    # session, user, membership, the shop's colour, the tabs' counts, the page of orders
    with django_assert_num_queries(6):
        one = owner.get(f"{ORDERS}?show=all")
    for _ in range(4):
        place(store, buyer, (loaf, 1))
    with django_assert_num_queries(6):
        five = owner.get(f"{ORDERS}?show=all")

    assert len(listed(html(one))) == 1 and len(listed(html(five))) == 5
