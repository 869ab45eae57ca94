"""Pure pieces of period close and the portal, property-tested: the next period after a close, the
usage chart's geometry, and amounts on the invoice PDF."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from billing.invoice_pdf import format_amount
from billing.periods import period_after, period_bounds
from billing.rating import Interval
from billing.usage_chart import HEIGHT, WIDTH, daily_bars

anchors = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC))


@given(anchors, st.sampled_from(list(Interval)), st.integers(min_value=0, max_value=200))
def test_the_period_after_a_boundary_is_the_anchors_next_one(anchor, interval, index):
    start, end = period_bounds(anchor, interval, index)

    assert period_after(anchor, interval, end) == period_bounds(anchor, interval, index + 1)


def test_a_31st_anchor_comes_back_to_the_31st_after_february():
    anchor = datetime(2026, 1, 31, 9, tzinfo=UTC)

    february = period_after(anchor, Interval.MONTH, datetime(2026, 2, 28, 9, tzinfo=UTC))

    assert february == (datetime(2026, 2, 28, 9, tzinfo=UTC), datetime(2026, 3, 31, 9, tzinfo=UTC))


@given(anchors, st.integers(min_value=1, max_value=10**6))
def test_an_end_off_the_anchors_calendar_starts_the_next_period_there(anchor, seconds):
    end = anchor + timedelta(days=3, seconds=seconds)
    if any(period_bounds(anchor, Interval.MONTH, n)[0] == end for n in range(3)):
        return
    start, next_end = period_after(anchor, Interval.MONTH, end)

    assert start == end and next_end > end


@given(
    st.dictionaries(st.integers(min_value=0, max_value=40), st.integers(min_value=0, max_value=10**9), max_size=40),
    st.integers(min_value=1, max_value=366),
)
def test_chart_bars_fit_the_drawing_and_the_busiest_day_is_tallest(values, days):
    first = date(2026, 3, 1)
    by_day = {first + timedelta(days=n): value for n, value in values.items()}

    chart = daily_bars(by_day, first, first + timedelta(days=days - 1))

    assert len(chart.bars) == days
    for bar in chart.bars:
        assert 0 <= bar.x and bar.x + bar.width <= WIDTH
        assert 0 <= bar.y and bar.y + bar.height <= HEIGHT + 0.01
    if chart.peak:
        assert max(bar.height for bar in chart.bars) == max(bar.height for bar in chart.bars if bar.value == chart.peak)
    else:
        assert all(bar.height == 0 for bar in chart.bars)


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_pdf_amounts_read_back_as_the_minor_units(amount):
    text = format_amount(amount, "GBP")

    sign = -1 if text.startswith("-") else 1
    assert sign * int(text.lstrip("-£").replace(",", "").replace(".", "")) == amount
