"""Merchant signup over `POST /api/v1/signup` on the root host."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.core import mail
from django.db import connection
from django.test import TestCase
from django_tenants.utils import schema_exists

from billing.models import Subscription
from tenants.accounts.models import Membership, User
from tenants.models import Domain, PooledSchema, Tenant, TenantStateChange
from tests.conftest import STRONG_PASSWORD, store_api

pytestmark = pytest.mark.django_db


def signup_traces() -> dict[str, Any]:
    """Everything a signup leaves behind, read from `public`: rows, schemas, the pool and mails."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' ORDER BY nspname")
        schemas = [name for (name,) in cursor.fetchall()]
    return {
        "tenants": list(Tenant.objects.order_by("pk").values_list("slug", flat=True)),
        "domains": list(Domain.objects.order_by("pk").values_list("domain", flat=True)),
        "subscriptions": list(Subscription.objects.order_by("pk").values_list("tenant_id", flat=True)),
        "state changes": TenantStateChange.objects.count(),
        "platform accounts": list(User.objects.order_by("pk").values_list("email", flat=True)),
        "schemas": schemas,
        "pool": sorted(PooledSchema.objects.values_list("schema_name", flat=True)),
        "mails": len(mail.outbox),
    }


@contextmanager
def leaves_no_trace() -> Iterator[None]:
    """Asserts the block signed nobody up: no tenant, domain, subscription, state change or account, no
    schema made or claimed from the pool, no mail, and nothing queued to run after commit."""
    before = signup_traces()
    with TestCase.captureOnCommitCallbacks() as queued:
        yield
    assert signup_traces() == before
    assert queued == []


def signup_body(**overrides: str) -> dict[str, str]:
    body = {
        "email": "maria@example.com",
        "password": STRONG_PASSWORD,
        "store_name": "Maria's Deli",
        "subdomain": "marias-deli",
        "town": "Todmorden",
        "postcode": "ol14 5aa",
        "tenancy": "shared",
    }
    body.update(overrides)
    return body


def test_shared_signup_answers_a_live_store_and_an_owner_token(root_api):
    # Given a free subdomain, when a merchant signs up for a shared store
    response = root_api.post("/api/v1/signup", signup_body(), format="json")

    # Then the store is live at its own host and the token works there
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["tenant"] == {
        "slug": "marias-deli",
        "url": "http://marias-deli.localhost/",
        "status": "active",
        "tenancy": "shared",
    }
    tenant = Tenant.objects.get(slug="marias-deli")
    assert tenant.postcode == "OL14 5AA"
    assert Domain.objects.filter(tenant=tenant, domain="marias-deli.localhost", is_primary=True).exists()
    assert schema_exists("t_marias_deli")

    products = store_api("marias-deli", body["token"]).get("/api/v1/products")
    assert products.status_code == 200
    assert products.json()["count"] == 0


def test_the_owner_lives_in_the_store_schema_with_the_owner_role(root_api):
    root_api.post("/api/v1/signup", signup_body(), format="json")

    assert not User.objects.filter(email="maria@example.com").exists()  # not in public
    connection.set_tenant(Tenant.objects.get(slug="marias-deli"))
    owner = User.objects.get(email="maria@example.com")
    assert owner.check_password(STRONG_PASSWORD)
    assert owner.membership.role == Membership.Role.OWNER


def test_signup_claims_a_schema_from_the_pool(root_api):
    before = PooledSchema.objects.count()

    root_api.post("/api/v1/signup", signup_body(), format="json")

    assert PooledSchema.objects.count() == before - 1


def test_signup_falls_back_to_migrating_when_the_pool_is_empty(root_api, caplog):
    PooledSchema.objects.all().delete()  # rolled back with the test

    response = root_api.post("/api/v1/signup", signup_body(), format="json")

    assert response.status_code == 201
    assert schema_exists("t_marias_deli")
    assert "schema pool empty: store schema made by migrate" in caplog.text
    token = response.json()["token"]
    assert store_api("marias-deli", token).get("/api/v1/products").status_code == 200


def test_dedicated_signup_is_recorded_for_staff_without_a_schema(root_api):
    response = root_api.post("/api/v1/signup", signup_body(tenancy="dedicated"), format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["tenant"]["status"] == "pending_provisioning"
    assert body["tenant"]["tenancy"] == "dedicated"
    assert body["token"] is None
    assert not schema_exists("t_marias_deli")
    tenant = Tenant.objects.get(slug="marias-deli")
    assert tenant.pending_owner_password.startswith("argon2")
    assert STRONG_PASSWORD not in tenant.pending_owner_password


@pytest.mark.parametrize(
    ("overrides", "field", "fragment"),
    [
        ({"subdomain": "www"}, "subdomain", "reserved"),
        ({"subdomain": "admin"}, "subdomain", "reserved"),
        ({"subdomain": "api"}, "subdomain", "reserved"),
        ({"subdomain": "static"}, "subdomain", "reserved"),
        ({"subdomain": "Bad_Name!"}, "subdomain", "lower-case letters"),
        ({"subdomain": "-deli"}, "subdomain", "lower-case letters"),
        ({"subdomain": "ab"}, "subdomain", "3 to 40"),
        ({"password": "short1"}, "password", "too short"),
        ({"password": "password1234"}, "password", "too common"),
        ({"password": "marias-deli-2024"}, "password", "too similar"),
        ({"password": "84920175639201"}, "password", "entirely numeric"),
        ({"email": "not-an-email"}, "email", "valid email"),
        ({"tenancy": "vip"}, "tenancy", "not a valid choice"),
        ({"town": ""}, "town", "may not be blank"),
        ({"plan": "platinum"}, "plan", "Unknown plan"),
    ],
)
def test_bad_input_gets_a_field_error_and_creates_nothing(root_api, overrides, field, fragment):
    with leaves_no_trace():
        response = root_api.post("/api/v1/signup", signup_body(**overrides), format="json")

    assert response.status_code == 400
    errors = response.json()
    assert list(errors) == [field], errors
    assert fragment.lower() in " ".join(errors[field]).lower()
    assert not Tenant.objects.exists()
    assert not schema_exists("t_marias_deli")


def test_a_taken_subdomain_is_refused(root_api):
    assert root_api.post("/api/v1/signup", signup_body(), format="json").status_code == 201

    with leaves_no_trace():
        again = root_api.post("/api/v1/signup", signup_body(email="other@example.com"), format="json")

    assert again.status_code == 400
    assert again.json() == {"subdomain": ["'marias-deli' is already taken; choose another."]}
    assert Tenant.objects.count() == 1


def test_a_duplicate_email_is_refused_whatever_its_case(root_api):
    assert root_api.post("/api/v1/signup", signup_body(), format="json").status_code == 201

    with leaves_no_trace():
        again = root_api.post(
            "/api/v1/signup", signup_body(email="MARIA@example.com", subdomain="other-deli"), format="json"
        )

    assert again.status_code == 400
    assert again.json() == {"email": ["A store is already registered with this email address; log in instead."]}
    assert not schema_exists("t_other_deli")


def test_missing_fields_are_named(root_api):
    with leaves_no_trace():
        response = root_api.post("/api/v1/signup", {}, format="json")

    assert response.status_code == 400
    required = ["This field is required."]
    assert response.json() == {
        name: required for name in ("email", "password", "store_name", "subdomain", "town", "postcode")
    }


def test_signup_is_only_on_the_root_host(make_store):
    store = make_store()

    with leaves_no_trace():
        response = store_api(store.tenant.slug).post("/api/v1/signup", signup_body(), format="json")

    assert response.status_code == 404
    assert not Tenant.objects.filter(slug="marias-deli").exists()
