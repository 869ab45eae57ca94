"""Usage to Stripe as Billing Meter events: aggregated by us, sent in batches, each once.

1. ``close_windows``: usage recorded (billing.services.record_usage_batch) in a window of
   STRIPE_METER_WINDOW_SECONDS is summed per store, metric and hour it happened in, into MeterReport
   rows (the outbox), once the window is STRIPE_METER_GRACE_SECONDS old. Windows are cut by when
   usage was *recorded*, so usage that arrives late still lands in a window that is yet to close. Each
   row's identifier is derived from what it sums: aggregating again inserts nothing (ON CONFLICT).
   Usage is stamped by the database when its INSERT starts, under a shared advisory lock that closing
   waits on, so a slow transaction recording usage is never skipped by a window closed meanwhile.
   A peak metric (storage, `last` at Stripe) carries the period's peak so far, stamped at the window's
   end, so the last value Stripe sees is the period's peak.
2. ``send_due_reports``: claims due rows (FOR UPDATE SKIP LOCKED), sends them, and marks them sent in
   the same transaction. A worker killed mid-batch rolls back and the rows are sent again with the same
   identifiers, which Stripe counts once. Failures retry with exponential backoff; usage older than
   Stripe accepts (35 days) is kept as a `late` report, logged for reconciliation, never dropped silently.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import stripe
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from billing.services import wait_for_usage_in_flight
from billing.stripe_gateway.client import stripe_client
from billing.stripe_gateway.models import MeterReport, MeterWindowCursor

logger = logging.getLogger(__name__)

STRIPE_PAST_LIMIT = timedelta(days=35)
# Sent a little after it is stamped: keep a margin from Stripe's 35-day limit.
LATE_MARGIN = timedelta(hours=1)
MAX_BACKOFF = timedelta(hours=1)


def _floor(moment: datetime, seconds: int) -> datetime:
    epoch = int(moment.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=moment.tzinfo)


# One statement aggregates every closed window: sums per (store, metric, window, hour of use); peaks per
# (store, window) as the period's running peak. Only stores with a Stripe customer and a synced meter.
_AGGREGATE_SQL = """
INSERT INTO stripe_gateway_meterreport
    (identifier, tenant_id, metric, event_name, customer_id, value, occurred_at, state, attempts,
     next_attempt_at, last_error, created_at)
SELECT
    'lb:' || g.tenant_id || ':' || g.metric || ':' || extract(epoch FROM g.win)::bigint
        || CASE WHEN m.formula = 'last' THEN '' ELSE ':' || extract(epoch FROM g.hour)::bigint END,
    g.tenant_id, g.metric, m.event_name, c.customer_id,
    CASE WHEN m.formula = 'last' THEN (
        SELECT max(p.quantity) FROM billing_usageevent p
        WHERE p.tenant_id = g.tenant_id AND p.metric = g.metric AND p.recorded_at < g.win + %(window)s
          AND p.occurred_at >= coalesce(s.current_period_start, g.first_at)
    ) ELSE g.total END,
    CASE WHEN m.formula = 'last' THEN least(g.win + %(window)s - interval '1 second', %(now)s) ELSE g.last_at END,
    CASE WHEN (CASE WHEN m.formula = 'last' THEN g.win ELSE g.last_at END) < %(too_old)s
        THEN 'late' ELSE 'pending' END,
    0, statement_timestamp(), '', statement_timestamp()
FROM (
    SELECT u.tenant_id, u.metric,
        to_timestamp(floor(extract(epoch FROM u.recorded_at) / %(seconds)s) * %(seconds)s) AS win,
        date_trunc('hour', u.occurred_at) AS hour,
        sum(u.quantity) AS total, min(u.occurred_at) AS first_at, max(u.occurred_at) AS last_at
    FROM billing_usageevent u
    WHERE u.recorded_at >= %(start)s AND u.recorded_at < %(end)s
    GROUP BY 1, 2, 3, 4
) g
JOIN stripe_gateway_stripecustomer c ON c.tenant_id = g.tenant_id
JOIN stripe_gateway_stripemeter m ON m.metric = g.metric
LEFT JOIN billing_subscription s ON s.tenant_id = g.tenant_id
ON CONFLICT (identifier) DO NOTHING
RETURNING identifier, state, value, occurred_at
"""


def close_windows(now: datetime | None = None) -> int:
    """Aggregate every window that is past its grace period into reports; returns rows written."""
    now = now or timezone.now()
    seconds = settings.STRIPE_METER_WINDOW_SECONDS
    horizon = _floor(now - timedelta(seconds=settings.STRIPE_METER_GRACE_SECONDS), seconds)
    with transaction.atomic():
        cursor_row = MeterWindowCursor.objects.select_for_update().first()
        if cursor_row is None:
            # First run: everything recorded so far, in one go (get_or_create: a racing twin waits).
            cursor_row, _ = MeterWindowCursor.objects.get_or_create(
                singleton=True, defaults={"closed_until": datetime(2000, 1, 1, tzinfo=now.tzinfo)}
            )
            cursor_row = MeterWindowCursor.objects.select_for_update().get(pk=cursor_row.pk)
        if cursor_row.closed_until >= horizon:
            return 0
        # Usage still being recorded (stamped before the horizon, not yet committed) lands first: after
        # this, anything recorded is stamped later than now, so moving the cursor cannot skip it.
        wait_for_usage_in_flight()
        # The peak's period start needs the snapshot's subscription row; ids come from the tables above.
        params: dict[str, Any] = {
            "start": cursor_row.closed_until,
            "end": horizon,
            "seconds": seconds,
            "window": timedelta(seconds=seconds),
            "now": now,
            "too_old": now - STRIPE_PAST_LIMIT + LATE_MARGIN,
        }
        with connection.cursor() as cursor:
            cursor.execute(_AGGREGATE_SQL, params)
            written = cursor.fetchall()
        cursor_row.closed_until = horizon
        cursor_row.save(update_fields=["closed_until"])
    for identifier, state, value, occurred_at in written:
        if state == MeterReport.State.LATE:
            logger.error(
                "usage too old for Stripe, kept for reconciliation",
                extra={"identifier": identifier, "value": value, "occurred_at": occurred_at},
            )
    return len(written)


@dataclass(frozen=True)
class SendOutcome:
    sent: int = 0
    failed: int = 0
    late: int = 0


def _backoff(attempts: int) -> timedelta:
    return min(timedelta(seconds=2**attempts), MAX_BACKOFF)


def send_due_reports(*, limit: int | None = None, client: stripe.StripeClient | None = None) -> SendOutcome:
    """Send due reports batch by batch until none is due (or ``limit`` rows were handled)."""
    client = client or stripe_client()
    batch = settings.STRIPE_METER_BATCH_SIZE
    sent = failed = late = 0
    while limit is None or sent + failed + late < limit:
        now = timezone.now()
        with transaction.atomic():
            reports = list(
                MeterReport.objects.select_for_update(skip_locked=True)
                .filter(state=MeterReport.State.PENDING, next_attempt_at__lte=now)
                .order_by("next_attempt_at", "pk")[:batch]
            )
            if not reports:
                break
            for report in reports:
                outcome = _send(client, report, now)
                sent += outcome == "sent"
                failed += outcome == "failed"
                late += outcome == "late"
            MeterReport.objects.bulk_update(
                reports, ["state", "attempts", "next_attempt_at", "sent_at", "last_error", "occurred_at"]
            )
        if failed:
            break  # Stripe is unwell: the rest waits for the next run, not a tight loop
    return SendOutcome(sent, failed, late)


def _send(client: stripe.StripeClient, report: MeterReport, now: datetime) -> str:
    report.attempts += 1
    # Stripe refuses stamps more than 5 minutes ahead; ours are never ahead of now.
    report.occurred_at = min(report.occurred_at, now)
    if report.occurred_at < now - STRIPE_PAST_LIMIT + timedelta(minutes=5):
        return _mark_late(report, "older than Stripe accepts (35 days)")
    try:
        client.v1.billing.meter_events.create(
            params={
                "event_name": report.event_name,
                "identifier": report.identifier,
                "timestamp": int(report.occurred_at.timestamp()),
                "payload": {"stripe_customer_id": report.customer_id, "value": str(report.value)},
            }
        )
    except stripe.InvalidRequestError as error:
        if error.code == "timestamp_out_of_range" or "timestamp" in (error.param or ""):
            return _mark_late(report, str(error.user_message or error)[:300])
        if "identifier" in (error.param or "") or error.code in ("resource_already_exists", "duplicate_meter_event"):
            return _mark_sent(report, now)  # Stripe has it already: a resend after a crash
        return _retry_later(report, now, error)
    except stripe.StripeError as error:  # network, 5xx, rate limits: the SDK retried already
        return _retry_later(report, now, error)
    return _mark_sent(report, now)


def _mark_sent(report: MeterReport, now: datetime) -> str:
    report.state, report.sent_at, report.last_error = MeterReport.State.SENT, now, ""
    return "sent"


def _mark_late(report: MeterReport, why: str) -> str:
    report.state, report.last_error = MeterReport.State.LATE, why
    logger.error("usage not accepted by Stripe, kept for reconciliation", extra={"identifier": report.identifier})
    return "late"


def _retry_later(report: MeterReport, now: datetime, error: Exception) -> str:
    report.next_attempt_at = now + _backoff(report.attempts)
    report.last_error = str(error)[:300]
    logger.warning("meter event not sent, will retry", extra={"identifier": report.identifier, "error": str(error)})
    return "failed"


def report_usage(now: datetime | None = None) -> SendOutcome:
    """Close due windows, then send what is due (the Celery beat task)."""
    close_windows(now)
    return send_due_reports()
