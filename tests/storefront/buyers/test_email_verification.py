"""A buyer's address is verified by a link mailed at sign-up (web or API): signed, for this purpose only,
expiring after three days. An expired link offers a new one; a forged one verifies nothing. Unverified
buyers shop all the same; their account page says the address is not verified yet."""

from __future__ import annotations

import time

import pytest
from django.core import signing

from storefront.buyers.links import VERIFICATION_DAYS
from tests.conftest import STRONG_PASSWORD, store_api
from tests.storefront.buyers.conftest import html, link_in, root, sign_in

pytestmark = pytest.mark.django_db


def test_the_link_mailed_at_sign_up_verifies_the_address(signed_up):
    # Given a buyer who just signed up on the web, and was mailed a link on the root domain
    browser, message = signed_up["browser"], signed_up["mail"]
    assert message.to == [signed_up["email"]] and "Confirm your email" in message.subject
    link = link_in(message, "/buyers/verify/")
    assert "not verified yet" in html(browser.get("/buyers/me/"))

    # When they open it (in any browser: the link is the proof)
    opened = root().get(link)

    # Then the address is verified, and their account page says so; opening it again is harmless
    assert opened.status_code == 200 and "Your email is verified" in html(opened)
    page = html(browser.get("/buyers/me/"))
    assert "not verified yet" not in page and ">verified<" in page
    assert root().get(link).status_code == 200


def test_signing_up_over_the_api_mails_the_link_too_and_shopping_needs_no_verification(
    root_api, make_store, mails, mailoutbox
):
    # Given a buyer signed up over the API, unverified
    with mails():
        body = root_api.post(
            "/api/v1/buyers", {"email": "ada@example.com", "password": STRONG_PASSWORD}, format="json"
        ).json()
    (message,) = mailoutbox
    me = root_api.get("/api/v1/buyers/me", HTTP_AUTHORIZATION=f"Bearer {body['token']}").json()
    assert me["email_verified"] is False and me["email_verified_at"] is None

    # Then they shop on a store's host all the same
    store = make_store()
    assert store_api(store.tenant.slug, body["token"]).get("/api/v1/cart").status_code == 200

    # And the mailed link verifies them
    assert root().get(link_in(message, "/buyers/verify/")).status_code == 200
    me = root_api.get("/api/v1/buyers/me", HTTP_AUTHORIZATION=f"Bearer {body['token']}").json()
    assert me["email_verified"] is True and me["email_verified_at"]


def test_an_expired_link_is_refused_and_its_button_sends_a_new_one(mails, mailoutbox, monkeypatch):
    # Given a link mailed a day more than a link lasts ago
    made_at = int(time.time()) - (VERIFICATION_DAYS + 1) * 24 * 3600
    with monkeypatch.context() as past:
        past.setattr(signing.TimestampSigner, "timestamp", lambda self: signing.b62_encode(made_at))
        with mails():
            root().post("/buyers/sign-up/", {"email": "late@example.com", "password": STRONG_PASSWORD})
    old_link = link_in(mailoutbox[-1], "/buyers/verify/")

    # When the buyer opens it (signed out)
    browser = root()
    refused = browser.get(old_link)

    # Then nothing is verified, and the page says why and offers a new link
    assert refused.status_code == 400 and "This link has expired" in html(refused)
    assert "Send a new link" in html(refused)
    sign_in(browser, "late@example.com")
    assert "not verified yet" in html(browser.get("/buyers/me/"))

    # When they press the button (a POST carrying the old link), a new link is mailed, which works
    token = old_link.rstrip("/").rsplit("/", 1)[1]
    with mails():
        sent = root().post("/buyers/verify/", {"token": token})
    assert sent.status_code == 200 and "Check your email" in html(sent)
    assert mailoutbox[-1].to == ["late@example.com"] and len(mailoutbox) == 2
    assert root().get(link_in(mailoutbox[-1], "/buyers/verify/")).status_code == 200
    assert ">verified<" in html(browser.get("/buyers/me/"))


def test_a_forged_link_verifies_nothing_and_sends_nothing(signed_up, mails, mailoutbox):
    # Given a link whose token was made up, or signed for another purpose (a store handoff's salt)
    forged = "/buyers/verify/eyJiIjoxLCJlIjoiZ3JhY2VAZXhhbXBsZS5jb20ifQ:1vAbCd:not-our-signature/"
    other_purpose = signing.dumps({"b": 1, "e": signed_up["email"]}, salt="tenants.handoff.buyer")

    for link in (forged, f"/buyers/verify/{other_purpose}/"):
        # When a signed-out visitor opens it
        refused = root().get(link)
        # Then it is refused, with no button (nobody can tell whose it was) but the way to ask for one
        assert refused.status_code == 400 and "This link does not work" in html(refused)
        assert "Send a new link" not in html(refused) and "/buyers/sign-in/?next=%2Fbuyers%2Fme%2F" in html(refused)

    # And posting it to the button's address mails nobody
    before = len(mailoutbox)
    with mails():
        assert root().post("/buyers/verify/", {"token": other_purpose}).status_code == 400
    assert len(mailoutbox) == before
    assert "not verified yet" in html(signed_up["browser"].get("/buyers/me/"))


def test_a_signed_in_buyer_asks_for_a_new_link_from_their_account_page(signed_up, mails, mailoutbox):
    browser = signed_up["browser"]
    page = html(browser.get("/buyers/me/"))
    assert 'action="/buyers/verify/"' in page and "Send a new link" in page

    with mails():
        sent = browser.post("/buyers/verify/", follow=True)

    assert f"A new link is on its way to {signed_up['email']}" in html(sent)
    assert len(mailoutbox) == 2 and mailoutbox[-1].to == [signed_up["email"]]
    # Both links work until the address is verified; once it is, the page has no button
    assert root().get(link_in(mailoutbox[0], "/buyers/verify/")).status_code == 200
    assert "Send a new link" not in html(browser.get("/buyers/me/"))
