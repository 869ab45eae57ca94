"""Webhooks are only ever verified against a configured signing secret and a fresh timestamp, and the
app refuses to start with the Stripe provider and no secret (system check)."""

from __future__ import annotations

import json
import time

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

from billing.stripe_gateway.models import WebhookEvent
from tests.billing.stripe_gateway.conftest import WEBHOOK_PATH
from tests.billing.stripe_gateway.test_checkout_and_webhooks import checkout, state_of
from tests.fakes.stripe_server.state import sign_payload

pytestmark = pytest.mark.django_db


def post_signed(client, event, secret, timestamp=None):
    body = json.dumps(event)
    signature = sign_payload(body, secret, timestamp)
    return client.post(WEBHOOK_PATH, data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature)


def test_with_no_signing_secret_an_event_signed_with_the_empty_key_is_refused_and_changes_nothing(
    synced, make_store, root_api, settings
):
    # Given a store whose Checkout produced real events, and a platform whose webhook secret is not set
    store = make_store()
    checkout(store, synced)
    before = state_of(store.tenant)
    settings.STRIPE_WEBHOOK_SECRET = ""

    # When someone posts those events signed with the empty key (which anyone can compute)
    responses = [post_signed(root_api, event, "") for event in synced.events]

    # Then every one is refused, and nothing is recorded or applied
    assert {r.status_code for r in responses} == {503}
    assert {r.json()["code"] for r in responses} == {"webhooks_not_configured"}
    assert not WebhookEvent.objects.exists()
    assert state_of(store.tenant) == before


def test_a_correctly_signed_event_ten_minutes_old_is_refused_as_a_replay(synced, make_store, root_api):
    # Given a store whose Checkout produced real events
    store = make_store()
    checkout(store, synced)
    before = state_of(store.tenant)

    # When they are delivered with the right secret but a signature made ten minutes ago
    stale = int(time.time()) - 600
    responses = [post_signed(root_api, event, synced.webhook_secret, stale) for event in synced.events]

    # Then they are refused (tolerance 300 s) and nothing is applied
    assert {r.status_code for r in responses} == {400}
    assert not WebhookEvent.objects.exists()
    assert state_of(store.tenant) == before
    # While the same events signed now are accepted (the refusal was the timestamp's).
    fresh = [post_signed(root_api, event, synced.webhook_secret) for event in synced.events]
    assert {r.status_code for r in fresh} == {200}


@pytest.mark.parametrize(
    "missing",
    [{"STRIPE_WEBHOOK_SECRET": ""}, {"STRIPE_SECRET_KEY": ""}, {"STRIPE_WEBHOOK_TOLERANCE_SECONDS": 0}],
)
def test_the_stripe_provider_refuses_to_start_without_its_secrets(missing):
    configured = {
        "BILLING_PROVIDER": "stripe",
        "STRIPE_SECRET_KEY": "sk_test_x",
        "STRIPE_WEBHOOK_SECRET": "whsec_x",
        "STRIPE_WEBHOOK_TOLERANCE_SECONDS": 300,
    }
    # Given a complete configuration, the check passes
    with override_settings(**configured):
        call_command("check")

    # When one of the values is missing, `manage.py check` (and so runserver, migrate) fails
    with override_settings(**{**configured, **missing}), pytest.raises(SystemCheckError, match="stripe_gateway.E00"):
        call_command("check")


def test_the_local_provider_needs_no_stripe_secrets():
    with override_settings(BILLING_PROVIDER="local", STRIPE_SECRET_KEY="", STRIPE_WEBHOOK_SECRET=""):
        call_command("check")
