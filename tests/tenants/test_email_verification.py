"""A store's owner and staff verify their email address by a link mailed for their store's own host: at
signup for the owner, and from the admin's banner for any member. The link is signed for this purpose,
bound to its store, lasts three days and names the address it was sent to; one that verifies nothing
changes nothing."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from django.core import mail, signing
from django.test import Client

from tenants.accounts.email_verification import VERIFICATION_DAYS
from tenants.accounts.models import User
from tenants.db_backend import connection
from tenants.models import Tenant
from tests.conftest import ROOT_HOST, STAFF_EMAIL, STRONG_PASSWORD, signup_request, store_host
from tests.storefront.buyers.conftest import mails
from tests.tenants.test_login_throttling import allowed

__all__ = ["mails"]  # `with mails():` runs what a request leaves for after its commit (the test's never commits)
pytestmark = pytest.mark.django_db
BANNER = 'id="email-verification-banner"'


def sign_up(root_api: Any, mails: Any, **overrides: Any) -> Tenant:
    """A merchant signed up over the root's API, with the mails it sends after its commit delivered."""
    request = signup_request(**overrides)
    body = {name: getattr(request, name) for name in ("email", "password", "store_name", "subdomain", "town")}
    with mails():
        response = root_api.post("/api/v1/signup", {**body, "postcode": request.postcode}, format="json")
    assert response.status_code == 201, response.content
    return Tenant.objects.get(slug=request.subdomain)


def browser_on(tenant: Tenant) -> Client:
    return Client(HTTP_HOST=store_host(tenant.slug))


def logged_in(tenant: Tenant, email: str) -> Client:
    browser = browser_on(tenant)
    response = browser.post("/admin/login/?next=/admin/", {"username": email, "password": STRONG_PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/admin/", response.content
    return browser


def verification_link(message: mail.EmailMessage, tenant: Tenant) -> str:
    """The path of the mail's link, after checking it is on the store's own host."""
    found = re.search(rf"http://{re.escape(store_host(tenant.slug))}(/admin/verify-email/\S+/)", str(message.body))
    assert found is not None, message.body
    return found.group(1)


def user_in(tenant: Tenant, email: str) -> User:
    connection.set_tenant(tenant)
    try:
        return User.objects.get(email=email)
    finally:
        connection.set_schema_to_public()


def page(response: Any) -> str:
    return str(response.content.decode())


def test_signup_mails_the_owner_a_link_that_verifies_their_address(root_api, mails, mailoutbox):
    # Given a merchant who just signed up, mailed a link on their store's own host
    store = sign_up(root_api, mails, email="ana@example.com", store_name="Ana's Bakery")
    (message,) = mailoutbox
    assert message.to == ["ana@example.com"] and "Ana's Bakery" in message.subject
    link = verification_link(message, store)
    assert user_in(store, "ana@example.com").email_verified_at is None

    # When they open it (no login needed: the link is the proof)
    opened = browser_on(store).get(link)

    # Then their address is verified, and the page leads to the admin
    assert opened.status_code == 200 and "Your email address is verified" in page(opened)
    assert 'href="/admin/"' in page(opened)
    verified_at = user_in(store, "ana@example.com").email_verified_at
    assert verified_at is not None

    # And opening it again is harmless: the first time is kept
    again = browser_on(store).get(link)
    assert again.status_code == 200
    assert user_in(store, "ana@example.com").email_verified_at == verified_at


def test_a_link_made_for_one_store_verifies_nothing_on_another_stores_host(root_api, mails, mailoutbox):
    # Given two stores with, as far as a link can see, the same user: the same id and address (each store
    # numbers its users from 1; signup takes one owner address once, so the second store's owner takes it)
    first = sign_up(root_api, mails, email="ana@example.com")
    second = sign_up(root_api, mails, email="ana.second@example.com")
    original = user_in(first, "ana@example.com")
    connection.set_tenant(second)
    User.objects.update_or_create(pk=original.pk, defaults={"email": original.email, "is_staff": True})
    connection.set_schema_to_public()
    assert user_in(second, "ana@example.com").pk == original.pk
    link = verification_link(mailoutbox[0], first)

    # When the first store's link is opened on the second store's host
    elsewhere = browser_on(second).get(link)

    # Then it verifies nothing there, nor on its own store
    assert elsewhere.status_code == 400 and "This link does not work" in page(elsewhere)
    assert user_in(second, "ana@example.com").email_verified_at is None
    assert user_in(first, "ana@example.com").email_verified_at is None

    # While on its own store's host it works, and only there
    assert browser_on(first).get(link).status_code == 200
    assert user_in(first, "ana@example.com").email_verified_at is not None
    assert user_in(second, "ana@example.com").email_verified_at is None


def test_a_forged_or_mangled_link_verifies_nothing_and_sends_nothing(root_api, mails, mailoutbox):
    # Given a store whose owner holds a genuine link
    store = sign_up(root_api, mails, email="ana@example.com")
    token = verification_link(mailoutbox[0], store).rstrip("/").rsplit("/", 1)[1]
    owner = user_in(store, "ana@example.com")
    payload = {"u": owner.pk, "e": owner.email, "s": store.slug}
    forgeries = [
        "eyJ1IjoxLCJlIjoiYW5hQGV4YW1wbGUuY29tIn0:1vAbCd:not-our-signature",  # made up
        token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb"),  # its signature mangled
        token.split(":", 1)[1],  # cut short
        signing.dumps(payload, salt="storefront.buyers.verify-email"),  # signed for another purpose
        signing.dumps(payload),  # signed with no purpose at all
    ]

    for forged in forgeries:
        # When a visitor opens it
        refused = browser_on(store).get(f"/admin/verify-email/{forged}/")
        # Then it is refused, offering a login (from where a member sends a new link), not a button
        assert refused.status_code == 400 and "This link does not work" in page(refused), forged
        assert "Send a new link" not in page(refused) and "/admin/login/?next=%2Fadmin%2F" in page(refused)

    # And nothing was verified, nor mailed
    assert user_in(store, "ana@example.com").email_verified_at is None
    assert len(mailoutbox) == 1


def test_an_expired_link_verifies_nothing_and_offers_a_new_one(root_api, mails, mailoutbox, monkeypatch):
    # Given a store signed up a day more than a link lasts ago
    made_at = int(time.time()) - (VERIFICATION_DAYS + 1) * 24 * 3600
    with monkeypatch.context() as past:
        past.setattr(signing.TimestampSigner, "timestamp", lambda self: signing.b62_encode(made_at))
        store = sign_up(root_api, mails, email="late@example.com")
    old_link = verification_link(mailoutbox[0], store)

    # When the owner opens it, logged out
    refused = browser_on(store).get(old_link)

    # Then nothing is verified, and the page says why and how to get a new link
    assert refused.status_code == 400 and "This link has expired" in page(refused)
    assert "/admin/login/?next=%2Fadmin%2F" in page(refused)
    assert user_in(store, "late@example.com").email_verified_at is None

    # When they open it logged in, the page has the button, and pressing it mails a new link, which works
    browser = logged_in(store, "late@example.com")
    offered = browser.get(old_link)
    assert offered.status_code == 400 and "Send a new link" in page(offered)
    assert 'action="/admin/verify-email/send/"' in page(offered) and "csrfmiddlewaretoken" in page(offered)
    with mails():
        sent = browser.post("/admin/verify-email/send/", follow=True)
    assert "A new link is on its way to late@example.com" in page(sent)
    assert len(mailoutbox) == 2 and mailoutbox[-1].to == ["late@example.com"]
    assert browser_on(store).get(verification_link(mailoutbox[-1], store)).status_code == 200
    assert user_in(store, "late@example.com").email_verified_at is not None


def test_a_link_for_an_address_the_user_no_longer_has_verifies_nothing(root_api, mails, mailoutbox):
    # Given an owner mailed a link, whose address then changed
    store = sign_up(root_api, mails, email="ana@example.com")
    link = verification_link(mailoutbox[0], store)
    connection.set_tenant(store)
    User.objects.filter(email="ana@example.com").update(email="ana.new@example.com")
    connection.set_schema_to_public()

    # When the old link is opened
    refused = browser_on(store).get(link)

    # Then the new address is not verified by it
    assert refused.status_code == 400 and "This link does not work" in page(refused)
    assert user_in(store, "ana.new@example.com").email_verified_at is None


def test_sending_a_new_link_needs_a_login_and_is_throttled(root_api, mails, mailoutbox):
    # Given a store whose owner was mailed one link
    store = sign_up(root_api, mails, email="ana@example.com")

    # When somebody logged out asks for a new link, they are sent to log in, and nothing is mailed
    with mails():
        anonymous = browser_on(store).post("/admin/verify-email/send/")
    assert anonymous.status_code == 302 and anonymous["Location"] == "/admin/login/?next=/admin/"
    assert len(mailoutbox) == 1

    # When the owner, logged in, asks more often than the rate allows
    browser = logged_in(store, "ana@example.com")
    codes = []
    for _ in range(allowed("auth") + 2):
        with mails():
            codes.append(browser.post("/admin/verify-email/send/").status_code)

    # Then each answer within the rate mails one link, and the rest are refused with nothing mailed
    assert codes == [302] * allowed("auth") + [429] * 2
    assert len(mailoutbox) == 1 + allowed("auth")
    assert all(message.to == ["ana@example.com"] for message in mailoutbox)


def test_the_banner_shows_only_to_members_whose_address_is_not_verified(
    root_api, mails, mailoutbox, staff_user, django_user_model
):
    # Given an owner who has not opened their link yet
    store = sign_up(root_api, mails, email="ana@example.com")
    browser = logged_in(store, "ana@example.com")

    # Then every admin page asks them to, with a button that posts (with its CSRF token) for a new link
    admin_page = page(browser.get("/admin/"))
    assert BANNER in admin_page and "Verify your email address ana@example.com" in admin_page
    banner = admin_page[admin_page.index(BANNER) :]
    assert 'method="post" action="/admin/verify-email/send/"' in banner and "csrfmiddlewaretoken" in banner
    assert "Send the link again" in banner
    assert BANNER in page(browser.get("/admin/accounts/user/"))

    # And a logged-out visitor's login page has no banner
    assert BANNER not in page(browser_on(store).get("/admin/login/"))

    # When they open the link, the banner is gone, and the button has nothing to send
    assert browser_on(store).get(verification_link(mailoutbox[0], store)).status_code == 200
    assert BANNER not in page(browser.get("/admin/"))
    with mails():
        answer = browser.post("/admin/verify-email/send/", follow=True)
    assert "Your email address is verified already" in page(answer) and len(mailoutbox) == 1

    # And the platform admin on the root (an unverified account of `public`) sees no store's banner
    platform = Client(HTTP_HOST=ROOT_HOST)
    platform.post("/admin/login/?next=/admin/", {"username": STAFF_EMAIL, "password": STRONG_PASSWORD})
    root_page = page(platform.get("/admin/"))
    assert "Control plane" in root_page and BANNER not in root_page
    assert django_user_model.objects.get(email=STAFF_EMAIL).email_verified_at is None


def test_a_staff_member_added_in_the_admin_is_mailed_their_own_link(root_api, mails, mailoutbox):
    # Given an owner who makes a login for a helper in their store's admin
    store = sign_up(root_api, mails, email="ana@example.com")
    browser = logged_in(store, "ana@example.com")
    added = browser.post(
        "/admin/accounts/user/add/",
        {"email": "sam@example.com", "password1": STRONG_PASSWORD, "password2": STRONG_PASSWORD},
    )
    assert added.status_code == 302, page(added)
    sam = user_in(store, "sam@example.com")
    assert len(mailoutbox) == 1  # a login alone is no membership: nothing is mailed yet

    # When the owner makes them staff of the store
    with mails():
        made = browser.post("/admin/accounts/membership/add/", {"user": sam.pk, "role": "staff"})
    assert made.status_code == 302, page(made)

    # Then the new member is mailed a link on the store's host, which verifies their address only
    assert len(mailoutbox) == 2 and mailoutbox[-1].to == ["sam@example.com"]
    assert browser_on(store).get(verification_link(mailoutbox[-1], store)).status_code == 200
    assert user_in(store, "sam@example.com").email_verified_at is not None
    assert user_in(store, "ana@example.com").email_verified_at is None
