"""Tenant isolation, attacked through every route that exists: API, pages, admin, sessions and
cookies, the signup handoff, cache keys, media paths and Celery tasks. Every attempt must fail."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.test import Client

from config.celery import app
from storefront.catalog.models import Product
from tenants.handoff import make_handoff_token
from tests.conftest import STRONG_PASSWORD, store_api, store_host, wait_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_stores(make_store):
    alpha = make_store(subdomain="alpha", email="alpha@example.com")
    beta = make_store(subdomain="beta", email="beta@example.com")
    for store, title in ((alpha, "Alpha secret jam"), (beta, "Beta honey")):
        response = store_api(store.tenant.slug, store.token).post(
            "/api/v1/products", {"title": title, "price": 300, "sku": f"{title[:4]}-1", "status": "active"}
        )
        assert response.status_code == 201
    return alpha, beta


def test_one_stores_token_is_refused_by_another_store(two_stores):
    alpha, _ = two_stores

    response = store_api("beta", alpha.token).get("/api/v1/products")

    assert response.status_code == 401
    assert b"Alpha" not in response.content


def test_a_store_api_lists_only_its_own_products(two_stores):
    alpha, beta = two_stores

    alpha_titles = [p["title"] for p in store_api("alpha", alpha.token).get("/api/v1/products").json()["results"]]
    beta_titles = [p["title"] for p in store_api("beta", beta.token).get("/api/v1/products").json()["results"]]

    assert alpha_titles == ["Alpha secret jam"]
    assert beta_titles == ["Beta honey"]


def test_another_stores_product_id_is_not_found_and_not_writable(two_stores):
    alpha, beta = two_stores
    alpha_client = store_api("alpha", alpha.token)
    extra = alpha_client.post("/api/v1/products", {"title": "Alpha only", "price": 1, "sku": "A-2"}).json()

    beta_client = store_api("beta", beta.token)
    assert beta_client.get(f"/api/v1/products/{extra['id']}").status_code == 404
    assert beta_client.patch(f"/api/v1/products/{extra['id']}", {"title": "pwned"}).status_code == 404
    assert beta_client.delete(f"/api/v1/products/{extra['id']}").status_code == 404
    assert alpha_client.get(f"/api/v1/products/{extra['id']}").json()["title"] == "Alpha only"


def test_a_session_from_one_store_is_not_a_login_on_another(two_stores):
    browser = Client(HTTP_HOST=store_host("alpha"))
    login = browser.post("/admin/login/?next=/admin/", {"username": "alpha@example.com", "password": STRONG_PASSWORD})
    assert login.status_code == 302
    assert browser.get("/admin/").status_code == 200

    # The test client sends every cookie to every host, as a forged cookie would arrive.
    stolen = browser.get("/admin/", HTTP_HOST=store_host("beta"))

    assert stolen.status_code == 302
    assert "/admin/login/" in stolen["Location"]


def test_session_cookies_are_host_only(two_stores):
    browser = Client(HTTP_HOST=store_host("alpha"))
    browser.post("/admin/login/?next=/admin/", {"username": "alpha@example.com", "password": STRONG_PASSWORD})

    assert browser.cookies["sessionid"]["domain"] == ""


def test_the_store_admin_shows_only_its_own_products(two_stores):
    browser = Client(HTTP_HOST=store_host("alpha"))
    browser.post("/admin/login/?next=/admin/", {"username": "alpha@example.com", "password": STRONG_PASSWORD})

    page = browser.get("/admin/catalog/product/")

    assert b"Alpha secret jam" in page.content
    assert b"Beta honey" not in page.content


def test_a_store_owner_has_no_way_into_the_control_plane(two_stores):
    root = Client(HTTP_HOST="localhost")
    root.post("/admin/login/?next=/admin/", {"username": "alpha@example.com", "password": STRONG_PASSWORD})

    assert root.get("/admin/").status_code == 302
    assert root.get("/console/").status_code == 302


def test_the_tenant_registry_is_not_in_a_store_admin(two_stores):
    browser = Client(HTTP_HOST=store_host("alpha"))
    browser.post("/admin/login/?next=/admin/", {"username": "alpha@example.com", "password": STRONG_PASSWORD})

    assert browser.get("/admin/tenants/tenant/").status_code == 404


def test_a_signup_handoff_link_works_once_and_only_on_its_own_store(two_stores):
    alpha, _ = two_stores
    token = make_handoff_token("alpha", alpha.owner.pk)

    on_beta = Client(HTTP_HOST=store_host("beta")).post("/accounts/handoff/", {"token": token})
    assert on_beta["Location"].startswith("/admin/login/")

    first = Client(HTTP_HOST=store_host("alpha"))
    assert first.post("/accounts/handoff/", {"token": token})["Location"] == "/dashboard/"
    assert first.get("/dashboard/").status_code == 200
    replay = Client(HTTP_HOST=store_host("alpha")).post("/accounts/handoff/", {"token": token})
    assert replay["Location"].startswith("/admin/login/")


def test_cache_keys_are_namespaced_by_tenant(two_stores):
    alpha, beta = two_stores
    connection.set_tenant(alpha.tenant)
    cache.set("storefront:best-sellers", ["Alpha secret jam"])

    connection.set_tenant(beta.tenant)
    assert cache.get("storefront:best-sellers") is None

    connection.set_tenant(alpha.tenant)
    assert cache.get("storefront:best-sellers") == ["Alpha secret jam"]


def test_media_paths_are_namespaced_by_tenant(two_stores, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    alpha, beta = two_stores
    connection.set_tenant(alpha.tenant)
    name = default_storage.save("products/photo.jpg", ContentFile(b"alpha image bytes"))
    alpha_path = default_storage.path(name)

    connection.set_tenant(beta.tenant)

    assert not default_storage.exists(name)
    assert default_storage.path(name) != alpha_path
    assert alpha.tenant.schema_name in alpha_path
    assert alpha.tenant.schema_name not in default_storage.path(name)


seen_by_task: list[tuple[str, list[str]]] = []


@app.task(name="tests.isolation.list_products_here")
def list_products_here() -> None:
    seen_by_task.append((connection.schema_name, sorted(Product.objects.values_list("title", flat=True))))


@pytest.mark.usefixtures("committed_tenancy")
def test_celery_tasks_run_in_the_schema_of_the_tenant_that_sent_them(make_store, celery_worker):
    alpha = make_store(subdomain="alpha", email="alpha@example.com")
    beta = make_store(subdomain="beta", email="beta@example.com")
    for store, title in ((alpha, "Alpha secret jam"), (beta, "Beta honey")):
        connection.set_tenant(store.tenant)
        Product.objects.create(title=title, price=100, sku=title[:4])
    connection.set_schema_to_public()
    seen_by_task.clear()

    # A real worker, consuming from the real broker, in a thread of this process: the schema travels
    # in the message, which an eager run would never serialise.
    with celery_worker():
        for store in (alpha, beta):
            connection.set_tenant(store.tenant)
            list_products_here.delay()
        connection.set_schema_to_public()
        wait_for(lambda: len(seen_by_task) == 2, what="both tasks to run")

    assert sorted(seen_by_task) == [("t_alpha", ["Alpha secret jam"]), ("t_beta", ["Beta honey"])]


def test_a_new_store_in_a_freed_schema_name_never_reads_the_old_stores_cached_pages(make_store):
    from tenants import cache_generations

    old = make_store(subdomain="reused")
    old_api = store_api("reused", old.token)
    old_api.post("/api/v1/products", {"title": "Old stock", "sku": "OLD-1", "price": 100}, format="json")
    assert old_api.get("/api/v1/products").json()["count"] == 1  # now cached under the schema's name
    schema = old.tenant.schema_name
    # The old store is gone and its schema name is given to a new one (as when a slug is freed).
    connection.set_schema_to_public()
    from billing.models import Subscription

    Subscription.objects.filter(tenant=old.tenant).delete()
    old.tenant.delete()
    with connection.cursor() as cursor:
        cursor.execute(f'ALTER SCHEMA "{schema}" RENAME TO "gone_{schema}"')  # as good as dropped
    new = make_store(subdomain="reused")

    assert new.tenant.schema_name == schema and cache_generations.enabled()
    assert store_api("reused", new.token).get("/api/v1/products").json()["count"] == 0


def _buyer(email):
    response = Client(HTTP_HOST="localhost").post(
        "/api/v1/buyers", {"email": email, "password": STRONG_PASSWORD}, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    return response.json()["token"]


def _alpha_product(alpha):
    """Alpha's product, with units to sell."""
    product = store_api("alpha", alpha.token).get("/api/v1/products").json()["results"][0]["id"]
    assert store_api("alpha", alpha.token).patch(f"/api/v1/products/{product}", {"stock": 5}).status_code == 200
    return product


def test_carts_and_orders_stay_in_their_store_and_with_their_buyer(two_stores):
    alpha, beta = two_stores
    ada, bob = _buyer("ada@example.com"), _buyer("bob@example.com")
    jam = _alpha_product(alpha)
    assert (
        store_api("alpha", ada).post("/api/v1/cart/items", {"product": jam, "quantity": 1}, format="json").status_code
        == 201
    )
    placed = store_api("alpha", ada).post("/api/v1/checkout", {"fulfilment": "pickup"}, format="json").json()["order"]
    assert (
        store_api("alpha", ada).post("/api/v1/cart/items", {"product": jam, "quantity": 2}, format="json").status_code
        == 201
    )

    # Another buyer, on the same store: not the cart, not the order
    assert store_api("alpha", bob).get("/api/v1/cart").json()["items"] == []
    assert store_api("alpha", bob).get(f"/api/v1/orders/{placed['id']}").status_code == 404
    assert store_api("alpha", bob).get("/api/v1/orders").json()["results"] == []
    # The same buyer on another store: that store's own (empty) cart and orders
    assert store_api("beta", ada).get("/api/v1/cart").json()["items"] == []
    assert store_api("beta", ada).get(f"/api/v1/orders/{placed['id']}").status_code == 404
    # An id of one of alpha's products that beta has no product for: refused there (ids are each store's own)
    beta_ids = {p["id"] for p in store_api("beta", beta.token).get("/api/v1/products").json()["results"]}
    alpha_only = next(
        product["id"]
        for n in range(len(beta_ids) + 1)
        if (
            product := store_api("alpha", alpha.token)
            .post("/api/v1/products", {"title": f"Alpha {n}", "price": 1, "sku": f"A-{n}", "stock": 3}, format="json")
            .json()
        )["id"]
        not in beta_ids
    )
    refused = store_api("beta", ada).post("/api/v1/cart/items", {"product": alpha_only, "quantity": 1}, format="json")
    assert refused.status_code == 400 and "no product" in refused.json()["product"][0]
    # The other store's staff: their token is nothing here, and their own API has no such order
    assert store_api("alpha", beta.token).get("/api/v1/orders").status_code == 401
    assert store_api("beta", beta.token).get(f"/api/v1/orders/{placed['id']}").status_code == 404
    assert store_api("beta", beta.token).get("/api/v1/orders").json()["results"] == []
    moved = store_api("beta", beta.token).post(
        f"/api/v1/orders/{placed['id']}/transition", {"to": "paid"}, format="json"
    )
    assert moved.status_code == 404
    # A buyer's token is no staff credential anywhere, nor a platform one on the root host
    assert (
        store_api("alpha", ada)
        .post(f"/api/v1/orders/{placed['id']}/transition", {"to": "paid"}, format="json")
        .status_code
        == 401
    )
    assert (
        Client(HTTP_HOST="localhost").get("/api/v1/staff/tenants", HTTP_AUTHORIZATION=f"Bearer {ada}").status_code
        == 401
    )
    # What the owner sees is their own store's order, still placed
    alpha_orders = store_api("alpha", alpha.token).get("/api/v1/orders").json()["results"]
    assert [(o["id"], o["status"]) for o in alpha_orders] == [(placed["id"], "placed")]
