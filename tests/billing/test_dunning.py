"""Dunning, with the clock passed in: a failed payment makes the subscription past due and mails the
owner; after the grace period the store is closed to buyers (its owner still reaches the admin and
billing); paying reopens it; a suspension staff placed for another reason is never lifted by paying."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client

from billing import dunning
from billing.models import Invoice, Subscription
from billing.services import close_billing_period, mark_invoice_paid, mark_payment_failed
from storefront.catalog.models import Product
from tenants import lifecycle
from tenants.db_backend import connection
from tenants.models import Tenant
from tests.billing.conftest import period_ended
from tests.conftest import STRONG_PASSWORD, store_api, store_host

pytestmark = pytest.mark.django_db


@pytest.fixture
def store(make_store):
    return make_store(subdomain="bakery", email="baker@example.com")


@pytest.fixture
def failed(store, django_capture_on_commit_callbacks):
    """The store's period closed and its collection failed (the local provider flagged to fail)."""
    subscription, at = period_ended(store.tenant)
    Subscription.objects.filter(pk=subscription.pk).update(simulate_payment_failure=True)
    subscription.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        invoice = close_billing_period(subscription, at)
    invoice.refresh_from_db()
    return invoice, at


def owner_browser(store) -> Client:
    browser = Client(HTTP_HOST=store_host(store.tenant.slug))
    response = browser.post("/admin/login/?next=/admin/", {"username": store.owner.email, "password": STRONG_PASSWORD})
    assert response.status_code == 302
    return browser


def test_a_failed_collection_makes_the_subscription_past_due_and_mails_the_owner(store, failed):
    invoice, at = failed

    subscription = Subscription.objects.get(tenant=store.tenant)
    assert (invoice.status, invoice.collection_attempts) == ("open", 1)
    assert "declined" in invoice.last_collection_error
    assert (subscription.status, subscription.payment_failed_at) == ("past_due", at)
    (message,) = mail.outbox
    assert message.to == ["baker@example.com"]
    assert "Payment failed" in message.subject
    assert invoice.number in message.body and "/admin/billing/" in message.body
    # The store stays open during the grace period, and the API tells the owner what to do
    assert Tenant.objects.get(pk=store.tenant.pk).status == "active"
    body = store_api("bakery", store.token).get("/api/v1/billing/subscription").json()
    assert body["status"] == "past_due"
    assert "payment failed" in body["notice"].lower()


def test_the_owner_sees_a_banner_in_the_store_admin(store, failed):
    page = owner_browser(store).get("/admin/")

    assert page.status_code == 200
    assert b'id="billing-banner"' in page.content
    assert b"Your last payment failed" in page.content


def test_a_repeated_failure_keeps_the_first_date_and_mails_once(store, failed, django_capture_on_commit_callbacks):
    invoice, at = failed
    with django_capture_on_commit_callbacks(execute=True):
        mark_payment_failed(invoice.subscription, invoice, now=at + timedelta(days=2), error="again")

    assert Subscription.objects.get(tenant=store.tenant).payment_failed_at == at
    assert len(mail.outbox) == 1


def test_the_store_closes_to_buyers_after_the_grace_period_only(
    store, failed, settings, django_capture_on_commit_callbacks
):
    invoice, at = failed
    settings.BILLING_GRACE_DAYS = 7
    connection.set_tenant(store.tenant)
    Product.objects.create(sku="JAM-1", title="Damson jam", price=450)
    connection.set_schema_to_public()

    # Six days on: nothing happens
    assert dunning.enforce_grace_period(at + timedelta(days=6)) == 0
    assert Tenant.objects.get(pk=store.tenant.pk).status == "active"

    # Seven days on: the store is closed to buyers, the owner mailed
    with django_capture_on_commit_callbacks(execute=True):
        assert dunning.enforce_grace_period(at + timedelta(days=7, seconds=1)) == 1
        assert dunning.enforce_grace_period(at + timedelta(days=8)) == 0  # once
    tenant = Tenant.objects.get(pk=store.tenant.pk)
    assert (tenant.status, tenant.suspension_reason) == ("suspended", dunning.HOLD_REASONS["payment_overdue"])
    assert Subscription.objects.get(tenant=tenant).billing_hold == "payment_overdue"
    assert "closed to buyers" in mail.outbox[-1].subject
    buyer = Client(HTTP_HOST=store_host("bakery")).get("/")
    assert buyer.status_code == 503
    assert b"Payment overdue" in buyer.content
    assert store_api("bakery", store.token).get("/api/v1/products").status_code == 403
    # ...while the owner still reaches the admin, the billing page and the billing API
    browser = owner_browser(store)
    assert browser.get("/admin/").status_code == 200
    assert browser.get("/admin/billing/").status_code == 200
    subscription_api = store_api("bakery", store.token).get("/api/v1/billing/subscription")
    assert subscription_api.status_code == 200
    assert "closed to buyers" in subscription_api.json()["notice"]
    # ...and no data was touched
    connection.set_tenant(tenant)
    assert list(Product.objects.values_list("sku", flat=True)) == ["JAM-1"]
    connection.set_schema_to_public()


def test_paying_through_the_portal_reopens_the_store(store, failed, django_capture_on_commit_callbacks):
    invoice, at = failed
    dunning.enforce_grace_period(at + timedelta(days=8))
    Subscription.objects.filter(tenant=store.tenant).update(simulate_payment_failure=False)
    owner = store_api("bakery", store.token)

    with django_capture_on_commit_callbacks(execute=True):
        response = owner.post("/api/v1/billing/retry-payment")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["attempts"] == [{"number": invoice.number, "total": invoice.total, "paid": True, "error": ""}]
    assert (body["subscription"]["status"], body["subscription"]["notice"]) == ("active", None)
    tenant = Tenant.objects.get(pk=store.tenant.pk)
    assert (tenant.status, tenant.suspension_reason) == ("active", "")
    subscription = Subscription.objects.get(tenant=tenant)
    assert (subscription.billing_hold, subscription.payment_failed_at) == ("", None)
    assert Invoice.objects.get(pk=invoice.pk).status == "paid"
    assert Client(HTTP_HOST=store_host("bakery")).get("/").status_code == 200
    assert "Payment received" in mail.outbox[-1].subject
    # Nothing left to pay
    assert owner.post("/api/v1/billing/retry-payment").json()["code"] == "nothing_due"


def test_a_retry_that_fails_again_changes_nothing_but_the_attempts(store, failed):
    invoice, at = failed
    response = store_api("bakery", store.token).post("/api/v1/billing/retry-payment")

    assert response.status_code == 200
    assert response.json()["attempts"][0]["paid"] is False
    assert Invoice.objects.get(pk=invoice.pk).collection_attempts == 2
    assert Subscription.objects.get(tenant=store.tenant).payment_failed_at == at


def test_an_invoice_paid_elsewhere_reopens_the_store_and_marking_it_again_is_harmless(store, failed):
    invoice, at = failed
    dunning.enforce_grace_period(at + timedelta(days=8))

    mark_invoice_paid(invoice, now=at + timedelta(days=9))
    mark_invoice_paid(invoice, now=at + timedelta(days=10))

    invoice.refresh_from_db()
    assert (invoice.status, invoice.paid_at) == ("paid", at + timedelta(days=9))
    assert Tenant.objects.get(pk=store.tenant.pk).status == "active"


def test_paying_never_lifts_a_suspension_staff_placed_for_another_reason(store, failed):
    invoice, at = failed
    dunning.enforce_grace_period(at + timedelta(days=8))
    # Staff suspend the store (already closed for payment) for their own reason
    lifecycle.suspend(
        Tenant.objects.get(pk=store.tenant.pk), "Reported counterfeit goods", by=lifecycle.Actor.system("test")
    )

    mark_invoice_paid(invoice)

    tenant = Tenant.objects.get(pk=store.tenant.pk)
    assert (tenant.status, tenant.suspension_reason) == ("suspended", "Reported counterfeit goods")
    assert Subscription.objects.get(tenant=tenant).status == "active"


def test_a_store_staff_suspended_first_is_not_taken_over_by_billing(store, failed):
    invoice, at = failed
    lifecycle.suspend(Tenant.objects.get(pk=store.tenant.pk), "Under review", by=lifecycle.Actor.system("test"))

    assert dunning.enforce_grace_period(at + timedelta(days=8)) == 0
    assert Subscription.objects.get(tenant=store.tenant).billing_hold == ""
    # Staff reopen it while the payment is still overdue: the next run closes it for payment
    lifecycle.reactivate(Tenant.objects.get(pk=store.tenant.pk), by=lifecycle.Actor.system("test"))
    assert dunning.enforce_grace_period(at + timedelta(days=9)) == 1
    mark_invoice_paid(invoice)
    assert Tenant.objects.get(pk=store.tenant.pk).status == "active"


def test_the_payment_failure_hook_works_without_an_invoice(store):
    # As the Stripe webhook calls it (invoice.payment_failed for an invoice Stripe issued)
    subscription = Subscription.objects.get(tenant=store.tenant)

    mark_payment_failed(subscription)

    assert Subscription.objects.get(pk=subscription.pk).status == "past_due"
