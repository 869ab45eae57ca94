"""A dedicated store's billing, read by its stack from the control plane. The platform bills the store, so
the stack's own billing tables are empty; its portal shows what `POST <MARKETPLACE_API_URL>/api/v1/dedicated/
billing-summary` answers to the store's publishing token (billing.dedicated_api), never the platform's
database. Invoice PDFs come the same way, one at a time (`/api/v1/dedicated/invoice-pdf`).

A summary is fresh for FRESH_SECONDS: pages within that time cost no round trip. The last copy is kept for
KEPT_SECONDS more, so while the control plane is unreachable (or refuses) the portal shows it "as of" when
it was fetched; with no copy at all, BillingUnavailable (the portal answers 503). Entries record the stack
they were made on (`STACK_ID`, also the end of every key prefix) and are a miss anywhere else."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from billing.models import Invoice, Plan, Subscription
from tenants.platform_calls import PlatformRefused, PlatformUnreachable, call_control_plane, keep_answer, kept_answer

logger = logging.getLogger(__name__)

SUMMARY_PATH = "/api/v1/dedicated/billing-summary"
PDF_PATH = "/api/v1/dedicated/invoice-pdf"
FRESH_SECONDS = 30
KEPT_SECONDS = 7 * 24 * 3600
TIMEOUT_SECONDS = 5.0
SUMMARY_LIMIT = 1_000_000
PDF_LIMIT = 10_000_000
FRESH_KEY = "billing:platform-summary:fresh"
COPY_KEY = "billing:platform-summary:copy"
MANAGED_ON_PLATFORM = (
    "This store's plan, cancellation and payments are managed on the LocalBazaar platform: contact us to change them."
)


def is_dedicated_stack() -> bool:
    """Whether this is a dedicated store's stack, whose billing is the control plane's."""
    return settings.TENANCY_MODE == "dedicated"


class BillingUnavailable(Exception):
    """The control plane did not answer (or refused this stack's credential) and no copy is kept."""


class NoPlatformSubscription(Exception):
    """The control plane holds no subscription for this store (its stack has not gone live)."""


@dataclass(frozen=True)
class PlatformBilling:
    """The control plane's summary (billing.dedicated_api.BillingSummarySerializer) as of ``as_of``;
    ``is_stale`` when it is the last copy kept because the control plane could not be asked now."""

    summary: dict[str, Any]
    as_of: datetime
    is_stale: bool

    def subscription(self) -> Subscription:
        """The platform's subscription and plan as unsaved rows, for the portal's templates."""
        plan, sub = self.summary["plan"], self.summary["subscription"]
        return Subscription(
            plan=Plan(code=plan["code"], name=plan["name"], currency=plan["currency"]),
            status=sub["status"],
            interval=sub["interval"],
            current_period_start=_required_moment(sub["current_period_start"]),
            current_period_end=_required_moment(sub["current_period_end"]),
            cancel_at_period_end=sub["cancel_at_period_end"],
            provider=sub["provider"],
        )

    def invoices(self) -> list[Invoice]:
        """The newest invoices as unsaved rows; ``pdf`` is set when the platform has one to send."""
        return [
            Invoice(
                number=row["number"],
                status=row["status"],
                currency=row["currency"],
                subtotal=row["subtotal"],
                tax=row["tax"],
                total=row["total"],
                period_start=_required_moment(row["period_start"]),
                period_end=_required_moment(row["period_end"]),
                issued_at=_moment(row["issued_at"]),
                paid_at=_moment(row["paid_at"]),
                pdf="on the platform" if row["has_pdf"] else "",
            )
            for row in self.summary["invoices"]
        ]

    def daily_usage(self, metric: str) -> dict[date, int]:
        days = self.summary["daily_usage"].get(metric, {})
        return {date.fromisoformat(day): int(value) for day, value in days.items()}


def _moment(value: str | None) -> datetime | None:
    return parse_datetime(value) if value else None


def _required_moment(value: str) -> datetime:
    moment = _moment(value)
    if moment is None:
        raise ValueError(f"not a moment: {value!r}")
    return moment


def _readable(summary: Any) -> dict[str, Any]:
    """The summary, once the portal could show every part of it (raises ValueError otherwise)."""
    if not isinstance(summary, dict):
        raise ValueError("not a billing summary")
    try:
        billing = PlatformBilling(summary=summary, as_of=timezone.now(), is_stale=False)
        billing.subscription()
        billing.invoices()
        for metric in summary["daily_usage"]:
            billing.daily_usage(metric)
        usage = summary["usage"]
        if not (isinstance(usage["metrics"], list) and isinstance(usage["lines"], list)):
            raise TypeError("usage without metrics or lines")
    except (KeyError, TypeError, AttributeError) as error:
        raise ValueError(f"not a billing summary: {error!r}") from error
    return summary


def platform_billing() -> PlatformBilling:
    """The store's billing from the control plane: cached if fresh, else asked, else the last copy kept.

    Raises NoPlatformSubscription when the platform bills the store nothing yet, BillingUnavailable when
    it cannot be asked and no copy is kept."""
    fresh = kept_answer(FRESH_KEY)
    if fresh is not None:
        fetched_at, summary = fresh[0]
        return PlatformBilling(summary=summary, as_of=fetched_at, is_stale=False)
    try:
        answer = call_control_plane(SUMMARY_PATH, {}, timeout=TIMEOUT_SECONDS, answer_limit=SUMMARY_LIMIT)
        summary = _readable(json.loads(answer))
    except PlatformRefused as error:
        if error.status == 404 and b"no_subscription" in error.answer:
            raise NoPlatformSubscription("This store has no subscription.") from error
        return _last_copy(f"the control plane refused: HTTP {error.status}")
    except (PlatformUnreachable, ValueError) as error:
        return _last_copy(f"the control plane did not answer: {error}")
    fetched_at = timezone.now()
    keep_answer(FRESH_KEY, (fetched_at, summary), FRESH_SECONDS)
    keep_answer(COPY_KEY, (fetched_at, summary), KEPT_SECONDS)
    return PlatformBilling(summary=summary, as_of=fetched_at, is_stale=False)


def _last_copy(reason: str) -> PlatformBilling:
    copy = kept_answer(COPY_KEY)
    logger.warning("billing summary not fetched: %s", reason, extra={"copy_kept": copy is not None})
    if copy is None:
        raise BillingUnavailable(reason)
    fetched_at, summary = copy[0]
    return PlatformBilling(summary=summary, as_of=fetched_at, is_stale=True)


def invoice_pdf(number: str) -> bytes | None:
    """The PDF of the store's invoice ``number`` from the control plane (None: it has no such PDF).
    Raises BillingUnavailable when the control plane cannot be asked (PDFs are not kept)."""
    try:
        pdf = call_control_plane(PDF_PATH, {"number": number}, timeout=TIMEOUT_SECONDS, answer_limit=PDF_LIMIT)
    except PlatformRefused as error:
        if error.status == 404:
            return None
        raise BillingUnavailable(f"the control plane refused the PDF: HTTP {error.status}") from error
    except PlatformUnreachable as error:
        raise BillingUnavailable(f"the control plane did not answer: {error}") from error
    if len(pdf) >= PDF_LIMIT:
        raise BillingUnavailable(f"invoice {number}'s PDF is larger than {PDF_LIMIT} bytes")
    return pdf
