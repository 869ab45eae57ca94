"""A merchant on a paid plan in the billing page of their store admin: sees usage and the projected
bill, previews an upgrade's proration (htmx) and confirms it, then sees the invoice of the closed
period and its PDF; a failed payment closes the store after the grace period and paying reopens it."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from billing import dunning
from billing.models import Subscription
from billing.services import close_billing_period, record_usage
from onboarding.services import sign_up_merchant
from tenants.models import Tenant
from tests.billing.conftest import media_root, period_ended  # noqa: F401  (invoice PDFs in a temporary folder)
from tests.conftest import STRONG_PASSWORD, signup_request

pytestmark = pytest.mark.usefixtures("media_root")


def log_in(page, store_url: str, email: str) -> None:
    page.goto(f"{store_url}/admin/login/?next=/admin/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", STRONG_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(r".*/admin/$"))


def test_an_owner_sees_usage_previews_and_confirms_an_upgrade_and_gets_an_invoice(platform, page):
    # Given a Starter store with 60 orders this period
    store = sign_up_merchant(signup_request(subdomain="hebden", email="rosa@example.com"))
    record_usage(store.tenant.pk, "orders", 60, idempotency_key="orders-1", occurred_at=timezone.now())
    store_url = platform.replace("localhost", "hebden.localhost")
    log_in(page, store_url, "rosa@example.com")

    # When the owner opens Billing from the admin index
    page.click("#billing-module a.section")
    page.wait_for_url(re.compile(r".*/admin/billing/$"))

    # Then the plan, the usage against its allowance and the projected bill show
    assert page.locator("#plan-name").inner_text() == "Starter"
    assert page.locator("#usage-orders").inner_text().split()[:4] == ["orders", "60", "50", "10"]
    assert page.locator("#projected-total").inner_text() == "£11.00"
    assert page.locator("#usage-chart rect").count() >= 1

    # When they preview Growth: the proration appears in place (htmx), nothing changed yet
    page.select_option("#plan-choice", "growth")
    page.click("#preview-change")
    page.wait_for_selector("#proration")
    assert "Remaining time on Growth" in page.locator("#proration").inner_text()
    assert Subscription.objects.get(tenant=store.tenant).plan.code == "starter"

    # ...and confirm it
    page.click("#confirm-change")
    page.wait_for_selector("text=now on the Growth plan")
    assert page.locator("#plan-name").inner_text() == "Growth"

    # When the period closes, its invoice is listed with its PDF
    subscription, at = period_ended(store.tenant)
    close_billing_period(subscription, at)
    page.reload()
    row = page.locator(".invoice-row").first
    assert f"LB-{at.year}-000001" in row.inner_text()
    assert "Paid" in row.inner_text()
    with page.expect_response(re.compile(r".*\.pdf$")) as pdf:
        page.evaluate("href => fetch(href)", row.locator("a").get_attribute("href"))
    assert pdf.value.status == 200
    assert pdf.value.headers["content-type"] == "application/pdf"


def test_a_failed_payment_closes_the_store_after_the_grace_period_and_paying_reopens_it(platform, page):
    store = sign_up_merchant(signup_request(subdomain="calder", email="potter@example.com"))
    store_url = platform.replace("localhost", "calder.localhost")
    subscription, at = period_ended(store.tenant, days_ago=10)
    Subscription.objects.filter(pk=subscription.pk).update(simulate_payment_failure=True)
    subscription.refresh_from_db()
    close_billing_period(subscription, at)
    dunning.enforce_grace_period(at + timedelta(days=8))
    assert Tenant.objects.get(pk=store.tenant.pk).status == "suspended"

    buyer = page.context.browser.new_page()
    buyer.goto(f"{store_url}/")
    assert "Payment overdue" in buyer.content()

    log_in(page, store_url, "potter@example.com")
    assert "payment is overdue" in page.locator("#billing-banner").inner_text()
    page.goto(f"{store_url}/admin/billing/")
    Subscription.objects.filter(pk=subscription.pk).update(simulate_payment_failure=False)  # a new card
    page.click("#retry-payment")
    page.wait_for_selector("text=the payment went through")

    buyer.goto(f"{store_url}/")
    assert "Payment overdue" not in buyer.content()
    assert Tenant.objects.get(pk=store.tenant.pk).status == "active"
