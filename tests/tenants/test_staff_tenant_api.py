"""The staff API's tenant list (`GET /api/v1/staff/tenants`): the console's search, filters, sorts and signed
keyset cursor over HTTP, `{"results", "next"}` with `next` the absolute URL of the next page; `limit` 1..200;
what it does not understand is ignored (never a 500); platform staff only; documented in the OpenAPI schema."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.http import HttpRequest
from django.utils import timezone
from rest_framework.test import APIClient

from bench.fleet import register_registry_fleet
from billing.models import Subscription
from tenants import console_list
from tenants.accounts.models import User
from tenants.models import Tenant
from tests.conftest import ROOT_HOST, STRONG_PASSWORD
from tests.tenants.test_console_list import register

pytestmark = pytest.mark.django_db
LIST = "/api/v1/staff/tenants"
# The platform role and the page (the bearer token's check is cached after the first request).
PAGE_QUERIES = 2


def slugs(response: Any) -> list[str]:
    assert response.status_code == 200, response.content[:500]
    body = response.json()
    assert set(body) == {"results", "next"}
    return [row["slug"] for row in body["results"]]


def every_page(api: APIClient, params: dict[str, str]) -> list[list[str]]:
    """The list's pages from the first, following each page's `next` URL to the last."""
    pages, response = [], api.get(LIST, params)
    while True:
        pages.append(slugs(response))
        following = response.json()["next"]
        if following is None:
            return pages
        url = urlsplit(following)
        assert (url.scheme, url.netloc, url.path) == ("http", ROOT_HOST, LIST)
        response = api.get(following)
        assert len(pages) < 50, "the pages never end"


def in_order(sort: str, **narrowed: Any) -> list[str]:
    keys = console_list.SORTS[sort]
    order = [f"-{name}" if keys.descending else name for name in keys.fields]
    return list(Tenant.objects.filter(**narrowed).order_by(*order).values_list("slug", flat=True))


@pytest.mark.parametrize(
    ("sort", "limit", "sizes"),
    [("newest", None, [50, 50, 30]), ("name", "40", [40, 40, 40, 10]), ("status", "60", [60, 60, 10])],
)
def test_pages_walk_every_tenant_once_in_the_sorts_order(staff_api, sort, limit, sizes):
    # Given 130 stores, a third of them signed up at one same instant (only the id tells them apart)
    ids = register_registry_fleet(130)
    Tenant.objects.filter(pk__in=ids[::3]).update(created_at=timezone.now() - timedelta(days=1))
    params = {"sort": sort} | ({"limit": limit} if limit else {})

    # When staff follow `next` from the first page until it is null
    pages = every_page(staff_api, params)

    # Then the pages hold `limit` stores each, every store exactly once, in the sort's order
    assert [len(page) for page in pages] == sizes
    assert [slug for page in pages for slug in page] == in_order(sort)


def test_a_search_its_filters_and_the_limit_go_on_to_the_next_page(staff_api):
    register_registry_fleet(160)
    expected = in_order("name", owner_email__icontains="example.com", status="active", plan_code="growth")

    asked = {"q": "EXAMPLE.com", "status": "active", "plan": "growth", "sort": "name", "limit": "9"}
    pages = every_page(staff_api, asked)

    assert 9 < len(expected) < 160
    assert [slug for page in pages for slug in page] == expected
    assert all(len(page) == 9 for page in pages[:-1])


def test_staff_find_a_store_by_a_part_of_its_owners_email(staff_api, make_store):
    make_store(subdomain="hebden-bakes", store_name="Hebden Bakery", email="Jane.Baker@Example.COM")
    make_store(subdomain="calder-pots", store_name="Calder Pottery", email="potter@clay.example.org")

    found = staff_api.get(LIST, {"q": "baker@EXAMPLE.c"})

    assert slugs(found) == ["hebden-bakes"]
    assert found.json()["results"][0]["owner_email"] == "Jane.Baker@Example.COM"
    assert found.json()["next"] is None
    assert slugs(staff_api.get(LIST, {"q": "clay.example"})) == ["calder-pots"]
    assert slugs(staff_api.get(LIST, {"q": "nobody@nowhere"})) == []


def test_status_tenancy_and_registered_filters_narrow_the_list(staff_api):
    # Given stores on the starter plan in several states, and one active store on growth, past due
    register("paused", status="suspended")
    register("pottery", status="pending_provisioning", tenancy="dedicated")
    register("books")
    register_registry_fleet(1, first=25)
    late = Tenant.objects.get(slug="reg000025")
    assert (late.plan_code, late.subscription.status) == ("growth", Subscription.Status.PAST_DUE)

    assert slugs(staff_api.get(LIST, {"status": "suspended"})) == ["paused"]
    assert slugs(staff_api.get(LIST, {"tenancy": "dedicated"})) == ["pottery"]
    assert slugs(staff_api.get(LIST, {"past_due": "1"})) == ["reg000025"]
    assert slugs(staff_api.get(LIST, {"plan": "growth", "status": "active"})) == ["reg000025"]
    assert sorted(slugs(staff_api.get(LIST, {"plan": "starter", "tenancy": "shared"}))) == ["books", "paused"]


@pytest.mark.parametrize(
    "params",
    [
        {"after": "garbage"},
        {"after": "W10:1xacnG:_TKUfG6GjAj5fm6KKYh0xxAMegp76_2yMWTQ0JTa3lQ"},  # signed by another key
        {"status": "deleted", "tenancy": "both", "sort": "name; DROP TABLE tenants_tenant"},
        {"plan": "no-such-plan", "past_due": "yes"},
        {"q": "\x00"},  # no part of any search
    ],
)
def test_what_the_list_does_not_understand_is_ignored(staff_api, params):
    register_registry_fleet(60)
    first = slugs(staff_api.get(LIST))

    answer = staff_api.get(LIST, params)

    assert slugs(answer) == first
    assert Tenant.objects.count() == 60


def test_an_edited_cursor_or_one_of_another_sort_gives_the_first_page(staff_api):
    register_registry_fleet(60)
    by_name = staff_api.get(LIST, {"sort": "name"})
    cursor = parse_qs(urlsplit(by_name.json()["next"]).query)["after"][0]
    forged = cursor[:-3] + ("AAA" if not cursor.endswith("AAA") else "BBB")

    tampered = staff_api.get(LIST, {"sort": "name", "after": forged})
    other_sort = staff_api.get(LIST, {"sort": "newest", "after": cursor})

    assert slugs(staff_api.get(LIST, {"sort": "name", "after": cursor})) == in_order("name")[50:]
    assert slugs(tampered) == slugs(by_name)
    assert slugs(other_sort) == in_order("newest")[:50]


@pytest.mark.parametrize(
    ("limit", "shown"), [("1", 1), ("200", 200), ("0", 1), ("-5", 1), ("201", 200), ("99999999", 200), ("x", 50)]
)
def test_limit_is_one_to_two_hundred_and_fifty_unless_asked(staff_api, limit, shown):
    register_registry_fleet(230)

    page = staff_api.get(LIST, {"limit": limit, "sort": "name"})

    assert slugs(page) == in_order("name")[:shown]
    assert parse_qs(urlsplit(page.json()["next"]).query).get("limit") == (None if shown == 50 else [str(shown)])


def test_only_platform_staff_get_the_list(root_api, make_store):
    make_store(subdomain="bakery")
    User.objects.create_user("someone@example.com", STRONG_PASSWORD, is_staff=True)  # no platform role
    logged_in = APIClient(HTTP_HOST=ROOT_HOST)
    assert logged_in.login(request=HttpRequest(), email="someone@example.com", password=STRONG_PASSWORD)

    anonymous = root_api.get(LIST)
    refused = logged_in.get(LIST)

    assert anonymous.status_code == 401 and anonymous["WWW-Authenticate"] == "Bearer"
    assert refused.status_code == 403
    assert b"bakery" not in anonymous.content + refused.content


def test_a_page_costs_the_same_queries_with_one_row_or_two_hundred(staff_api, django_assert_num_queries):
    register_registry_fleet(230)
    staff_api.get(LIST)  # the token's check is cached from here on

    for limit in ("1", "200"):
        with django_assert_num_queries(PAGE_QUERIES) as captured:
            assert len(slugs(staff_api.get(LIST, {"limit": limit, "q": "example", "sort": "status"}))) == int(limit)
        statements = [query["sql"].upper() for query in captured.captured_queries]
        assert not [sql for sql in statements if " OFFSET " in sql or "COUNT(" in sql]
    # A filter with choices reads them once, whatever the page size
    with django_assert_num_queries(PAGE_QUERIES + 1):
        assert len(slugs(staff_api.get(LIST, {"limit": "200", "plan": "starter"}))) > 1


def test_the_schema_documents_the_parameters_and_the_page(staff_api):
    schema = staff_api.get("/api/schema/", {"format": "json"}).json()

    operation = schema["paths"][LIST]["get"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert {"q", "status", "tenancy", "sort", "after", "limit", "plan", "past_due"} <= set(parameters)
    assert "page" not in parameters
    assert set(parameters["sort"]["schema"]["enum"]) == set(console_list.SORTS)
    assert parameters["limit"]["schema"]["type"] == "integer"
    page = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    properties = schema["components"]["schemas"][page]["properties"]
    assert set(properties) == {"results", "next"}
    assert properties["next"]["nullable"] is True
