"""`POST /api/v1/auth/token`: a bearer token for that host's own members, and nobody else."""

from __future__ import annotations

import pytest
from django.test import override_settings
from django_tenants.utils import tenant_context
from rest_framework.throttling import ScopedRateThrottle

from tenants.accounts.models import ApiToken, User
from tenants.models import PlatformRole
from tests.conftest import STRONG_PASSWORD, make_platform_staff, store_api

pytestmark = pytest.mark.django_db
REFUSED = {"non_field_errors": ["Email or password is wrong, or this account has no access to this host."]}


def token_count(store) -> int:
    """API tokens held in a store's schema (signup issues the owner's first one)."""
    with tenant_context(store.tenant):
        return ApiToken.objects.count()


def test_a_store_owner_gets_a_working_token_on_their_store(make_store):
    store = make_store(email="ana@example.com")
    client = store_api(store.tenant.slug)

    response = client.post("/api/v1/auth/token", {"email": "ana@example.com", "password": STRONG_PASSWORD})

    assert response.status_code == 200
    token = response.json()["token"]
    assert token.startswith("lb_")
    assert store_api(store.tenant.slug, token).get("/api/v1/products").status_code == 200


def test_tokens_are_stored_only_as_digests(make_store):
    store = make_store()
    from django.db import connection

    connection.set_tenant(store.tenant)
    assert not ApiToken.objects.filter(digest=store.token).exists()
    assert ApiToken.objects.filter(prefix=store.token[:10]).count() == 1


def test_a_wrong_password_is_a_400_with_no_token(make_store):
    store = make_store(email="ana@example.com")

    response = store_api(store.tenant.slug).post(
        "/api/v1/auth/token", {"email": "ana@example.com", "password": "wrong-password-123"}
    )

    assert response.status_code == 400
    assert response.json() == REFUSED
    assert token_count(store) == 1  # the owner's from signup, no other


def test_an_owner_of_one_store_gets_no_token_on_another(make_store):
    ana = make_store(email="ana@example.com")
    other = make_store(email="ben@example.com")

    response = store_api(other.tenant.slug).post(
        "/api/v1/auth/token", {"email": "ana@example.com", "password": STRONG_PASSWORD}
    )

    assert response.status_code == 400
    assert response.json() == REFUSED
    assert (token_count(ana), token_count(other)) == (1, 1)


def test_platform_staff_get_a_token_on_the_root_host_and_store_owners_do_not(root_api, make_store):
    make_platform_staff()
    ana = make_store(email="ana@example.com")

    staff = root_api.post("/api/v1/auth/token", {"email": "staff@localbazaar.test", "password": STRONG_PASSWORD})
    owner = root_api.post("/api/v1/auth/token", {"email": "ana@example.com", "password": STRONG_PASSWORD})

    assert staff.status_code == 200
    assert owner.status_code == 400
    assert owner.json() == REFUSED
    assert list(ApiToken.objects.values_list("user__email", flat=True)) == ["staff@localbazaar.test"]
    assert token_count(ana) == 1


def test_a_non_staff_public_user_gets_no_token_on_the_root_host(root_api):
    User.objects.create_user("buyer@example.com", STRONG_PASSWORD)

    response = root_api.post("/api/v1/auth/token", {"email": "buyer@example.com", "password": STRONG_PASSWORD})

    assert response.status_code == 400
    assert response.json() == REFUSED
    assert not ApiToken.objects.exists()


def test_token_requests_are_throttled(make_store, settings, monkeypatch):
    store = make_store(email="ana@example.com")
    client = store_api(store.tenant.slug)
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "auth": "3/min"}
    # DRF's throttles read their rates once, into a class attribute: monkeypatch puts the original back (a
    # restore from api_settings inside the override put back the overridden 3/min for every later test).
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", rates)

    with override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}):
        codes = [
            client.post("/api/v1/auth/token", {"email": "ana@example.com", "password": "nope-nope-nope"}).status_code
            for _ in range(4)
        ]

    assert codes == [400, 400, 400, 429]


def test_a_malformed_or_unknown_bearer_token_is_refused(make_store):
    store = make_store()

    assert store_api(store.tenant.slug, "lb_not-a-real-token").get("/api/v1/products").status_code == 401
    client = store_api(store.tenant.slug)
    client.credentials(HTTP_AUTHORIZATION="Bearer")
    assert client.get("/api/v1/products").status_code == 401


def test_token_use_is_recorded_without_a_write_on_every_request(make_store):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    store = make_store()
    client = store_api(store.tenant.slug, store.token)
    client.get("/api/v1/products")  # first use: recorded, and the route is cached
    connection.set_tenant(store.tenant)
    first_use = ApiToken.objects.get().last_used_at
    connection.set_schema_to_public()
    assert first_use is not None

    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/v1/products").status_code == 200

    assert not [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith("UPDATE")]
    connection.set_tenant(store.tenant)
    assert ApiToken.objects.get().last_used_at == first_use


@pytest.mark.parametrize(
    "change", ["revoke", "deactivate", "remove_membership", "unstaff_on_root", "platform_role_revoked"]
)
def test_a_cached_token_check_gives_way_at_once_to_a_revocation(make_store, root_api, change):
    from django.db import connection

    from tenants.accounts.models import Membership
    from tenants.accounts.services import add_staff_member, issue_api_token

    store = make_store()
    on_root = change in ("unstaff_on_root", "platform_role_revoked")
    if on_root:
        connection.set_schema_to_public()
        staff = make_platform_staff("ops@localbazaar.test", role="support")
        client = root_api
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_api_token(staff)}")
        path = "/api/v1/staff/tenants"
    else:
        connection.set_tenant(store.tenant)
        staff = add_staff_member("helper@example.com", STRONG_PASSWORD)
        client = store_api(store.tenant.slug, issue_api_token(staff))
        path = "/api/v1/products"
    connection.set_schema_to_public()
    assert client.get(path).status_code == 200
    assert client.get(path).status_code == 200  # answered from the cached check

    connection.set_tenant(store.tenant) if not on_root else connection.set_schema_to_public()
    if change == "revoke":
        ApiToken.objects.get(user=staff).delete()
    elif change == "deactivate":
        staff.is_active = False
        staff.save()
    elif change == "remove_membership":
        Membership.objects.filter(user=staff).delete()
    elif change == "platform_role_revoked":
        PlatformRole.objects.filter(user=staff).delete()
    else:
        staff.is_staff = False
        staff.save()
    connection.set_schema_to_public()

    assert client.get(path).status_code == 401
