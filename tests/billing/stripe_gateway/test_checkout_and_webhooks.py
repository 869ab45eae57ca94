"""Checkout, the Billing Portal, and webhooks: verified, processed once, converging in any order."""

from __future__ import annotations

import random

import pytest
from django.core.management import call_command

from billing.models import Subscription
from billing.stripe_gateway.models import StripeCustomer, WebhookEvent
from billing.stripe_gateway.webhooks import HANDLED
from tests.billing.stripe_gateway.conftest import WEBHOOK_PATH, deliver, deliver_all
from tests.conftest import store_api

pytestmark = pytest.mark.django_db


def checkout(store, fake, plan="growth"):
    """The owner starts Checkout through the API and pays; returns the Checkout Session."""
    response = store_api(store.tenant.slug, store.token).post("/api/v1/billing/checkout", {"plan": plan}, format="json")
    assert response.status_code == 201, response.content
    session_id = response.json()["url"].rsplit("/", 1)[-1]
    return fake.complete_checkout(session_id)


def state_of(tenant):
    s = Subscription.objects.select_related("plan").get(tenant=tenant)
    return (
        s.status,
        s.plan.code,
        s.provider,
        s.provider_subscription_id,
        s.cancel_at_period_end,
        s.current_period_start,
        s.current_period_end,
    )


def test_signup_trials_then_checkout_and_its_webhooks_make_the_subscription_stripes(synced, make_store, root_api):
    store = make_store(plan="starter")
    assert Subscription.objects.get(tenant=store.tenant).status == "trialing"

    session = checkout(store, synced, plan="growth")
    outcomes = deliver_all(root_api, synced, synced.events)

    subscription = Subscription.objects.select_related("plan").get(tenant=store.tenant)
    assert (subscription.status, subscription.plan.code, subscription.provider) == ("active", "growth", "stripe")
    assert subscription.provider_subscription_id == session["subscription"]
    assert StripeCustomer.objects.get(tenant=store.tenant).customer_id == session["customer"]
    assert "ignored" in outcomes  # customer.created is not ours to handle
    store.tenant.refresh_from_db()
    assert store.tenant.plan_code == "growth"


def test_a_redelivered_event_is_processed_once(synced, make_store, root_api):
    store = make_store()
    checkout(store, synced)
    event = synced.events[-1]
    deliver_all(root_api, synced, synced.events)

    again = deliver(root_api, synced, event)

    assert again.status_code == 200 and again.json()["outcome"] == "duplicate"
    assert WebhookEvent.objects.filter(event_id=event["id"]).count() == 1


def test_an_event_whose_refetch_fails_is_not_recorded_and_its_redelivery_applies_it(synced, make_store, root_api):
    # Given an active Stripe subscription whose renewal Stripe could not collect
    store = make_store()
    session = checkout(store, synced)
    deliver_all(root_api, synced, synced.events)
    before = state_of(store.tenant)
    synced.fail_renewal(session["subscription"])
    event = synced.events[-1]
    assert event["type"] == "customer.subscription.updated"

    # When Stripe delivers the event while its API fails every try at the re-fetch (the SDK's retries too)
    refetch = f"/v1/subscriptions/{session['subscription']}"
    synced.fail_next[refetch] = 100
    first = deliver(root_api, synced, event)
    left = synced.fail_next.pop(refetch)

    # Then the answer asks Stripe to deliver it again, and nothing was recorded or applied
    assert (first.status_code, first.json()["code"]) == (503, "stripe_unavailable")
    assert 100 - left == 3  # the re-fetch and the client's two retries, each refused
    assert not WebhookEvent.objects.filter(event_id=event["id"]).exists()
    assert state_of(store.tenant) == before

    # When Stripe redelivers it with its API back
    second = deliver(root_api, synced, event)

    # Then it is applied, and recorded once
    assert (second.status_code, second.json()) == (200, {"outcome": f"{session['subscription']} past_due"})
    assert Subscription.objects.get(tenant=store.tenant).status == "past_due"
    assert list(WebhookEvent.objects.filter(event_id=event["id"]).values_list("outcome", flat=True)) == [
        f"{session['subscription']} past_due"
    ]
    assert deliver(root_api, synced, event).json() == {"outcome": "duplicate"}


def test_a_bad_signature_is_refused_and_nothing_is_applied(synced, make_store, root_api):
    store = make_store()
    checkout(store, synced)
    before = state_of(store.tenant)

    forged = [deliver(root_api, synced, event, secret="whsec_someone_else") for event in synced.events]
    unsigned = root_api.post(WEBHOOK_PATH, data="{}", content_type="application/json")

    assert {r.status_code for r in forged} == {400} and unsigned.status_code == 400
    assert not WebhookEvent.objects.exists()
    assert state_of(store.tenant) == before


def test_failed_renewal_makes_the_store_past_due_and_payment_settles_it(synced, make_store, root_api, mailoutbox):
    store = make_store()
    session = checkout(store, synced)
    invoice = synced.fail_renewal(session["subscription"])
    deliver_all(root_api, synced, synced.events)
    assert Subscription.objects.get(tenant=store.tenant).status == "past_due"
    assert Subscription.objects.get(tenant=store.tenant).payment_failed_at is not None

    synced.pay_invoice(invoice["id"])
    deliver_all(root_api, synced, synced.events[-2:])

    subscription = Subscription.objects.get(tenant=store.tenant)
    assert (subscription.status, subscription.payment_failed_at) == ("active", None)


def test_shuffled_events_and_a_replay_converge_on_stripes_state(synced, make_store, root_api):
    stores = [make_store() for _ in range(3)]
    for n, store in enumerate(stores):
        session = checkout(store, synced, plan=("growth", "scale", "starter")[n])
        if n == 0:
            synced.update_subscription({"cancel_at_period_end": "true"}, session["subscription"])
        if n == 1:
            synced.pay_invoice(synced.fail_renewal(session["subscription"])["id"])
        if n == 2:
            synced.cancel_subscription({}, session["subscription"])
    events = list(synced.events)
    random.Random(5).shuffle(events)

    deliver_all(root_api, synced, events)
    shuffled = [state_of(store.tenant) for store in stores]
    WebhookEvent.objects.all().delete()  # as if none had been received
    call_command("replay_stripe_events", "--days", "3")
    replayed = [state_of(store.tenant) for store in stores]
    call_command("replay_stripe_events", "--days", "3")

    assert shuffled == replayed == [state_of(store.tenant) for store in stores]
    assert [s[0] for s in shuffled] == ["active", "active", "canceled"]
    assert shuffled[0][4] is True  # cancel at period end
    # The replay lists only the types we handle (not customer.created); each is recorded once.
    assert WebhookEvent.objects.count() == len([e for e in events if e["type"] in HANDLED])


def test_the_owner_gets_a_billing_portal_link(synced, make_store):
    store = make_store()

    response = store_api(store.tenant.slug, store.token).post("/api/v1/billing/payment-methods")

    assert response.status_code == 201
    assert response.json()["url"].startswith(synced.base_url)
    assert len(synced.table("billing_portal.session")) == 1


def test_checkout_for_an_unsynced_catalog_is_refused_and_makes_nothing(fake_stripe, make_store):
    store = make_store()

    response = store_api(store.tenant.slug, store.token).post(
        "/api/v1/billing/checkout", {"plan": "growth"}, format="json"
    )

    assert response.status_code == 400 and response.json()["code"] == "plan_not_synced"
    assert not fake_stripe.table("checkout.session")
