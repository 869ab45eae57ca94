"""Checkout sessions, subscriptions, invoices (with previews) and the events list of the fake Stripe,
plus the test-side actions a customer or the bank would take (pay at checkout, a failed renewal)."""

from __future__ import annotations

import copy
import math
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from tests.fakes.stripe_server.catalog import CatalogOps
from tests.fakes.stripe_server.connect import ACCOUNT
from tests.fakes.stripe_server.forms import as_bool, as_int
from tests.fakes.stripe_server.state import StripeError, created_filter, list_object, required

PERIOD_SECONDS = {"month": 30 * 86400, "year": 365 * 86400}


def rate_price(price: dict[str, Any], quantity: Decimal) -> int:
    """What Stripe charges for ``quantity`` of ``price`` (tiers, transform_quantity), in minor units."""
    transform = price.get("transform_quantity")
    if transform:
        divided = quantity / transform["divide_by"]
        quantity = Decimal(math.ceil(divided) if transform["round"] == "up" else math.floor(divided))
    if price["billing_scheme"] == "tiered":
        total, floor = Decimal(0), Decimal(0)
        tiers = price["tiers"]
        if price["tiers_mode"] == "volume":
            tier = next(t for t in tiers if t["up_to"] is None or quantity <= t["up_to"])
            if quantity > 0:
                total = quantity * Decimal(tier["unit_amount_decimal"]) + tier["flat_amount"]
        else:
            for tier in tiers:
                if quantity <= floor:
                    break
                ceiling = quantity if tier["up_to"] is None else min(quantity, Decimal(tier["up_to"]))
                total += (ceiling - floor) * Decimal(tier["unit_amount_decimal"]) + tier["flat_amount"]
                floor = ceiling
    else:
        total = quantity * Decimal(price["unit_amount_decimal"])
    return int(total.quantize(Decimal(1), rounding=ROUND_HALF_UP))


class BillingOps(CatalogOps):
    # --- checkout ----------------------------------------------------------------------------------
    def create_checkout_session(self, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("mode") != "subscription":
            raise StripeError(400, "This fake serves Checkout in subscription mode only.", param="mode")
        items = required(params, "line_items")
        for item in items:
            price = self.get("price", required(item, "price"))
            metered = (price["recurring"] or {}).get("usage_type") == "metered"
            if metered and item.get("quantity"):
                raise StripeError(400, "Quantity is not allowed for metered prices.", param="line_items")
            if not price["active"]:
                raise StripeError(400, f"The price {price['id']} is not active.", param="line_items")
        customer = self.get("customer", params["customer"]) if params.get("customer") else None
        session_id = self.new_id("cs_test")
        return self.put(
            "checkout.session",
            {
                "id": session_id,
                "object": "checkout.session",
                "mode": "subscription",
                "status": "open",
                "payment_status": "unpaid",
                "customer": customer["id"] if customer else None,
                "client_reference_id": params.get("client_reference_id") or None,
                "metadata": params.get("metadata") or {},
                "subscription": None,
                "success_url": params.get("success_url"),
                "cancel_url": params.get("cancel_url"),
                "url": f"{self.base_url}/c/pay/{session_id}",
                "created": self.now(),
                "livemode": False,
                "_line_items": items,
                "_subscription_metadata": (params.get("subscription_data") or {}).get("metadata") or {},
            },
        )

    def complete_checkout(self, session_id: str) -> dict[str, Any]:
        """The customer pays: a subscription starts, its first invoice is paid, and the events fire."""
        with self.lock:
            session = self.get("checkout.session", session_id)
            if session["status"] != "open":
                raise StripeError(400, "This Checkout Session is not open.")
            if not session["customer"]:
                session["customer"] = self.create_customer({})["id"]
            now = self.now()
            subscription = self._new_subscription(session, now)
            invoice = self._new_invoice(subscription, now, billing_reason="subscription_create")
            self._pay(invoice)
            subscription["latest_invoice"] = invoice["id"]
            session.update(status="complete", payment_status="paid", subscription=subscription["id"])
            self.emit("customer.subscription.created", subscription)
            self.emit("invoice.paid", invoice)
            self.emit("checkout.session.completed", self._public(session))
            return session

    def _new_subscription(self, session: dict[str, Any], now: int) -> dict[str, Any]:
        subscription_id = self.new_id("sub")
        items = []
        for item in session["_line_items"]:
            price = self.get("price", item["price"])
            interval = price["recurring"]["interval"]
            items.append(
                {
                    "id": self.new_id("si"),
                    "object": "subscription_item",
                    "price": copy.deepcopy(price),
                    "quantity": as_int(item.get("quantity")) if price["recurring"]["usage_type"] != "metered" else None,
                    "subscription": subscription_id,
                    "current_period_start": now,
                    "current_period_end": now + PERIOD_SECONDS[interval],
                    "created": now,
                }
            )
        return self.put(
            "subscription",
            {
                "id": subscription_id,
                "object": "subscription",
                "customer": session["customer"],
                "status": "active",
                "items": {"object": "list", "data": items, "has_more": False},
                "metadata": dict(session["_subscription_metadata"]),
                "cancel_at_period_end": False,
                "cancel_at": None,
                "canceled_at": None,
                "ended_at": None,
                "start_date": now,
                "billing_cycle_anchor": now,
                "latest_invoice": None,
                "created": now,
                "livemode": False,
            },
        )

    @staticmethod
    def _public(obj: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in obj.items() if not key.startswith("_")}

    def get_checkout_session(self, params: dict[str, Any], session_id: str) -> dict[str, Any]:
        return self._public(self.get("checkout.session", session_id))

    # --- subscriptions -----------------------------------------------------------------------------
    def get_subscription(self, params: dict[str, Any], subscription_id: str) -> dict[str, Any]:
        return self.get("subscription", subscription_id)

    def update_subscription(self, params: dict[str, Any], subscription_id: str) -> dict[str, Any]:
        subscription = self.get("subscription", subscription_id)
        if subscription["status"] == "canceled":
            raise StripeError(400, "A canceled subscription can only update its metadata.")
        previous: dict[str, Any] = {}
        if "cancel_at_period_end" in params:
            previous["cancel_at_period_end"] = subscription["cancel_at_period_end"]
            subscription["cancel_at_period_end"] = as_bool(params["cancel_at_period_end"])
            subscription["cancel_at"] = (
                subscription["items"]["data"][0]["current_period_end"] if subscription["cancel_at_period_end"] else None
            )
        for change in params.get("items") or []:
            items = subscription["items"]["data"]
            if change.get("id"):
                item = next((i for i in items if i["id"] == change["id"]), None)
                if item is None:
                    raise StripeError(400, f"No such subscription item: {change['id']}", param="items")
                if as_bool(change.get("deleted")):
                    items.remove(item)
                    continue
            else:
                first = items[0]
                item = {
                    "id": self.new_id("si"),
                    "object": "subscription_item",
                    "subscription": subscription_id,
                    "quantity": None,
                    "current_period_start": first["current_period_start"],
                    "current_period_end": first["current_period_end"],
                    "created": self.now(),
                }
                items.append(item)
            if change.get("price"):
                item["price"] = copy.deepcopy(self.get("price", change["price"]))
                metered = item["price"]["recurring"]["usage_type"] == "metered"
                item["quantity"] = None if metered else as_int(change.get("quantity"), 1)
            previous["items"] = True
        subscription["metadata"].update(params.get("metadata") or {})
        self.emit("customer.subscription.updated", subscription, previous)
        return subscription

    def cancel_subscription(self, params: dict[str, Any], subscription_id: str) -> dict[str, Any]:
        subscription = self.get("subscription", subscription_id)
        now = self.now()
        subscription.update(status="canceled", canceled_at=now, ended_at=now)
        self.emit("customer.subscription.deleted", subscription)
        return subscription

    def fail_renewal(self, subscription_id: str) -> dict[str, Any]:
        """The next period's invoice cannot be collected: invoice open and past due, events fire."""
        with self.lock:
            subscription = self.get("subscription", subscription_id)
            self._advance_period(subscription)
            invoice = self._new_invoice(subscription, self.now(), billing_reason="subscription_cycle")
            invoice.update(status="open", attempt_count=1, attempted=True)
            subscription.update(status="past_due", latest_invoice=invoice["id"])
            self.emit("invoice.payment_failed", invoice)
            self.emit("customer.subscription.updated", subscription, {"status": "active"})
            return invoice

    def pay_invoice(self, invoice_id: str) -> dict[str, Any]:
        """A retried payment succeeds: the invoice is paid and the subscription active again."""
        with self.lock:
            invoice = self._pay(self.get("invoice", invoice_id))
            subscription = self.get("subscription", invoice["parent"]["subscription_details"]["subscription"])
            self.emit("invoice.paid", invoice)
            if subscription["status"] == "past_due":
                subscription["status"] = "active"
                self.emit("customer.subscription.updated", subscription, {"status": "past_due"})
            return invoice

    def _advance_period(self, subscription: dict[str, Any]) -> None:
        for item in subscription["items"]["data"]:
            length = item["current_period_end"] - item["current_period_start"]
            item["current_period_start"] = item["current_period_end"]
            item["current_period_end"] += length

    # --- invoices ----------------------------------------------------------------------------------
    def _invoice_lines(self, subscription: dict[str, Any], start: int, end: int) -> list[dict[str, Any]]:
        lines = []
        for item in subscription["items"]["data"]:
            price = item["price"]
            if price["recurring"]["usage_type"] == "metered":
                quantity = self.meter_usage(price["recurring"]["meter"], subscription["customer"], start, end)
            else:
                quantity = Decimal(item["quantity"] or 1)
            lines.append(
                {
                    "id": self.new_id("il"),
                    "object": "line_item",
                    "amount": rate_price(price, quantity),
                    "currency": price["currency"],
                    "quantity": int(quantity),
                    "description": price.get("nickname") or price["id"],
                    "pricing": {"type": "price_details", "price_details": {"price": price["id"]}},
                    "period": {"start": start, "end": end},
                }
            )
        return lines

    def _invoice_object(self, subscription: dict[str, Any], now: int, **fields: Any) -> dict[str, Any]:
        first = subscription["items"]["data"][0]
        start, end = first["current_period_start"], first["current_period_end"]
        lines = self._invoice_lines(subscription, start, end)
        total = sum(line["amount"] for line in lines)
        invoice = {
            "id": self.new_id("in"),
            "object": "invoice",
            "customer": subscription["customer"],
            "status": "draft",
            "currency": first["price"]["currency"],
            "subtotal": total,
            "total": total,
            "amount_due": total,
            "amount_paid": 0,
            "amount_remaining": total,
            "attempt_count": 0,
            "attempted": False,
            "period_start": start,
            "period_end": end,
            "lines": {"object": "list", "data": lines, "has_more": False},
            "parent": {
                "type": "subscription_details",
                "quote_details": None,
                "subscription_details": {"subscription": subscription["id"], "metadata": subscription["metadata"]},
            },
            "status_transitions": {"paid_at": None, "finalized_at": now},
            "created": now,
            "livemode": False,
        }
        invoice.update(fields)
        return invoice

    def _new_invoice(self, subscription: dict[str, Any], now: int, *, billing_reason: str) -> dict[str, Any]:
        invoice = self._invoice_object(subscription, now, billing_reason=billing_reason, status="open")
        return self.put("invoice", invoice)

    def _pay(self, invoice: dict[str, Any]) -> dict[str, Any]:
        invoice.update(status="paid", amount_paid=invoice["amount_due"], amount_remaining=0, attempted=True, paid=True)
        invoice["status_transitions"]["paid_at"] = self.now()
        return invoice

    def get_invoice(self, params: dict[str, Any], invoice_id: str) -> dict[str, Any]:
        return self.get("invoice", invoice_id)

    def list_invoices(self, params: dict[str, Any]) -> dict[str, Any]:
        items = sorted(self.table("invoice").values(), key=lambda i: i["created"], reverse=True)
        if params.get("customer"):
            items = [i for i in items if i["customer"] == params["customer"]]
        if params.get("subscription"):
            items = [i for i in items if i["parent"]["subscription_details"]["subscription"] == params["subscription"]]
        if params.get("status"):
            items = [i for i in items if i["status"] == params["status"]]
        return list_object("/v1/invoices", items, params)

    def create_preview(self, params: dict[str, Any]) -> dict[str, Any]:
        """The invoice the subscription's current period would end with (``Invoice.create_preview``)."""
        subscription = self.get("subscription", required(params, "subscription"))
        if params.get("customer") and params["customer"] != subscription["customer"]:
            raise StripeError(400, "The subscription belongs to another customer.", param="customer")
        preview = self._invoice_object(subscription, self.now(), billing_reason="upcoming", status="draft")
        preview["id"] = f"upcoming_{preview['id']}"
        return preview

    # --- events ------------------------------------------------------------------------------------
    def list_events(self, params: dict[str, Any]) -> dict[str, Any]:
        items = list(reversed(self.events))  # newest first
        types = params.get("types") or ([params["type"]] if params.get("type") else None)
        if types:
            items = [e for e in items if e["type"] in types]
        return list_object("/v1/events", created_filter(items, params.get("created")), params)

    def get_event(self, params: dict[str, Any], event_id: str) -> dict[str, Any]:
        event = next((e for e in self.events if e["id"] == event_id), None)
        # As on Stripe, a connected account's event is found only with its Stripe-Account header.
        if event is None or event.get("account", "") != params.get(ACCOUNT, ""):
            raise StripeError(404, f"No such event: '{event_id}'", code="resource_missing", param="id")
        return event
