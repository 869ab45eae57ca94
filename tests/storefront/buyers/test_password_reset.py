"""A buyer who forgot their password asks for a link on the root domain. The answer is the same whether or
not an account has the address (nobody learns who shops here); the link works once, until it expires, and
setting a new password revokes every token the buyer's apps hold."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.conf import settings
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from storefront.buyers.links import BuyerPasswordResetTokenGenerator
from tests.conftest import STRONG_PASSWORD, store_api
from tests.storefront.buyers.conftest import html, link_in, root, sign_in

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "Copper-kettle-meadow-77"


def ask_for_a_link(email: str):
    return root().post("/buyers/password-reset/", {"email": email})


def test_the_answer_is_the_same_whether_or_not_there_is_an_account(buyer, mailoutbox):
    # Given a buyer's address and an address nobody has
    known, unknown = ask_for_a_link(buyer["buyer"]["email"]), ask_for_a_link("nobody@example.com")

    # Then both are sent to the same page, which says the same thing
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert known.status_code == 303
    page = root().get(known["Location"])
    assert "If a buyer account has that address" in html(page)
    # And only the buyer got a mail
    assert [m.to for m in mailoutbox] == [[buyer["buyer"]["email"]]]
    # A malformed address is told so (that says nothing about anybody's account)
    assert "Enter a valid email address" in html(ask_for_a_link("not-an-address"))


def test_the_link_sets_a_new_password_once_and_revokes_the_buyers_tokens(buyer, make_store, mailoutbox):
    # Given a buyer with an app's token, who asks for a link (from the sign-in page's link)
    assert 'href="/buyers/password-reset/"' in html(root().get("/buyers/sign-in/"))
    store, email = make_store(), buyer["buyer"]["email"]
    app = store_api(store.tenant.slug, buyer["token"])
    assert app.get("/api/v1/cart").status_code == 200
    ask_for_a_link(email)
    link = link_in(mailoutbox[-1], "/buyers/password-reset/")

    # When they open it: a form for the new password; a weak or mistyped one is refused
    browser = root()
    assert "Choose a new password" in html(browser.get(link))
    weak = browser.post(link, {"new_password": "password1", "new_password_again": "password1"})
    assert weak.status_code == 400 and "too common" in html(weak)
    differ = browser.post(link, {"new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD + "x"})
    assert differ.status_code == 400 and "The two passwords differ" in html(differ)

    # When they set a strong one
    done = browser.post(link, {"new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD}, follow=True)

    # Then they are told to sign in with it, which works (the old password does not)
    assert "Your password is changed: sign in with it." in html(done)
    assert sign_in(root(), email).status_code == 400
    assert sign_in(root(), email, NEW_PASSWORD).status_code == 303
    # And the app's token is refused on the store's host
    assert app.get("/api/v1/cart").status_code == 401
    # And the link is dead
    again = root().get(link)
    assert again.status_code == 400 and "expired or was used already" in html(again)
    replay = root().post(link, {"new_password": STRONG_PASSWORD, "new_password_again": STRONG_PASSWORD})
    assert replay.status_code == 400 and sign_in(root(), email, NEW_PASSWORD).status_code == 303


def test_an_expired_link_is_refused(buyer, mailoutbox, monkeypatch):
    # Given a link made longer ago than PASSWORD_RESET_TIMEOUT
    long_ago = datetime.now() - timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 60)
    with monkeypatch.context() as past:
        past.setattr(BuyerPasswordResetTokenGenerator, "_now", lambda self: long_ago)
        ask_for_a_link(buyer["buyer"]["email"])
    link = link_in(mailoutbox[-1], "/buyers/password-reset/")

    # Then it opens no form and sets no password
    assert "expired or was used already" in html(root().get(link))
    refused = root().post(link, {"new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD})
    assert refused.status_code == 400
    assert sign_in(root(), buyer["buyer"]["email"], NEW_PASSWORD).status_code == 400


def test_a_link_for_one_buyer_does_not_open_anothers_account(make_buyer, mailoutbox):
    # Given Ada's link, with its account part swapped for Bob's
    ada, bob = make_buyer(), make_buyer()
    ask_for_a_link(ada["buyer"]["email"])
    _, _, _, token = link_in(mailoutbox[-1], "/buyers/password-reset/").strip("/").split("/")
    bobs_link = f"/buyers/password-reset/{urlsafe_base64_encode(force_bytes(bob['buyer']['id']))}/{token}/"

    # Then it opens nothing, and Bob's password stays his
    assert root().get(bobs_link).status_code == 400
    assert root().post(bobs_link, {"new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD}).status_code == 400
    assert sign_in(root(), bob["buyer"]["email"]).status_code == 303
