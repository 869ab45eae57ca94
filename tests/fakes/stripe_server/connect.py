"""Stripe Connect in the fake: Express accounts and their onboarding links, PaymentIntents and refunds
made on a connected account (the `Stripe-Account` header, direct charges), and the test-side actions
of the merchant (finishing onboarding) and the buyer's bank (a payment succeeding or failing).

Events about a connected account carry its id in `account`, as Stripe's Connect webhooks do.
"""

from __future__ import annotations

import re
from typing import Any

from tests.fakes.stripe_server.forms import as_int
from tests.fakes.stripe_server.state import FakeState, StripeError, required

ACCOUNT = "_account"  # where the server puts the Stripe-Account header among a request's params
_METADATA_CLAUSE = re.compile(r"metadata\['([^']+)'\]:'([^']*)'")


class ConnectOps(FakeState):
    # --- accounts ------------------------------------------------------------------------------------
    def create_account(self, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("type", "express") != "express":
            raise StripeError(400, "This fake makes Express accounts only.", param="type")
        return self.put(
            "account",
            {
                "id": self.new_id("acct"),
                "object": "account",
                "type": "express",
                "country": params.get("country") or "GB",
                "email": params.get("email"),
                "details_submitted": False,
                "charges_enabled": False,
                "payouts_enabled": False,
                "metadata": dict(params.get("metadata") or {}),
                "created": self.now(),
            },
        )

    def get_account(self, params: dict[str, Any], account_id: str) -> dict[str, Any]:
        return self.get("account", account_id)

    def create_account_link(self, params: dict[str, Any]) -> dict[str, Any]:
        account = self.get("account", required(params, "account"))
        required(params, "return_url")
        required(params, "refresh_url")
        return {
            "object": "account_link",
            "created": self.now(),
            "expires_at": self.now() + 300,
            "url": f"{self.base_url}/connect/onboarding/{account['id']}",
        }

    # --- payment intents (on a connected account) ----------------------------------------------------
    def _on_account(self, params: dict[str, Any]) -> str:
        account = params.get(ACCOUNT) or ""
        if not account:
            raise StripeError(400, "This fake takes direct charges only: send Stripe-Account.", param="account")
        if not self.get("account", account)["charges_enabled"]:
            raise StripeError(400, "Your destination account needs to have charges enabled.", code="account_invalid")
        return account

    def create_payment_intent(self, params: dict[str, Any]) -> dict[str, Any]:
        account = self._on_account(params)
        amount = as_int(required(params, "amount"))
        fee = as_int(params.get("application_fee_amount") or 0)
        if amount < 1 or fee < 0 or fee > amount:
            raise StripeError(400, "Invalid amount or application_fee_amount.", param="amount")
        intent_id = self.new_id("pi")
        return self.put(
            "payment_intent",
            {
                "id": intent_id,
                "object": "payment_intent",
                "amount": amount,
                "currency": str(required(params, "currency")).lower(),
                "application_fee_amount": fee or None,
                "status": "requires_payment_method",
                "client_secret": f"{intent_id}_secret_{self.new_id('s')[2:]}",
                "metadata": dict(params.get("metadata") or {}),
                "latest_charge": None,
                "last_payment_error": None,
                "created": self.now(),
                "_account": account,
            },
        )

    def _intent(self, params: dict[str, Any], intent_id: str) -> dict[str, Any]:
        intent = self.get("payment_intent", intent_id)
        if intent["_account"] != params.get(ACCOUNT):
            raise StripeError(404, f"No such payment_intent: '{intent_id}'", code="resource_missing")
        return intent

    def get_payment_intent(self, params: dict[str, Any], intent_id: str) -> dict[str, Any]:
        return self._public(self._intent(params, intent_id))

    def search_payment_intents(self, params: dict[str, Any]) -> dict[str, Any]:
        """Stripe's search, for the one kind of query LocalBazaar makes: ``metadata['k']:'v'`` clauses joined
        by ``AND``, on the connected account (found at once; Stripe's index lags up to a minute)."""
        account = params.get(ACCOUNT) or ""
        query = str(required(params, "query"))
        clauses = [_METADATA_CLAUSE.fullmatch(clause.strip()) for clause in query.split(" AND ")]
        if not all(clauses):
            raise StripeError(400, f"This fake searches by metadata only: {query!r}.", param="query")
        wanted = {match.group(1): match.group(2) for match in clauses if match}
        found = [
            self._public(intent)
            for intent in self.table("payment_intent").values()
            if intent["_account"] == account and all(intent["metadata"].get(k) == v for k, v in wanted.items())
        ]
        return {"object": "search_result", "url": "/v1/payment_intents/search", "has_more": False, "data": found}

    def cancel_payment_intent(self, params: dict[str, Any], intent_id: str) -> dict[str, Any]:
        intent = self._intent(params, intent_id)
        if intent["status"] == "succeeded":
            raise StripeError(400, "You cannot cancel this PaymentIntent because it has a status of succeeded.")
        intent["status"] = "canceled"
        self.emit("payment_intent.canceled", self._public(intent), account=intent["_account"])
        return self._public(intent)

    def get_charge(self, params: dict[str, Any], charge_id: str) -> dict[str, Any]:
        charge = self.get("charge", charge_id)
        if charge["_account"] != params.get(ACCOUNT):
            raise StripeError(404, f"No such charge: '{charge_id}'", code="resource_missing")
        return self._public(charge)

    def create_refund(self, params: dict[str, Any]) -> dict[str, Any]:
        intent = self._intent(params, required(params, "payment_intent"))
        if intent["status"] != "succeeded":
            message = "This PaymentIntent has no successful charge to refund."
            raise StripeError(400, message, code="charge_not_refundable")
        charge = self.get("charge", intent["latest_charge"])
        if charge["refunded"]:
            raise StripeError(400, f"Charge {charge['id']} has already been refunded.", code="charge_already_refunded")
        charge["refunded"], charge["amount_refunded"] = True, charge["amount"]
        refund = self.put(
            "refund",
            {
                "id": self.new_id("re"),
                "object": "refund",
                "amount": charge["amount"],
                "charge": charge["id"],
                "payment_intent": intent["id"],
                "status": "succeeded",
                "created": self.now(),
            },
        )
        self.emit("charge.refunded", self._public(charge), account=intent["_account"])
        return refund

    @staticmethod
    def _public(obj: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in obj.items() if not key.startswith("_")}

    # --- what the merchant and the buyer's bank do (test-side) -----------------------------------------
    def complete_onboarding(self, account_id: str) -> dict[str, Any]:
        """The merchant finished Stripe's onboarding: charges and payouts enabled; `account.updated`."""
        with self.lock:
            account = self.get("account", account_id)
            account.update(details_submitted=True, charges_enabled=True, payouts_enabled=True)
            return self.emit("account.updated", account, account=account_id)

    def pay(self, intent_id: str, *, succeed: bool = True) -> dict[str, Any]:
        """The buyer confirms with a card that works (or is declined); the event it sends."""
        with self.lock:
            intent = self.get("payment_intent", intent_id)
            if intent["status"] in ("succeeded", "canceled"):
                raise StripeError(400, f"This PaymentIntent is {intent['status']}.")
            if not succeed:
                intent["last_payment_error"] = {"code": "card_declined", "message": "Your card was declined."}
                intent["status"] = "requires_payment_method"
                return self.emit("payment_intent.payment_failed", self._public(intent), account=intent["_account"])
            charge = self.put(
                "charge",
                {
                    "id": self.new_id("ch"),
                    "object": "charge",
                    "amount": intent["amount"],
                    "amount_refunded": 0,
                    "currency": intent["currency"],
                    "payment_intent": intent["id"],
                    "refunded": False,
                    "paid": True,
                    "created": self.now(),
                    "_account": intent["_account"],
                },
            )
            intent.update(status="succeeded", latest_charge=charge["id"], last_payment_error=None)
            return self.emit("payment_intent.succeeded", self._public(intent), account=intent["_account"])
