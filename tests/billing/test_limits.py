"""Plan limits in the product: products (API, admin, CSV import) and staff seats stop at the plan's
limit with a clear message and an upgrade link; upgrading lifts them; nothing is created past them."""

from __future__ import annotations

import pytest

from billing.limits import PlanLimitReached, check_limit, custom_domain_count, remaining
from billing.models import Plan
from billing.services import change_plan
from storefront.catalog.models import Product
from tenants.accounts.models import Membership
from tenants.accounts.services import add_staff_member
from tenants.db_backend import connection
from tests.conftest import STRONG_PASSWORD
from tests.storefront.conftest import client_for, csv_upload, eager_tasks, product_rows  # noqa: F401

pytestmark = pytest.mark.django_db

JAM = {"title": "Damson jam", "sku": "JAM-1", "price": 450, "stock": 3}


@pytest.fixture
def store(make_store):
    Plan.objects.filter(code="starter").update(max_products=2, staff_seats=1)
    return make_store(subdomain="bakery", email="baker@example.com")


@pytest.fixture
def api(store):
    return client_for(store, store.token)


def test_the_product_api_stops_at_the_plan_limit_with_an_upgrade_link(api, store):
    for n in range(2):
        assert api.post("/api/v1/products", {**JAM, "sku": f"JAM-{n}"}, format="json").status_code == 201

    response = api.post("/api/v1/products", {**JAM, "sku": "JAM-9"}, format="json")

    assert response.status_code == 402
    body = response.json()
    assert body == {
        "code": "plan_limit_reached",
        "detail": "Your Starter plan includes up to 2 products, and this store has reached it. "
        "Upgrade your plan to add more.",
        "resource": "products",
        "limit": 2,
        "upgrade_url": "http://bakery.localhost/admin/billing/",
    }
    connection.set_tenant(store.tenant)
    assert not Product.objects.filter(sku="JAM-9").exists()
    assert Product.objects.count() == 2
    connection.set_schema_to_public()


def test_changing_a_product_at_the_limit_is_still_allowed(api):
    for n in range(2):
        created = api.post("/api/v1/products", {**JAM, "sku": f"JAM-{n}"}, format="json").json()

    response = api.patch(f"/api/v1/products/{created['id']}", {"price": 500}, format="json")

    assert response.status_code == 200


def test_upgrading_lifts_the_limit(api, store):
    for n in range(2):
        api.post("/api/v1/products", {**JAM, "sku": f"JAM-{n}"}, format="json")

    change_plan(store.tenant, "growth")

    assert api.post("/api/v1/products", {**JAM, "sku": "JAM-9"}, format="json").status_code == 201


def test_the_admin_form_refuses_a_product_past_the_limit_with_an_upgrade_link(store):
    # The product form of the store admin (its page also renders other apps' inlines)
    from storefront.catalog.admin import ProductAdminForm

    connection.set_tenant(store.tenant)
    form = {"title": "Jam", "sku": "J-1", "price": 450, "currency": "GBP", "stock": 1, "status": "active", "tags": ""}
    for n in range(2):
        adding = ProductAdminForm(data={**form, "sku": f"J-{n}"})
        assert adding.is_valid(), adding.errors
        adding.save()

    refused = ProductAdminForm(data={**form, "sku": "J-9"})

    assert not refused.is_valid()
    (message,) = refused.non_field_errors()
    assert "Your Starter plan includes up to 2 products" in message
    assert 'href="http://bakery.localhost/admin/billing/"' in message
    # ...while editing an existing product is not refused
    existing = Product.objects.get(sku="J-0")
    assert ProductAdminForm(data={**form, "sku": "J-0", "price": 500}, instance=existing).is_valid()
    assert Product.objects.count() == 2
    connection.set_schema_to_public()


@pytest.mark.usefixtures("eager_tasks")
def test_csv_rows_past_the_limit_are_refused_rows_and_updates_still_apply(
    api, store, django_capture_on_commit_callbacks
):
    # Given a store with one product of its two
    api.post("/api/v1/products", {**JAM, "sku": "SKU-0000000", "title": "Old"}, format="json")

    # When a file updates it and adds three more
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/products/import", {"file": csv_upload(product_rows(4))}, format="multipart")
    job = api.get(f"/api/v1/products/import/{response.json()['id']}").json()

    # Then the update and one new product go in; the two past the limit are refused rows
    assert (job["status"], job["created"], job["updated"], job["failed"]) == ("succeeded", 1, 1, 2)
    report = b"".join(api.get(job["errors_url"]).streaming_content).decode()
    assert report.count("Your Starter plan includes up to 2 products") == 2
    connection.set_tenant(store.tenant)
    assert sorted(Product.objects.values_list("sku", flat=True)) == ["SKU-0000000", "SKU-0000001"]
    assert Product.objects.get(sku="SKU-0000000").title == "Product 0"
    connection.set_schema_to_public()


def test_staff_seats_stop_at_the_plan_limit(store):
    connection.set_tenant(store.tenant)
    add_staff_member("first@example.com", STRONG_PASSWORD)  # the owner holds no seat

    with pytest.raises(PlanLimitReached) as refused:
        add_staff_member("second@example.com", STRONG_PASSWORD)

    assert refused.value.code == "plan_limit_reached"
    assert "1 staff seats" in refused.value.message
    assert refused.value.upgrade_url.endswith("/admin/billing/")
    assert Membership.objects.filter(role="staff").count() == 1
    assert not Membership.objects.filter(user__email="second@example.com").exists()
    connection.set_schema_to_public()


def test_unlimited_plans_and_custom_domains(store):
    # Scale has no product limit; Starter has no custom domains
    change_plan(store.tenant, "scale")
    connection.set_tenant(store.tenant)
    assert remaining(store.tenant, "products", current=Product.objects.count()) is None
    check_limit(store.tenant, "products", current=Product.objects.count(), adding=10_000)
    change_plan(store.tenant, "growth")  # one custom domain
    domains = custom_domain_count(store.tenant)
    assert remaining(store.tenant, "custom_domains", current=domains) == 1
    check_limit(store.tenant, "custom_domains", current=domains)
    with pytest.raises(PlanLimitReached):
        check_limit(store.tenant, "custom_domains", current=domains, adding=2)
    connection.set_schema_to_public()
