"""Connect events of dedicated stores. Stripe sends every Connect event to the platform's one endpoint; for a
store served by its own stack, the platform hands on only the event's id and account (`forward_event`), and
the stack reads the event back from Stripe on its own account and applies it in its own database
(stripe_events.apply_forwarded_event), once per event id as everywhere.

The hand-off is signed (`LocalBazaar-Signature: t=<unix>,v1=<HMAC-SHA256 of "<t>.<body>">`) with a key the
platform and the stack already share: the SHA-256 of the store's publishing token. The stack holds the token
(MARKETPLACE_PUBLISHING_TOKEN, its store-bound credential toward the platform) and hashes it; the platform
keeps exactly that hash (storefront.marketplace's PublishingToken), so it signs with the hash, having no
token to send. The other candidate, the stack's SECRET_KEY, is known to the platform only for stacks the
`local` backend derives, never for a terraform stack's. What the signature guards is small by design: the
stack takes nothing from the hand-off but which event to look up, and applies it only for its own account,
so a forged one could at most make it re-read one of its real events, which it applies once anyway.

A stack that cannot be reached, or does not answer 200, raises StackUnavailable: the platform answers Stripe
with a 503 and Stripe delivers the event again later.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import urllib3
from django.conf import settings

from storefront.marketplace.services import publishing_token_digest
from tenants.models import Tenant
from tenants.routing import store_hostname, store_url

SIGNATURE_HEADER = "LocalBazaar-Signature"
# Outside /api/: the platform's hand-offs are not the store's API use (billing.middleware counts /api/).
FORWARD_PATH = "/internal/payments/stripe/events"
TOLERANCE_SECONDS = 300
# Stripe gives a delivery a few seconds more than this before it counts it as failed.
TIMEOUT_SECONDS = 15.0

_pool = urllib3.PoolManager(num_pools=16, maxsize=4, retries=False)


class StackUnavailable(Exception):
    """The store's stack did not take the event: Stripe must deliver it again."""


def signature(body: bytes, key: str, timestamp: int | None = None) -> str:
    moment = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(key.encode(), f"{moment}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={moment},v1={digest}"


def is_signed(body: bytes, header: str, key: str) -> bool:
    """`header` signs `body` with `key`, and was made within TOLERANCE_SECONDS of now."""
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    try:
        moment = int(parts.get("t", ""))
    except ValueError:
        return False
    if not key or abs(time.time() - moment) > TOLERANCE_SECONDS:
        return False
    return hmac.compare_digest(signature(body, key, moment), f"t={moment},v1={parts.get('v1', '')}")


def stack_key() -> str:
    """On a dedicated stack: the key of the platform's hand-offs ("" without a publishing token)."""
    token = settings.MARKETPLACE_PUBLISHING_TOKEN
    return hashlib.sha256(token.encode()).hexdigest() if token else ""


def forward_event(tenant: Tenant, event_id: str, account_id: str) -> str:
    """Hand `event_id` of `account_id` to `tenant`'s stack; returns what the stack made of it."""
    key = publishing_token_digest(tenant.pk)
    if not key:
        raise StackUnavailable(f"{tenant.slug} has no publishing token: its stack cannot be told of the event")
    body = json.dumps({"event": event_id, "account": account_id}).encode()
    # The stack where the platform's front proxy reaches it (`local`), else the store's own address, which
    # the ingress sends to its stack; either way it serves the store by its hostname.
    url = (tenant.upstream_url or store_url(tenant.slug)).rstrip("/") + FORWARD_PATH
    headers = {
        "Host": store_hostname(tenant.slug),
        "Content-Type": "application/json",
        SIGNATURE_HEADER: signature(body, key),
    }
    try:
        response = _pool.request(
            "POST",
            url,
            body=body,
            headers=headers,
            redirect=False,
            timeout=urllib3.Timeout(connect=5.0, read=TIMEOUT_SECONDS),
        )
    except urllib3.exceptions.HTTPError as error:
        raise StackUnavailable(f"{tenant.slug}'s stack is unreachable: {error}") from error
    if response.status != 200:
        raise StackUnavailable(f"{tenant.slug}'s stack answered HTTP {response.status}: {response.data[:200]!r}")
    try:
        return str(json.loads(response.data)["outcome"])
    except (ValueError, KeyError, TypeError) as error:
        raise StackUnavailable(f"{tenant.slug}'s stack gave no outcome: {error}") from error
