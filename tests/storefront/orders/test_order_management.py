"""Store staff manage orders over the API: list and filter, legal moves only (409 otherwise), each
recorded with who and why; stock follows (allocated, handed over, back on sale); a paid order is billed
as usage once; buyers see their own orders and nobody else's."""

from __future__ import annotations

import pytest

from billing.models import UsageEvent
from storefront.catalog.models import Product
from storefront.orders.models import Order, OrderEvent
from tests.conftest import store_api
from tests.storefront.conftest import admin_browser
from tests.storefront.orders.conftest import add_product, fill_cart, shop

pytestmark = pytest.mark.django_db
PICKUP = {"fulfilment": "pickup", "payment": "local"}


def place(store, buyer, *items):
    client = shop(store, buyer)
    fill_cart(client, *items)
    response = client.post("/api/v1/checkout", PICKUP, format="json")
    assert response.status_code == 201, response.content
    return response.json()["order"]


def move(store, order_id, to, reason=""):
    return store_api(store.tenant.slug, store.token).post(
        f"/api/v1/orders/{order_id}/transition", {"to": to, "reason": reason}, format="json"
    )


def stock_of(in_store_of, store, product):
    with in_store_of(store):
        return Product.objects.values_list("stock", "allocated").get(pk=product)


def test_a_pickup_order_goes_paid_ready_completed_and_its_units_leave_the_stock(
    make_store, buyer, in_store_of, eager_tasks, mailoutbox, django_capture_on_commit_callbacks
):
    store = make_store()
    loaf = add_product(store, stock=5, price=300)
    order = place(store, buyer, (loaf, 2))

    with django_capture_on_commit_callbacks(execute=True):
        answers = [move(store, order["id"], to, f"step {to}") for to in ("paid", "ready_for_pickup", "completed")]

    assert [a.status_code for a in answers] == [200, 200, 200]
    final = answers[-1].json()
    assert final["status"] == "completed"
    assert [(h["from"], h["to"], h["by"]) for h in final["history"]] == [
        ("", "placed", f"buyer:{buyer['buyer']['id']}"),
        ("placed", "paid", f"staff:{store.owner.email}"),
        ("paid", "ready_for_pickup", f"staff:{store.owner.email}"),
        ("ready_for_pickup", "completed", f"staff:{store.owner.email}"),
    ]
    assert final["history"][1]["reason"] == "step paid"
    assert stock_of(in_store_of, store, loaf) == (3, 0)
    number = order["number"]
    assert [m.subject for m in mailoutbox] == [
        f"Order {number}: payment received",
        f"Order {number} is ready for pickup",
        f"Order {number} completed",
    ]


def test_illegal_moves_are_refused_with_409_and_change_nothing(make_store, buyer, in_store_of):
    store = make_store()
    loaf = add_product(store, stock=5)
    order = place(store, buyer, (loaf, 1))

    skipping = move(store, order["id"], "completed")
    wrong_way = move(store, order["id"], "shipped")  # not paid, and a pickup order is never shipped
    unknown = move(store, order["id"], "lost")
    missing = move(store, 999_999, "paid")

    assert (skipping.status_code, wrong_way.status_code, unknown.status_code, missing.status_code) == (
        409,
        409,
        400,
        404,
    )
    assert skipping.json()["code"] == "illegal_transition" and "cannot become completed" in skipping.json()["detail"]
    with in_store_of(store):
        assert Order.objects.get().status == "placed" and OrderEvent.objects.count() == 1
    assert move(store, order["id"], "paid").status_code == 200
    assert move(store, order["id"], "shipped").json()["detail"].startswith("Only delivery orders")


def test_cancelling_puts_the_units_back_on_sale_and_refunding_a_completed_order_restocks(
    make_store, make_buyer, in_store_of
):
    store = make_store()
    loaf = add_product(store, stock=3)
    cancelled = place(store, make_buyer(), (loaf, 2))
    assert stock_of(in_store_of, store, loaf) == (3, 2)

    assert move(store, cancelled["id"], "cancelled", "buyer called").status_code == 200
    assert stock_of(in_store_of, store, loaf) == (3, 0)

    sold = place(store, make_buyer(), (loaf, 3))
    for to in ("paid", "ready_for_pickup", "completed"):
        assert move(store, sold["id"], to).status_code == 200
    assert stock_of(in_store_of, store, loaf) == (0, 0)
    assert move(store, sold["id"], "refunded", "returned unopened").status_code == 200
    assert stock_of(in_store_of, store, loaf) == (3, 0)
    assert move(store, sold["id"], "refunded").status_code == 409  # once


def test_a_paid_order_is_billed_as_orders_and_gmv_usage_once(make_store, buyer):
    store = make_store()
    order = place(store, buyer, (add_product(store, stock=5, price=1250), 2))

    assert move(store, order["id"], "paid").status_code == 200
    assert move(store, order["id"], "paid").status_code == 409

    usage = UsageEvent.objects.filter(tenant_id=store.tenant.pk).values_list("metric", "quantity", "idempotency_key")
    assert sorted(usage) == [
        ("gmv", 2500, f"order-{order['number']}-gmv"),
        ("orders", 1, f"order-{order['number']}-orders"),
    ]


def test_staff_list_and_filter_orders_and_buyers_see_only_their_own(make_store, make_buyer):
    store = make_store()
    loaf = add_product(store, stock=10)
    ada, bob = make_buyer(), make_buyer()
    first, second = place(store, ada, (loaf, 1)), place(store, bob, (loaf, 1))
    assert move(store, second["id"], "paid").status_code == 200
    staff = store_api(store.tenant.slug, store.token)

    everything = staff.get("/api/v1/orders").json()
    paid = staff.get("/api/v1/orders?status=paid").json()
    bad_filter = staff.get("/api/v1/orders?status=lost")

    assert [o["id"] for o in everything["results"]] == [second["id"], first["id"]]
    assert [o["id"] for o in paid["results"]] == [second["id"]]
    assert bad_filter.status_code == 400
    assert [o["id"] for o in shop(store, ada).get("/api/v1/orders").json()["results"]] == [first["id"]]
    assert shop(store, ada).get(f"/api/v1/orders/{second['id']}").status_code == 404
    assert shop(store, ada).get(f"/api/v1/orders/{first['id']}").json()["number"] == first["number"]
    assert "history" not in shop(store, ada).get(f"/api/v1/orders/{first['id']}").json()


def test_buyers_cannot_move_orders_and_other_stores_staff_cannot_see_them(make_store, buyer, in_store_of):
    store, other = make_store(), make_store()
    order = place(store, buyer, (add_product(store), 1))

    by_buyer = shop(store, buyer).post(f"/api/v1/orders/{order['id']}/transition", {"to": "paid"}, format="json")
    other_token = store_api(store.tenant.slug, other.token)
    cross_list = other_token.get("/api/v1/orders")
    cross_move = other_token.post(f"/api/v1/orders/{order['id']}/transition", {"to": "cancelled"}, format="json")
    on_their_host = store_api(other.tenant.slug, other.token).get(f"/api/v1/orders/{order['id']}")
    anonymous = store_api(store.tenant.slug).get("/api/v1/orders")

    assert by_buyer.status_code == 401  # a buyer token is no staff credential at all
    assert (cross_list.status_code, cross_move.status_code) == (401, 401)
    assert on_their_host.status_code == 404
    assert anonymous.status_code == 401
    with in_store_of(store):
        assert Order.objects.get().status == "placed"


def test_a_staff_member_logged_in_to_the_admin_reads_orders_with_the_session(make_store, buyer):
    store = make_store()
    place(store, buyer, (add_product(store), 1))
    browser = admin_browser(store)

    response = browser.get("/api/v1/orders")

    assert response.status_code == 200 and response.json()["count"] == 1
