"""A buyer signs in on the web: on the root domain (one account for the marketplace), carried back to the
store they came from by a single-use, store-bound link POSTed to its host, where what they put in the cart
as a guest joins their own cart. Signed in, checkout is theirs (their orders over the API too); signing
out ends that host's session. Each host keeps its own cookies: the root and the store are separate
browsers' cookie jars here, as host-only cookies are in a real one."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from onboarding.services import SignupResult
from storefront.catalog.models import Product
from storefront.orders.models import Cart, Order
from tenants.db_backend import connection
from tests.conftest import ROOT_HOST, STRONG_PASSWORD, store_host
from tests.storefront.conftest import SchemaKeepingBrowser
from tests.storefront.orders.conftest import buyer, make_buyer, shop
from tests.storefront.shop.test_guest_checkout import add_product, add_to_cart, checkout_form, html, session_key

pytestmark = pytest.mark.django_db
__all__ = ["buyer", "make_buyer"]


def root() -> Client:
    return SchemaKeepingBrowser(HTTP_HOST=ROOT_HOST)


def on_store(store: SignupResult) -> Client:
    return SchemaKeepingBrowser(HTTP_HOST=store_host(store.tenant.slug))


def sign_in_on_root(
    browser_root: Client, store: SignupResult | None, email: str, password: str = STRONG_PASSWORD
) -> Any:
    data = {"email": email, "password": password, "store": store.tenant.slug if store else ""}
    return browser_root.post("/buyers/sign-in/", data)


def handoff_token(page: Any, store: SignupResult) -> str:
    """The self-submitting form's token, after checking it goes to the store's own host by POST."""
    body = html(page)
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    action = re.search(r'<form id="handoff" method="post" action="([^"]+)"', body)
    assert action is not None and action.group(1).endswith(f"//{store_host(store.tenant.slug)}/buyers/handoff/")
    token = re.search(r'name="token" value="([^"]+)"', body)
    assert token is not None
    return token.group(1)


@pytest.fixture
def loaf(in_store: SignupResult) -> Product:
    return add_product("Sourdough loaf", price=450, stock=9)


def test_a_guest_signs_in_and_their_cart_joins_their_own(in_store, loaf, buyer):
    store = in_store
    # The buyer put one loaf in their cart over the API earlier; as a guest on the web, two more
    assert (
        shop(store, buyer).post("/api/v1/cart/items", {"product": loaf.pk, "quantity": 1}, format="json").status_code
        == 201
    )
    guest = on_store(store)
    assert add_to_cart(guest, loaf, 2).status_code == 303
    guest_key = session_key(guest)
    page = html(guest.get("/cart/"))
    assert "Sign in" in page and f"/buyers/sign-in/?store={store.tenant.slug}" in page

    # Sign-in is on the root domain, which names the store it goes back to
    browser_root = root()
    assert "you go back to <b>" in html(browser_root.get(f"/buyers/sign-in/?store={store.tenant.slug}"))
    token = handoff_token(sign_in_on_root(browser_root, store, buyer["buyer"]["email"]), store)
    landed = guest.post("/buyers/handoff/", {"token": token})
    assert landed.status_code == 303 and landed["Location"] == "/cart/"

    # Signed in on the store: a new session key, and one cart (theirs) with the three loaves
    assert session_key(guest) != guest_key
    page = html(guest.get("/cart/"))
    assert '<span class="signed-in">Signed in as Ada Buyer</span>' in page and "(3)" in page
    assert shop(store, buyer).get("/api/v1/cart").json()["items"][0]["quantity"] == 3
    connection.set_tenant(store.tenant)  # the root's requests left the connection on `public`
    assert not Cart.objects.filter(session_key=guest_key).exists()


def test_the_link_is_single_use_for_one_store_and_for_buyers_only(in_store, loaf, buyer, make_store):
    store, other = in_store, make_store()
    token = handoff_token(sign_in_on_root(root(), store, buyer["buyer"]["email"]), store)
    assert "Signed in as" in html(on_store(store).post("/buyers/handoff/", {"token": token}, follow=True))

    # Used once: anyone else posting it lands signed out, told why
    again = on_store(store).post("/buyers/handoff/", {"token": token}, follow=True)
    assert 'class="signed-in"' not in html(again) and "expired or was used already" in html(again)
    # Made for this store: refused on another (and never redeemable by GET)
    fresh = handoff_token(sign_in_on_root(root(), store, buyer["buyer"]["email"]), store)
    assert 'class="signed-in"' not in html(on_store(other).post("/buyers/handoff/", {"token": fresh}, follow=True))
    assert on_store(store).get("/buyers/handoff/", {"token": fresh}).status_code == 405
    # A buyer's link never opens the store's admin
    admin = on_store(store).post("/accounts/handoff/", {"token": fresh})
    assert admin.status_code == 302 and admin["Location"].startswith("/admin/login/")


def test_wrong_credentials_are_refused_and_an_unknown_store_keeps_the_buyer_on_the_root(in_store, buyer):
    refused = sign_in_on_root(root(), in_store, buyer["buyer"]["email"], password="not-the-password")
    assert refused.status_code == 400 and "do not match a buyer account" in html(refused)
    assert 'id="handoff"' not in html(refused)

    browser_root = root()
    signed = browser_root.post(
        "/buyers/sign-in/", {"email": buyer["buyer"]["email"], "password": STRONG_PASSWORD, "store": "no-such-store"}
    )
    assert signed.status_code == 303 and signed["Location"] == "/"
    # Signed in on the root, the way back to a store needs no password again
    assert handoff_token(browser_root.get(f"/buyers/sign-in/?store={in_store.tenant.slug}"), in_store)


def test_sign_up_on_the_web_goes_back_to_the_store(in_store):
    page = root().post(
        "/buyers/sign-up/",
        {"name": "Grace", "email": "grace@example.com", "password": STRONG_PASSWORD, "store": in_store.tenant.slug},
    )
    browser = on_store(in_store)
    assert "Signed in as Grace" in html(
        browser.post("/buyers/handoff/", {"token": handoff_token(page, in_store)}, follow=True)
    )
    taken = root().post("/buyers/sign-up/", {"name": "G", "email": "GRACE@example.com", "password": STRONG_PASSWORD})
    assert taken.status_code == 400 and "already exists" in html(taken)
    weak = root().post("/buyers/sign-up/", {"name": "G", "email": "weak@example.com", "password": "123"})
    assert weak.status_code == 400 and 'id="handoff"' not in html(weak)


def test_a_signed_in_checkout_is_the_buyers_order_and_signing_out_ends_the_session(in_store, loaf, buyer):
    store, email = in_store, buyer["buyer"]["email"]
    browser = on_store(store)
    browser.post("/buyers/handoff/", {"token": handoff_token(sign_in_on_root(root(), store, email), store)})
    add_to_cart(browser, loaf, 2)
    form = checkout_form(browser)
    assert f'value="{email}"' in html(browser.get("/checkout/"))  # the buyer's email, filled in
    placed = browser.post("/checkout/", {**form, "email": email})
    assert placed.status_code == 303
    number = placed["Location"].strip("/").rsplit("/", 1)[1]
    connection.set_tenant(store.tenant)
    order = Order.objects.get(number=number)
    assert order.buyer_id == buyer["buyer"]["id"] and not order.session_key
    assert [o["number"] for o in shop(store, buyer).get("/api/v1/orders").json()["results"]] == [number]

    # Their order page opens wherever they are signed in on this store; a guest finds nothing
    elsewhere = on_store(store)
    elsewhere.post("/buyers/handoff/", {"token": handoff_token(sign_in_on_root(root(), store, email), store)})
    assert elsewhere.get(f"/orders/{number}/").status_code == 200
    assert on_store(store).get(f"/orders/{number}/").status_code == 404

    # Signing out: this host's session ends; the buyer's cart is still theirs next time
    add_to_cart(browser, loaf, 1)
    out = browser.post("/buyers/sign-out/")
    assert out.status_code == 303
    page = html(browser.get("/cart/"))
    assert 'class="signed-in"' not in page and "(1)" not in page and "You are signed out." in page
    assert shop(store, buyer).get("/api/v1/cart").json()["items"][0]["quantity"] == 1


def test_a_buyer_who_closed_their_account_orders_nothing_from_an_old_session(in_store, loaf, buyer):
    store, email = in_store, buyer["buyer"]["email"]
    browser = on_store(store)
    browser.post("/buyers/handoff/", {"token": handoff_token(sign_in_on_root(root(), store, email), store)})
    add_to_cart(browser, loaf, 1)
    form = checkout_form(browser)
    account = SchemaKeepingBrowser(HTTP_HOST=ROOT_HOST, HTTP_AUTHORIZATION=f"Bearer {buyer['token']}")
    closed = account.delete("/api/v1/buyers/me", {"password": STRONG_PASSWORD}, content_type="application/json")
    assert closed.status_code == 204

    refused = browser.post("/checkout/", {**form, "email": email})

    assert refused.status_code == 303 and refused["Location"] == "/cart/"
    page = html(browser.get("/cart/"))
    assert "your account is closed" in page and 'class="signed-in"' not in page
    connection.set_tenant(store.tenant)
    assert not Order.objects.exists()


def test_signing_in_from_a_page_of_the_store_comes_back_to_that_page(in_store, loaf, buyer):
    store, email = in_store, buyer["buyer"]["email"]
    guest = on_store(store)
    page = html(guest.get(f"/products/{loaf.pk}/"))
    link = re.search(r'href="([^"]*/buyers/sign-in/\?[^"]*)"', page)
    assert link is not None and "next=%2Fproducts%2F" in link.group(1)

    browser_root = root()
    signed_in = browser_root.post(
        "/buyers/sign-in/",
        {"email": email, "password": STRONG_PASSWORD, "store": store.tenant.slug, "next": f"/products/{loaf.pk}/"},
    )
    assert f'name="next" value="/products/{loaf.pk}/"' in html(signed_in)
    landed = guest.post("/buyers/handoff/", {"token": handoff_token(signed_in, store), "next": f"/products/{loaf.pk}/"})
    assert landed.status_code == 303 and landed["Location"] == f"/products/{loaf.pk}/"


@pytest.mark.parametrize("elsewhere", ["//evil.example/x", "http://evil.example/", "https:/\\evil.example", "cart"])
def test_the_handoff_never_sends_a_buyer_off_the_store(in_store, buyer, elsewhere):
    store = in_store
    token = handoff_token(sign_in_on_root(root(), store, buyer["buyer"]["email"]), store)

    landed = on_store(store).post("/buyers/handoff/", {"token": token, "next": elsewhere})

    assert landed.status_code == 303 and landed["Location"] == "/cart/"


def test_the_roots_pages_show_a_signed_in_buyer_their_orders_and_account(in_store, buyer):
    browser_root = root()
    assert 'href="/buyers/sign-in/"' in html(browser_root.get("/"))
    sign_in_on_root(browser_root, None, buyer["buyer"]["email"])

    home = html(browser_root.get("/"))

    assert 'href="/buyers/orders/">Your orders</a>' in home and 'href="/buyers/me/"' in home
    assert 'href="/buyers/orders/">Your orders</a>' in html(browser_root.get("/buyers/orders/"))
