"""Orders in the store's admin: the list (filters, search), an order's page with its lines and history
and nothing to edit, and the moves made from it (or from the list's actions) through the order
service: legal ones recorded with the member who made them, illegal ones refused with its message.
Every member of the store manages orders; nobody from another store gets in."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.utils import timezone

from onboarding.services import SignupResult
from storefront.catalog.models import Product
from storefront.orders import services
from storefront.orders.models import Order, OrderEvent
from tenants.accounts.models import User
from tenants.accounts.services import add_staff_member
from tenants.db_backend import connection
from tests.conftest import STRONG_PASSWORD, store_host
from tests.storefront.conftest import SchemaKeepingBrowser, admin_browser

pytestmark = pytest.mark.django_db
ORDERS = "/admin/orders/order/"
_sessions = itertools.count(1)


def place(product: Product, quantity: int = 1, **checkout: Any) -> Order:
    """An order of a guest session, as the shop's checkout places it."""
    owner = services.CartOwner(session_key=f"guest-{next(_sessions)}")
    services.add_to_cart(owner, product.pk, quantity)
    fields = {"email": "ada@example.com", "name": "Ada", "fulfilment": "pickup", **checkout}
    number = services.place_order(owner, **fields).body["order"]["number"]
    return Order.objects.get(number=number)


def logged_in(store: SignupResult, email: str) -> Client:
    browser = SchemaKeepingBrowser(HTTP_HOST=store_host(store.tenant.slug))
    response = browser.post("/admin/login/?next=/admin/", {"username": email, "password": STRONG_PASSWORD})
    assert response.status_code == 302, f"{email} could not log in"
    return browser


def move(browser: Client, order: Order, to: str, reason: str = "") -> Any:
    return browser.post(f"{ORDERS}{order.pk}/transition/", {"to": to, "reason": reason}, follow=True)


def shown(response: Any) -> list[str]:
    """The admin messages of the page a move led to."""
    return [str(message) for message in response.context["messages"]]


def status_of(order: Order) -> str:
    return Order.objects.values_list("status", flat=True).get(pk=order.pk)


@pytest.fixture
def loaf(in_store: SignupResult) -> Product:
    return Product.objects.create(title="Sourdough loaf", sku="LOAF-1", price=450, stock=10, status="active")


@pytest.fixture
def browser(in_store: SignupResult, loaf: Product) -> Client:
    return admin_browser(in_store)


def test_the_list_filters_by_status_fulfilment_and_date_and_searches_number_and_email(browser, loaf):
    pickup = place(loaf, 2, email="ada@example.com")
    delivery = place(
        loaf,
        1,
        email="bob@example.com",
        fulfilment="delivery",
        address={"line1": "1 Mill Lane", "town": "Hebden", "postcode": "HX7"},
    )
    services.transition_order(delivery.pk, "paid", actor="test")

    everything = browser.get(ORDERS).content.decode()
    paid = browser.get(f"{ORDERS}?status__exact=paid").content.decode()
    delivered = browser.get(f"{ORDERS}?fulfilment__exact=delivery").content.decode()
    midnight = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    today = {"created_at__gte": str(midnight), "created_at__lt": str(midnight + timedelta(days=1))}
    yesterday = {"created_at__gte": str(midnight - timedelta(days=1)), "created_at__lt": str(midnight)}
    made_today = browser.get(f"{ORDERS}?{urlencode(today)}").content.decode()
    made_yesterday = browser.get(f"{ORDERS}?{urlencode(yesterday)}").content.decode()
    by_email = browser.get(f"{ORDERS}?q=bob@").content.decode()
    by_number = browser.get(f"{ORDERS}?q={pickup.number}").content.decode()

    assert pickup.number in everything and delivery.number in everything
    assert "£9.00" in everything and "£4.50" in everything and "Local pickup" in everything
    assert delivery.number in paid and pickup.number not in paid
    assert delivery.number in delivered and pickup.number not in delivered
    assert pickup.number in made_today and delivery.number in made_today
    assert pickup.number not in made_yesterday and "0 orders" in made_yesterday
    assert delivery.number in by_email and pickup.number not in by_email
    assert pickup.number in by_number and delivery.number not in by_number
    assert "Add order" not in everything and 'value="mark_paid"' in everything


def test_an_orders_page_shows_lines_and_history_and_nothing_can_be_edited(browser, in_store, loaf):
    order = place(loaf, 2)
    before = Order.objects.values().get(pk=order.pk)

    page = browser.get(f"{ORDERS}{order.pk}/change/")
    edited = browser.post(f"{ORDERS}{order.pk}/change/", {"status": "completed", "email": "x@example.com"})
    added = browser.post(f"{ORDERS}add/", {"number": "999999"})
    deleted = browser.post(f"{ORDERS}{order.pk}/delete/", {"post": "yes"})

    text = page.content.decode()
    assert page.status_code == 200
    assert "Sourdough loaf" in text and "LOAF-1" in text and "£4.50" in text and "£9.00" in text
    assert f"session:{order.session_key}" in text  # the history: who placed it
    assert 'name="email"' not in text and 'name="status"' not in text and 'name="_save"' not in text
    assert 'value="paid"' in text and 'value="cancelled"' in text and 'id="move-reason"' in text
    assert 'value="completed"' not in text  # only the moves the rules allow from here
    assert (edited.status_code, added.status_code, deleted.status_code) == (403, 403, 403)
    assert Order.objects.values().get(pk=order.pk) == before and Order.objects.count() == 1


def test_the_owner_moves_a_pickup_order_placed_paid_ready_completed(browser, in_store, loaf):
    order = place(loaf, 2)

    answers = [move(browser, order, to) for to in ("paid", "ready_for_pickup", "completed")]

    assert [shown(a) for a in answers] == [
        [f"Order {order.number} is now paid."],
        [f"Order {order.number} is now ready for pickup."],
        [f"Order {order.number} is now completed."],
    ]
    assert all(a.redirect_chain == [(f"{ORDERS}{order.pk}/change/", 302)] for a in answers)
    assert status_of(order) == "completed"
    staff = f"staff:{in_store.owner.email}"
    assert list(OrderEvent.objects.filter(order=order).values_list("from_status", "to_status", "actor")) == [
        ("", "placed", f"session:{order.session_key}"),
        ("placed", "paid", staff),
        ("paid", "ready_for_pickup", staff),
        ("ready_for_pickup", "completed", staff),
    ]
    assert Product.objects.values_list("stock", "allocated").get(pk=loaf.pk) == (8, 0)  # handed over
    final = answers[-1].content.decode()
    assert "Status: Completed" in final and 'value="refunded"' in final and 'value="paid"' not in final


def test_an_illegal_move_shows_the_services_message_and_changes_nothing(browser, in_store, loaf):
    order = place(loaf, 2)

    skipped = move(browser, order, "completed")
    move(browser, order, "paid")
    shipped = move(browser, order, "shipped")  # a pickup order is never shipped
    unknown = move(browser, order, "lost")

    assert skipped.status_code == 200
    assert shown(skipped) == [
        f"Order {order.number}: An order that is placed cannot become completed; it can become cancelled, paid."
    ]
    assert shown(shipped) == [f"Order {order.number}: Only delivery orders can become shipped; this one is pickup."]
    assert shown(unknown) == ["Nothing changed: Select a valid choice. lost is not one of the available choices."]
    assert status_of(order) == "paid"
    assert OrderEvent.objects.filter(order=order).count() == 2
    assert Product.objects.values_list("stock", "allocated").get(pk=loaf.pk) == (10, 2)


def test_cancelling_needs_a_reason_and_puts_the_stock_back_on_sale(browser, in_store, loaf):
    order = place(loaf, 3)

    refused = move(browser, order, "cancelled", "  ")
    cancelled = move(browser, order, "cancelled", "The buyer called: not needed after all")

    assert shown(refused) == ["Nothing changed: give a reason to cancel or refund an order."]
    assert shown(cancelled) == [f"Order {order.number} is now cancelled."]
    event = OrderEvent.objects.filter(order=order).last()
    assert (event.to_status, event.reason) == ("cancelled", "The buyer called: not needed after all")
    assert OrderEvent.objects.filter(order=order).count() == 2  # the refused one left no trace
    assert Product.objects.get(pk=loaf.pk).allocated == 0
    assert "there is nothing more to do with it" in cancelled.content.decode()


def test_the_lists_actions_move_the_selected_orders_and_report_each_refusal(browser, in_store, loaf):
    first, second = place(loaf), place(loaf)
    services.transition_order(second.pk, "cancelled", actor="test", reason="test")

    paid = browser.post(
        ORDERS, {"action": "mark_paid", "_selected_action": [first.pk, second.pk], "index": 0}, follow=True
    )
    refund = browser.post(ORDERS, {"action": "refund", "_selected_action": [first.pk], "reason": ""}, follow=True)

    assert shown(paid) == [
        f"Order {second.number}: An order that is cancelled cannot become paid; it can become nothing (it is final).",
        f"Order {first.number} is now paid.",
    ]
    assert shown(refund) == ["Nothing changed: give a reason to cancel or refund an order."]
    assert (status_of(first), status_of(second)) == ("paid", "cancelled")


def test_a_staff_member_manages_orders_too(in_store, loaf):
    add_staff_member("assistant@example.com", STRONG_PASSWORD)
    order = place(loaf)
    staff = logged_in(in_store, "assistant@example.com")

    index = staff.get("/admin/").content.decode()
    listed = staff.get(ORDERS)
    page = staff.get(f"{ORDERS}{order.pk}/change/")
    paid = move(staff, order, "paid")

    assert f'href="{ORDERS}"' in index
    assert listed.status_code == 200 and order.number in listed.content.decode()
    assert page.status_code == 200 and 'value="paid"' in page.content.decode()
    assert "Sourdough loaf" in page.content.decode() and "session:" in page.content.decode()  # lines, history
    assert shown(paid) == [f"Order {order.number} is now paid."]
    assert OrderEvent.objects.filter(order=order).last().actor == "staff:assistant@example.com"


def test_a_staff_member_of_another_store_cannot_open_this_stores_orders(in_store, loaf, make_store):
    order = place(loaf)
    connection.set_schema_to_public()
    other = make_store()
    connection.set_tenant(other.tenant)
    add_staff_member("rival@example.com", STRONG_PASSWORD)
    rival = logged_in(other, "rival@example.com")
    connection.set_tenant(in_store.tenant)
    # Their session cookie, carried to this store's host
    here = SchemaKeepingBrowser(HTTP_HOST=store_host(in_store.tenant.slug))
    here.cookies = rival.cookies

    listed = here.get(ORDERS)
    page = here.get(f"{ORDERS}{order.pk}/change/")
    moved = here.post(f"{ORDERS}{order.pk}/transition/", {"to": "cancelled", "reason": "rival"})
    their_login = here.post(
        "/admin/login/?next=/admin/", {"username": "rival@example.com", "password": STRONG_PASSWORD}
    )

    for response in (listed, page, moved):
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    assert their_login.status_code == 200  # the login form again: no such account here
    assert status_of(order) == "placed" and OrderEvent.objects.filter(order=order).count() == 1


def test_an_account_of_this_store_without_a_membership_sees_no_orders(in_store, loaf):
    User.objects.create_user("lurker@example.com", STRONG_PASSWORD, is_staff=True)  # no membership
    order = place(loaf)
    lurker = logged_in(in_store, "lurker@example.com")

    assert lurker.get(ORDERS).status_code == 403
    assert lurker.post(f"{ORDERS}{order.pk}/transition/", {"to": "paid"}).status_code == 403
    assert status_of(order) == "placed"


def test_order_list_query_count(browser, in_store, loaf, django_assert_num_queries):
    for _ in range(5):
        place(loaf)
    browser.get(ORDERS)

    # session, user, membership, the paginator's count, the page of orders; the admin's own: the nav
    # sidebar (is there a seller profile yet) and the owner's billing banner
    with django_assert_num_queries(7):
        assert browser.get(ORDERS).status_code == 200
