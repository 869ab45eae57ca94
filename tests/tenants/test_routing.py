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
