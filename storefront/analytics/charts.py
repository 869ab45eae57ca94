"""The store admin's analytics chart as inline SVG: views per day as bars, orders per day as a line on
their own scale (a store sees far more views than orders). Pure Python, no ORM, no JS library."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from html import escape

WIDTH, HEIGHT, PAD = 720, 200, 24


@dataclass(frozen=True)
class DayTotals:
    day: date
    views: int
    orders: int


def views_and_orders_svg(days: list[DayTotals]) -> str:
    """An SVG of the days in order (oldest first); each bar and point carries a <title> to hover."""
    if not days:
        return ""
    slot = (WIDTH - 2 * PAD) / len(days)
    plot = HEIGHT - 2 * PAD
    top_views = max(max(d.views for d in days), 1)
    top_orders = max(max(d.orders for d in days), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="analytics-chart" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="Views and orders per day">'
    ]
    points = []
    for i, d in enumerate(days):
        x = PAD + i * slot
        height = plot * d.views / top_views
        label = escape(f"{d.day.isoformat()}: {d.views} views, {d.orders} orders")
        parts.append(
            f'<rect class="views" x="{x + slot * 0.1:.1f}" y="{PAD + plot - height:.1f}" width="{slot * 0.8:.1f}" '
            f'height="{height:.1f}" fill="#79aec8"><title>{label}</title></rect>'
        )
        points.append(f"{x + slot / 2:.1f},{PAD + plot - plot * d.orders / top_orders:.1f}")
    parts.append(
        f'<polyline class="orders" points="{" ".join(points)}" fill="none" stroke="#ba2121" stroke-width="2"/>'
    )
    parts.append(
        f'<text x="{PAD}" y="{HEIGHT - 6}" font-size="11">{days[0].day.isoformat()}</text>'
        f'<text x="{WIDTH - PAD}" y="{HEIGHT - 6}" font-size="11" text-anchor="end">{days[-1].day.isoformat()}</text>'
        f'<text x="{PAD}" y="{PAD - 8}" font-size="11" fill="#417690">views (max {top_views})</text>'
        f'<text x="{WIDTH - PAD}" y="{PAD - 8}" font-size="11" fill="#ba2121" text-anchor="end">'
        f"orders (max {top_orders})</text>"
    )
    parts.append("</svg>")
    return "".join(parts)
