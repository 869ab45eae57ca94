"""The rating engine (billing/rating.py): tier math as properties, Stripe's worked examples, rounding,
allowances, proration and the invoice shape. Pure Python: no database."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing.periods import add_months, period_bounds
from billing.rating import (
    Graduated,
    Interval,
    Invoice,
    InvoiceLine,
    LineKind,
    Money,
    Package,
    Percentage,
    PerUnit,
    PlanPricing,
    PricingError,
    Tier,
    UsageCharge,
    Volume,
    compute_invoice,
    prorate_plan_change,
    rate_usage,
    round_half_up,
)

# --- Strategies ----------------------------------------------------------------------------------

unit_amounts = st.decimals(min_value=0, max_value=5_000, places=2)
flat_amounts = st.integers(min_value=0, max_value=10_000)
quantities = st.integers(min_value=0, max_value=3_000)


@st.composite
def tier_lists(draw: st.DrawFn) -> tuple[Tier, ...]:
    widths = draw(st.lists(st.integers(min_value=1, max_value=400), min_size=0, max_size=4))
    bounds = [sum(widths[: i + 1]) for i in range(len(widths))]
    tiers = [Tier(bound, draw(unit_amounts), draw(flat_amounts)) for bound in bounds]
    return (*tiers, Tier(None, draw(unit_amounts), draw(flat_amounts)))


@st.composite
def volume_tier_lists(draw: st.DrawFn) -> tuple[Tier, ...]:
    """Arbitrary volume tiers, each next tier's flat amount raised just enough to avoid a cliff."""
    tiers = list(draw(tier_lists()))
    for i in range(1, len(tiers)):
        previous, tier = tiers[i - 1], tiers[i]
        assert previous.up_to is not None
        at_bound = previous.flat_amount + previous.up_to * Fraction(previous.unit_amount)
        needed = math.ceil(at_bound - (previous.up_to + 1) * Fraction(tier.unit_amount))
        tiers[i] = Tier(tier.up_to, tier.unit_amount, max(tier.flat_amount, needed))
    return tuple(tiers)


pricings = st.one_of(
    st.builds(PerUnit, unit_amounts),
    st.builds(Graduated, tier_lists()),
    st.builds(Volume, volume_tier_lists()),
    st.builds(Package, st.integers(min_value=1, max_value=1_000), flat_amounts),
    st.builds(Percentage, st.integers(min_value=0, max_value=10_000)),
)


def stripe_tiers() -> tuple[Tier, ...]:
    """Stripe's documentation example: 1-5 at $7.00, 6-10 at $6.50, 11 and up at $6.00 (in cents)."""
    return (Tier(5, Decimal(700)), Tier(10, Decimal(650)), Tier(None, Decimal(600)))


# --- Stripe's worked examples --------------------------------------------------------------------


@pytest.mark.parametrize(("units", "cents"), [(5, 3_500), (6, 3_900), (20, 12_000)])
def test_volume_pricing_matches_stripes_worked_example(units, cents):
    charge = UsageCharge("seats", Volume(stripe_tiers()))

    assert rate_usage(charge, units).amount == cents


@pytest.mark.parametrize(("units", "cents"), [(6, 4_150), (20, 12_750), (25, 15_750)])
def test_graduated_pricing_matches_stripes_worked_example(units, cents):
    charge = UsageCharge("seats", Graduated(stripe_tiers()))

    assert rate_usage(charge, units).amount == cents


def test_graduated_line_shows_the_units_in_each_tier():
    line = rate_usage(UsageCharge("seats", Graduated(stripe_tiers())), 12)

    assert [(use.tier, use.units) for use in line.tiers] == [(1, 5), (2, 5), (3, 2)]


# --- Tier math as properties ---------------------------------------------------------------------


# The oracle prices up to 3,000 units one by one: no deadline, so a busy CI machine cannot flake it.
@settings(deadline=None)
@given(tiers=tier_lists(), units=quantities)
def test_graduated_total_is_the_sum_over_tiers(tiers, units):
    # Given any tiers, when units are priced one by one by the tier each falls in
    bounds = [tier.up_to if tier.up_to is not None else math.inf for tier in tiers]
    by_unit = Fraction(0)
    touched: set[int] = set()
    for unit in range(1, units + 1):
        index = next(i for i, bound in enumerate(bounds) if unit <= bound)
        by_unit += Fraction(tiers[index].unit_amount)
        touched.add(index)
    by_unit += sum(tiers[i].flat_amount for i in touched)

    # Then the graduated price is that sum, and the tiers used hold every unit once
    pricing = Graduated(tiers)
    assert pricing.price(units) == by_unit
    assert sum(use.units for use in pricing.tier_uses(units)) == units


@given(tiers=volume_tier_lists(), units=st.integers(min_value=1, max_value=3_000))
def test_volume_total_uses_exactly_one_tier(tiers, units):
    pricing = Volume(tiers)

    uses = pricing.tier_uses(units)

    assert len(uses) == 1
    (use,) = uses
    tier = tiers[use.tier - 1]
    lower = 0 if use.tier == 1 else tiers[use.tier - 2].up_to
    assert lower < units <= (tier.up_to if tier.up_to is not None else math.inf)
    assert use.units == units
    assert pricing.price(units) == tier.flat_amount + units * Fraction(tier.unit_amount)


@given(pricing=pricings, included=st.integers(min_value=0, max_value=500), units=quantities, more=quantities)
def test_a_charge_never_decreases_as_usage_grows(pricing, included, units, more):
    charge = UsageCharge("orders", pricing, included)

    assert pricing.price(units) <= pricing.price(units + more)
    assert rate_usage(charge, units).amount <= rate_usage(charge, units + more).amount


@settings(deadline=None)
@given(
    orders=st.builds(Graduated, tier_lists()),
    storage=st.builds(Volume, volume_tier_lists()),
    usage=st.fixed_dictionaries({"orders": quantities, "gmv": quantities, "storage_gb": quantities}),
    growth=st.fixed_dictionaries({"orders": quantities, "gmv": quantities, "storage_gb": quantities}),
    tax_rate_bps=st.integers(min_value=0, max_value=3_000),
)
def test_an_invoice_total_never_decreases_as_usage_grows(orders, storage, usage, growth, tax_rate_bps):
    plan = plan_pricing(
        UsageCharge("orders", orders, 10),
        UsageCharge("gmv", Percentage(150)),
        UsageCharge("storage_gb", storage, 1),
    )
    grown = {metric: quantity + growth[metric] for metric, quantity in usage.items()}

    before = compute_invoice(plan, usage, tax_rate_bps=tax_rate_bps)
    after = compute_invoice(plan, grown, tax_rate_bps=tax_rate_bps)

    assert before.total <= after.total


@given(pricing=pricings, units=quantities)
def test_a_line_is_the_exact_price_rounded_once(pricing, units):
    line = rate_usage(UsageCharge("orders", pricing), units)

    assert line.amount == round_half_up(pricing.price(units))
    assert abs(line.amount - pricing.price(units)) <= Fraction(1, 2)


def test_volume_tiers_that_make_more_usage_cheaper_are_refused():
    # 100 units at 100p cost 10,000p; 101 at 50p would cost 5,050p
    with pytest.raises(PricingError, match="cost less"):
        Volume((Tier(100, Decimal(100)), Tier(None, Decimal(50))))

    # A flat amount on the higher tier removes the cliff
    Volume((Tier(100, Decimal(100)), Tier(None, Decimal(50), flat_amount=4_950)))


# --- Rounding, allowances, models ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("exact", "rounded"),
    [
        (Fraction(1, 2), 1),
        (Fraction(-1, 2), -1),
        (Fraction(3, 2), 2),
        (Fraction(149, 100), 1),
        (Fraction(-149, 100), -1),
        (Fraction(0), 0),
        (Fraction(2499, 2), 1250),
    ],
)
def test_rounding_is_half_away_from_zero(exact, rounded):
    assert round_half_up(exact) == rounded


@given(st.fractions(min_value=-(10**6), max_value=10**6))
def test_rounding_is_symmetric_and_within_half_a_unit(value):
    assert round_half_up(-value) == -round_half_up(value)
    assert abs(round_half_up(value) - value) <= Fraction(1, 2)


@pytest.mark.parametrize(
    ("gmv", "fee"),
    [
        (1_033, 15),  # 1.5 % of 1,033p = 15.495p
        (1_100, 17),  # 16.5p: the half goes up
        (100_000, 1_500),
        (0, 0),
    ],
)
def test_percentage_fee_on_gmv_rounds_once_per_line(gmv, fee):
    assert rate_usage(UsageCharge("gmv", Percentage(150)), gmv).amount == fee


def test_fractional_unit_prices_round_on_the_line_not_per_unit():
    # 0.05p per API request: 30 requests are 1.5p -> 2p, not 30 x round(0.05p) = 0p
    charge = UsageCharge("api_requests", PerUnit(Decimal("0.05")))

    assert rate_usage(charge, 30).amount == 2
    assert rate_usage(charge, 29).amount == 1


def test_the_allowance_is_subtracted_before_pricing():
    charge = UsageCharge("orders", Graduated(stripe_tiers()), included=100)

    below = rate_usage(charge, 60)
    above = rate_usage(charge, 106)

    assert (below.quantity, below.billable, below.amount) == (60, 0, 0)
    assert (above.quantity, above.included, above.billable, above.amount) == (106, 100, 6, 4_150)


def test_package_pricing_charges_every_started_package():
    charge = UsageCharge("api_requests", Package(size=10_000, amount=100), included=10_000)

    assert [rate_usage(charge, n).amount for n in (10_000, 10_001, 20_000, 20_001)] == [0, 100, 100, 200]


def test_a_tier_flat_amount_is_charged_only_when_a_unit_falls_in_it():
    pricing = Graduated((Tier(10, Decimal(0), flat_amount=500), Tier(None, Decimal(20), flat_amount=300)))

    assert [pricing.price(n) for n in (0, 1, 10, 11, 12)] == [0, 500, 500, 820, 840]


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Graduated(()), "at least one tier"),
        (lambda: Graduated((Tier(None, Decimal(1)), Tier(None, Decimal(1)))), "Only the last tier"),
        (lambda: Graduated((Tier(10, Decimal(1)),)), "must be unbounded"),
        (lambda: Graduated((Tier(10, Decimal(1)), Tier(10, Decimal(1)), Tier(None))), "must increase"),
        (lambda: PerUnit(Decimal(-1)), "non-negative"),
        (lambda: Graduated((Tier(None, Decimal(1), flat_amount=-5),)), "non-negative"),
        (lambda: Package(0, 100), "at least one unit"),
        (lambda: Percentage(10_001), "0 to 10000"),
        (lambda: Money(100, "gbp"), "ISO 4217"),
        (lambda: Money(1.5, "GBP"), "whole number"),  # type: ignore[arg-type]
        (lambda: UsageCharge("orders", PerUnit(Decimal(1)), included=-1), "non-negative"),
        (
            lambda: plan_pricing(UsageCharge("orders", PerUnit(Decimal(1))), UsageCharge("orders", Percentage(1))),
            "twice",
        ),
        (lambda: rate_usage(UsageCharge("orders", PerUnit(Decimal(1))), -3), "non-negative"),
    ],
)
def test_invalid_prices_and_usage_are_refused(build, message):
    with pytest.raises(PricingError, match=message):
        build()


def test_money_refuses_to_mix_currencies():
    assert Money(100, "GBP") + Money(50, "GBP") == Money(150, "GBP")
    with pytest.raises(PricingError, match="Cannot add"):
        Money(100, "GBP") + Money(50, "EUR")


# --- Invoices ------------------------------------------------------------------------------------


def plan_pricing(*charges: UsageCharge, monthly_fee: int = 2_900, yearly_fee: int = 29_000) -> PlanPricing:
    return PlanPricing("growth", "Growth", "GBP", monthly_fee, yearly_fee, charges)


def test_an_invoice_is_the_flat_fee_the_usage_lines_and_a_zero_tax_placeholder():
    plan = plan_pricing(
        UsageCharge("orders", Graduated(stripe_tiers()), included=100),
        UsageCharge("gmv", Percentage(150)),
    )

    invoice = compute_invoice(plan, {"orders": 106, "gmv": 1_100, "api_requests": 99_999})

    assert [(line.kind, line.amount) for line in invoice.lines] == [
        (LineKind.FLAT_FEE, 2_900),
        (LineKind.USAGE, 4_150),
        (LineKind.USAGE, 17),
        (LineKind.TAX, 0),
    ]
    assert (invoice.subtotal, invoice.tax, invoice.total) == (7_067, 0, 7_067)
    assert invoice.total_money == Money(7_067, "GBP")
    assert invoice.usage_line("api_requests") is None  # not charged on this plan


def test_a_charged_metric_without_usage_is_a_zero_line():
    invoice = compute_invoice(plan_pricing(UsageCharge("orders", PerUnit(Decimal(10)), included=100)), {})

    line = invoice.usage_line("orders")
    assert line is not None
    assert (line.quantity, line.included, line.billable, line.amount) == (0, 100, 0, 0)


def test_a_yearly_subscription_pays_the_yearly_fee():
    invoice = compute_invoice(plan_pricing(), {}, Interval.YEAR)

    assert invoice.total == 29_000


def test_a_subscription_ending_with_the_period_pays_usage_and_adjustments_only():
    plan = plan_pricing(UsageCharge("orders", PerUnit(Decimal(10))))
    credit = InvoiceLine(LineKind.PRORATION, "Unused time on Scale", -1_234)

    invoice = compute_invoice(plan, {"orders": 7}, adjustments=[credit], include_flat_fee=False)

    assert [line.kind for line in invoice.lines] == [LineKind.USAGE, LineKind.PRORATION, LineKind.TAX]
    assert invoice.total == 70 - 1_234


def test_tax_is_rounded_once_on_the_subtotal():
    invoice = compute_invoice(plan_pricing(monthly_fee=1_001), {}, tax_rate_bps=2_000)

    assert (invoice.subtotal, invoice.tax, invoice.total) == (1_001, 200, 1_201)  # 200.2p -> 200p


@given(pricing=pricings, units=quantities, tax_rate_bps=st.integers(min_value=0, max_value=3_000))
def test_the_lines_always_add_up_to_the_total(pricing, units, tax_rate_bps):
    invoice = compute_invoice(
        plan_pricing(UsageCharge("orders", pricing)), {"orders": units}, tax_rate_bps=tax_rate_bps
    )

    assert sum(line.amount for line in invoice.lines) == invoice.total == invoice.subtotal + invoice.tax


# --- Proration -----------------------------------------------------------------------------------

START = datetime(2025, 4, 1, tzinfo=UTC)
END = datetime(2025, 5, 1, tzinfo=UTC)  # 30 days


def test_an_upgrade_halfway_credits_half_the_old_fee_and_charges_half_the_new():
    starter = PlanPricing("starter", "Starter", "GBP", 999, 9_990)
    growth = PlanPricing("growth", "Growth", "GBP", 2_900, 29_000)

    preview = prorate_plan_change(starter, growth, Interval.MONTH, START, END, START + timedelta(days=15))

    assert [(line.kind, line.amount) for line in preview.lines] == [
        (LineKind.PRORATION, -500),  # -499.5p rounds away from zero
        (LineKind.PRORATION, 1_450),
        (LineKind.TAX, 0),
    ]
    assert preview.total == 950


def test_proration_is_by_the_second():
    starter = PlanPricing("starter", "Starter", "GBP", 0, 0)
    growth = PlanPricing("growth", "Growth", "GBP", 2_592_000, 0)  # 1p per second of a 30-day month

    preview = prorate_plan_change(
        starter, growth, Interval.MONTH, START, END, END - timedelta(seconds=61, microseconds=5)
    )

    assert preview.total == 61


@given(
    old_fee=st.integers(min_value=0, max_value=10**7),
    new_fee=st.integers(min_value=0, max_value=10**7),
    seconds_in=st.integers(min_value=-86_400, max_value=31 * 86_400),
)
def test_proration_is_bounded_by_the_fees_and_nets_to_zero_for_the_same_price(old_fee, new_fee, seconds_in):
    old = PlanPricing("a", "A", "GBP", old_fee, 0)
    new = PlanPricing("b", "B", "GBP", new_fee, 0)
    at = START + timedelta(seconds=seconds_in)

    preview = prorate_plan_change(old, new, Interval.MONTH, START, END, at)
    same = prorate_plan_change(old, old, Interval.MONTH, START, END, at)

    credit, charge = preview.lines[0].amount, preview.lines[1].amount
    assert -old_fee <= credit <= 0 <= charge <= new_fee
    assert same.total == 0


def test_a_change_at_the_start_or_after_the_end_of_the_period():
    old = PlanPricing("a", "A", "GBP", 1_000, 0)
    new = PlanPricing("b", "B", "GBP", 3_000, 0)

    assert prorate_plan_change(old, new, Interval.MONTH, START, END, START).total == 2_000
    assert prorate_plan_change(old, new, Interval.MONTH, START, END, END + timedelta(days=3)).total == 0


def test_proration_refuses_a_currency_change():
    with pytest.raises(PricingError, match="EUR"):
        prorate_plan_change(
            PlanPricing("a", "A", "GBP", 1, 1), PlanPricing("b", "B", "EUR", 1, 1), Interval.MONTH, START, END, START
        )


def test_a_proration_preview_is_an_invoice():
    preview = prorate_plan_change(plan_pricing(), plan_pricing(), Interval.MONTH, START, END, START)

    assert isinstance(preview, Invoice)


# --- Periods -------------------------------------------------------------------------------------


def test_a_month_after_the_31st_is_the_last_day_of_a_short_month():
    assert add_months(datetime(2024, 1, 31, 9, 30, tzinfo=UTC), 1) == datetime(2024, 2, 29, 9, 30, tzinfo=UTC)
    assert add_months(datetime(2025, 1, 31, tzinfo=UTC), 1) == datetime(2025, 2, 28, tzinfo=UTC)
    assert add_months(datetime(2025, 11, 15, tzinfo=UTC), 3) == datetime(2026, 2, 15, tzinfo=UTC)


def test_periods_are_counted_from_the_anchor_and_do_not_drift():
    anchor = datetime(2025, 1, 31, 12, tzinfo=UTC)

    assert period_bounds(anchor, Interval.MONTH, 1) == (
        datetime(2025, 2, 28, 12, tzinfo=UTC),
        datetime(2025, 3, 31, 12, tzinfo=UTC),
    )
    assert period_bounds(anchor, Interval.YEAR) == (anchor, datetime(2026, 1, 31, 12, tzinfo=UTC))
