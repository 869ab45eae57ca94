"""Throttles and login lockouts know a client by the address our proxies saw, never by the X-Forwarded-For it
writes itself: the token API, the store and platform admin logins, and signup (API and form)."""

from __future__ import annotations

from itertools import count

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client
from rest_framework.settings import api_settings

from tenants.accounts.models import ApiToken
from tenants.models import Tenant
from tests.conftest import ROOT_HOST, STAFF_EMAIL, STRONG_PASSWORD, store_api, store_host

pytestmark = pytest.mark.django_db

WRONG_PASSWORD = "Not-the-password-at-all-1"
_forged = count(1)


def forged_address() -> dict[str, str]:
    """A new X-Forwarded-For on every request, as the attacker sends it."""
    n = next(_forged)
    return {"HTTP_X_FORWARDED_FOR": f"203.0.{n // 250}.{n % 250 + 1}"}


def allowed(scope: str) -> int:
    return int(api_settings.DEFAULT_THROTTLE_RATES[scope].split("/")[0])


def token_count(tenant: Tenant) -> int:
    connection.set_tenant(tenant)
    try:
        return ApiToken.objects.count()
    finally:
        connection.set_schema_to_public()


@pytest.fixture
def throttle_only(settings):
    """Axes out of the way, so what answers 429 is the per-client rate limit."""
    settings.AXES_FAILURE_LIMIT = 1000


# --- the token API: DRF's throttle -------------------------------------------------------------------------


def test_a_new_forwarded_for_on_each_wrong_password_does_not_escape_the_token_throttle(make_store, throttle_only):
    # Given a store, and a client forging a new X-Forwarded-For on every request
    store = make_store(email="ana@example.com")
    client = store_api(store.tenant.slug)
    tokens_before = token_count(store.tenant)

    # When it sends four more wrong passwords than the rate allows, then the right one
    codes = [
        client.post(
            "/api/v1/auth/token", {"email": "ana@example.com", "password": WRONG_PASSWORD}, **forged_address()
        ).status_code
        for _ in range(allowed("auth") + 4)
    ]
    right = client.post(
        "/api/v1/auth/token", {"email": "ana@example.com", "password": STRONG_PASSWORD}, **forged_address()
    )

    # Then it is one client: throttled past the rate, the right password too, and no token was made
    assert codes == [400] * allowed("auth") + [429] * 4
    assert right.status_code == 429
    assert token_count(store.tenant) == tokens_before


def test_behind_one_trusted_proxy_the_address_it_saw_is_the_client(make_store, settings, throttle_only):
    # Given the app behind one proxy, which appends the address it saw to X-Forwarded-For
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    store = make_store(email="ana@example.com")
    client = store_api(store.tenant.slug)
    proxy = {"REMOTE_ADDR": "10.0.0.5"}

    def attempt(forwarded_for: str) -> int:
        body = {"email": "ana@example.com", "password": WRONG_PASSWORD}
        return client.post("/api/v1/auth/token", body, HTTP_X_FORWARDED_FOR=forwarded_for, **proxy).status_code

    # When one client uses up the rate, forging the entries left of the proxy's
    first = [attempt(f"192.0.2.{n}, 198.51.100.1") for n in range(allowed("auth"))]

    # Then that client is throttled, however it forges the rest; another client behind the same proxy is not,
    # even when it claims the first one's address
    assert first == [400] * allowed("auth")
    assert attempt("192.0.2.200, 198.51.100.1") == 429
    assert attempt("198.51.100.1, 198.51.100.2") == 400


# --- the token API: axes' lockout ---------------------------------------------------------------------------


def test_the_token_api_locks_an_email_out_for_a_client_with_a_json_answer(make_store, settings):
    settings.AXES_FAILURE_LIMIT = 3
    store = make_store(email="ana@example.com")
    client = store_api(store.tenant.slug)
    tokens_before = token_count(store.tenant)

    codes = [
        client.post(
            "/api/v1/auth/token", {"email": "ana@example.com", "password": WRONG_PASSWORD}, **forged_address()
        ).status_code
        for _ in range(3)
    ]
    right = client.post(
        "/api/v1/auth/token", {"email": "ana@example.com", "password": STRONG_PASSWORD}, **forged_address()
    )

    assert codes == [400, 400, 429]
    assert right.status_code == 429
    assert "Too many failed logins" in right.json()["detail"]
    assert int(right["Retry-After"]) > 0
    assert token_count(store.tenant) == tokens_before


# --- the HTML logins: axes ----------------------------------------------------------------------------------


def fail_logins(browser: Client, email: str, times: int) -> list[int]:
    return [
        browser.post("/admin/login/", {"username": email, "password": WRONG_PASSWORD}, **forged_address()).status_code
        for _ in range(times)
    ]


def log_in(browser: Client, email: str, **extra: str) -> int:
    return browser.post(
        "/admin/login/?next=/admin/", {"username": email, "password": STRONG_PASSWORD}, **extra
    ).status_code


def test_the_store_admin_locks_out_a_client_forging_forwarded_for_even_with_the_right_password(make_store):
    # Given a store owner, and a client guessing their password with a new X-Forwarded-For each time
    store = make_store(email="ana@example.com")
    browser = Client(HTTP_HOST=store_host(store.tenant.slug))
    limit = django_settings.AXES_FAILURE_LIMIT

    # When it fails as many times as the limit, then tries the right password
    codes = fail_logins(browser, "ana@example.com", limit)
    right = browser.post("/admin/login/", {"username": "ana@example.com", "password": STRONG_PASSWORD})

    # Then the last failure locks it out, and the right password is refused too: no session
    assert codes == [200] * (limit - 1) + [429]
    assert right.status_code == 429
    assert b"Too many failed logins" in right.content
    assert browser.get("/admin/")["Location"].startswith("/admin/login/")


def test_a_store_admin_lockout_holds_only_that_client_on_that_store(make_store):
    # Given a client locked out of store A's admin for ana, and for ben (who is the owner of store B)
    store = make_store(email="ana@example.com")
    other = make_store(email="ben@example.com")
    attacker = Client(HTTP_HOST=store_host(store.tenant.slug))
    limit = django_settings.AXES_FAILURE_LIMIT
    assert fail_logins(attacker, "ana@example.com", limit)[-1] == 429
    assert fail_logins(attacker, "ben@example.com", limit)[-1] == 429

    # Then ana from her own address still gets in, and so does ben on his own store from the same address
    assert log_in(Client(HTTP_HOST=store_host(store.tenant.slug), REMOTE_ADDR="198.51.100.7"), "ana@example.com") == 302
    assert log_in(Client(HTTP_HOST=store_host(other.tenant.slug)), "ben@example.com") == 302


def test_the_lockout_page_does_not_tell_whether_the_account_exists(make_store):
    store = make_store(email="ana@example.com")
    limit = django_settings.AXES_FAILURE_LIMIT
    known = Client(HTTP_HOST=store_host(store.tenant.slug))
    unknown = Client(HTTP_HOST=store_host(store.tenant.slug), REMOTE_ADDR="198.51.100.9")

    fail_logins(known, "ana@example.com", limit)
    fail_logins(unknown, "nobody@example.com", limit)
    for_known = known.post("/admin/login/", {"username": "ana@example.com", "password": WRONG_PASSWORD})
    for_unknown = unknown.post("/admin/login/", {"username": "nobody@example.com", "password": WRONG_PASSWORD})

    assert for_known.status_code == for_unknown.status_code == 429
    assert for_known.content == for_unknown.content
    assert b"ana@" not in for_known.content


def test_the_platform_admin_locks_out_a_client_forging_forwarded_for(staff_user):
    browser = Client(HTTP_HOST=ROOT_HOST)
    limit = django_settings.AXES_FAILURE_LIMIT

    codes = fail_logins(browser, STAFF_EMAIL, limit)
    right = browser.post("/admin/login/", {"username": STAFF_EMAIL, "password": STRONG_PASSWORD})

    assert codes == [200] * (limit - 1) + [429]
    assert right.status_code == 429
    assert browser.get("/admin/")["Location"].startswith("/admin/login/")
    # The operator from their own address is not locked out.
    assert log_in(Client(HTTP_HOST=ROOT_HOST), STAFF_EMAIL, REMOTE_ADDR="198.51.100.7") == 302


# --- signup: API and form -----------------------------------------------------------------------------------


def test_the_signup_api_throttles_a_client_forging_forwarded_for(root_api):
    codes = [
        root_api.post("/api/v1/signup", {}, format="json", **forged_address()).status_code
        for _ in range(allowed("signup") + 1)
    ]

    assert codes == [400] * allowed("signup") + [429]
    assert not Tenant.objects.exists()


def test_the_signup_form_throttles_a_client_forging_forwarded_for():
    browser = Client(HTTP_HOST=ROOT_HOST)
    incomplete = {"store_name": "Hebden Bakery", "subdomain": "hebden-bakery"}

    codes = [browser.post("/signup/", incomplete, **forged_address()).status_code for _ in range(allowed("signup"))]
    throttled = browser.post("/signup/", incomplete, **forged_address())

    assert codes == [400] * allowed("signup")
    assert throttled.status_code == 429
    assert int(throttled["Retry-After"]) > 0
    assert b"Too many attempts" in throttled.content
    assert not Tenant.objects.exists()
    # Reading the form costs nothing.
    assert browser.get("/signup/").status_code == 200
