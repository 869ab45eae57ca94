"""One owner of tenant state: changes made in the platform admin close, reopen and re-route a store on the
next request, hide it from the marketplace, refuse illegal moves, and leave a record of who did it."""

from __future__ import annotations

from itertools import count

import pytest
from django.db import connection
from django.test import Client

from storefront.marketplace.models import Listing
from storefront.marketplace.services import ListingRecord, Seller, publish_listings
from tenants import lifecycle
from tenants.models import Domain, Tenant, TenantStateChange
from tests.conftest import STAFF_EMAIL, store_host

pytestmark = pytest.mark.django_db
_versions = count(1)


def changes_of(tenant: Tenant):
    """The tenant's recorded changes after its signup (which records its creation)."""
    return TenantStateChange.objects.filter(tenant=tenant).exclude(actor="system:signup").order_by("pk")


def admin_form(tenant: Tenant, **changes: object) -> dict[str, object]:
    """The platform admin's change form for `tenant` as a browser would post it, with `changes`."""
    domains = list(Domain.objects.filter(tenant=tenant).order_by("pk"))
    form: dict[str, object] = {
        "name": tenant.name,
        "status": tenant.status,
        "suspension_reason": tenant.suspension_reason,
        "owner_email": tenant.owner_email,
        "town": tenant.town,
        "postcode": tenant.postcode,
        "rejection_reason": tenant.rejection_reason,
        "domains-TOTAL_FORMS": len(domains),
        "domains-INITIAL_FORMS": len(domains),
        "domains-MIN_NUM_FORMS": 0,
        "domains-MAX_NUM_FORMS": 1000,
        "state_changes-TOTAL_FORMS": 0,
        "state_changes-INITIAL_FORMS": 0,
        "state_changes-MIN_NUM_FORMS": 0,
        "state_changes-MAX_NUM_FORMS": 1000,
    }
    for index, domain in enumerate(domains):
        form.update(
            {
                f"domains-{index}-id": domain.pk,
                f"domains-{index}-tenant": tenant.pk,
                f"domains-{index}-domain": domain.domain,
                f"domains-{index}-is_primary": "on" if domain.is_primary else "",
            }
        )
    form.update(changes)
    return form


def change_url(tenant: Tenant) -> str:
    return f"/admin/tenants/tenant/{tenant.pk}/change/"


def list_a_product(tenant: Tenant) -> None:
    record = ListingRecord(product_id=1, title="Sourdough loaf", price=450, currency="GBP")
    publish_listings(tenant.pk, next(_versions), [record], Seller(town="Hebden Bridge", postcode="HX7 8AD"))


def test_a_suspension_in_the_platform_admin_closes_the_store_on_the_next_request(staff_browser, make_store):
    tenant = make_store(subdomain="bakery").tenant
    list_a_product(tenant)
    buyer = Client(HTTP_HOST=store_host("bakery"))
    assert buyer.get("/").status_code == 200  # the route is cached now: the change must evict it

    response = staff_browser.post(
        change_url(tenant), admin_form(tenant, status="suspended", suspension_reason="Reported counterfeit goods")
    )

    assert response.status_code == 302, response.content
    page = buyer.get("/")
    assert page.status_code == 503
    assert b"Reported counterfeit goods" in page.content
    assert list(Listing.objects.filter(tenant_id=tenant.pk).values_list("store_is_live", flat=True)) == [False]
    change = changes_of(tenant).get()
    assert change.actor == f"user:{STAFF_EMAIL}"
    assert change.changes["status"] == ["active", "suspended"]
    assert change.reason == "Reported counterfeit goods"


def test_reactivating_in_the_platform_admin_reopens_the_store_and_its_listings(staff_browser, make_store):
    tenant = make_store(subdomain="bakery").tenant
    list_a_product(tenant)
    lifecycle.suspend(tenant, "Checking documents", by=lifecycle.Actor.system("test"))
    buyer = Client(HTTP_HOST=store_host("bakery"))
    assert buyer.get("/").status_code == 503

    response = staff_browser.post(change_url(tenant), admin_form(Tenant.objects.get(pk=tenant.pk), status="active"))

    assert response.status_code == 302, response.content
    assert buyer.get("/").status_code == 200
    assert Tenant.objects.get(pk=tenant.pk).suspension_reason == ""
    assert list(Listing.objects.filter(tenant_id=tenant.pk).values_list("store_is_live", flat=True)) == [True]


def test_an_illegal_status_change_in_the_admin_is_refused_and_nothing_changes(staff_browser, make_store):
    tenant = make_store(subdomain="pottery", tenancy="dedicated").tenant

    response = staff_browser.post(change_url(tenant), admin_form(tenant, status="active"))

    assert response.status_code == 200  # the form again, with the error
    assert b"cannot go from pending_provisioning to active" in response.content
    assert Tenant.objects.get(pk=tenant.pk).status == "pending_provisioning"
    assert not changes_of(tenant).exists()


def test_a_domain_added_in_the_admin_routes_at_once_and_a_removed_one_stops(staff_browser, make_store):
    tenant = make_store(subdomain="bakery").tenant
    custom = Client(HTTP_HOST="bread.example.org")
    assert custom.get("/").status_code == 404  # "no such host" is cached too
    form = admin_form(tenant)
    form.update(
        {
            "domains-TOTAL_FORMS": 2,
            "domains-1-tenant": tenant.pk,
            "domains-1-domain": "bread.example.org",
            "domains-1-is_primary": "",
        }
    )

    assert staff_browser.post(change_url(tenant), form).status_code == 302

    assert custom.get("/").status_code == 200
    added = Domain.objects.get(domain="bread.example.org")
    form = admin_form(tenant)
    index = next(i for i in range(2) if form[f"domains-{i}-id"] == added.pk)
    form[f"domains-{index}-DELETE"] = "on"

    assert staff_browser.post(change_url(tenant), form).status_code == 302

    assert custom.get("/").status_code == 404
    assert Client(HTTP_HOST=store_host("bakery")).get("/").status_code == 200
    recorded = [c.changes["domains"] for c in changes_of(tenant)]
    assert recorded == [[[], ["bread.example.org"]], [["bread.example.org"], []]]


def test_the_admin_list_action_suspends_through_the_lifecycle(staff_browser, make_store):
    tenant = make_store(subdomain="bakery").tenant
    buyer = Client(HTTP_HOST=store_host("bakery"))
    assert buyer.get("/").status_code == 200

    response = staff_browser.post(
        "/admin/tenants/tenant/", {"action": "suspend_selected", "_selected_action": [tenant.pk]}
    )

    assert response.status_code == 302
    assert buyer.get("/").status_code == 503
    assert changes_of(tenant).get().changes["status"] == ["active", "suspended"]


def test_the_admin_cannot_write_owned_fields_directly(staff_browser, make_store):
    tenant = make_store(subdomain="bakery").tenant

    staff_browser.post(
        change_url(tenant), admin_form(tenant, tenancy="dedicated", upstream_url="http://evil.example/", slug="x")
    )

    stored = Tenant.objects.get(pk=tenant.pk)
    assert (stored.tenancy, stored.upstream_url, stored.slug) == ("shared", "", "bakery")


def test_billing_holds_and_staff_reasons_go_through_one_owner_with_their_actor(make_store):
    tenant = make_store(subdomain="bakery").tenant

    lifecycle.suspend(tenant, "Payment overdue", by=lifecycle.Actor.system("billing"))
    lifecycle.suspend(tenant, "Under review", by=lifecycle.Actor.system("staff-test"))
    lifecycle.reactivate(tenant, by=lifecycle.Actor.system("billing"))
    with pytest.raises(lifecycle.IllegalTransition):
        lifecycle.reactivate(tenant, by=lifecycle.Actor.system("billing"))
    with pytest.raises(lifecycle.IllegalTransition):
        lifecycle.change_status(tenant, "rejected", by=lifecycle.Actor.system("test"))

    actors = list(changes_of(tenant).values_list("actor", "changes"))
    assert actors == [
        ("system:billing", {"status": ["active", "suspended"], "suspension_reason": ["", "Payment overdue"]}),
        (
            "system:staff-test",
            {"status": ["suspended", "suspended"], "suspension_reason": ["Payment overdue", "Under review"]},
        ),
        ("system:billing", {"status": ["suspended", "active"], "suspension_reason": ["Under review", ""]}),
    ]
    assert Tenant.objects.get(pk=tenant.pk).status == "active"
    connection.set_schema_to_public()
