"""How a plan becomes Stripe Prices: pure terms (no ORM, no network), fingerprinted so a sync can tell
whether the Price at Stripe still says what the plan says.

A plan's flat fee is a licensed recurring Price; each usage charge a metered Price on its metric's
Billing Meter, with the included allowance as a free first tier. Stripe cannot say everything our
rating engine can (billing.rating): volume tiers after an allowance, and packages after an allowance
that is not a whole number of packages, are mirrored as closely as Stripe allows and flagged ``exact``
False, so the sync command names them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from billing import rating

# Usage sent as meter events is aggregated by us first (one event per window carries N units), so
# counts are summed at Stripe; a peak is computed by us and the last value stands.
METER_FORMULA = {"orders": "sum", "gmv": "sum", "api_requests": "sum", "storage_gb": "last"}


@dataclass(frozen=True)
class PriceTerms:
    """The parameters of one Stripe Price (without product and lookup key) and whether it is exact."""

    params: dict[str, Any]
    exact: bool = True
    note: str = ""
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def fingerprint(self) -> str:
        canonical = json.dumps(self.params, sort_keys=True, default=str)
        return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def _decimal(value: Decimal | int) -> str:
    text = format(Decimal(value).normalize(), "f")
    return text if text not in ("-0", "") else "0"


def fee_terms(plan: rating.PlanPricing, interval: rating.Interval) -> PriceTerms:
    return PriceTerms(
        {
            "currency": plan.currency.lower(),
            "unit_amount": plan.fee_for(interval),
            "recurring": {"interval": interval.value, "usage_type": "licensed"},
            "nickname": f"{plan.name} ({interval.value}ly fee)",
        }
    )


def _tier(up_to: int | None, unit_amount: Decimal | int, flat_amount: int = 0) -> dict[str, Any]:
    tier: dict[str, Any] = {"up_to": "inf" if up_to is None else up_to, "unit_amount_decimal": _decimal(unit_amount)}
    if flat_amount:
        tier["flat_amount"] = flat_amount
    return tier


def usage_terms(charge: rating.UsageCharge, currency: str, interval: rating.Interval, meter_id: str) -> PriceTerms:
    """The metered Price for ``charge``: billed on the meter's aggregate over the period."""
    base: dict[str, Any] = {
        "currency": currency.lower(),
        "recurring": {"interval": interval.value, "usage_type": "metered", "meter": meter_id},
        "nickname": f"{charge.metric} usage",
    }
    pricing, included = charge.pricing, charge.included
    exact, note = True, ""
    terms: dict[str, Any]
    if isinstance(pricing, rating.PerUnit | rating.Percentage):
        unit = pricing.unit_amount if isinstance(pricing, rating.PerUnit) else Decimal(pricing.basis_points) / 10_000
        if included:
            terms = {
                "billing_scheme": "tiered",
                "tiers_mode": "graduated",
                "tiers": [_tier(included, 0), _tier(None, unit)],
            }
        else:
            terms = {"billing_scheme": "per_unit", "unit_amount_decimal": _decimal(unit)}
    elif isinstance(pricing, rating.Graduated):
        tiers = [_tier(included, 0)] if included else []
        tiers += [
            _tier(None if t.up_to is None else t.up_to + included, t.unit_amount, t.flat_amount) for t in pricing.tiers
        ]
        terms = {"billing_scheme": "tiered", "tiers_mode": "graduated", "tiers": tiers}
    elif isinstance(pricing, rating.Volume):
        tiers = [
            _tier(None if t.up_to is None else t.up_to + included, t.unit_amount, t.flat_amount) for t in pricing.tiers
        ]
        if included:
            # Stripe prices every unit of a volume tier, the allowance included; the nearest it can say.
            exact, note = False, f"volume tiers after {included} included units are billed on all units"
        terms = {"billing_scheme": "tiered", "tiers_mode": "volume", "tiers": tiers}
    else:
        assert isinstance(pricing, rating.Package)
        if not included:
            terms = {
                "billing_scheme": "per_unit",
                "unit_amount_decimal": _decimal(pricing.amount),
                "transform_quantity": {"divide_by": pricing.size, "round": "up"},
            }
        else:
            # Packages cannot follow a free tier at Stripe (transform_quantity excludes tiers): charge
            # each unit past the allowance a package's share; the bill differs by less than one package.
            exact, note = False, f"packages of {pricing.size} after an allowance are billed per unit (pro rata)"
            per_unit = Decimal(pricing.amount) / pricing.size
            terms = {
                "billing_scheme": "tiered",
                "tiers_mode": "graduated",
                "tiers": [_tier(included, 0), _tier(None, per_unit)],
            }
    return PriceTerms({**base, **terms}, exact=exact, note=note)


def lookup_key(plan_code: str, component: str) -> str:
    """Our name for a Price at Stripe; the active Price of each plan component holds it."""
    return f"lb:{plan_code}:{component}"
