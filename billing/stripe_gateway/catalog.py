"""`sync_billing_catalog`: the plan catalog mirrored to Stripe as Billing Meters, Products and Prices.

Idempotent: meters are found by event name, products by our id (``lb_plan_<code>``), prices by lookup
key and the fingerprint of their terms; a rerun with nothing changed creates nothing. A changed plan
gets a new Price that takes the lookup key over, and the old one is archived (Prices are immutable).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import stripe

from billing.models import Metric, Plan
from billing.rating import Interval
from billing.stripe_gateway import pricing
from billing.stripe_gateway.client import stripe_client
from billing.stripe_gateway.models import StripeMeter, StripePrice

logger = logging.getLogger(__name__)


@dataclass
class CatalogSync:
    """What a sync did, for the command's output."""

    created: list[str] = field(default_factory=list)
    archived: list[str] = field(default_factory=list)
    unchanged: int = 0
    inexact: list[str] = field(default_factory=list)


def event_name(metric: str) -> str:
    return f"localbazaar_{metric}"


def sync_meters(client: stripe.StripeClient, result: CatalogSync) -> dict[str, str]:
    """One active meter per metric; returns metric -> meter id."""
    existing = {
        m.event_name: m
        for m in client.v1.billing.meters.list(params={"status": "active", "limit": 100}).auto_paging_iter()
    }
    meter_ids = {}
    for metric in Metric.values:
        name = event_name(metric)
        meter = existing.get(name)
        if meter is None:
            meter = client.v1.billing.meters.create(
                params={
                    "display_name": Metric(metric).label,
                    "event_name": name,
                    "default_aggregation": {"formula": pricing.METER_FORMULA[metric]},
                    "customer_mapping": {"event_payload_key": "stripe_customer_id", "type": "by_id"},
                    "value_settings": {"event_payload_key": "value"},
                },
                options={"idempotency_key": f"lb-meter-{name}"},
            )
            result.created.append(f"meter {name}")
        StripeMeter.objects.update_or_create(
            metric=metric,
            defaults={"meter_id": meter.id, "event_name": name, "formula": meter.default_aggregation.formula},
        )
        meter_ids[metric] = meter.id
    return meter_ids


def _product_for(client: stripe.StripeClient, plan: Plan, result: CatalogSync) -> str:
    product_id = f"lb_plan_{plan.code}".replace("-", "_")
    try:
        product = client.v1.products.retrieve(product_id)
        if product.name != plan.name or not product.active:
            client.v1.products.update(product_id, params={"name": plan.name, "active": True})
    except stripe.InvalidRequestError as error:
        if error.http_status != 404:
            raise
        client.v1.products.create(
            params={"id": product_id, "name": plan.name, "metadata": {"localbazaar_plan": plan.code}},
            options={"idempotency_key": f"lb-product-{product_id}"},
        )
        result.created.append(f"product {product_id}")
    return product_id


def _sync_price(
    client: stripe.StripeClient,
    plan: Plan,
    product_id: str,
    component: str,
    terms: pricing.PriceTerms,
    result: CatalogSync,
) -> None:
    key = pricing.lookup_key(plan.code, component)
    if not terms.exact:
        result.inexact.append(f"{key}: {terms.note}")
    found = client.v1.prices.list(params={"lookup_keys": [key], "limit": 1}).data
    current = found[0] if found else None
    fingerprint = current.metadata.to_dict().get("localbazaar_fingerprint") if current is not None else None
    if current is not None and fingerprint == terms.fingerprint and current.active:
        result.unchanged += 1
        price_id = current.id
    else:
        params: Any = {
            **terms.params,
            "product": product_id,
            "lookup_key": key,
            "transfer_lookup_key": True,
            "metadata": {"localbazaar_plan": plan.code, "localbazaar_fingerprint": terms.fingerprint},
        }
        price = client.v1.prices.create(
            params=params,
            # The same terms are the same Price: a sync that died after this call and runs again gets it back.
            options={"idempotency_key": f"lb-price-{key}-{terms.fingerprint}-{current.id if current else 0}"},
        )
        result.created.append(f"price {key}")
        if current is not None and current.id != price.id:
            client.v1.prices.update(current.id, params={"active": False})
            result.archived.append(f"price {current.id} ({key})")
        price_id = price.id
    StripePrice.objects.update_or_create(
        plan=plan,
        component=component,
        defaults={"lookup_key": key, "product_id": product_id, "price_id": price_id, "fingerprint": terms.fingerprint},
    )


def sync_catalog(client: stripe.StripeClient | None = None) -> CatalogSync:
    """Mirror every plan (public or not: existing subscribers keep theirs) to Stripe."""
    client = client or stripe_client()
    result = CatalogSync()
    meter_ids = sync_meters(client, result)
    for plan in Plan.objects.prefetch_related("usage_charges__tiers").order_by("pk"):
        rated = plan.to_rating()
        product_id = _product_for(client, plan, result)
        for interval in Interval:
            _sync_price(client, plan, product_id, f"fee:{interval.value}", pricing.fee_terms(rated, interval), result)
            for charge in rated.usage_charges:
                terms = pricing.usage_terms(charge, plan.currency, interval, meter_ids[charge.metric])
                _sync_price(client, plan, product_id, f"usage:{charge.metric}:{interval.value}", terms, result)
    logger.info(
        "stripe catalog synced", extra={"prices_created": len(result.created), "prices_archived": len(result.archived)}
    )
    return result
