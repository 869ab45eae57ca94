"""Products, prices, customers, billing meters and meter events of the fake Stripe."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.fakes.stripe_server.forms import as_bool, as_int
from tests.fakes.stripe_server.state import FakeState, StripeError, created_filter, list_object, required

METER_EVENT_PAST_DAYS = 35
METER_EVENT_FUTURE_SECONDS = 5 * 60


class CatalogOps(FakeState):
    # --- products ----------------------------------------------------------------------------------
    def create_product(self, params: dict[str, Any]) -> dict[str, Any]:
        product_id = params.get("id") or self.new_id("prod")
        if product_id in self.table("product"):
            raise StripeError(400, f"Product already exists with ID {product_id}", code="resource_already_exists")
        return self.put(
            "product",
            {
                "id": product_id,
                "object": "product",
                "name": required(params, "name"),
                "active": as_bool(params.get("active"), True),
                "description": params.get("description") or None,
                "metadata": params.get("metadata") or {},
                "created": self.now(),
                "updated": self.now(),
                "livemode": False,
            },
        )

    def update_product(self, params: dict[str, Any], product_id: str) -> dict[str, Any]:
        product = self.get("product", product_id)
        for field in ("name", "description"):
            if field in params:
                product[field] = params[field]
        if "active" in params:
            product["active"] = as_bool(params["active"])
        product["metadata"].update(params.get("metadata") or {})
        product["updated"] = self.now()
        return product

    def list_products(self, params: dict[str, Any]) -> dict[str, Any]:
        items = list(self.table("product").values())
        if "active" in params:
            items = [p for p in items if p["active"] == as_bool(params["active"])]
        return list_object("/v1/products", items, params)

    # --- prices ------------------------------------------------------------------------------------
    def create_price(self, params: dict[str, Any]) -> dict[str, Any]:
        product = self.get("product", required(params, "product"))
        scheme = params.get("billing_scheme") or "per_unit"
        recurring = params.get("recurring")
        if recurring:
            recurring = {
                "interval": required(recurring, "interval"),
                "interval_count": as_int(recurring.get("interval_count"), 1),
                "usage_type": recurring.get("usage_type") or "licensed",
                "meter": recurring.get("meter") or None,
            }
            if recurring["usage_type"] == "metered":
                self.get("billing.meter", required(recurring, "meter"))
        tiers = None
        if scheme == "tiered":
            if params.get("tiers_mode") not in ("graduated", "volume"):
                raise StripeError(400, "Invalid tiers_mode", param="tiers_mode")
            tiers = [
                {
                    "up_to": None if tier["up_to"] == "inf" else int(tier["up_to"]),
                    "unit_amount_decimal": tier.get("unit_amount_decimal") or str(tier.get("unit_amount") or 0),
                    "flat_amount": as_int(tier.get("flat_amount"), 0),
                }
                for tier in required(params, "tiers")
            ]
            if tiers[-1]["up_to"] is not None:
                raise StripeError(400, "The last tier must have up_to=inf.", param="tiers")
        elif params.get("unit_amount") in (None, "") and params.get("unit_amount_decimal") in (None, ""):
            raise StripeError(400, "Missing required param: unit_amount.", code="parameter_missing")
        transform = params.get("transform_quantity")
        if transform:
            if scheme == "tiered":
                raise StripeError(400, "transform_quantity cannot be combined with tiers.", param="transform_quantity")
            transform = {"divide_by": int(transform["divide_by"]), "round": transform["round"]}
        lookup_key = params.get("lookup_key") or None
        if lookup_key:
            holder = next((p for p in self.table("price").values() if p["lookup_key"] == lookup_key), None)
            if holder is not None:
                if not as_bool(params.get("transfer_lookup_key")):
                    raise StripeError(
                        400, f"A price ({holder['id']}) already uses that lookup key.", code="lookup_key_exists"
                    )
                holder["lookup_key"] = None
        unit_decimal = params.get("unit_amount_decimal") or params.get("unit_amount")
        return self.put(
            "price",
            {
                "id": self.new_id("price"),
                "object": "price",
                "active": as_bool(params.get("active"), True),
                "product": product["id"],
                "currency": required(params, "currency").lower(),
                "billing_scheme": scheme,
                "tiers_mode": params.get("tiers_mode") if scheme == "tiered" else None,
                "tiers": tiers,
                "unit_amount": int(Decimal(unit_decimal)) if unit_decimal and Decimal(unit_decimal) % 1 == 0 else None,
                "unit_amount_decimal": unit_decimal if scheme != "tiered" else None,
                "recurring": recurring,
                "type": "recurring" if recurring else "one_time",
                "transform_quantity": transform or None,
                "lookup_key": lookup_key,
                "nickname": params.get("nickname") or None,
                "metadata": params.get("metadata") or {},
                "created": self.now(),
                "livemode": False,
            },
        )

    def update_price(self, params: dict[str, Any], price_id: str) -> dict[str, Any]:
        price = self.get("price", price_id)
        if "active" in params:
            price["active"] = as_bool(params["active"])
        if "lookup_key" in params:
            price["lookup_key"] = params["lookup_key"] or None
        price["metadata"].update(params.get("metadata") or {})
        return price

    def list_prices(self, params: dict[str, Any]) -> dict[str, Any]:
        items = list(self.table("price").values())
        if params.get("lookup_keys"):
            items = [p for p in items if p["lookup_key"] in params["lookup_keys"]]
        if params.get("product"):
            items = [p for p in items if p["product"] == params["product"]]
        if "active" in params:
            items = [p for p in items if p["active"] == as_bool(params["active"])]
        return list_object("/v1/prices", created_filter(items, params.get("created")), params)

    # --- customers ---------------------------------------------------------------------------------
    def create_customer(self, params: dict[str, Any]) -> dict[str, Any]:
        customer = {
            "id": self.new_id("cus"),
            "object": "customer",
            "email": params.get("email") or None,
            "name": params.get("name") or None,
            "metadata": params.get("metadata") or {},
            "created": self.now(),
            "livemode": False,
        }
        self.emit("customer.created", self.put("customer", customer))
        return customer

    # --- billing meters and meter events -----------------------------------------------------------
    def create_meter(self, params: dict[str, Any]) -> dict[str, Any]:
        event_name = required(params, "event_name")
        if any(m["event_name"] == event_name and m["status"] == "active" for m in self.table("billing.meter").values()):
            raise StripeError(400, f"An active meter with event_name {event_name} exists.", code="resource_exists")
        formula = required(params, "default_aggregation")["formula"]
        if formula not in ("count", "sum", "last"):
            raise StripeError(400, f"Invalid formula: {formula}", param="default_aggregation[formula]")
        mapping = params.get("customer_mapping") or {"event_payload_key": "stripe_customer_id", "type": "by_id"}
        values = params.get("value_settings") or {"event_payload_key": "value"}
        return self.put(
            "billing.meter",
            {
                "id": self.new_id("mtr"),
                "object": "billing.meter",
                "display_name": required(params, "display_name"),
                "event_name": event_name,
                "default_aggregation": {"formula": formula},
                "customer_mapping": mapping,
                "value_settings": values,
                "event_time_window": params.get("event_time_window") or None,
                "status": "active",
                "created": self.now(),
                "updated": self.now(),
                "livemode": False,
            },
        )

    def list_meters(self, params: dict[str, Any]) -> dict[str, Any]:
        items = list(self.table("billing.meter").values())
        if params.get("status"):
            items = [m for m in items if m["status"] == params["status"]]
        return list_object("/v1/billing/meters", items, params)

    def create_meter_event(self, params: dict[str, Any]) -> dict[str, Any]:
        event_name = required(params, "event_name")
        meter = next((m for m in self.table("billing.meter").values() if m["event_name"] == event_name), None)
        if meter is None:
            raise StripeError(400, f"No active meter for event_name {event_name}.", param="event_name")
        payload = required(params, "payload")
        customer_id = payload.get(meter["customer_mapping"]["event_payload_key"])
        self.get("customer", customer_id or "")
        raw_value = payload.get(meter["value_settings"]["event_payload_key"], "1")
        try:
            value = Decimal(raw_value)
        except ArithmeticError:
            raise StripeError(400, f"Invalid value: {raw_value}", param="payload[value]") from None
        now = self.now()
        timestamp = as_int(params.get("timestamp"), now)
        assert timestamp is not None
        if timestamp < now - METER_EVENT_PAST_DAYS * 86400 or timestamp > now + METER_EVENT_FUTURE_SECONDS:
            raise StripeError(
                400,
                "Timestamp must be within the past 35 calendar days or up to 5 minutes in the future.",
                code="timestamp_out_of_range",
                param="timestamp",
            )
        identifier = params.get("identifier") or self.new_id("mev")
        accepted = self.table("meter_event")
        if identifier in accepted:
            # Stripe enforces the identifier's uniqueness: a resend is not counted again.
            self.duplicate_meter_events += 1
            return accepted[identifier]
        event = {
            "object": "billing.meter_event",
            "id": identifier,
            "identifier": identifier,
            "event_name": event_name,
            "payload": payload,
            "timestamp": timestamp,
            "created": now,
            "livemode": False,
            "_customer": customer_id,
            "_meter": meter["id"],
            "_value": value,
        }
        accepted[identifier] = event
        return event

    duplicate_meter_events = 0

    def meter_usage(self, meter_id: str, customer_id: str, start: int, end: int) -> Decimal:
        """The meter's aggregate for a customer over [start, end) (sum, count, or the last value)."""
        meter = self.get("billing.meter", meter_id)
        events = sorted(
            (
                e
                for e in self.table("meter_event").values()
                if e["_meter"] == meter_id and e["_customer"] == customer_id and start <= e["timestamp"] < end
            ),
            key=lambda e: (e["timestamp"], e["created"]),
        )
        formula = meter["default_aggregation"]["formula"]
        if formula == "count":
            return Decimal(len(events))
        if formula == "last":
            return events[-1]["_value"] if events else Decimal(0)
        return sum((e["_value"] for e in events), Decimal(0))

    def create_portal_session(self, params: dict[str, Any]) -> dict[str, Any]:
        customer = self.get("customer", required(params, "customer"))
        session_id = self.new_id("bps")
        return self.put(
            "billing_portal.session",
            {
                "id": session_id,
                "object": "billing_portal.session",
                "customer": customer["id"],
                "return_url": params.get("return_url") or None,
                "url": f"{self.base_url}/p/session/{session_id}",
                "created": self.now(),
                "livemode": False,
            },
        )
