"""A guest buys on a store's pages: the product page's add-to-cart form (only while units are left), the
cart (change, remove, total), checkout (pickup or delivery, local payment) and the confirmation page,
which only the session that placed the order sees. A double submit orders once; CSRF is enforced."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from onboarding.services import SignupResult
from storefront.catalog.models import Product
from storefront.orders.models import Cart, CartItem, CheckoutRequest, Order, OrderEvent
from tests.conftest import store_host
from tests.storefront.conftest import SchemaKeepingBrowser, admin_browser

pytestmark = pytest.mark.django_db
GUEST = {"email": "ada@example.com", "name": "Ada Lovelace", "fulfilment": "pickup", "payment": "local"}


def guest(store: SignupResult, **options: Any) -> Client:
    return SchemaKeepingBrowser(HTTP_HOST=store_host(store.tenant.slug), **options)


def add_product(title: str = "Sourdough loaf", **fields: Any) -> Product:
    n = Product.objects.count() + 1
    values: dict[str, Any] = {"sku": f"SKU-{n}", "price": 450, "stock": 12, "status": "active"}
    values.update(fields)
    return Product.objects.create(title=title, **values)


def add_to_cart(client: Client, product: Product, quantity: int | str = 1) -> Any:
    return client.post(f"/products/{product.pk}/add-to-cart/", {"quantity": quantity})


def checkout_form(client: Client) -> dict[str, str]:
    """The checkout page's form as rendered: its one-time key with the guest's answers."""
    page = client.get("/checkout/")
    assert page.status_code == 200
    key = re.search(r'name="checkout_key" value="([^"]+)"', page.content.decode())
    assert key is not None, "the checkout page has no one-time key"
    return {**GUEST, "checkout_key": key.group(1)}


def session_key(client: Client) -> str:
    return client.cookies["sessionid"].value


def html(response: Any) -> str:
    return response.content.decode()


@pytest.fixture
def loaf(in_store: SignupResult) -> Product:
    return add_product("Sourdough loaf", price=450, stock=5)


# --- The product page's form ------------------------------------------------------------------------


def test_the_product_page_offers_the_cart_only_while_units_are_left(in_store, loaf):
    all_placed = add_product("Dark rye", stock=2, allocated=2)
    none_made = add_product("Lemon drizzle cake", stock=0)
    draft = add_product("Secret seeded loaf", status="draft")
    client = guest(in_store)

    on_sale = html(client.get(f"/products/{loaf.pk}/"))
    allocated = html(client.get(f"/products/{all_placed.pk}/"))
    empty = html(client.get(f"/products/{none_made.pk}/"))
    previewed = html(admin_browser(in_store).get(f"/products/{draft.pk}/"))

    assert f'action="/products/{loaf.pk}/add-to-cart/"' in on_sale and "csrfmiddlewaretoken" in on_sale
    assert 'name="quantity"' in on_sale and 'max="5"' in on_sale and "Only 5 left" in on_sale
    for page in (allocated, empty):
        assert "Sold out" in page and "add-to-cart" not in page
    assert "Preview:" in previewed and "add-to-cart" not in previewed  # not for sale yet
    assert not Cart.objects.exists()  # looking costs no cart


def test_a_product_sold_out_since_the_page_was_shown_is_not_added(in_store, loaf):
    client = guest(in_store)
    Product.objects.filter(pk=loaf.pk).update(allocated=4)

    too_many = add_to_cart(client, loaf, 2)
    Product.objects.filter(pk=loaf.pk).update(allocated=5)
    gone = add_to_cart(client, loaf, 1)
    nonsense = add_to_cart(client, loaf, "two")

    assert too_many.status_code == 400 and "Only 1 of &#x27;Sourdough loaf&#x27; left." in html(too_many)
    assert gone.status_code == 400 and "&#x27;Sourdough loaf&#x27; is sold out." in html(gone)
    assert "Sold out" in html(gone)
    assert nonsense.status_code == 400 and "A quantity is a whole number." in html(nonsense)
    assert not CartItem.objects.exists()


def test_drafts_and_other_ids_cannot_be_added(in_store):
    draft = add_product("Secret seeded loaf", status="draft")
    client = guest(in_store)

    assert add_to_cart(client, draft).status_code == 404
    assert client.post("/products/999999/add-to-cart/", {"quantity": 1}).status_code == 404
    assert client.get(f"/products/{draft.pk}/add-to-cart/").status_code == 405
    assert not Cart.objects.exists()


# --- The cart ---------------------------------------------------------------------------------------


def test_a_guest_adds_changes_and_removes_and_sees_the_total_as_money(in_store, loaf):
    jam = add_product("Damson jam", price=380, stock=9)
    client = guest(in_store)

    added = add_to_cart(client, loaf, 2)
    add_to_cart(client, jam, 1)
    first = client.get("/cart/")
    item = CartItem.objects.get(product=loaf)
    changed = client.post(f"/cart/items/{item.pk}/", {"quantity": 3})
    removed = client.post(f"/cart/items/{CartItem.objects.get(product=jam).pk}/remove/")
    last = html(client.get("/cart/"))

    assert (added.status_code, added["Location"]) == (303, "/cart/")
    assert "Added 2 × Sourdough loaf to your cart." in html(first)
    assert "£9.00" in html(first) and "£3.80" in html(first) and "£12.80" in html(first)
    assert 'class="cart-count">(3)' in html(first)
    assert (changed.status_code, removed.status_code) == (303, 303)
    assert "Damson jam" not in last and "£13.50" in last and 'class="cart-count">(3)' in last
    cart = Cart.objects.get()
    assert (cart.session_key, cart.buyer_id) == (session_key(client), None)
    assert list(CartItem.objects.values_list("product_id", "quantity")) == [(loaf.pk, 3)]


def test_a_quantity_must_be_a_whole_positive_number(in_store, loaf):
    client = guest(in_store)
    add_to_cart(client, loaf, 2)
    item = CartItem.objects.get()

    zero = client.post(f"/cart/items/{item.pk}/", {"quantity": 0})
    words = client.post(f"/cart/items/{item.pk}/", {"quantity": "lots"})

    assert zero.status_code == 400 and "greater than or equal to 1" in html(zero)
    assert words.status_code == 400 and "A quantity is a whole number." in html(words)
    assert CartItem.objects.get().quantity == 2


def test_another_session_cannot_change_or_remove_a_guests_item(in_store, loaf):
    owner, stranger = guest(in_store), guest(in_store)
    add_to_cart(owner, loaf, 2)
    add_to_cart(stranger, add_product("Damson jam"), 1)
    item = CartItem.objects.get(product=loaf)

    changed = stranger.post(f"/cart/items/{item.pk}/", {"quantity": 9})
    removed = stranger.post(f"/cart/items/{item.pk}/remove/")
    cookieless = guest(in_store).post(f"/cart/items/{item.pk}/remove/")

    assert (changed.status_code, removed.status_code, cookieless.status_code) == (404, 404, 404)
    assert CartItem.objects.get(pk=item.pk).quantity == 2
    assert "Sourdough loaf" not in html(stranger.get("/cart/"))


def test_an_empty_cart_page_for_a_new_visitor_starts_no_session(in_store):
    client = guest(in_store)

    page = client.get("/cart/")

    assert "Your cart is empty." in html(page)
    assert "sessionid" not in page.cookies and not Cart.objects.exists()


def test_cart_page_query_count(in_store, loaf, django_assert_num_queries):
    client = guest(in_store)
    for n in range(5):
        add_to_cart(client, add_product(f"Bun {n}"), 1)

    # the session, the cart, its items with their products, the header's count
    with django_assert_num_queries(4):
        assert client.get("/cart/").status_code == 200


# --- Checkout and the confirmation ------------------------------------------------------------------


def test_a_guest_checks_out_for_pickup_and_sees_the_confirmation(
    in_store, loaf, eager_tasks, mailoutbox, django_capture_on_commit_callbacks
):
    client = guest(in_store)
    add_to_cart(client, loaf, 2)
    form = checkout_form(client)

    with django_capture_on_commit_callbacks(execute=True):
        placed = client.post("/checkout/", form)
    order = Order.objects.get()
    confirmation = client.get(placed["Location"])

    assert (placed.status_code, placed["Location"]) == (303, f"/orders/{order.number}/")
    assert (order.status, order.fulfilment, order.payment_provider, order.total) == ("placed", "pickup", "local", 900)
    assert (order.email, order.name, order.session_key, order.address) == (
        "ada@example.com",
        "Ada Lovelace",
        session_key(client),
        {},
    )
    assert Product.objects.values_list("stock", "allocated").get(pk=loaf.pk) == (5, 2)
    assert not CartItem.objects.exists()
    page = html(confirmation)
    assert confirmation.status_code == 200
    assert f"order {order.number}" in page and "Placed" in page and "Local pickup" in page
    assert "2</td><td>£4.50</td><td>£9.00" in page and "ada@example.com" in page
    assert 'class="cart-count"' not in page  # the cart is empty now
    assert list(OrderEvent.objects.values_list("to_status", "actor")) == [("placed", f"session:{session_key(client)}")]
    assert [m.subject for m in mailoutbox] == [f"Order {order.number} placed"]


def test_the_checkout_page_defaults_to_pickup_and_local_payment(in_store, loaf):
    client = guest(in_store)
    add_to_cart(client, loaf, 1)

    page = html(client.get("/checkout/"))

    assert re.search(r'value="pickup"[^>]*checked', page) and re.search(r'value="local"[^>]*checked', page)
    assert "£4.50" in page


def test_another_session_never_sees_the_confirmation(in_store, loaf):
    buyer, stranger = guest(in_store), guest(in_store)
    add_to_cart(buyer, loaf, 1)
    buyer.post("/checkout/", checkout_form(buyer))
    number = Order.objects.get().number
    add_to_cart(stranger, loaf, 1)
    stranger.post("/checkout/", checkout_form(stranger))
    theirs = Order.objects.exclude(number=number).get().number

    assert guest(in_store).get(f"/orders/{number}/").status_code == 404
    assert stranger.get(f"/orders/{number}/").status_code == 404
    assert stranger.get(f"/orders/{theirs}/").status_code == 200
    assert buyer.get(f"/orders/{theirs}/").status_code == 404
    assert buyer.get(f"/orders/{number}/").status_code == 200


def test_a_double_submit_of_the_same_form_places_one_order(in_store, loaf):
    client = guest(in_store)
    add_to_cart(client, loaf, 2)
    form = checkout_form(client)

    first = client.post("/checkout/", form)
    second = client.post("/checkout/", form)

    order = Order.objects.get()
    assert (first.status_code, second.status_code) == (303, 303)
    assert first["Location"] == second["Location"] == f"/orders/{order.number}/"
    assert Product.objects.get(pk=loaf.pk).allocated == 2  # allocated once
    assert CheckoutRequest.objects.count() == 1 and OrderEvent.objects.count() == 1


def test_the_same_form_sent_again_with_other_details_orders_nothing_more(in_store, loaf):
    client = guest(in_store)
    add_to_cart(client, loaf, 1)
    form = checkout_form(client)
    client.post("/checkout/", form)
    add_to_cart(client, loaf, 1)

    again = client.post("/checkout/", {**form, "name": "Someone Else"})

    assert again.status_code == 409 and "This form was sent before with other details" in html(again)
    assert form["checkout_key"] not in html(again)  # a fresh key to send it with
    assert Order.objects.count() == 1 and CartItem.objects.get().quantity == 1


def test_sold_out_at_checkout_names_the_product_and_what_is_left(in_store, loaf):
    early, late = guest(in_store), guest(in_store)
    add_to_cart(late, loaf, 3)
    add_to_cart(early, loaf, 4)
    early.post("/checkout/", checkout_form(early))

    refused = late.post("/checkout/", checkout_form(late))

    assert refused.status_code == 409
    assert "Only 1 left of Sourdough loaf (your cart has 3)." in html(refused)
    assert Order.objects.count() == 1 and Product.objects.get(pk=loaf.pk).allocated == 4
    assert CartItem.objects.get(cart__session_key=session_key(late)).quantity == 3  # the cart is kept


def test_an_empty_cart_cannot_check_out(in_store, loaf):
    client = guest(in_store)
    add_to_cart(client, loaf, 1)
    CartItem.objects.all().delete()

    refused = client.post("/checkout/", {**GUEST, "checkout_key": "k-1"})

    assert refused.status_code == 400 and "Your cart is empty." in html(refused)
    assert not Order.objects.exists()


def test_delivery_needs_an_address_and_gets_the_one_given(in_store, loaf):
    client = guest(in_store)
    add_to_cart(client, loaf, 1)
    delivery = {**checkout_form(client), "fulfilment": "delivery"}

    missing = client.post("/checkout/", {**delivery, "line1": "1 Mill Lane"})
    no_email = client.post("/checkout/", {**delivery, "email": "not-an-address"})
    placed = client.post(
        "/checkout/", {**delivery, "line1": "1 Mill Lane", "town": "Hebden Bridge", "postcode": "HX7 8AD"}
    )

    assert missing.status_code == 400 and "Delivery needs an address with town, postcode." in html(missing)
    assert no_email.status_code == 400 and "Enter a valid email address." in html(no_email)
    assert placed.status_code == 303
    order = Order.objects.get()
    assert (order.fulfilment, order.address) == (
        "delivery",
        {"line1": "1 Mill Lane", "line2": "", "town": "Hebden Bridge", "postcode": "HX7 8AD"},
    )
    assert "1 Mill Lane, Hebden Bridge HX7 8AD" in html(client.get(placed["Location"]))


def test_the_pages_refuse_posts_without_the_csrf_token(in_store, loaf):
    client = guest(in_store, enforce_csrf_checks=True)
    page = client.get(f"/products/{loaf.pk}/")
    token = client.cookies["csrftoken"].value

    forged = add_to_cart(client, loaf, 1)
    no_checkout = client.post("/checkout/", {**GUEST, "checkout_key": "k-1"})
    assert (forged.status_code, no_checkout.status_code) == (403, 403)
    assert not Cart.objects.exists() and not Order.objects.exists()

    sent = client.post(f"/products/{loaf.pk}/add-to-cart/", {"quantity": 1, "csrfmiddlewaretoken": token})
    assert page.status_code == 200 and sent.status_code == 303
    assert CartItem.objects.get().quantity == 1
