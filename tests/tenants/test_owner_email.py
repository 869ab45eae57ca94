"""The registry's copy of a store owner's address (Tenant.owner_email: the staff console searches it, billing
mails it) follows the owner's account when its address changes in the store's admin, in the same
transaction; nobody else's change of address touches it."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tenants.accounts.models import User
from tenants.accounts.services import add_staff_member, change_email
from tenants.db_backend import connection
from tenants.models import Tenant, TenantStateChange
from tests.conftest import STAFF_EMAIL, STRONG_PASSWORD
from tests.tenants.test_console_list import rows
from tests.tenants.test_email_verification import logged_in, user_in

pytestmark = pytest.mark.django_db


def change_in_admin(browser: Client, user: User, email: str) -> Any:
    """Post the admin's change form of `user` with a new address, every other field as it was."""
    joined = user.date_joined
    return browser.post(
        f"/admin/accounts/user/{user.pk}/change/",
        {
            "email": email,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "is_active": "on",
            "is_staff": "on" if user.is_staff else "",
            "is_superuser": "on" if user.is_superuser else "",
            "date_joined_0": joined.strftime("%Y-%m-%d"),
            "date_joined_1": joined.strftime("%H:%M:%S"),
        },
    )


def owner_email_changes(tenant: Tenant) -> list[list[str]]:
    changes = TenantStateChange.objects.filter(tenant=tenant, changes__has_key="owner_email")
    return [change.changes["owner_email"] for change in changes]


def test_an_owner_who_changes_their_address_is_found_by_the_new_one(make_store, staff_browser):
    # Given a store whose owner signed up as jane@old-mail.example
    store = make_store(subdomain="hebden-bakes", email="jane@old-mail.example")
    browser = logged_in(store.tenant, "jane@old-mail.example")
    owner = user_in(store.tenant, "jane@old-mail.example")

    # When the owner changes their own address in the store's admin
    answer = change_in_admin(browser, owner, "jane@new-mail.example")

    # Then the registry's copy follows, with a record of who changed it
    assert answer.status_code == 302, answer.content.decode()[:2000]
    assert Tenant.objects.get(pk=store.tenant.pk).owner_email == "jane@new-mail.example"
    assert owner_email_changes(store.tenant) == [["jane@old-mail.example", "jane@new-mail.example"]]
    assert user_in(store.tenant, "jane@new-mail.example").email_verified_at is None
    # And staff find the store by the new address, and no longer by the old one
    assert rows(staff_browser.get("/console/", {"q": "jane@new-mail"})) == ["hebden-bakes"]
    assert rows(staff_browser.get("/console/", {"q": "old-mail"})) == []


def test_the_owner_changing_a_staff_members_address_leaves_the_registry_alone(make_store):
    store = make_store(subdomain="hebden-bakes", email="jane@old-mail.example")
    connection.set_tenant(store.tenant)
    helper = add_staff_member("sam@example.com", STRONG_PASSWORD)
    connection.set_schema_to_public()
    browser = logged_in(store.tenant, "jane@old-mail.example")

    answer = change_in_admin(browser, helper, "sam@new-mail.example")

    assert answer.status_code == 302, answer.content.decode()[:2000]
    assert user_in(store.tenant, "sam@new-mail.example").pk == helper.pk
    assert Tenant.objects.get(pk=store.tenant.pk).owner_email == "jane@old-mail.example"
    assert owner_email_changes(store.tenant) == []


def test_a_staff_member_changing_their_own_address_leaves_the_registry_alone(make_store):
    store = make_store(subdomain="hebden-bakes", email="jane@old-mail.example")
    connection.set_tenant(store.tenant)
    helper = add_staff_member("sam@example.com", STRONG_PASSWORD)

    change_email(helper, "sam@new-mail.example", by=helper)

    assert User.objects.get(pk=helper.pk).email == "sam@new-mail.example"
    connection.set_schema_to_public()
    assert Tenant.objects.get(pk=store.tenant.pk).owner_email == "jane@old-mail.example"
    assert owner_email_changes(store.tenant) == []


def test_a_platform_operator_changing_their_own_address_touches_no_store(make_store, staff_browser, staff_user):
    store = make_store(subdomain="hebden-bakes", email=STAFF_EMAIL)  # the same address, in another schema

    answer = change_in_admin(staff_browser, staff_user, "ops@new-mail.example")

    assert answer.status_code == 302, answer.content.decode()[:2000]
    assert User.objects.get(pk=staff_user.pk).email == "ops@new-mail.example"
    assert Tenant.objects.get(pk=store.tenant.pk).owner_email == STAFF_EMAIL
    assert owner_email_changes(store.tenant) == []


def test_an_owner_may_not_take_the_address_another_store_is_registered_with(make_store):
    store = make_store(subdomain="hebden-bakes", email="jane@old-mail.example")
    make_store(subdomain="calder-pots", email="potter@clay.example")
    browser = logged_in(store.tenant, "jane@old-mail.example")

    answer = change_in_admin(browser, user_in(store.tenant, "jane@old-mail.example"), "Potter@CLAY.example")

    assert answer.status_code == 200
    assert "Another store is registered with this email address" in answer.content.decode()
    assert user_in(store.tenant, "jane@old-mail.example").email == "jane@old-mail.example"
    assert Tenant.objects.get(pk=store.tenant.pk).owner_email == "jane@old-mail.example"
    assert owner_email_changes(store.tenant) == []
