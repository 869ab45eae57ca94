"""`/api/v1/products` on a store host: create, read, change, delete, list with filters, search,
ordering and pages, and clear 400s for what the catalog refuses."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import IntegrityError, transaction

from storefront.catalog import services
from storefront.catalog.models import Category, Product
from tests.conftest import store_api, store_host

pytestmark = pytest.mark.django_db

JAM = {
    "title": "Damson jam",
    "description": "From the hedge behind the shop.",
    "price": 450,
    "currency": "gbp",
    "sku": "JAM-DAMSON",
    "stock": 12,
    "status": "active",
    "tags": ["Preserves", "  vegan ", "preserves"],
}


@pytest.fixture
def preserves(in_store):
    return Category.objects.create(name="Preserves", slug="preserves")


def test_a_member_creates_a_product_with_every_field(api, preserves):
    response = api.post("/api/v1/products", {**JAM, "category": "preserves"}, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert {k: body[k] for k in ("title", "price", "currency", "sku", "stock", "status", "category", "tags")} == {
        "title": "Damson jam",
        "price": 450,
        "currency": "GBP",
        "sku": "JAM-DAMSON",
        "stock": 12,
        "status": "active",
        "category": "preserves",
        "tags": ["preserves", "vegan"],
    }
    assert Product.objects.get(sku="JAM-DAMSON").category == preserves


def test_a_product_is_read_changed_and_deleted(api, in_store):
    created = api.post("/api/v1/products", JAM, format="json").json()
    url = f"/api/v1/products/{created['id']}"

    assert api.get(url).json()["title"] == "Damson jam"
    patched = api.patch(url, {"price": 500, "tags": ["seasonal"]}, format="json")
    assert patched.status_code == 200
    body = patched.json()
    assert (body["price"], body["tags"], body["title"]) == (500, ["seasonal"], "Damson jam")
    assert api.delete(url).status_code == 204
    assert api.get(url).status_code == 404
    assert not Product.objects.exists()


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"price": -1}, "price", "Price cannot be negative."),
        ({"price": "4.50"}, "price", "A valid integer is required."),
        ({"price": 10**13}, "price", "Price must be at most"),
        ({"currency": "XYZ"}, "currency", "is not an ISO 4217 currency code"),
        ({"stock": -3}, "stock", "Stock cannot be negative."),
        ({"status": "sold"}, "status", "is not a valid choice"),
        ({"sku": "has spaces"}, "sku", "SKU may contain letters, digits"),
        ({"title": "   "}, "title", "This field may not be blank."),
        ({"title": "Jam\u0000"}, "title", "Null characters are not allowed."),
        ({"category": "no-such"}, "category", "Object with slug=no-such does not exist."),
        ({"tags": [f"t{n}" for n in range(21)]}, "tags", "Ensure this field has no more than 20 elements."),
    ],
)
def test_an_invalid_field_is_a_400_naming_it_and_nothing_is_saved(api, in_store, change, field, message):
    response = api.post("/api/v1/products", {**JAM, **change}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert message in response.json()[field][0]
    assert not Product.objects.exists()


def test_a_duplicate_sku_is_a_field_error_not_a_500(api, in_store):
    assert api.post("/api/v1/products", JAM, format="json").status_code == 201

    response = api.post("/api/v1/products", {**JAM, "title": "Another jam"}, format="json")

    assert response.status_code == 400
    assert response.json() == {"sku": ["A product with this SKU already exists."]}
    assert Product.objects.count() == 1


def test_a_sku_taken_between_the_check_and_the_insert_is_still_a_field_error(in_store):
    # The serializer's uniqueness check ran before another request inserted the same SKU.
    services.create_product(title="Jam", price=1, sku="JAM-1")

    with pytest.raises(services.CatalogError) as refused:
        services.create_product(title="Other jam", price=1, sku="JAM-1")

    assert refused.value.errors == {"sku": ["A product with this SKU already exists."]}
    assert Product.objects.filter(sku="JAM-1").count() == 1


@pytest.mark.parametrize(
    "fields",
    [
        {"price": -1},
        {"stock": -1},
        {"status": "sold"},
        {"currency": "gbp"},
        {"sku": ""},
        {"price": 10**11},
    ],
)
def test_the_database_refuses_what_the_rules_refuse(in_store, fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.create(**{"title": "Jam", "price": 1, "sku": "JAM-1", **fields})


def test_anonymous_callers_get_401(store):
    response = store_api(store.tenant.slug).get("/api/v1/products")

    assert response.status_code == 401


@pytest.fixture
def shelf(in_store):
    bread = Category.objects.create(name="Bread", slug="bread")
    cake = Category.objects.create(name="Cake", slug="cake")
    for sku, title, price, status, category, tags in [
        ("BREAD-SOUR", "Sourdough loaf", 450, "active", bread, ["sourdough", "vegan"]),
        ("BREAD-RYE", "Dark rye", 520, "active", bread, ["rye"]),
        ("CAKE-PARKIN", "Parkin slab", 380, "draft", cake, ["ginger"]),
        ("CAKE-OLD", "Simnel cake", 900, "archived", cake, ["easter"]),
        ("MISC-BAG", "Cloth bag", 200, "active", None, []),
    ]:
        Product.objects.create(
            sku=sku, title=title, price=price, status=status, category=category, tags=tags, description=f"{title}."
        )


def skus(response):
    assert response.status_code == 200, response.json()
    return [p["sku"] for p in response.json()["results"]]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=active&ordering=sku", ["BREAD-RYE", "BREAD-SOUR", "MISC-BAG"]),
        ("category=cake&ordering=sku", ["CAKE-OLD", "CAKE-PARKIN"]),
        ("tag=Vegan", ["BREAD-SOUR"]),
        ("price_min=400&price_max=600&ordering=price", ["BREAD-SOUR", "BREAD-RYE"]),
        ("q=rye", ["BREAD-RYE"]),
        ("q=cake-old", ["CAKE-OLD"]),
        ("q=SLAB.", ["CAKE-PARKIN"]),
        ("ordering=-price&page_size=2", ["CAKE-OLD", "BREAD-RYE"]),
        ("ordering=title&status=active&category=bread", ["BREAD-RYE", "BREAD-SOUR"]),
    ],
)
def test_the_list_filters_searches_and_orders(api, shelf, query, expected):
    assert skus(api.get(f"/api/v1/products?{query}")) == expected


def test_the_list_is_paginated_with_results_and_count(api, store, shelf):
    first = api.get("/api/v1/products?page_size=2&ordering=sku").json()
    last = api.get("/api/v1/products?page_size=2&ordering=sku&page=3").json()

    assert first["count"] == 5
    assert [p["sku"] for p in first["results"]] == ["BREAD-RYE", "BREAD-SOUR"]
    next_page = urlsplit(first["next"])
    assert (next_page.netloc, next_page.path) == (store_host(store.tenant.slug), "/api/v1/products")
    assert parse_qs(next_page.query) == {"page_size": ["2"], "ordering": ["sku"], "page": ["2"]}
    assert first["previous"] is None
    assert [p["sku"] for p in last["results"]] == ["MISC-BAG"]
    assert last["next"] is None


@pytest.mark.parametrize(
    ("query", "errors"),
    [
        ("price_min=cheap", {"price_min": ["Enter a whole number."]}),
        ("status=sold", {"status": ["Select a valid choice. sold is not one of the available choices."]}),
        ("ordering=password", {"ordering": ["Select a valid choice. password is not one of the available choices."]}),
    ],
)
def test_a_bad_filter_is_a_400_naming_only_that_parameter(api, shelf, query, errors):
    response = api.get(f"/api/v1/products?{query}")

    assert response.status_code == 400
    assert response.json() == errors


@pytest.mark.parametrize("count", [3, 30])
def test_the_list_costs_the_same_queries_however_many_products(api, in_store, django_assert_num_queries, count):
    categories = [Category.objects.create(name=f"C{n}", slug=f"c{n}") for n in range(3)]
    for n in range(count):
        Product.objects.create(sku=f"P-{n}", title=f"P {n}", price=n, category=categories[n % 3], tags=["a", "b"])
    api.get("/api/v1/products")  # warms the host -> tenant route, the token check and this page's cache

    # a page not read before: one query, the page with its categories and the total row count (the
    # token check is cached, its last use recorded by the warm-up); a page read before: no query
    with django_assert_num_queries(1):
        response = api.get("/api/v1/products?ordering=-created_at")
    with django_assert_num_queries(0):
        again = api.get("/api/v1/products?ordering=-created_at")

    assert response.json()["count"] == count
    assert all(p["category"] and p["tags"] == ["a", "b"] for p in response.json()["results"])
    assert again.json() == response.json() and again["Content-Type"] == response["Content-Type"] == "application/json"


def test_a_cached_list_shows_every_change_at_once(api, in_store):
    def skus() -> list[str]:
        return [row["sku"] for row in api.get("/api/v1/products?ordering=sku").json()["results"]]

    bread = Category.objects.create(name="Bread", slug="bread")
    first = api.post("/api/v1/products", {"title": "Loaf", "sku": "A-1", "price": 300}, format="json").json()
    listed = skus()
    api.post("/api/v1/products", {"title": "Rye", "sku": "B-1", "price": 350}, format="json")
    after_create = skus()
    api.patch(f"/api/v1/products/{first['id']}", {"sku": "C-1"}, format="json")
    after_update = skus()
    Product.objects.filter(sku="B-1").update(category=bread)  # no signal: not through the catalog
    Category.objects.filter(pk=bread.pk).first().save()  # a category saved: the pages are read again
    categorised = api.get("/api/v1/products?ordering=sku").json()["results"][0]["category"]
    api.delete(f"/api/v1/products/{first['id']}")
    after_delete = skus()

    assert (listed, after_create, after_update) == (["A-1"], ["A-1", "B-1"], ["B-1", "C-1"])
    assert (categorised, after_delete) == ("bread", ["B-1"])


@pytest.mark.parametrize("query", ["", "?ordering=price", "?category=c1&price_min=1"])
def test_each_listed_product_reads_exactly_as_its_own_page_does(api, in_store, query):
    # given products with and without a category, tags and stock
    category = Category.objects.create(name="C1", slug="c1")
    for n in range(4):
        Product.objects.create(
            sku=f"P-{n}", title=f"P {n}", price=n + 1, stock=n, category=category if n % 2 else None, tags=["t"]
        )

    # when the list is read (plain rows, not the serializer)
    listed = api.get(f"/api/v1/products{query}").json()["results"]

    # then every entry is the same document, field for field and in the same order, as the product's own URL gives
    assert listed
    for entry in listed:
        own = api.get(f"/api/v1/products/{entry['id']}").json()
        assert list(entry.items()) == list(own.items())


@pytest.mark.parametrize("page", ["3", "0", "-1", "two", "1.5"])
def test_a_page_that_does_not_exist_is_a_404_and_reads_nothing_else(api, in_store, page):
    for n in range(3):
        Product.objects.create(sku=f"P-{n}", title=f"P {n}", price=n)

    response = api.get(f"/api/v1/products?page_size=2&page={page}")

    assert response.status_code == 404
    assert "results" not in response.json()


def test_the_count_and_links_are_right_on_every_page_and_with_filters(api, in_store):
    for n in range(5):
        Product.objects.create(sku=f"P-{n}", title=f"P {n}", price=n, status="active" if n % 2 else "draft")

    pages = [api.get(f"/api/v1/products?page_size=2&page={page}").json() for page in (1, 2, 3)]
    active = api.get("/api/v1/products?status=active&page_size=1&page=2").json()

    assert [page["count"] for page in pages] == [5, 5, 5]
    assert [len(page["results"]) for page in pages] == [2, 2, 1]
    assert pages[2]["next"] is None and pages[2]["previous"]
    assert (active["count"], len(active["results"]), active["next"]) == (2, 1, None)


def test_the_browsable_api_still_shows_the_list(api, in_store):
    Product.objects.create(sku="P-1", title="Browsable loaf", price=100)

    page = api.get("/api/v1/products", HTTP_ACCEPT="text/html")

    assert page.status_code == 200 and page["Content-Type"].startswith("text/html")
    assert "Browsable loaf" in page.content.decode()
