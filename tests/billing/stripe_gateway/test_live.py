"""The same integration against Stripe test mode: run only when STRIPE_SECRET_KEY is a test key."""

from __future__ import annotations

import time

import pytest

from billing.stripe_gateway.catalog import sync_catalog
from billing.stripe_gateway.client import stripe_client
from billing.stripe_gateway.models import StripeMeter
from billing.stripe_gateway.services import ensure_customer

pytestmark = [pytest.mark.stripe_live, pytest.mark.django_db]


def test_catalog_sync_is_idempotent_and_meter_events_are_accepted_once_at_stripe(live_stripe, make_store):
    sync_catalog()
    again = sync_catalog()
    store = make_store()
    customer_id = ensure_customer(store.tenant)
    meter = StripeMeter.objects.get(metric="orders")
    identifier = f"lb-live-{store.tenant.pk}-{int(time.time())}"
    params = {
        "event_name": meter.event_name,
        "identifier": identifier,
        "payload": {"stripe_customer_id": customer_id, "value": "3"},
    }

    first = stripe_client().v1.billing.meter_events.create(params=params)

    assert not again.created and first.identifier == identifier
