"""The portal's usage chart as plain geometry (pure Python): one bar per day of the period, scaled to
the busiest day, for an inline SVG (no JavaScript, no chart library)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

WIDTH, HEIGHT, PADDING = 600, 160, 20


@dataclass(frozen=True)
class Bar:
    day: date
    value: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: tuple[Bar, ...]
    peak: int
    baseline: float


def daily_bars(values: Mapping[date, int], first_day: date, last_day: date) -> Chart:
    """A bar for every day from ``first_day`` to ``last_day`` inclusive (0 for days without usage);
    the tallest bar is the busiest day, and every bar stays inside the drawing."""
    days = max((last_day - first_day).days + 1, 1)
    plot_height = HEIGHT - 2 * PADDING
    slot = (WIDTH - 2 * PADDING) / days
    peak = max((values.get(first_day + timedelta(days=n), 0) for n in range(days)), default=0)
    bars = []
    for n in range(days):
        day = first_day + timedelta(days=n)
        value = values.get(day, 0)
        height = plot_height * value / peak if peak else 0.0
        bars.append(
            Bar(
                day=day,
                value=value,
                x=round(PADDING + n * slot + slot * 0.1, 2),
                y=round(HEIGHT - PADDING - height, 2),
                width=round(slot * 0.8, 2),
                height=round(height, 2),
            )
        )
    return Chart(width=WIDTH, height=HEIGHT, bars=tuple(bars), peak=peak, baseline=HEIGHT - PADDING)
