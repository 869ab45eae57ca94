"""A buyer's account on the root domain, `/buyers/me/` and its API twin `/api/v1/buyers/me`: their details
(name, town, a UK postcode), a new password (which signs their other browsers out), signing out, and
closing the account (their password asked; the row emptied and deactivated, its tokens dead on every
store's host, the store's orders kept)."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import is_password_usable
from django.test import Client

from storefront.buyers.models import Buyer
from storefront.orders.models import Order
from tests.conftest import ROOT_HOST, STRONG_PASSWORD
from tests.storefront.buyers.conftest import html, root, sign_in
from tests.storefront.orders.conftest import add_product, fill_cart, in_store_of, shop

pytestmark = pytest.mark.django_db
__all__ = ["in_store_of"]
NEW_PASSWORD = "Copper-kettle-meadow-77"


def me(token: str, root_api, method: str = "get", **data):
    return getattr(root_api, method)(
        "/api/v1/buyers/me", data or None, format="json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )


def test_signed_out_the_page_asks_for_a_sign_in_and_comes_back(buyer):
    browser = root()
    asked = browser.get("/buyers/me/")
    assert asked.status_code == 303 and asked["Location"] == "/buyers/sign-in/?next=%2Fbuyers%2Fme%2F"
    assert 'name="next" value="/buyers/me/"' in html(browser.get(asked["Location"]))

    back = sign_in(browser, buyer["buyer"]["email"], next_path="/buyers/me/")
    assert back.status_code == 303 and back["Location"] == "/buyers/me/"
    page = html(browser.get("/buyers/me/"))
    assert buyer["buyer"]["email"] in page and "not verified yet" in page
    # Only pages of the root itself are gone back to
    elsewhere = sign_in(root(), buyer["buyer"]["email"], next_path="//evil.example/buyers/me/")
    assert elsewhere["Location"] == "/"


def test_the_buyer_edits_their_details_on_the_page_and_over_the_api(buyer, root_api):
    browser = root()
    sign_in(browser, buyer["buyer"]["email"])

    # When they save a name, a town and a postcode typed loosely
    saved = browser.post("/buyers/me/", {"name": "Ada Lovelace", "town": " Hebden Bridge ", "postcode": "hx78ad"})

    # Then the page shows them, the postcode written as the post office does
    assert saved.status_code == 303
    page = html(browser.get("/buyers/me/"))
    assert "Your details are saved." in page
    assert 'value="Ada Lovelace"' in page and 'value="Hebden Bridge"' in page and 'value="HX7 8AD"' in page
    # And the API says the same
    assert me(buyer["token"], root_api).json() | {"email_verified_at": None} == {
        "id": buyer["buyer"]["id"],
        "email": buyer["buyer"]["email"],
        "name": "Ada Lovelace",
        "town": "Hebden Bridge",
        "postcode": "HX7 8AD",
        "email_verified": False,
        "email_verified_at": None,
    }

    # A postcode that is none is refused, beside its field, and nothing is saved
    refused = browser.post("/buyers/me/", {"name": "Someone else", "town": "Leeds", "postcode": "12345"})
    assert refused.status_code == 400 and "Enter a UK postcode" in html(refused)
    assert me(buyer["token"], root_api, "patch", postcode="not a postcode").status_code == 400
    assert me(buyer["token"], root_api).json()["name"] == "Ada Lovelace"

    # Over the API, only what is sent changes; the page shows it (a blank postcode clears it)
    patched = me(buyer["token"], root_api, "patch", town="Todmorden", postcode="")
    assert patched.status_code == 200 and patched.json()["town"] == "Todmorden"
    page = html(browser.get("/buyers/me/"))
    assert 'value="Todmorden"' in page and 'value="Ada Lovelace"' in page and 'value="HX7 8AD"' not in page
    # The email is not the profile's to change
    assert me(buyer["token"], root_api, "patch", email="new@example.com").json()["email"] == buyer["buyer"]["email"]


def test_the_api_twin_needs_a_buyer_token_on_the_root(buyer, make_store, root_api):
    assert root_api.get("/api/v1/buyers/me").status_code == 401
    store = make_store()
    assert me(store.token, root_api).status_code == 401  # a store's staff token is no buyer's
    assert shop(store, buyer).get("/api/v1/buyers/me").status_code == 404  # root host only


def test_a_new_password_needs_the_current_one_and_signs_other_browsers_out(buyer):
    email = buyer["buyer"]["email"]
    here, there = root(), root()
    sign_in(here, email), sign_in(there, email)

    wrong = here.post(
        "/buyers/me/password/",
        {"current_password": "Not-my-password-1", "new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD},
    )
    assert wrong.status_code == 400 and "That is not your current password." in html(wrong)
    weak = here.post(
        "/buyers/me/password/",
        {"current_password": STRONG_PASSWORD, "new_password": "short", "new_password_again": "short"},
    )
    assert weak.status_code == 400 and "too short" in html(weak)
    assert sign_in(root(), email).status_code == 303  # still the old password

    changed = here.post(
        "/buyers/me/password/",
        {"current_password": STRONG_PASSWORD, "new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD},
        follow=True,
    )

    assert "Your password is changed." in html(changed)
    assert here.get("/buyers/me/").status_code == 200  # this browser stays signed in
    assert there.get("/buyers/me/").status_code == 303  # the other one is out
    assert sign_in(root(), email).status_code == 400 and sign_in(root(), email, NEW_PASSWORD).status_code == 303


def test_signing_out_of_the_root(buyer):
    browser = root()
    sign_in(browser, buyer["buyer"]["email"])
    assert 'action="/buyers/sign-out/"' in html(browser.get("/buyers/me/"))

    out = browser.post("/buyers/sign-out/", follow=True)

    assert "You are signed out." in html(out)
    assert browser.get("/buyers/me/").status_code == 303
    assert browser.get("/buyers/sign-out/").status_code == 405  # a link cannot sign anyone out


def test_every_form_needs_the_pages_csrf_token(buyer):
    browser = Client(HTTP_HOST=ROOT_HOST, enforce_csrf_checks=True)
    sign_in_page = browser.get("/buyers/sign-in/")
    token = sign_in_page.cookies["csrftoken"].value
    signed = browser.post(
        "/buyers/sign-in/",
        {"email": buyer["buyer"]["email"], "password": STRONG_PASSWORD, "csrfmiddlewaretoken": token},
    )
    assert signed.status_code == 303
    for path, data in [
        ("/buyers/me/", {"name": "Mallory"}),
        ("/buyers/me/password/", {"current_password": STRONG_PASSWORD}),
        ("/buyers/me/close/", {"password": STRONG_PASSWORD}),
        ("/buyers/sign-out/", {}),
        ("/buyers/password-reset/", {"email": buyer["buyer"]["email"]}),
        ("/buyers/verify/", {}),
    ]:
        assert browser.post(path, data).status_code == 403, path
    assert Buyer.objects.get(pk=buyer["buyer"]["id"]).is_active
    assert browser.get("/buyers/me/").status_code == 200  # still signed in


def test_closing_the_account_on_the_page(buyer, make_store, make_buyer, in_store_of):
    # Given a buyer who ordered from a store, signed in on the root and holding an app's token
    store, email = make_store(), buyer["buyer"]["email"]
    client = shop(store, buyer)
    fill_cart(client, (add_product(store, stock=3), 1))
    number = client.post("/api/v1/checkout", {"fulfilment": "pickup", "payment": "local"}, format="json").json()[
        "order"
    ]["number"]
    browser = root()
    sign_in(browser, email)
    browser.post("/buyers/me/", {"name": "Ada", "town": "Hebden Bridge", "postcode": "HX7 8AD"})

    # A wrong password closes nothing
    wrong = browser.post("/buyers/me/close/", {"password": "Not-my-password-1"})
    assert wrong.status_code == 400 and "That is not your password." in html(wrong)
    assert client.get("/api/v1/cart").status_code == 200

    # When they close it with their password
    closed = browser.post("/buyers/me/close/", {"password": STRONG_PASSWORD})

    # Then they are told, and signed out of the root
    assert closed.status_code == 200 and "Your buyer account is closed" in html(closed)
    assert browser.get("/buyers/me/").status_code == 303
    # Their token is refused on the store's host, and their password nowhere works
    assert client.get("/api/v1/cart").status_code == 401
    assert sign_in(root(), email).status_code == 400
    # Nothing of who they were is left in the account; the store keeps its order
    row = Buyer.objects.get(pk=buyer["buyer"]["id"])
    assert (row.is_active, row.name, row.town, row.postcode, is_password_usable(row.password)) == (
        False,
        "",
        "",
        "",
        False,
    )
    assert row.email == f"deleted-{row.pk}@deleted.invalid" and not row.tokens.exists()
    with in_store_of(store):
        assert Order.objects.get(number=number).buyer_id == row.pk
    # And the address is free for a new account
    assert make_buyer(email)["buyer"]["id"] != row.pk


def test_closing_the_account_over_the_api(buyer, make_store, root_api):
    store = make_store()
    wrong = me(buyer["token"], root_api, "delete", password="Not-my-password-1")
    assert wrong.status_code == 400 and wrong.json() == {"password": ["That is not your password."]}
    assert me(buyer["token"], root_api, "delete").status_code == 400  # the password is required

    assert me(buyer["token"], root_api, "delete", password=STRONG_PASSWORD).status_code == 204

    assert me(buyer["token"], root_api).status_code == 401
    assert shop(store, buyer).get("/api/v1/cart").status_code == 401
    assert (
        root_api.post(
            "/api/v1/buyers/token", {"email": buyer["buyer"]["email"], "password": STRONG_PASSWORD}, format="json"
        ).status_code
        == 400
    )
