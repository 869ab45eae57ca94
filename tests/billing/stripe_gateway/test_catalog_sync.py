"""`manage.py sync_billing_catalog`: meters, products and prices at Stripe, idempotent on rerun."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import call_command

from billing.models import Plan
from billing.rating import Graduated, Interval, Package, PerUnit, Tier, UsageCharge
from billing.stripe_gateway import pricing
from billing.stripe_gateway.models import StripeMeter, StripePrice
from tests.fakes.stripe_server.billing import rate_price

pytestmark = pytest.mark.django_db


def counts(fake):
    return {kind: len(fake.table(kind)) for kind in ("billing.meter", "product", "price")}


def test_a_sync_mirrors_the_catalog_and_a_rerun_creates_nothing(fake_stripe, capsys):
    call_command("sync_billing_catalog")
    first = counts(fake_stripe)
    prices_before = dict(StripePrice.objects.values_list("lookup_key", "price_id"))

    call_command("sync_billing_catalog")

    assert first["billing.meter"] == 4 and first["product"] == Plan.objects.count()
    assert counts(fake_stripe) == first
    assert dict(StripePrice.objects.values_list("lookup_key", "price_id")) == prices_before
    assert "created=0 archived=0" in capsys.readouterr().out.splitlines()[-1]
    formulas = dict(StripeMeter.objects.values_list("metric", "formula"))
    assert formulas == {"orders": "sum", "gmv": "sum", "api_requests": "sum", "storage_gb": "last"}


def test_a_changed_plan_gets_a_new_price_and_the_old_one_is_archived(fake_stripe):
    call_command("sync_billing_catalog")
    old = StripePrice.objects.get(plan__code="growth", component="fee:month")
    Plan.objects.filter(code="growth").update(monthly_fee=3_500)

    call_command("sync_billing_catalog")

    new = StripePrice.objects.get(plan__code="growth", component="fee:month")
    assert new.price_id != old.price_id
    assert fake_stripe.get("price", new.price_id)["unit_amount"] == 3_500
    assert fake_stripe.get("price", new.price_id)["lookup_key"] == "lb:growth:fee:month"
    assert fake_stripe.get("price", old.price_id)["active"] is False
    assert fake_stripe.get("price", old.price_id)["lookup_key"] is None
    # Nothing else changed, so nothing else was made.
    assert len(fake_stripe.table("price")) == StripePrice.objects.count() + 1


@pytest.mark.parametrize(
    ("charge", "quantities"),
    [
        (UsageCharge("orders", PerUnit(Decimal(20)), included=50), [0, 50, 51, 1_000]),
        (
            UsageCharge("orders", Graduated((Tier(5_000, Decimal(10)), Tier(None, Decimal(5)))), included=500),
            [0, 500, 501, 5_500, 5_501, 20_000],
        ),
        (UsageCharge("api_requests", Package(10_000, 100)), [0, 1, 10_000, 10_001]),
    ],
)
def test_exact_prices_charge_at_stripe_what_the_rating_engine_charges(charge, quantities):
    from billing.rating import rate_usage

    terms = pricing.usage_terms(charge, "GBP", Interval.MONTH, "mtr_x")
    assert terms.exact
    price = {**terms.params, "tiers": terms.params.get("tiers")}
    if price.get("tiers"):
        price["tiers"] = [
            {
                "up_to": None if t["up_to"] == "inf" else t["up_to"],
                "unit_amount_decimal": t["unit_amount_decimal"],
                "flat_amount": t.get("flat_amount", 0),
            }
            for t in price["tiers"]
        ]
    for quantity in quantities:
        assert rate_price(price, Decimal(quantity)) == rate_usage(charge, quantity).amount, quantity
