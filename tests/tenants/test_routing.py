"""Host routing: a warm request spends no query on finding its tenant."""

import pytest
from django.test import Client

from tenants.models import Domain
from tenants.routing import forget_tenant_routes
from tests.conftest import store_api, store_host

pytestmark = pytest.mark.django_db


def test_a_store_page_costs_only_its_own_queries_once_the_route_is_cached(make_store, django_assert_num_queries):
    store = make_store(subdomain="bakery")
    store_api("bakery", store.token).post(
        "/api/v1/products", {"title": "Rye", "price": 350, "sku": "RYE", "status": "active"}
    )
    buyer = Client(HTTP_HOST=store_host("bakery"))
    assert buyer.get("/").status_code == 200  # first request resolves and caches the route

    # The storefront home's own queries (categories, the page of products, their main images, the seller
    # profile and, none saved yet, the town from signup); nothing for tenant resolution.
    with django_assert_num_queries(5):
        page = buyer.get("/")

    assert b"Rye" in page.content


def test_a_verified_custom_domain_serves_its_store_and_unknown_hosts_get_404(make_store):
    store = make_store(subdomain="bakery", store_name="Hebden Bakery")
    assert Client(HTTP_HOST="shop.hebden-bakery.test").get("/").status_code == 404

    Domain.objects.create(domain="shop.hebden-bakery.test", tenant=store.tenant, is_primary=False)
    forget_tenant_routes(store.tenant)  # what the domain-verification service does after adding one

    page = Client(HTTP_HOST="shop.hebden-bakery.test").get("/")
    assert page.status_code == 200
    assert b"Hebden Bakery" in page.content
    assert Client(HTTP_HOST="evil.example.com").get("/").status_code == 404


def test_a_process_reuses_a_route_briefly_and_a_change_here_is_seen_at_once(make_store, settings):
    from django.core.cache import caches

    from tenants.models import Tenant
    from tenants.routing import tenant_for_host

    # Set here, not left to the 1 s default: a slow moment between the lookups below must not expire it.
    settings.TENANT_ROUTE_MEMO_SECONDS = 60.0
    store = make_store(subdomain="bakery")
    assert tenant_for_host(store_host("bakery")).status == "active"

    # Another process suspends the store: the row changes and Redis forgets the route, but not this
    # process's memory of it, which is reused for TENANT_ROUTE_MEMO_SECONDS.
    Tenant.objects.filter(pk=store.tenant.pk).update(status="suspended")
    caches["routing"].clear()
    reused = tenant_for_host(store_host("bakery")).status
    settings.TENANT_ROUTE_MEMO_SECONDS = 0
    asked_again = tenant_for_host(store_host("bakery")).status
    settings.TENANT_ROUTE_MEMO_SECONDS = 60.0  # this process still remembers "active"
    remembered = tenant_for_host(store_host("bakery")).status
    forget_tenant_routes(store.tenant)  # a change made in this process evicts its memory at once
    after_eviction = tenant_for_host(store_host("bakery")).status

    assert (reused, asked_again) == ("active", "suspended")
    assert (remembered, after_eviction) == ("active", "suspended")
