"""A store's owner and staff reset a forgotten password on their store's own host: the admin login links to
Django's reset pages, the mailed link names that host, works once, and never works on another store's
host, even for a user with the same id, address and password there."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client

from tenants.accounts.models import User
from tenants.db_backend import connection
from tenants.models import Tenant
from tests.conftest import ROOT_HOST, STRONG_PASSWORD, store_host

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "Copper-kettle-meadow-77"


def browser_on(tenant: Tenant) -> Client:
    return Client(HTTP_HOST=store_host(tenant.slug))


def reset_link(message: mail.EmailMessage, tenant: Tenant) -> str:
    """The path of the mail's link, after checking it is on the store's own host."""
    found = re.search(rf"http://{re.escape(store_host(tenant.slug))}(/admin/password-reset/\S+/\S+/)", message.body)
    assert found is not None, message.body
    return found.group(1)


def logs_in(tenant: Tenant, email: str, password: str) -> bool:
    response = browser_on(tenant).post("/admin/login/?next=/admin/", {"username": email, "password": password})
    return response.status_code == 302 and response["Location"] == "/admin/"


def set_new_password(browser: Client, link: str, password: str = NEW_PASSWORD):
    """Open the link (Django moves the token into the session, off the URL), then post the new password."""
    opened = browser.get(link)
    if opened.status_code != 302:
        return opened
    return browser.post(opened["Location"], {"new_password1": password, "new_password2": password})


def test_a_merchant_resets_a_forgotten_password_from_the_admin_login(make_store, mailoutbox):
    # Given a store whose owner forgot their password: the login page links to the reset page
    store = make_store(email="ana@example.com", store_name="Ana's Bakery")
    browser = browser_on(store.tenant)
    login = browser.get("/admin/login/")
    assert 'href="/admin/password-reset/"' in login.content.decode()

    # When they give their address (or somebody gives one no account has), the answer is the same
    asked = browser.post("/admin/password-reset/", {"email": "ANA@example.com"})
    unknown = browser_on(store.tenant).post("/admin/password-reset/", {"email": "nobody@example.com"})
    assert asked.status_code == unknown.status_code == 302
    assert asked["Location"] == unknown["Location"] == "/admin/password-reset/done/"

    # Then only the owner is mailed, a link on the store's own host that names the store
    (message,) = mailoutbox
    assert message.to == ["ana@example.com"] and "Ana's Bakery" in message.subject
    link = reset_link(message, store.tenant)

    # When they open it and choose a new password, it is the one that logs in
    done = set_new_password(browser, link)
    assert done.status_code == 302 and done["Location"] == "/admin/password-reset/complete/"
    assert logs_in(store.tenant, "ana@example.com", NEW_PASSWORD)
    assert not logs_in(store.tenant, "ana@example.com", STRONG_PASSWORD)

    # And the link works once
    again = set_new_password(browser_on(store.tenant), link, "Another-strong-secret-99")
    assert again.status_code == 200 and "invalid" in again.content.decode()
    assert logs_in(store.tenant, "ana@example.com", NEW_PASSWORD)


def test_a_link_made_for_one_store_never_works_on_another_stores_host(make_store, mailoutbox):
    # Given two stores with, as far as a reset token can see, the same user in both: the same id, address,
    # password hash and last login (each store numbers its users from 1; one person may own two stores)
    first, second = make_store(email="ana@example.com"), make_store(email="ana.second@example.com")
    connection.set_tenant(first.tenant)
    original = User.objects.get(email="ana@example.com")
    connection.set_tenant(second.tenant)
    User.objects.update_or_create(
        pk=original.pk,
        defaults={
            "email": original.email,
            "password": original.password,
            "last_login": original.last_login,
            "is_staff": True,
            "is_superuser": True,
        },
    )
    connection.set_schema_to_public()

    # When a link made on the first store's host is opened on the second's
    browser_on(first.tenant).post("/admin/password-reset/", {"email": "ana@example.com"})
    link = reset_link(mailoutbox[-1], first.tenant)
    elsewhere = set_new_password(browser_on(second.tenant), link, "Not-on-this-store-55")

    # Then it sets nothing there
    assert elsewhere.status_code == 200 and "invalid" in elsewhere.content.decode()
    assert not logs_in(second.tenant, "ana@example.com", "Not-on-this-store-55")
    # While on its own store's host it works
    assert set_new_password(browser_on(first.tenant), link).status_code == 302
    assert logs_in(first.tenant, "ana@example.com", NEW_PASSWORD)
    assert logs_in(second.tenant, "ana@example.com", STRONG_PASSWORD)


def test_the_platform_admin_on_the_root_offers_no_store_reset(staff_user):
    page = Client(HTTP_HOST=ROOT_HOST).get("/admin/login/").content.decode()
    assert "password-reset" not in page
    # The platform admin's own pages answer it: a sign-in, not a reset form
    answer = Client(HTTP_HOST=ROOT_HOST).get("/admin/password-reset/")
    assert answer.status_code == 302 and answer["Location"].startswith("/admin/login/")
