"""How buyers pay a store, behind one interface: `local` (pay on pickup or by bank transfer; the
merchant marks the order paid) and `stripe` (a card, through the store's own Stripe Express account).

Card payments are **direct charges**: the PaymentIntent is made on the store's connected account
(`Stripe-Account`), with the platform's application fee from the store's plan. The merchant sells, so
the merchant is the merchant of record: their name on the buyer's statement, their refunds and disputes,
their payouts, while LocalBazaar is the software that takes a fee. It also means every event about a
payment is a Connect event of that account, so one Connect webhook endpoint carries all of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import stripe
from django.conf import settings

from billing.limits import current_store
from billing.models import Subscription
from billing.stripe_gateway.client import stripe_client
from storefront.payments.models import StripeAccount


class PaymentUnavailable(Exception):
    """The store does not take this kind of payment (yet): a 400 on the checkout's `payment` field."""


class PaymentFailed(Exception):
    """The payment provider could not be reached or refused the call: nothing was charged (a 502)."""


@dataclass(frozen=True)
class PaymentRequest:
    order_id: int
    number: str
    total: int
    currency: str
    email: str


@dataclass(frozen=True)
class PaymentStart:
    """What a checkout's answer says about paying (`body`), and the provider's id for the payment."""

    body: dict[str, Any]
    reference: str = ""


class PaymentProvider(Protocol):
    code: str
    # True: the order waits for the payment (its units reserved until it succeeds or expires).
    awaits_payment: bool

    def check_available(self) -> None: ...

    def start(self, payment: PaymentRequest) -> PaymentStart: ...

    def refund(self, reference: str, number: str) -> None: ...

    def abandon(self, reference: str, number: str) -> None: ...


class LocalPayments:
    """No network: the buyer pays on pickup or by bank transfer, and the merchant marks the order paid."""

    code = "local"
    awaits_payment = False

    def check_available(self) -> None:
        return None

    def start(self, payment: PaymentRequest) -> PaymentStart:
        instructions = (
            f"Pay {payment.total} ({payment.currency} minor units) on pickup or by bank transfer, "
            f"quoting order {payment.number}."
        )
        return PaymentStart(body={"provider": self.code, "status": "due", "instructions": instructions})

    def refund(self, reference: str, number: str) -> None:
        return None  # the merchant pays back by hand

    def abandon(self, reference: str, number: str) -> None:
        return None


def card_fee(total: int) -> int:
    """The platform's application fee on a card payment of `total`, from the store's plan (rounded down)."""
    store = current_store()
    if store is None:
        return 0
    subscription = Subscription.objects.filter(tenant_id=store.pk)
    bps = subscription.values_list("plan__card_fee_bps", flat=True).first() or 0
    return total * bps // 10_000


class StripeConnectPayments:
    code = "stripe"
    awaits_payment = True

    def _account(self) -> StripeAccount:
        account = StripeAccount.objects.filter(charges_enabled=True).first()
        if account is None:
            raise PaymentUnavailable("This store does not take card payments yet; choose local payment.")
        return account

    def check_available(self) -> None:
        if not settings.STRIPE_SECRET_KEY:
            raise PaymentUnavailable("Card payments are not set up on this platform; choose local payment.")
        self._account()

    def _key(self, number: str, what: str) -> str:
        # By slug, unique across the platform: a dedicated store's id is its stack's own row (1 on every stack).
        store = current_store()
        return f"lb-{store.slug if store else 'store'}-{number}-{what}"

    def start(self, payment: PaymentRequest) -> PaymentStart:
        account = self._account()
        store = current_store()
        try:
            intent = stripe_client().v1.payment_intents.create(
                params={
                    "amount": payment.total,
                    "currency": payment.currency.lower(),
                    "application_fee_amount": card_fee(payment.total),
                    "automatic_payment_methods": {"enabled": True},
                    "receipt_email": payment.email,
                    "metadata": {
                        "localbazaar_tenant": str(store.pk if store else ""),
                        "localbazaar_order": str(payment.order_id),
                        "order_number": payment.number,
                    },
                },
                # The same order never gets two PaymentIntents, whatever retries happen.
                options={"stripe_account": account.account_id, "idempotency_key": self._key(payment.number, "pi")},
            )
        except stripe.StripeError as error:
            raise PaymentFailed(f"Stripe did not start the card payment: {error.user_message or error}") from error
        body = {
            "provider": self.code,
            "status": "requires_payment",
            "payment_intent": intent.id,
            "client_secret": intent.client_secret,
            "account": account.account_id,
            "publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
        }
        return PaymentStart(body=body, reference=intent.id)

    def refund(self, reference: str, number: str) -> None:
        account = StripeAccount.objects.first()
        if account is None or not reference:
            raise PaymentFailed("This order has no card payment on record to refund.")
        try:
            stripe_client().v1.refunds.create(
                params={"payment_intent": reference},
                options={"stripe_account": account.account_id, "idempotency_key": self._key(number, "refund")},
            )
        except stripe.InvalidRequestError as error:
            if getattr(error, "code", "") == "charge_already_refunded":
                return
            raise PaymentFailed(f"Stripe did not refund the payment: {error.user_message or error}") from error
        except stripe.StripeError as error:
            raise PaymentFailed(f"Stripe did not refund the payment: {error.user_message or error}") from error

    def abandon(self, reference: str, number: str) -> None:
        """Cancel a PaymentIntent nobody paid, so it can no longer succeed (best effort: a payment that
        succeeds anyway for a cancelled order is refunded when its event arrives).

        With no `reference` (the app never heard Stripe's answer), the order's intents are found by the
        number in their metadata: Stripe's search lags creation by up to a minute, so an order whose
        reservation expired is found, and one cancelled right after a failed start costs one empty search."""
        account = StripeAccount.objects.first()
        if account is None:
            return
        client = stripe_client()
        try:
            if reference:
                references = [reference]
            else:
                found = client.v1.payment_intents.search(
                    params={"query": f"metadata['order_number']:'{number}'"},
                    options={"stripe_account": account.account_id},
                )
                references = [intent.id for intent in found.data if intent.status not in ("succeeded", "canceled")]
            for intent_id in references:
                client.v1.payment_intents.cancel(intent_id, options={"stripe_account": account.account_id})
        except stripe.StripeError:
            return


PROVIDERS: dict[str, type[LocalPayments] | type[StripeConnectPayments]] = {
    "local": LocalPayments,
    "stripe": StripeConnectPayments,
}


def payment_provider(code: str) -> PaymentProvider:
    try:
        return PROVIDERS[code]()
    except KeyError:
        raise PaymentUnavailable(f"Unknown payment '{code}'; choose one of {', '.join(PROVIDERS)}.") from None
