"""Subscriptions: started by signup through the configured provider, in the signup's transaction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billing.errors import BillingError
from billing.models import Plan, Subscription
from billing.providers import LocalProvider, get_provider
from billing.rating import Interval
from billing.services import start_subscription
from onboarding.services import SignupError
from tenants.models import PooledSchema, Tenant
from tests.onboarding.test_signup_api import signup_body

pytestmark = pytest.mark.django_db


def test_a_shared_signup_starts_a_local_subscription_at_once(root_api):
    before = timezone.now()

    response = root_api.post("/api/v1/signup", signup_body(plan="growth"), format="json")

    assert response.status_code == 201
    subscription = Subscription.objects.select_related("plan", "tenant").get()
    assert subscription.tenant.slug == "marias-deli"
    assert subscription.plan.code == "growth"
    assert (subscription.status, subscription.interval, subscription.provider) == ("active", "month", "local")
    assert before <= subscription.current_period_start <= timezone.now()
    assert subscription.billing_anchor == subscription.current_period_start
    assert 28 <= (subscription.current_period_end - subscription.current_period_start).days <= 31
    assert subscription.provider_subscription_id.startswith("lsub_")
    assert not subscription.cancel_at_period_end


def test_a_dedicated_request_has_no_subscription_until_it_is_provisioned(root_api):
    response = root_api.post("/api/v1/signup", signup_body(tenancy="dedicated"), format="json")

    assert response.status_code == 201
    assert not Subscription.objects.exists()


def test_signup_adds_one_insert_for_the_subscription(root_api):
    with CaptureQueriesContext(connection) as queries:
        root_api.post("/api/v1/signup", signup_body(), format="json")

    assert len([q for q in queries.captured_queries if '"billing_subscription"' in q["sql"]]) == 1


def test_a_signup_that_fails_after_the_subscription_leaves_nothing_behind(make_store, monkeypatch):
    # Given the store's owner cannot be created (after the subscription was inserted)
    def fail(*args, **kwargs):
        raise SignupError({"email": ["simulated failure"]})

    monkeypatch.setattr("onboarding.services.add_staff_member", fail)
    pool_before = PooledSchema.objects.count()

    # When a merchant signs up
    with pytest.raises(SignupError):
        make_store(subdomain="doomed")

    # Then neither the store nor its subscription exists, and the pool schema went back
    assert not Tenant.objects.exists()
    assert not Subscription.objects.exists()
    assert PooledSchema.objects.count() == pool_before


def test_a_provider_that_refuses_leaves_no_store(make_store, monkeypatch):
    def refuse(*args, **kwargs):
        raise RuntimeError("provider down")

    monkeypatch.setattr(LocalProvider, "start_subscription", refuse)

    with pytest.raises(RuntimeError):
        make_store()

    assert not Tenant.objects.exists()


def test_a_plan_for_other_hosting_is_refused(make_store):
    tenant = make_store(tenancy="dedicated").tenant

    with pytest.raises(BillingError, match="for shared hosting"):
        start_subscription(tenant, Plan.objects.get(code="growth"))


def test_a_yearly_subscription_runs_a_year_from_its_anchor(make_store):
    tenant = make_store(tenancy="dedicated").tenant
    anchor = datetime(2025, 2, 28, 10, tzinfo=UTC)

    subscription = start_subscription(tenant, Plan.objects.get(code="dedicated"), interval=Interval.YEAR, now=anchor)

    assert (subscription.current_period_start, subscription.current_period_end) == (
        anchor,
        datetime(2026, 2, 28, 10, tzinfo=UTC),
    )


def test_the_provider_is_picked_by_setting(settings):
    assert get_provider().name == "local"

    settings.BILLING_PROVIDER = "paypal"
    with pytest.raises(ImproperlyConfigured, match="BILLING_PROVIDER"):
        get_provider()


@pytest.mark.parametrize(
    "change",
    [
        {"current_period_end": datetime(2020, 1, 1, tzinfo=UTC)},
        {"status": "paused"},
        {"interval": "week"},
        {"provider": ""},
    ],
)
def test_the_database_refuses_an_invalid_subscription(make_store, change):
    subscription = make_store().tenant.subscription

    with pytest.raises(IntegrityError), transaction.atomic():
        Subscription.objects.filter(pk=subscription.pk).update(**change)


def test_one_subscription_per_store_and_provider_ids_are_unique(make_store):
    first = make_store().tenant.subscription
    second = make_store().tenant.subscription

    with pytest.raises(IntegrityError), transaction.atomic():
        Subscription.objects.create(
            tenant=first.tenant,
            plan=first.plan,
            billing_anchor=first.billing_anchor,
            current_period_start=first.current_period_start,
            current_period_end=first.current_period_start + timedelta(days=30),
            provider="local",
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Subscription.objects.filter(pk=second.pk).update(provider_subscription_id=first.provider_subscription_id)
