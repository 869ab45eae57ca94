"""Platform staff suspend and reactivate stores; a suspended store is closed, its data untouched."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client

from storefront.catalog.models import Product
from tenants.models import Tenant, TenantStateChange
from tests.conftest import store_api, store_host

pytestmark = pytest.mark.django_db


def add_product(store, title="Sourdough loaf"):
    created = store_api(store.tenant.slug, store.token).post(
        "/api/v1/products", {"title": title, "price": 450, "sku": title[:10], "status": "active"}, format="json"
    )
    assert created.status_code == 201, created.content
    return created.json()


def test_staff_see_every_tenant_with_status_tenancy_and_created_date(staff_api, make_store):
    make_store(subdomain="bakery")
    make_store(subdomain="pottery", tenancy="dedicated")

    response = staff_api.get("/api/v1/staff/tenants")

    assert response.status_code == 200
    rows = {row["slug"]: row for row in response.json()["results"]}
    assert rows["bakery"]["status"] == "active" and rows["bakery"]["tenancy"] == "shared"
    assert rows["pottery"]["status"] == "pending_provisioning" and rows["pottery"]["tenancy"] == "dedicated"
    assert rows["bakery"]["created_at"]
    pending = staff_api.get("/api/v1/staff/tenants?status=pending_provisioning").json()["results"]
    assert [row["slug"] for row in pending] == ["pottery"]


def test_a_suspended_store_is_closed_to_buyers_and_its_api_with_data_untouched(staff_api, make_store):
    store = make_store(subdomain="bakery")
    add_product(store)
    store_api("bakery").get("/")  # warm the route cache: suspension must evict it

    response = staff_api.post("/api/v1/staff/tenants/bakery/suspend", {"reason": "Unpaid invoice"}, format="json")

    assert response.status_code == 200
    assert response.json()["status"] == "suspended"
    page = Client(HTTP_HOST=store_host("bakery")).get("/")
    assert page.status_code == 503
    assert b"temporarily closed" in page.content
    assert b"Unpaid invoice" in page.content
    api = store_api("bakery", store.token).get("/api/v1/products")
    assert api.status_code == 403
    assert api.json()["code"] == "tenant_suspended"
    assert "Unpaid invoice" in api.json()["detail"]
    connection.set_tenant(Tenant.objects.get(slug="bakery"))
    assert Product.objects.count() == 1


def test_reactivating_reopens_the_store_with_everything_in_place(staff_api, make_store):
    store = make_store(subdomain="bakery")
    add_product(store)
    staff_api.post("/api/v1/staff/tenants/bakery/suspend", {}, format="json")

    response = staff_api.post("/api/v1/staff/tenants/bakery/reactivate")

    assert response.status_code == 200
    assert response.json()["status"] == "active"
    assert Client(HTTP_HOST=store_host("bakery")).get("/").status_code == 200
    listed = store_api("bakery", store.token).get("/api/v1/products").json()
    assert [p["title"] for p in listed["results"]] == ["Sourdough loaf"]


def test_reactivating_an_active_store_is_a_conflict(staff_api, make_store):
    tenant = make_store(subdomain="bakery").tenant
    changes_before = TenantStateChange.objects.filter(tenant=tenant).count()

    assert staff_api.post("/api/v1/staff/tenants/bakery/reactivate").status_code == 409
    assert Tenant.objects.get(pk=tenant.pk).status == "active"
    assert TenantStateChange.objects.filter(tenant=tenant).count() == changes_before  # nothing recorded


def test_only_platform_staff_may_suspend(root_api, make_store):
    store = make_store(subdomain="bakery")
    root_api.credentials(HTTP_AUTHORIZATION=f"Bearer {store.token}")  # a store token is not valid here

    assert root_api.post("/api/v1/staff/tenants/bakery/suspend").status_code == 401
    assert Tenant.objects.get(slug="bakery").status == "active"
    assert store_api("bakery", store.token).post("/api/v1/staff/tenants/bakery/suspend").status_code == 404
    assert Tenant.objects.get(slug="bakery").status == "active"
    assert not TenantStateChange.objects.filter(tenant=store.tenant, changes__has_key="status").exists()


def test_a_pending_dedicated_store_host_says_it_is_being_prepared(make_store):
    make_store(subdomain="pottery", tenancy="dedicated")

    page = Client(HTTP_HOST=store_host("pottery")).get("/")

    assert page.status_code == 503
    assert b"being prepared" in page.content
