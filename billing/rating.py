"""The rating engine: turns a plan's prices and a period's aggregated usage into invoice lines and a total.

Pure Python (no ORM, no clock), so the tier math is property-tested in milliseconds.

Money is integer minor units (pence, cents) with an ISO 4217 currency code. A *unit price* may be a
fraction of a minor unit (a ``Decimal``, like Stripe's ``unit_amount_decimal``: 0.05p per API request),
but every amount that is charged is a whole number of minor units.

Rounding: each line is computed exactly (``fractions.Fraction``) and rounded once, to the minor unit,
half away from zero (``round_half_up``: 0.5p -> 1p, -0.5p -> -1p, so a proration credit and its charge
for the same time cancel exactly). Tiers inside a line are not rounded separately. Subtotal, tax and total
are sums of rounded lines, so the lines shown always add up to the total.

Included allowances are subtracted from the period's quantity before pricing: tiers apply to the
billable units (``max(0, quantity - included)``). A tier's flat amount is charged when at least one
billable unit falls in it, so no usage costs nothing.

Proration for a mid-period plan change is by the second (as Stripe does): the old plan's flat fee is
credited and the new plan's charged for the whole seconds left in the period, each as its own rounded line.
Usage is rated at the end of the period under the plan in force then.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

BASIS_POINTS = 10_000  # 1 basis point = 0.01 %
_CURRENCY = re.compile(r"^[A-Z]{3}$")


class PricingError(ValueError):
    """A price definition or input that the engine refuses to rate."""


class Interval(StrEnum):
    MONTH = "month"
    YEAR = "year"


class LineKind(StrEnum):
    FLAT_FEE = "flat_fee"
    USAGE = "usage"
    PRORATION = "proration"
    TAX = "tax"


def round_half_up(value: Fraction) -> int:
    """Round to a whole minor unit, halves away from zero."""
    rounded = math.floor(abs(value) + Fraction(1, 2))
    return rounded if value >= 0 else -rounded


def check_currency(currency: str) -> str:
    if not _CURRENCY.match(currency):
        raise PricingError(f"'{currency}' is not an ISO 4217 currency code (three capital letters).")
    return currency


def _check_amount(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise PricingError(f"{name} must be a non-negative whole number of minor units, not {value!r}.")


def _check_unit_amount(value: Decimal) -> None:
    if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
        raise PricingError(f"A unit amount must be a non-negative Decimal of minor units, not {value!r}.")


def _check_quantity(metric: str, quantity: int) -> None:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
        raise PricingError(f"Usage of '{metric}' must be a non-negative whole number, not {quantity!r}.")


@dataclass(frozen=True)
class Money:
    amount: int  # minor units
    currency: str

    def __post_init__(self) -> None:
        check_currency(self.currency)
        if isinstance(self.amount, bool) or not isinstance(self.amount, int):
            raise PricingError(f"Money is a whole number of minor units, not {self.amount!r}.")

    def __add__(self, other: Money) -> Money:
        if other.currency != self.currency:
            raise PricingError(f"Cannot add {other.currency} to {self.currency}.")
        return Money(self.amount + other.amount, self.currency)


# --- Pricing models ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tier:
    """Units up to and including ``up_to`` (None: no upper bound, the last tier) at these amounts."""

    up_to: int | None
    unit_amount: Decimal = Decimal(0)
    flat_amount: int = 0


@dataclass(frozen=True)
class TierUse:
    """How many billable units fell in one tier (1-based), for showing the working on a line."""

    tier: int
    units: int
    unit_amount: Decimal
    flat_amount: int


def _check_tiers(tiers: tuple[Tier, ...]) -> None:
    if not tiers:
        raise PricingError("Tiered pricing needs at least one tier.")
    previous = 0
    for number, tier in enumerate(tiers, start=1):
        last = number == len(tiers)
        if tier.up_to is None and not last:
            raise PricingError(f"Only the last tier may be unbounded; tier {number} of {len(tiers)} is.")
        if last and tier.up_to is not None:
            raise PricingError("The last tier must be unbounded (up_to None), so every quantity has a price.")
        if tier.up_to is not None and (isinstance(tier.up_to, bool) or tier.up_to <= previous):
            raise PricingError(f"Tier bounds must increase: tier {number} ends at {tier.up_to}, after {previous}.")
        _check_unit_amount(tier.unit_amount)
        _check_amount("A tier's flat amount", tier.flat_amount)
        previous = tier.up_to or previous


def _tiered_price(uses: tuple[TierUse, ...]) -> Fraction:
    return sum((use.flat_amount + use.units * Fraction(use.unit_amount) for use in uses), Fraction(0))


@dataclass(frozen=True)
class PerUnit:
    unit_amount: Decimal

    def __post_init__(self) -> None:
        _check_unit_amount(self.unit_amount)

    def price(self, units: int) -> Fraction:
        return units * Fraction(self.unit_amount)

    def tier_uses(self, units: int) -> tuple[TierUse, ...]:
        return ()


@dataclass(frozen=True)
class Graduated:
    """Each unit is priced by the tier it falls in (units 1-5 at one price, 6-10 at the next...)."""

    tiers: tuple[Tier, ...]

    def __post_init__(self) -> None:
        _check_tiers(self.tiers)

    def tier_uses(self, units: int) -> tuple[TierUse, ...]:
        uses, floor = [], 0
        for number, tier in enumerate(self.tiers, start=1):
            if units <= floor:
                break
            ceiling = units if tier.up_to is None else min(units, tier.up_to)
            uses.append(TierUse(number, ceiling - floor, tier.unit_amount, tier.flat_amount))
            floor = ceiling
        return tuple(uses)

    def price(self, units: int) -> Fraction:
        return _tiered_price(self.tier_uses(units))


@dataclass(frozen=True)
class Volume:
    """All units are priced by the one tier the total falls in.

    Refuses tiers where crossing a bound makes the total drop (1-100 at 100p then 101+ at 50p: 100 units
    cost 10,000p, 101 units 5,050p), so more usage never costs less; a higher tier's flat amount is how a
    plan lowers the unit price without that cliff.
    """

    tiers: tuple[Tier, ...]

    def __post_init__(self) -> None:
        _check_tiers(self.tiers)
        for number, (tier, following) in enumerate(zip(self.tiers, self.tiers[1:], strict=False), start=1):
            assert tier.up_to is not None  # every tier but the last is bounded (checked above)
            at_bound = tier.flat_amount + tier.up_to * Fraction(tier.unit_amount)
            past_bound = following.flat_amount + (tier.up_to + 1) * Fraction(following.unit_amount)
            if past_bound < at_bound:
                raise PricingError(
                    f"Volume tier {number + 1} makes {tier.up_to + 1} units cost less than {tier.up_to} (about "
                    f"{round_half_up(past_bound)} < {round_half_up(at_bound)} minor units); raise its flat amount."
                )

    def _tier_for(self, units: int) -> tuple[int, Tier]:
        for number, tier in enumerate(self.tiers, start=1):
            if tier.up_to is None or units <= tier.up_to:
                return number, tier
        raise AssertionError("the last tier is unbounded")  # pragma: no cover - checked in __post_init__

    def tier_uses(self, units: int) -> tuple[TierUse, ...]:
        if units == 0:
            return ()
        number, tier = self._tier_for(units)
        return (TierUse(number, units, tier.unit_amount, tier.flat_amount),)

    def price(self, units: int) -> Fraction:
        return _tiered_price(self.tier_uses(units))


@dataclass(frozen=True)
class Package:
    """``amount`` per started package of ``size`` units (1,000 API requests per package: 1,001 is two)."""

    size: int
    amount: int

    def __post_init__(self) -> None:
        if isinstance(self.size, bool) or not isinstance(self.size, int) or self.size < 1:
            raise PricingError(f"A package holds at least one unit, not {self.size!r}.")
        _check_amount("A package amount", self.amount)

    def price(self, units: int) -> Fraction:
        return Fraction(-(-units // self.size) * self.amount)

    def tier_uses(self, units: int) -> tuple[TierUse, ...]:
        return ()


@dataclass(frozen=True)
class Percentage:
    """A share of a money quantity (GMV in minor units), in basis points: 150 is 1.5 %."""

    basis_points: int

    def __post_init__(self) -> None:
        if isinstance(self.basis_points, bool) or not isinstance(self.basis_points, int):
            raise PricingError(f"A percentage fee is a whole number of basis points, not {self.basis_points!r}.")
        if not 0 <= self.basis_points <= BASIS_POINTS:
            raise PricingError(f"A percentage fee is 0 to {BASIS_POINTS} basis points, not {self.basis_points}.")

    def price(self, units: int) -> Fraction:
        return Fraction(units * self.basis_points, BASIS_POINTS)

    def tier_uses(self, units: int) -> tuple[TierUse, ...]:
        return ()


Pricing = PerUnit | Graduated | Volume | Package | Percentage


@dataclass(frozen=True)
class UsageCharge:
    """How one metric (orders, gmv, api_requests, storage_gb) is charged on a plan."""

    metric: str
    pricing: Pricing
    included: int = 0

    def __post_init__(self) -> None:
        _check_amount(f"The included allowance of '{self.metric}'", self.included)


@dataclass(frozen=True)
class PlanPricing:
    """The prices of one plan, as the engine needs them."""

    code: str
    name: str
    currency: str
    monthly_fee: int
    yearly_fee: int
    usage_charges: tuple[UsageCharge, ...] = ()

    def __post_init__(self) -> None:
        check_currency(self.currency)
        _check_amount("A monthly fee", self.monthly_fee)
        _check_amount("A yearly fee", self.yearly_fee)
        metrics = [charge.metric for charge in self.usage_charges]
        if len(metrics) != len(set(metrics)):
            raise PricingError(f"Plan '{self.code}' charges a metric twice: {sorted(metrics)}.")

    def fee_for(self, interval: Interval) -> int:
        return self.yearly_fee if interval == Interval.YEAR else self.monthly_fee


# --- Invoices ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InvoiceLine:
    kind: LineKind
    description: str
    amount: int  # minor units, rounded once; negative for a credit
    metric: str = ""
    quantity: int = 0
    included: int = 0
    billable: int = 0
    tiers: tuple[TierUse, ...] = ()


@dataclass(frozen=True)
class Invoice:
    currency: str
    lines: tuple[InvoiceLine, ...]
    subtotal: int = field(init=False)
    tax: int = field(init=False)
    total: int = field(init=False)

    def __post_init__(self) -> None:
        check_currency(self.currency)
        object.__setattr__(self, "subtotal", sum(line.amount for line in self.lines if line.kind != LineKind.TAX))
        object.__setattr__(self, "tax", sum(line.amount for line in self.lines if line.kind == LineKind.TAX))
        object.__setattr__(self, "total", self.subtotal + self.tax)

    @property
    def total_money(self) -> Money:
        return Money(self.total, self.currency)

    def usage_line(self, metric: str) -> InvoiceLine | None:
        return next((line for line in self.lines if line.kind == LineKind.USAGE and line.metric == metric), None)


def rate_usage(charge: UsageCharge, quantity: int) -> InvoiceLine:
    """One usage line: the period's quantity less the allowance, priced and rounded once."""
    _check_quantity(charge.metric, quantity)
    billable = max(0, quantity - charge.included)
    return InvoiceLine(
        kind=LineKind.USAGE,
        description=charge.metric,
        amount=round_half_up(charge.pricing.price(billable)),
        metric=charge.metric,
        quantity=quantity,
        included=charge.included,
        billable=billable,
        tiers=charge.pricing.tier_uses(billable),
    )


def tax_line(subtotal: int, tax_rate_bps: int) -> InvoiceLine:
    """The tax placeholder: a rate in basis points of the subtotal (0 until tax is worked out properly)."""
    if isinstance(tax_rate_bps, bool) or not isinstance(tax_rate_bps, int) or tax_rate_bps < 0:
        raise PricingError(f"A tax rate is a non-negative whole number of basis points, not {tax_rate_bps!r}.")
    return InvoiceLine(LineKind.TAX, "Tax", round_half_up(Fraction(subtotal * tax_rate_bps, BASIS_POINTS)))


def _with_tax(currency: str, lines: Iterable[InvoiceLine], tax_rate_bps: int) -> Invoice:
    lines = tuple(lines)
    return Invoice(currency, (*lines, tax_line(sum(line.amount for line in lines), tax_rate_bps)))


def compute_invoice(
    plan: PlanPricing,
    usage: Mapping[str, int],
    interval: Interval = Interval.MONTH,
    *,
    adjustments: Iterable[InvoiceLine] = (),
    tax_rate_bps: int = 0,
    include_flat_fee: bool = True,
) -> Invoice:
    """A period's invoice: the plan's flat fee, a line per charged metric, adjustments (prorations), tax.

    ``usage`` maps metric to the period's aggregated quantity; a charged metric with no usage is a zero
    line (the customer sees its allowance), a metric the plan does not charge is not billed. Without
    ``include_flat_fee`` (a subscription ending with the period) only usage and adjustments are billed.
    """
    for metric, quantity in usage.items():
        _check_quantity(metric, quantity)
    lines = []
    if include_flat_fee:
        lines.append(InvoiceLine(LineKind.FLAT_FEE, f"{plan.name} ({interval}ly fee)", plan.fee_for(interval)))
    lines += [rate_usage(charge, usage.get(charge.metric, 0)) for charge in plan.usage_charges]
    lines += adjustments
    return _with_tax(plan.currency, lines, tax_rate_bps)


def seconds_between(start: datetime, end: datetime) -> int:
    """Whole seconds from start to end (0 if end is not after start)."""
    return max(0, (end - start) // timedelta(seconds=1))


def prorate_plan_change(
    old: PlanPricing,
    new: PlanPricing,
    interval: Interval,
    period_start: datetime,
    period_end: datetime,
    changed_at: datetime,
    *,
    tax_rate_bps: int = 0,
) -> Invoice:
    """The proration of moving from ``old`` to ``new`` at ``changed_at`` within the period.

    A credit for the old plan's fee over the seconds left and a charge for the new plan's over the same
    seconds; a change at or after the period's end prorates nothing.
    """
    if old.currency != new.currency:
        raise PricingError(f"Cannot change from a {old.currency} plan to a {new.currency} plan mid-period.")
    period = seconds_between(period_start, period_end)
    if period <= 0:
        raise PricingError("A billing period must end after it starts.")
    changed_at = min(max(changed_at, period_start), period_end)
    unused = Fraction(seconds_between(changed_at, period_end), period)
    lines = (
        InvoiceLine(LineKind.PRORATION, f"Unused time on {old.name}", -round_half_up(old.fee_for(interval) * unused)),
        InvoiceLine(LineKind.PRORATION, f"Remaining time on {new.name}", round_half_up(new.fee_for(interval) * unused)),
    )
    return _with_tax(old.currency, lines, tax_rate_bps)
