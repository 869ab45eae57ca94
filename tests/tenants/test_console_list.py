"""The staff console's tenant list at fleet scale (`/console/`): search by a part of a name, slug, owner's
email or hostname; filters by status, tenancy, plan and past due; sorts; keyset pages (`?after=`); what
it does with input it does not understand (ignored, never a 500); htmx's partial answer; query counts."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.http import HttpRequest
from django.test import Client
from django.utils import timezone

from bench.fleet import register_registry_fleet
from billing.models import Subscription
from tenants import console_list, lifecycle
from tenants.models import Domain, Tenant
from tests.conftest import ROOT_HOST, STRONG_PASSWORD, make_platform_staff

pytestmark = pytest.mark.django_db
PAGE = "/console/"
# Session, user and platform role; the plans to filter by (billing's filter), the page itself (its rows'
# subscription status and latest provisioning run are subqueries of it), the dedicated requests waiting.
PAGE_QUERIES = 6
# htmx asks for the results alone: no waiting requests to count.
RESULTS_QUERIES = 5
HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "tenant-results"}


def register(slug: str, *, name: str = "", email: str = "", status: str = "active", tenancy: str = "shared") -> Tenant:
    """A store in the registry only (no schema: the console never reads one), with its platform hostname."""
    tenant = Tenant.objects.create(
        schema_name=f"t_{slug}",
        slug=slug,
        name=name or slug.replace("-", " ").title(),
        owner_email=email or f"{slug}@example.com",
        status=status,
        tenancy=tenancy,
        town="Leeds",
        postcode="LS1 1AA",
        plan_code="dedicated" if tenancy == "dedicated" else "starter",
    )
    Domain.objects.create(domain=f"{slug}.localhost", tenant=tenant, is_primary=True)
    return tenant


def rows(response) -> list[str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.content[:500]
    return re.findall(r'<tr id="tenant-([\w-]+)"', response.content.decode())


def next_link(response) -> str | None:  # type: ignore[no-untyped-def]
    found = re.search(r'<a href="([^"]+)"[^>]*id="next-page"', response.content.decode())
    return html.unescape(found.group(1)) if found else None


def every_page(browser: Client, url: str) -> list[list[str]]:
    pages = []
    while url:
        response = browser.get(url)
        pages.append(rows(response))
        url = next_link(response) or ""
        assert len(pages) < 50, "the pages never end"
    return pages


@pytest.fixture
def shops(make_store):
    """Two real stores (signed up) and registry rows with names that hold LIKE's wildcards."""
    bakery = make_store(subdomain="hebden-bakes", store_name="Hebden Bakery", email="Jane.Baker@Example.COM")
    lifecycle.add_domain(bakery.tenant, "shop.janesloaves.co.uk", by=lifecycle.Actor.system("test"))
    make_store(subdomain="calder-pots", store_name="Calder Pottery", email="potter@clay.example.org")
    register("percent", name="100% Organic")
    register("hundreds", name="1000 Organic")
    register("under-score", name="a_b Crafts")
    register("no-underscore", name="axb Crafts")
    register("back-slash", name="Back\\slash Books")


@pytest.mark.parametrize(
    ("search", "found"),
    [
        ("bakery", ["hebden-bakes"]),  # a part of the name
        ("HEBDEN b", ["hebden-bakes"]),  # any case
        ("den-bak", ["hebden-bakes"]),  # a part of the slug
        ("jane.baker@ex", ["hebden-bakes"]),  # a part of the owner's email, whatever case it was typed in
        ("clay.EXAMPLE", ["calder-pots"]),
        ("janesloaves.co", ["hebden-bakes"]),  # a part of a custom domain
        ("calder-pots.local", ["calder-pots"]),  # of its platform hostname
        ("  Calder   Pottery ", ["calder-pots"]),  # spaces trimmed and squeezed
        ("0% Org", ["percent"]),  # % matches only itself...
        ("%", ["percent"]),
        ("a_b", ["under-score"]),  # ... and so does _
        ("_", ["under-score"]),
        ("k\\s", ["back-slash"]),  # and a backslash
        ("nothing like it", []),
    ],
)
def test_staff_find_stores_by_a_part_of_name_slug_owner_email_or_hostname(staff_browser, shops, search, found):
    assert sorted(rows(staff_browser.get(PAGE, {"q": search}))) == found


def test_nothing_found_says_so(staff_browser, shops):
    page = staff_browser.get(PAGE, {"q": "nothing like it"})

    assert "No store matches “nothing like it”" in page.content.decode()
    assert next_link(page) is None


def test_filters_narrow_the_list_alone_and_together(staff_browser, make_store):
    # Given active, suspended and dedicated stores, one on the growth plan, one past due
    make_store(subdomain="bakery", store_name="Hebden Bakery")
    make_store(subdomain="deli", store_name="Hebden Deli", plan="growth")
    late = make_store(subdomain="books", store_name="Moor Books")
    Subscription.objects.filter(tenant=late.tenant).update(status="past_due")
    register("paused", status="suspended")
    register("pottery", status="pending_provisioning", tenancy="dedicated")

    def listed(**params: str) -> list[str]:
        return sorted(rows(staff_browser.get(PAGE, params)))

    assert listed(status="suspended") == ["paused"]
    assert listed(status="active") == ["bakery", "books", "deli"]
    assert listed(tenancy="dedicated") == ["pottery"]
    assert listed(plan="growth") == ["deli"]
    assert listed(past_due="1") == ["books"]
    assert listed(q="hebden", plan="starter") == ["bakery"]
    assert listed(q="hebden", status="suspended") == []
    assert "Past due" in staff_browser.get(PAGE, {"past_due": "1"}).content.decode()


def test_each_sort_orders_the_list_with_the_id_breaking_ties(staff_browser):
    # Given stores of several statuses, two signed up at the very same moment
    moment = timezone.now() - timedelta(days=3)
    for slug, status in [("bravo", "active"), ("alpha", "suspended"), ("delta", "active"), ("charlie", "rejected")]:
        register(slug, status=status, tenancy="dedicated" if status == "rejected" else "shared")
    Tenant.objects.filter(slug__in=["bravo", "alpha"]).update(created_at=moment)
    Tenant.objects.filter(slug="delta").update(created_at=moment - timedelta(days=1))
    Tenant.objects.filter(slug="charlie").update(created_at=moment + timedelta(days=1))
    alpha, bravo = Tenant.objects.get(slug="alpha").pk, Tenant.objects.get(slug="bravo").pk
    tied = ["alpha", "bravo"] if alpha > bravo else ["bravo", "alpha"]

    assert rows(staff_browser.get(PAGE)) == ["charlie", *tied, "delta"]  # newest first
    assert rows(staff_browser.get(PAGE, {"sort": "name"})) == ["alpha", "bravo", "charlie", "delta"]
    # Status: suspended, rejected, ... active last; newest first within a status
    assert rows(staff_browser.get(PAGE, {"sort": "status"})) == ["alpha", "charlie", "bravo", "delta"]


@pytest.mark.parametrize("sort", ["newest", "name", "status"])
def test_pages_walk_every_store_once_in_order_without_offset(staff_browser, sort, django_assert_num_queries):
    # Given 130 stores, a third of them signed up at one same instant (only the id tells them apart)
    ids = register_registry_fleet(130)
    Tenant.objects.filter(pk__in=ids[::3]).update(created_at=timezone.now() - timedelta(days=1))
    keys = console_list.SORTS[sort]
    order = [f"-{name}" if keys.descending else name for name in keys.fields]
    expected = list(Tenant.objects.order_by(*order).values_list("slug", flat=True))

    # When staff follow the next-page links from the first page to the last
    pages = every_page(staff_browser, f"{PAGE}?sort={sort}")

    # Then the pages hold 50, 50 and 30 stores, every store exactly once, in the sort's order
    assert [len(page) for page in pages] == [50, 50, 30]
    assert [slug for page in pages for slug in page] == expected
    # And a deep page costs the queries the first one does, and never an OFFSET or a count of everything
    deep = f"{PAGE}?sort={sort}&after={console_list.make_cursor(sort, Tenant.objects.get(slug=expected[99]))}"
    with django_assert_num_queries(PAGE_QUERIES) as captured:
        assert rows(staff_browser.get(deep)) == expected[100:]
    statements = [query["sql"].upper() for query in captured.captured_queries]
    assert not [sql for sql in statements if " OFFSET " in sql]
    assert all(" WHERE " in sql for sql in statements if "COUNT(" in sql)  # only the waiting requests are counted


def test_a_store_signed_up_while_staff_page_through_does_not_shift_the_pages(staff_browser):
    register_registry_fleet(60)
    first = staff_browser.get(PAGE)
    seen = rows(first)

    register("brand-new")  # newest of all: on the first page, not pushed into the second
    second = rows(staff_browser.get(next_link(first)))

    assert "brand-new" not in second
    assert not set(seen) & set(second)
    assert len(seen) + len(second) == 60


def test_a_search_and_its_filters_go_on_to_the_next_page(staff_browser):
    register_registry_fleet(160)
    expected = sorted(Tenant.objects.filter(owner_email__icontains="example.com").values_list("slug", flat=True))

    pages = every_page(staff_browser, f"{PAGE}?q=EXAMPLE.com&sort=name")

    assert 50 < len(expected) < 160
    assert sorted(slug for page in pages for slug in page) == expected


@pytest.mark.parametrize(
    "params",
    [
        {"after": "garbage"},
        {"after": "W10:1xacnG:_TKUfG6GjAj5fm6KKYh0xxAMegp76_2yMWTQ0JTa3lQ"},  # signed by another key
        {"after": ""},
        {"status": "deleted"},
        {"status": "ACTIVE"},
        {"tenancy": "both"},
        {"sort": "-created_at"},
        {"sort": "name; DROP TABLE tenants_tenant"},
        {"plan": "no-such-plan"},
        {"past_due": "yes"},
        {"q": "x" * 5000},
        {"q": "\x00"},
    ],
)
def test_what_the_list_does_not_understand_is_ignored(staff_browser, params):
    register_registry_fleet(60)
    default = rows(staff_browser.get(PAGE))

    page = staff_browser.get(PAGE, params)

    assert page.status_code == 200
    if "q" not in params:
        assert rows(page) == default
    assert Tenant.objects.count() == 60


def test_a_cursor_of_another_sort_or_tampered_with_is_the_first_page(staff_browser):
    register_registry_fleet(60)
    by_name = staff_browser.get(PAGE, {"sort": "name"})
    cursor = parse_qs(urlsplit(next_link(by_name)).query)["after"][0]

    newest_with_name_cursor = staff_browser.get(PAGE, {"after": cursor})
    forged = cursor[:-3] + ("AAA" if not cursor.endswith("AAA") else "BBB")
    tampered = staff_browser.get(PAGE, {"sort": "name", "after": forged})

    assert rows(newest_with_name_cursor) == rows(staff_browser.get(PAGE))
    assert rows(tampered) == rows(by_name)


def test_a_page_costs_the_same_queries_with_one_row_or_fifty(staff_browser, make_store, django_assert_num_queries):
    make_store(subdomain="bakery")
    staff_browser.get(PAGE)  # warm the session
    with django_assert_num_queries(PAGE_QUERIES):
        assert rows(staff_browser.get(PAGE)) == ["bakery"]

    register_registry_fleet(80)
    with django_assert_num_queries(PAGE_QUERIES):
        page = staff_browser.get(PAGE, {"q": "example", "status": "active", "past_due": "", "plan": ""})
        assert len(rows(page)) == 50
    with django_assert_num_queries(RESULTS_QUERIES):
        assert len(rows(staff_browser.get(PAGE, {"sort": "name"}, **HTMX))) == 50


def test_htmx_gets_the_results_alone_and_a_plain_browser_the_whole_page(staff_browser, shops):
    partial = staff_browser.get(PAGE, {"q": "bakery"}, **HTMX)
    whole = staff_browser.get(PAGE, {"q": "bakery"})
    restored = staff_browser.get(PAGE, {"q": "bakery"}, HTTP_HX_HISTORY_RESTORE_REQUEST="true", **HTMX)

    assert partial.content.decode().startswith('<div id="tenant-results">')
    assert "<html" not in partial.content.decode() and rows(partial) == ["hebden-bakes"]
    assert "HX-Target" in partial["Vary"] and "HX-Target" in whole["Vary"]
    # Without JavaScript: a GET form with the search and every filter, and plain links between pages
    page = whole.content.decode()
    assert '<form method="get" action="/console/"' in page
    for name in ("q", "status", "tenancy", "plan", "past_due", "sort"):
        assert f'name="{name}"' in page
    assert 'hx-trigger="input changed delay:300ms from:#tenant-search' in page
    assert 'value="bakery"' in page
    assert "<html" in restored.content.decode()


def test_rows_link_to_the_tenant_page_and_the_store(staff_browser, shops):
    page = staff_browser.get(PAGE, {"q": "bakery"}).content.decode()

    assert 'href="/console/tenants/hebden-bakes/"' in page
    assert "hebden-bakes.localhost" in page


def test_support_staff_search_too_and_visitors_are_sent_to_log_in(make_store):
    make_store(subdomain="bakery", store_name="Hebden Bakery")
    make_platform_staff("support@localbazaar.test", role="support")
    support = Client(HTTP_HOST=ROOT_HOST)
    assert support.login(request=HttpRequest(), email="support@localbazaar.test", password=STRONG_PASSWORD)

    assert rows(support.get(PAGE, {"q": "hebden"})) == ["bakery"]
    visitor = Client(HTTP_HOST=ROOT_HOST).get(PAGE, {"q": "hebden"}, **HTMX)
    assert visitor.status_code == 302 and b"bakery" not in visitor.content
