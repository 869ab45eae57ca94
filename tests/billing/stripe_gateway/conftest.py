"""The Stripe suites: the real `stripe` SDK against the fake server in tests/fakes/stripe_server (a
fresh one per test, on a free port), or against Stripe test mode for `stripe_live` tests when
STRIPE_SECRET_KEY is set in the environment."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from billing.stripe_gateway.catalog import sync_catalog
from tests.conftest import ROOT_HOST
from tests.fakes.stripe_server import FakeStripe

WEBHOOK_PATH = "/api/v1/billing/stripe/webhook"
LIVE_KEY = os.environ.get("STRIPE_SECRET_KEY", "")


@pytest.fixture
def fake_stripe(settings: Any) -> Iterator[FakeStripe]:
    fake = FakeStripe(webhook_secret="whsec_test_localbazaar")
    settings.BILLING_PROVIDER = "stripe"
    settings.STRIPE_SECRET_KEY = fake.api_key
    settings.STRIPE_API_BASE = fake.start()
    settings.STRIPE_WEBHOOK_SECRET = fake.webhook_secret
    yield fake
    fake.stop()


@pytest.fixture
def synced(fake_stripe: FakeStripe, db: Any) -> FakeStripe:
    """The default catalog mirrored to the fake Stripe."""
    sync_catalog()
    return fake_stripe


def deliver(client: Any, fake: FakeStripe, event: dict[str, Any], *, secret: str | None = None) -> Any:
    """POST ``event`` to the webhook endpoint as Stripe would: JSON body, Stripe-Signature header."""
    body, signature = fake.signed(event, secret=secret)
    return client.post(WEBHOOK_PATH, data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature)


def deliver_all(client: Any, fake: FakeStripe, events: list[dict[str, Any]]) -> list[str]:
    outcomes = []
    for event in events:
        response = deliver(client, fake, event)
        assert response.status_code == 200, response.content
        outcomes.append(response.json()["outcome"])
    return outcomes


@pytest.fixture
def live_stripe(settings: Any) -> None:
    if not LIVE_KEY.startswith("sk_test_"):
        pytest.skip("set STRIPE_SECRET_KEY to a test-mode key to run against Stripe")
    settings.BILLING_PROVIDER = "stripe"
    settings.STRIPE_SECRET_KEY = LIVE_KEY
    settings.STRIPE_API_BASE = "https://api.stripe.com"


__all__ = ["ROOT_HOST", "deliver", "deliver_all"]
