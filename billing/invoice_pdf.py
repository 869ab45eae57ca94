"""An invoice as a PDF document (fpdf2, pure Python, no ORM): what the owner downloads from the portal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fpdf import FPDF

from billing.rating import LineKind

CURRENCY_SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$"}


@dataclass(frozen=True)
class DocumentLine:
    kind: str
    description: str
    amount: int  # minor units


@dataclass(frozen=True)
class InvoiceDocument:
    number: str
    store_name: str
    owner_email: str
    plan_name: str
    currency: str
    period_start: datetime
    period_end: datetime
    issued_at: datetime
    lines: tuple[DocumentLine, ...]
    subtotal: int
    tax: int
    total: int


def format_amount(amount: int, currency: str) -> str:
    """1234 GBP -> '£12.34', -450 -> '-£4.50' (two-decimal currencies, which the catalog uses)."""
    symbol = CURRENCY_SYMBOLS.get(currency, f"{currency} ")
    sign = "-" if amount < 0 else ""
    pounds, pence = divmod(abs(amount), 100)
    return f"{sign}{symbol}{pounds:,}.{pence:02d}"


def _date(moment: datetime) -> str:
    return moment.strftime("%d %b %Y")


def render_invoice_pdf(document: InvoiceDocument) -> bytes:
    """The invoice laid out on one A4 page (more if it has many lines); returns the PDF's bytes."""
    pdf = FPDF(format="A4")
    pdf.set_title(f"Invoice {document.number}")
    pdf.set_author("LocalBazaar")
    pdf.set_creator("LocalBazaar billing")
    pdf.add_page()
    # The core Helvetica font is Latin-1: the pound and euro signs are in it (cp1252), other text is
    # replaced rather than failing the render.
    pdf.set_font("Helvetica", "B", 18)
    pdf.cell(0, 10, "LocalBazaar", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 11)
    pdf.cell(0, 7, _latin1(f"Invoice {document.number}"), new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 7, f"Issued {_date(document.issued_at)}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.cell(0, 7, _latin1(f"Billed to: {document.store_name} <{document.owner_email}>"), new_x="LMARGIN", new_y="NEXT")
    pdf.cell(
        0,
        7,
        _latin1(f"Plan: {document.plan_name}, period {_date(document.period_start)} to {_date(document.period_end)}"),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(6)
    width = pdf.epw
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(width * 0.75, 8, "Description", border="B")
    pdf.cell(width * 0.25, 8, "Amount", border="B", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    for line in document.lines:
        if line.kind == LineKind.TAX:
            continue
        pdf.cell(width * 0.75, 7, _latin1(line.description)[:90])
        pdf.cell(width * 0.25, 7, _latin1(format_amount(line.amount, document.currency)), align="R")
        pdf.ln(7)
    pdf.ln(2)
    for label, amount, bold in (
        ("Subtotal", document.subtotal, False),
        ("Tax", document.tax, False),
        ("Total", document.total, True),
    ):
        pdf.set_font("Helvetica", "B" if bold else "", 11)
        pdf.cell(width * 0.75, 8, label, align="R")
        pdf.cell(width * 0.25, 8, _latin1(format_amount(amount, document.currency)), align="R")
        pdf.ln(8)
    return bytes(pdf.output())


def _latin1(text: str) -> str:
    return text.encode("cp1252", errors="replace").decode("cp1252")
