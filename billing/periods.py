"""Billing-period calendar math (pure): where a monthly or yearly period that starts at an anchor ends."""

from __future__ import annotations

import calendar
from datetime import datetime

from billing.rating import Interval


def add_months(moment: datetime, months: int) -> datetime:
    """The same day and time ``months`` later, clamped to the month's last day (31 Jan + 1 = 28/29 Feb)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def period_bounds(anchor: datetime, interval: Interval, index: int = 0) -> tuple[datetime, datetime]:
    """The ``index``-th period (0 is the first) of a subscription anchored at ``anchor``.

    Counted from the anchor, not from the previous period's end, so a 31st-of-the-month anchor comes
    back to the 31st after a short month instead of drifting to the 28th for good.
    """
    months = 12 if interval == Interval.YEAR else 1
    return add_months(anchor, months * index), add_months(anchor, months * (index + 1))


def period_after(anchor: datetime, interval: Interval, end: datetime) -> tuple[datetime, datetime]:
    """The period that follows the one ending at ``end`` (counted from the anchor, so no drift).

    An ``end`` that is not a period boundary of the anchor (a period reset by staff or a provider)
    starts the next period there and runs one interval from it.
    """
    months = 12 if interval == Interval.YEAR else 1
    elapsed = (end.year - anchor.year) * 12 + end.month - anchor.month
    for index in (elapsed // months, elapsed // months + 1, elapsed // months - 1):
        if index >= 1 and period_bounds(anchor, interval, index)[0] == end:
            return period_bounds(anchor, interval, index)
    return end, add_months(end, months)
