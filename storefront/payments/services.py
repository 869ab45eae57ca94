"""A store connecting its own Stripe Express account, to take buyers' card payments."""

from __future__ import annotations

import stripe
from django.db import transaction

from billing.limits import current_store
from billing.stripe_gateway.client import stripe_client
from storefront.payments.models import StripeAccount
from storefront.payments.providers import PaymentFailed


def _status(account: StripeAccount, remote: object) -> StripeAccount:
    account.details_submitted = bool(getattr(remote, "details_submitted", False))
    account.charges_enabled = bool(getattr(remote, "charges_enabled", False))
    account.payouts_enabled = bool(getattr(remote, "payouts_enabled", False))
    account.save(update_fields=["details_submitted", "charges_enabled", "payouts_enabled", "updated_at"])
    return account


def start_onboarding(*, email: str, return_url: str, refresh_url: str) -> tuple[StripeAccount, str]:
    """The store's Express account (made once: Stripe's idempotency key names the store) and a fresh
    onboarding link for its owner; the link expires within minutes, so it is never stored."""
    store = current_store()
    if store is None:
        raise PaymentFailed("Card payments are connected from a store's own address.")
    client = stripe_client()
    try:
        account = StripeAccount.objects.first()
        if account is None:
            remote = client.v1.accounts.create(
                params={
                    "type": "express",
                    "email": email,
                    "metadata": {"localbazaar_tenant": str(store.pk), "localbazaar_store": store.slug},
                    "capabilities": {"card_payments": {"requested": True}, "transfers": {"requested": True}},
                },
                # By slug: a dedicated store's id is its stack's own row, the same (1) on every stack.
                options={"idempotency_key": f"lb-{store.slug}-connect-account"},
            )
            with transaction.atomic():
                StripeAccount.objects.get_or_create(account_id=remote.id)
            account = StripeAccount.objects.get()
        link = client.v1.account_links.create(
            params={
                "account": account.account_id,
                "type": "account_onboarding",
                "return_url": return_url,
                "refresh_url": refresh_url,
            }
        )
    except stripe.StripeError as error:
        raise PaymentFailed(f"Stripe did not open the onboarding: {error.user_message or error}") from error
    return account, str(link.url)


def refresh_account() -> StripeAccount | None:
    """Stripe's word now on the store's account (webhooks keep it current; this is for the owner's page)."""
    account = StripeAccount.objects.first()
    if account is None:
        return None
    try:
        remote = stripe_client().v1.accounts.retrieve(account.account_id)
    except stripe.StripeError as error:
        raise PaymentFailed(f"Stripe did not answer: {error.user_message or error}") from error
    return _status(account, remote)
