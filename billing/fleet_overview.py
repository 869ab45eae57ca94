"""The staff console's platform overview (`/console/overview/`): the fleet as it stands (active stores, MRR
per currency, the schema pool, and figures the layers above add, such as provisioning runs in flight), then
new stores, orders and GMV per day over the last 7, 30 or 90 days of the whole platform, as
server-rendered bar charts with their figures.

Everything is read from `public`, never by visiting store schemas: signups from the tenant registry,
orders and GMV from the usage events every store's paid orders record in billing (dedicated stacks'
events included once forwarded). Days are calendar days of the project's TIME_ZONE; each series is one
GROUP BY in the database, and days without any figure are filled with zero here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Case, Count, F, Sum, When
from django.db.models.functions import TruncDate
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from billing.models import Metric, Subscription, UsageEvent
from billing.usage_chart import Chart, daily_bars
from tenants.models import PooledSchema, Tenant
from tenants.permissions import platform_staff_required

WINDOWS = (7, 30, 90)
DEFAULT_WINDOW = 30


@dataclass(frozen=True)
class Window:
    """The last ``days`` calendar days up to today, in ``zone``: [start, end) as instants."""

    days: int
    zone: ZoneInfo
    first_day: date
    last_day: date
    start: datetime
    end: datetime


def window_of(days: int, now: datetime | None = None) -> Window:
    zone = ZoneInfo(settings.TIME_ZONE)
    today = timezone.localtime(now or timezone.now(), zone).date()
    first_day = today - timedelta(days=days - 1)
    start = datetime.combine(first_day, time.min, tzinfo=zone)
    end = datetime.combine(today + timedelta(days=1), time.min, tzinfo=zone)
    return Window(days, zone, first_day, today, start, end)


def parse_window(value: str | None) -> int:
    """``?days=``: one of WINDOWS, anything else is the default window (no error for a hand-typed URL)."""
    try:
        days = int(value or "")
    except ValueError:
        return DEFAULT_WINDOW
    return days if days in WINDOWS else DEFAULT_WINDOW


# --- Selectors: one query each ---------------------------------------------------------------------


def signups_per_day(window: Window) -> dict[date, int]:
    """Stores registered each day (every tenant, whatever its tenancy or status since); the console's
    newest-first index (tenant_newest_idx) finds the window's rows."""
    rows = (
        Tenant.objects.filter(created_at__gte=window.start, created_at__lt=window.end)
        .annotate(day=TruncDate("created_at", tzinfo=window.zone))
        .values("day")
        .annotate(value=Count("pk"))
        .order_by()
    )
    return {row["day"]: row["value"] for row in rows}


def orders_per_day(window: Window) -> dict[date, int]:
    """Paid orders each day across every store (an order's event has quantity 1, a forwarded batch more).

    Uses usage_event_metric_day_idx (metric, occurred_at) INCLUDE (quantity, tenant_id): the store-first
    period index cannot serve a platform-wide window.
    """
    rows = (
        UsageEvent.objects.filter(metric=Metric.ORDERS, occurred_at__gte=window.start, occurred_at__lt=window.end)
        .annotate(day=TruncDate("occurred_at", tzinfo=window.zone))
        .values("day")
        .annotate(value=Sum("quantity"))
        .order_by()
    )
    return {row["day"]: row["value"] for row in rows}


def gmv_per_day(window: Window) -> dict[str, dict[date, int]]:
    """GMV in minor units each day, per currency: a store's GMV is in its plan's currency (the one its
    percentage of GMV is billed in), so stores of different currencies are never added together.
    Events of a store without a subscription, if any, fall under "" (no known currency)."""
    rows = (
        UsageEvent.objects.filter(metric=Metric.GMV, occurred_at__gte=window.start, occurred_at__lt=window.end)
        .annotate(day=TruncDate("occurred_at", tzinfo=window.zone), currency=F("tenant__subscription__plan__currency"))
        .values("currency", "day")
        .annotate(value=Sum("quantity"))
        .order_by()
    )
    by_currency: dict[str, dict[date, int]] = {}
    for row in rows:
        by_currency.setdefault(row["currency"] or "", {})[row["day"]] = row["value"]
    return by_currency


# --- The fleet as it stands: one query each -------------------------------------------------------

# Subscriptions that bring money in every month: a past-due one still runs in its grace period; a trial
# pays nothing yet and a canceled one nothing more.
RECURRING_STATUSES = (Subscription.Status.ACTIVE, Subscription.Status.PAST_DUE)


def active_stores() -> int:
    """Stores open to buyers now (an index-only count on tenant_status_idx)."""
    return Tenant.objects.filter(status=Tenant.Status.ACTIVE).count()


def monthly_recurring_revenue() -> dict[str, int]:
    """MRR in minor units per currency: the plan's monthly fee of each monthly subscription, plus a twelfth
    of the yearly fees of yearly ones (summed first, then divided, so no rounding per store)."""
    rows = (
        Subscription.objects.filter(status__in=RECURRING_STATUSES)
        .values(currency=F("plan__currency"))
        .annotate(
            monthly=Sum(Case(When(interval="month", then=F("plan__monthly_fee")), default=0)),
            yearly=Sum(Case(When(interval="year", then=F("plan__yearly_fee")), default=0)),
        )
        .order_by("currency")
    )
    return {row["currency"]: row["monthly"] + row["yearly"] // 12 for row in rows}


def schema_pool_size() -> int:
    """Migrated schemas waiting for shared signups (the pool is topped up to TENANT_POOL_SIZE)."""
    return PooledSchema.objects.count()


@dataclass(frozen=True)
class FleetFigure:
    """A count the layers above billing add to the overview (registered when Django starts)."""

    key: str
    label: str
    value: Callable[[], int]


_figures: dict[str, FleetFigure] = {}


def add_figure(figure: FleetFigure) -> None:
    _figures[figure.key] = figure


@dataclass(frozen=True)
class Fleet:
    active_stores: int
    mrr: dict[str, int]
    pool_size: int
    pool_target: int
    figures: list[tuple[FleetFigure, int]]


def fleet_now() -> Fleet:
    """Three queries, and one per registered figure."""
    return Fleet(
        active_stores=active_stores(),
        mrr=monthly_recurring_revenue(),
        pool_size=schema_pool_size(),
        pool_target=settings.TENANT_POOL_SIZE,
        figures=[(figure, figure.value()) for figure in _figures.values()],
    )


# --- The page --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Series:
    """One chart of the page: a bar and a table row for every day of the window (zero when none)."""

    key: str
    title: str
    column: str
    chart: Chart
    total: int
    currency: str = ""  # money in minor units of this currency; empty: a count


def _series(key: str, title: str, column: str, values: dict[date, int], window: Window, currency: str = "") -> Series:
    chart = daily_bars(values, window.first_day, window.last_day)
    return Series(key, title, column, chart, sum(bar.value for bar in chart.bars), currency)


def overview(window: Window) -> tuple[Series, Series, list[Series]]:
    """New stores, orders and one GMV series per currency (currencies in alphabetical order): three queries."""
    signups = _series("signups", "New stores per day", "New stores", signups_per_day(window), window)
    orders = _series("orders", "Orders per day", "Orders", orders_per_day(window), window)
    gmv = [
        _series(
            f"gmv-{currency or 'unknown'}",
            f"GMV per day in {currency or 'minor units of no known currency'}",
            f"GMV ({currency or 'minor units'})",
            values,
            window,
            currency,
        )
        for currency, values in sorted(gmv_per_day(window).items())
    ]
    return signups, orders, gmv


@platform_staff_required()
@require_GET
def overview_page(request: HttpRequest) -> HttpResponse:
    window = window_of(parse_window(request.GET.get("days")))
    fleet = fleet_now()
    signups, orders, gmv = overview(window)
    context = {"window": window, "windows": WINDOWS, "fleet": fleet, "signups": signups, "orders": orders, "gmv": gmv}
    return render(request, "billing/console/overview.html", context)
