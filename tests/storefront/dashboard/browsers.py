"""Browsers of the dashboard's Orders and Messages tests: a store member signed in with the store's own login,
a guest, and an account of the store that is no member of it."""

from __future__ import annotations

from django.test import Client
from django_tenants.utils import tenant_context

from onboarding.services import SignupResult
from tenants.accounts.models import User
from tests.conftest import STRONG_PASSWORD, store_host
from tests.storefront.conftest import SchemaKeepingBrowser

LURKER = "lurker@example.com"


def guest(store: SignupResult) -> Client:
    return SchemaKeepingBrowser(HTTP_HOST=store_host(store.tenant.slug))


def signed_in(store: SignupResult, email: str) -> Client:
    browser = guest(store)
    response = browser.post("/admin/login/?next=/dashboard/", {"username": email, "password": STRONG_PASSWORD})
    assert response.status_code == 302, f"{email} could not sign in"
    return browser


def html(response: object) -> str:
    return str(response.content.decode())  # type: ignore[attr-defined]


def assert_members_only(store: SignupResult, *paths: str) -> None:
    """A guest asking for each page is sent to the store's login; an account of this store that is no member
    (owner or staff) is refused."""
    with tenant_context(store.tenant):
        if not User.objects.filter(email=LURKER).exists():
            User.objects.create_user(LURKER, STRONG_PASSWORD, is_staff=True)  # no membership
    visitor, lurker = guest(store), signed_in(store, LURKER)
    for path in paths:
        answer = visitor.get(path)
        assert answer.status_code == 302 and answer["Location"].startswith(f"/admin/login/?next={path}")
        assert lurker.get(path).status_code == 403
