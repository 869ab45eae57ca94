"""The selling suite's fixtures (buyers, stores' schemas) serve the payment tests too, with the fake Stripe
(its Stripe.js stand-in included) and a store connected to it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.conftest import ROOT_HOST, store_api
from tests.fakes.stripe_server import FakeStripe
from tests.storefront.orders.conftest import buyer, in_store_of, make_buyer

__all__ = ["buyer", "connected_store", "deliver", "in_store_of", "make_buyer", "stripe_fake"]
WEBHOOK = "/api/v1/payments/stripe/webhook"


@pytest.fixture
def stripe_fake(settings: Any) -> Iterator[FakeStripe]:
    fake = FakeStripe(webhook_secret="whsec_connect_test")
    settings.STRIPE_SECRET_KEY = fake.api_key
    settings.STRIPE_API_BASE = fake.start()
    settings.STRIPE_CONNECT_WEBHOOK_SECRET = fake.webhook_secret
    settings.STRIPE_PUBLISHABLE_KEY = fake.publishable_key
    settings.STRIPE_JS_URL = f"{fake.base_url}/v3/stripe.js"
    yield fake
    fake.stop()


def deliver(fake: FakeStripe, event: dict[str, Any], *, secret: str | None = None) -> Any:
    body, signature = fake.signed(event, secret=secret)
    return APIClient(HTTP_HOST=ROOT_HOST).post(
        WEBHOOK, data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
    )


def connected_store(make_store: Any, fake: FakeStripe, **signup: Any) -> Any:
    """A store whose owner went through Stripe's onboarding to the end."""
    store = make_store(**signup)
    started = store_api(store.tenant.slug, store.token).post("/api/v1/payments/stripe/account")
    assert started.status_code == 200, started.content
    account = started.json()["account"]
    assert started.json()["onboarding_url"].endswith(f"/connect/onboarding/{account}")
    assert deliver(fake, fake.complete_onboarding(account)).json()["outcome"] == "account charges_enabled=True"
    return store
