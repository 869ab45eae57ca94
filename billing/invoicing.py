"""Closing billing periods: each period of a subscription is rated and invoiced exactly once, the
invoice numbered without gaps, rendered as a PDF and collected through the provider.

A close is one transaction (the subscription row and the year's invoice counter locked): the invoice,
its lines, the pending prorations it takes up and the next period all commit together or not at all.
The PDF and the collection come after the commit and are finished by the next sweep if a worker dies
in between, so running the sweep twice, concurrently or after a crash never invoices a period twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context

from billing import rating
from billing.dunning import end_subscription, mark_invoice_paid, mark_payment_failed
from billing.invoice_pdf import DocumentLine, InvoiceDocument, render_invoice_pdf
from billing.models import Invoice, InvoiceItem, InvoiceNumberSequence, Plan, Subscription
from billing.periods import period_after
from billing.providers import get_provider, invoicing_provider_names
from billing.selectors import usage_in_period

logger = logging.getLogger(__name__)

SWEEP_BATCH_SIZE = 50
OPEN_STATUSES = (Subscription.Status.ACTIVE, Subscription.Status.PAST_DUE, Subscription.Status.TRIALING)


def invoice_number(year: int, sequence: int) -> str:
    return f"LB-{year}-{sequence:06d}"


def _next_invoice_number(year: int) -> str:
    """Take the year's next number. The counter row stays locked until the caller's transaction ends,
    so a rollback gives the number back: numbers have no gaps and are never taken twice."""
    InvoiceNumberSequence.objects.bulk_create([InvoiceNumberSequence(year=year)], ignore_conflicts=True)
    sequence = InvoiceNumberSequence.objects.select_for_update().get(year=year)
    sequence.last_number = F("last_number") + 1
    sequence.save(update_fields=["last_number"])
    sequence.refresh_from_db(fields=["last_number"])
    return invoice_number(year, sequence.last_number)


def due_subscriptions(at: datetime) -> QuerySet[Subscription]:
    """Subscriptions whose period has ended by ``at`` and whose provider leaves invoicing to us."""
    invoiced_here = invoicing_provider_names()
    return Subscription.objects.filter(
        status__in=OPEN_STATUSES, current_period_end__lte=at, provider__in=invoiced_here
    ).order_by("current_period_end", "pk")


def close_billing_period(subscription: Subscription, at: datetime | None = None) -> Invoice | None:
    """Invoice the subscription's current period if it has ended by ``at`` and move to the next one.

    Returns the invoice, or None when nothing was due (the period runs on, it was closed already, the
    subscription is canceled or its provider invoices by itself). The PDF and the collection follow
    once the close has committed.
    """
    at = at or timezone.now()
    with transaction.atomic():
        locked = Subscription.objects.select_for_update(of=("self",)).filter(pk=subscription.pk).first()
        invoice = _close_locked(locked, at) if locked is not None else None
    if invoice is not None:
        invoice_id = invoice.pk
        transaction.on_commit(lambda: finish_invoice(invoice_id, at))
    return invoice


def _close_locked(subscription: Subscription, at: datetime) -> Invoice | None:
    if subscription.status not in OPEN_STATUSES or subscription.current_period_end > at:
        return None
    if subscription.provider not in invoicing_provider_names():
        return None
    start, end = subscription.current_period_start, subscription.current_period_end
    plan = Plan.objects.prefetch_related("usage_charges__tiers").get(pk=subscription.plan_id)
    interval = rating.Interval(subscription.interval)
    ending = subscription.cancel_at_period_end
    next_start, next_end = period_after(subscription.billing_anchor, interval, end)
    pending = list(
        InvoiceItem.objects.select_for_update().filter(subscription=subscription, invoice=None).order_by("pk")
    )
    adjustments = [
        rating.InvoiceLine(rating.LineKind(item.kind), item.description, item.amount, item.metric, item.quantity)
        for item in pending
    ]
    rated = rating.compute_invoice(
        plan.to_rating(),
        usage_in_period(subscription.tenant_id, start, end),
        interval,
        adjustments=adjustments,
        tax_rate_bps=settings.BILLING_TAX_RATE_BPS,
        include_flat_fee=not ending,
    )
    invoice = Invoice.objects.create(
        tenant_id=subscription.tenant_id,
        subscription=subscription,
        number=_next_invoice_number(at.year),
        status=Invoice.Status.OPEN,
        currency=rated.currency,
        period_start=start,
        period_end=end,
        subtotal=rated.subtotal,
        tax=rated.tax,
        total=rated.total,
        issued_at=at,
    )
    adjustment_ids = {id(line) for line in adjustments}
    InvoiceItem.objects.bulk_create(
        InvoiceItem(
            subscription=subscription,
            invoice=invoice,
            kind=line.kind,
            description=line.description,
            metric=line.metric,
            quantity=line.quantity,
            amount=line.amount,
            currency=rated.currency,
            # Fees are billed in advance (the coming period), usage in arrears (the closed one).
            period_start=next_start if line.kind == rating.LineKind.FLAT_FEE else start,
            period_end=next_end if line.kind == rating.LineKind.FLAT_FEE else end,
        )
        for line in rated.lines
        if id(line) not in adjustment_ids
    )
    InvoiceItem.objects.filter(pk__in=[item.pk for item in pending]).update(invoice=invoice)
    if ending:
        end_subscription(subscription, at)
    else:
        subscription.current_period_start, subscription.current_period_end = next_start, next_end
        subscription.save(update_fields=["current_period_start", "current_period_end", "updated_at"])
    logger.info(
        "billing period closed",
        extra={"tenant_id": subscription.tenant_id, "invoice": invoice.number, "total": invoice.total},
    )
    return invoice


def close_due_periods(at: datetime | None = None, *, batch_size: int = SWEEP_BATCH_SIZE) -> int:
    """The beat job: close every period that has ended, in batches that concurrent sweeps share
    (SKIP LOCKED), then finish invoices a crashed run left without PDF or collection. Returns how many
    periods were closed. A subscription several periods behind gets one invoice per period."""
    at = at or timezone.now()
    closed = 0
    while True:
        with transaction.atomic():
            batch = list(due_subscriptions(at).select_for_update(skip_locked=True, of=("self",))[:batch_size])
            invoices = [invoice for subscription in batch if (invoice := _close_locked(subscription, at))]
        if not invoices:  # nothing left (or only rows another sweep holds)
            break
        closed += len(invoices)
        for invoice in invoices:
            _finish_logging_errors(invoice.pk, at)
    for invoice_id in unfinished_invoice_ids():
        _finish_logging_errors(invoice_id, at)
    return closed


def unfinished_invoice_ids() -> list[int]:
    """Open invoices without a PDF or never collected (a worker died after the close committed)."""
    invoiced_here = invoicing_provider_names()
    return list(
        Invoice.objects.filter(status=Invoice.Status.OPEN, subscription__provider__in=invoiced_here)
        .filter(pdf="")
        .union(
            Invoice.objects.filter(
                status=Invoice.Status.OPEN, collection_attempts=0, subscription__provider__in=invoiced_here
            )
        )
        .values_list("pk", flat=True)
    )


def _finish_logging_errors(invoice_id: int, at: datetime) -> None:
    try:
        finish_invoice(invoice_id, at)
    except Exception:  # one store's broken invoice must not stop the others' (the next sweep retries)
        logger.exception("could not finish invoice %s", invoice_id)


def finish_invoice(invoice_id: int, at: datetime | None = None) -> Invoice:
    """Render the invoice's PDF if it has none, and collect it if it was never collected."""
    invoice = Invoice.objects.select_related("subscription__plan", "tenant").get(pk=invoice_id)
    if not invoice.pdf:
        invoice.pdf = store_invoice_pdf(invoice)
    if invoice.status == Invoice.Status.OPEN and invoice.collection_attempts == 0:
        collect_invoice(invoice, at)
    return Invoice.objects.get(pk=invoice_id)


def invoice_document(invoice: Invoice) -> InvoiceDocument:
    return InvoiceDocument(
        number=invoice.number,
        store_name=invoice.tenant.name,
        owner_email=invoice.tenant.owner_email,
        plan_name=invoice.subscription.plan.name,
        currency=invoice.currency,
        period_start=invoice.period_start,
        period_end=invoice.period_end,
        issued_at=invoice.issued_at or invoice.created_at,
        lines=tuple(DocumentLine(item.kind, item.description, item.amount) for item in invoice.items.all()),
        subtotal=invoice.subtotal,
        tax=invoice.tax,
        total=invoice.total,
    )


def pdf_name(invoice: Invoice) -> str:
    return f"billing/invoices/{invoice.tenant_id}/{invoice.number}.pdf"


def store_invoice_pdf(invoice: Invoice) -> str:
    """Render the PDF into the platform's (`public`) media namespace, never a store's; returns its name."""
    content = render_invoice_pdf(invoice_document(invoice))
    with schema_context(get_public_schema_name()):
        name = pdf_name(invoice)
        if default_storage.exists(name):  # left by a run that died before recording it
            default_storage.delete(name)
        name = default_storage.save(name, ContentFile(content))
    Invoice.objects.filter(pk=invoice.pk).update(pdf=name)
    return name


def open_invoice_pdf(invoice: Invoice) -> bytes:
    with schema_context(get_public_schema_name()), default_storage.open(invoice.pdf, "rb") as stream:
        return stream.read()


@dataclass(frozen=True)
class CollectionOutcome:
    invoice: Invoice
    paid: bool
    error: str = ""


def collect_invoice(invoice: Invoice, at: datetime | None = None) -> CollectionOutcome:
    """Ask the provider for the invoice's total; paid settles the account, failed starts dunning.

    The attempt and its outcome are recorded together after the provider answered: a worker dying in
    between leaves the invoice uncollected and the next sweep asks again (providers deduplicate on the
    invoice number, so the customer is never charged twice).
    """
    at = at or timezone.now()
    subscription = invoice.subscription
    if invoice.total <= 0:
        outcome_paid, error = True, ""
    else:
        result = get_provider(subscription.provider).collect_invoice(invoice)
        outcome_paid, error = result.paid, result.error
    with transaction.atomic():
        Invoice.objects.filter(pk=invoice.pk).update(collection_attempts=F("collection_attempts") + 1)
        if outcome_paid:
            mark_invoice_paid(invoice, now=at)
        else:
            mark_payment_failed(subscription, invoice, now=at, error=error)
    invoice.refresh_from_db()
    return CollectionOutcome(invoice=invoice, paid=outcome_paid, error=error)
