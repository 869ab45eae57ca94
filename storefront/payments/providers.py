"""How buyers pay a store, behind one interface: `local` (pay on pickup or by bank transfer; the
merchant marks the order paid) and, once a store has connected it, `stripe`. A checkout asks the
provider the buyer chose whether it can take the order and what the buyer needs to pay."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


class PaymentUnavailable(Exception):
    """The store does not take this kind of payment (yet): a 400 on the checkout's `payment` field."""


@dataclass(frozen=True)
class PaymentStart:
    """What a checkout's answer says about paying (`body`), and whether the order's stock is only
    reserved until the payment succeeds (card payments) or allocated at once (pay later)."""

    body: dict[str, Any]
    awaits_payment: bool


class PaymentProvider(Protocol):
    code: str

    def check_available(self) -> None: ...

    def start(self, order_number: str, total: int, currency: str) -> PaymentStart: ...


class LocalPayments:
    """No network: the buyer pays on pickup or by bank transfer, and the merchant marks the order paid."""

    code = "local"

    def check_available(self) -> None:
        return None

    def start(self, order_number: str, total: int, currency: str) -> PaymentStart:
        return PaymentStart(
            body={
                "provider": self.code,
                "status": "due",
                "instructions": f"Pay {total} ({currency} minor units) on pickup or by bank transfer, "
                f"quoting order {order_number}.",
            },
            awaits_payment=False,
        )


class UnconnectedStripe:
    """Card payments before the store has connected a Stripe account."""

    code = "stripe"

    def check_available(self) -> None:
        raise PaymentUnavailable("This store does not take card payments yet; choose local payment.")

    def start(self, order_number: str, total: int, currency: str) -> PaymentStart:
        raise PaymentUnavailable("This store does not take card payments yet; choose local payment.")


PROVIDERS: dict[str, type[LocalPayments] | type[UnconnectedStripe]] = {
    "local": LocalPayments,
    "stripe": UnconnectedStripe,
}


def payment_provider(code: str) -> PaymentProvider:
    try:
        return PROVIDERS[code]()
    except KeyError:
        raise PaymentUnavailable(f"Unknown payment '{code}'; choose one of {', '.join(PROVIDERS)}.") from None
