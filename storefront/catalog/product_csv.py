"""The catalog's CSV format, read and written in pure Python (no ORM): one product a row, SKU the key.

    sku,title,description,price,currency,stock,status,category,tags
    BREAD-SOUR,Sourdough loaf,Baked each morning,450,GBP,12,active,bread,"sourdough, vegan"

`price` is integer minor units (450 is £4.50); `category` a category's slug; `tags` comma-separated.
Only sku, title and price are required columns; a blank cell in an optional column means its default
(no description, GBP, no stock, draft, no category, no tags). Export writes every column, so an export
imports back unchanged. Error reports add `row` and `error` columns, which an import ignores, so a
corrected report can be uploaded as it is. Export and error reports alike write a cell that a spreadsheet
would run as a formula with a leading `'`, which import takes off again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from storefront.catalog import product_rules as rules
from storefront.catalog.currencies import DEFAULT_CURRENCY

COLUMNS = ("sku", "title", "description", "price", "currency", "stock", "status", "category", "tags")
REQUIRED_COLUMNS = ("sku", "title", "price")
REPORT_COLUMNS = ("row", "error")
# What makes a spreadsheet run a cell as a formula when it leads (OWASP's list: a tab or carriage return
# too, as some spreadsheets skip it and read the formula after it).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

_CLEANERS: dict[str, Callable[[str], object]] = {
    "sku": rules.clean_sku,
    "title": rules.clean_title,
    "description": rules.clean_description,
    "price": rules.clean_price,
    "currency": rules.clean_currency,
    "stock": rules.clean_stock,
    "status": rules.clean_status,
    "category": rules.clean_category_slug,
    "tags": rules.split_tags,
}


class HeaderInvalid(ValueError):
    """The first row is not a usable header; nothing in the file can be imported."""


class RowInvalid(ValueError):
    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages


@dataclass(frozen=True)
class Header:
    """The known column at each position of the file (None for a report column, ignored)."""

    columns: tuple[str | None, ...]

    @property
    def present(self) -> tuple[str, ...]:
        return tuple(name for name in COLUMNS if name in self.columns)


@dataclass(frozen=True)
class ProductRow:
    sku: str
    title: str
    price: int
    description: str = ""
    currency: str = DEFAULT_CURRENCY
    stock: int = 0
    status: str = rules.DEFAULT_STATUS
    category: str = ""
    tags: tuple[str, ...] = field(default_factory=tuple)


def read_header(cells: Sequence[str]) -> Header:
    names = [cell.strip().lstrip("\ufeff").strip().lower() for cell in cells]
    unknown = [name for name in names if name not in COLUMNS and name not in REPORT_COLUMNS]
    if unknown:
        shown = ", ".join(repr(name) for name in unknown)
        raise HeaderInvalid(f"Unknown column(s) {shown}. The columns are: {', '.join(COLUMNS)}.")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise HeaderInvalid(f"Column(s) given more than once: {', '.join(repeated)}.")
    missing = [name for name in REQUIRED_COLUMNS if name not in names]
    if missing:
        raise HeaderInvalid(f"Missing required column(s): {', '.join(missing)}.")
    return Header(columns=tuple(name if name in COLUMNS else None for name in names))


def records(rows: Iterable[Sequence[str]]) -> Iterator[tuple[int, Sequence[str]]]:
    """The data rows after the header, each with its spreadsheet row number (the header is row 1).

    Blank rows (spreadsheets leave them at the end) are skipped but still numbered.
    """
    for number, cells in enumerate(rows, start=2):
        if any(cell.strip() for cell in cells):
            yield number, cells


def parse_row(header: Header, cells: Sequence[str]) -> ProductRow:
    """A row's product, or RowInvalid with every problem of the row (not just the first)."""
    if len(cells) != len(header.columns):
        raise RowInvalid([f"The row has {len(cells)} values but the header has {len(header.columns)} columns."])
    cleaned: dict[str, object] = {}
    errors: list[str] = []
    for name, cell in zip(header.columns, cells, strict=True):
        if name is None:
            continue
        # Every column, not only text: an error report escapes each cell it echoes (a refused row's
        # `+450` price comes back as `'+450`), and a corrected report imports as it is.
        text = _unescape_formula(cell)
        try:
            cleaned[name] = _CLEANERS[name](text)
        except rules.FieldInvalid as error:
            errors.append(f"{name}: {error}")
    if errors:
        raise RowInvalid(errors)
    if "tags" in cleaned:
        cleaned["tags"] = tuple(cleaned["tags"])  # type: ignore[arg-type]
    return ProductRow(**cleaned)  # type: ignore[arg-type]


def format_row(product: ProductRow) -> list[str]:
    """The cells of a product, in COLUMNS order, as export writes them."""
    return [
        product.sku,
        _escape_formula(product.title),
        _escape_formula(product.description),
        str(product.price),
        product.currency,
        str(product.stock),
        product.status,
        product.category,
        _escape_formula(", ".join(product.tags)),
    ]


def format_report_row(cells: Sequence[str], row_number: int, message: str) -> list[str]:
    """A refused row as the error report writes it: the cells as uploaded, its row number and why. The
    cells and the message (which may quote a cell) are the uploader's text: none may start a formula."""
    return [*(_defuse(cell) for cell in cells), str(row_number), _defuse(message)]


def _defuse(cell: str) -> str:
    """An uploaded cell, echoed so that it reads as text and imports as it did: a leading ' if it starts
    a formula. A leading tab or CR goes first (every column ignores leading space), or a quote the
    uploader typed after it would be read one level deeper than in their file."""
    text = cell.lstrip() if cell.startswith(("\t", "\r")) else cell
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _needs_escape(text: str) -> bool:
    return text.lstrip("'").startswith(_FORMULA_STARTS)


def _escape_formula(text: str) -> str:
    """Spreadsheets run a cell starting with = + - @ (tab, CR) as a formula; a leading ' makes it text
    (OWASP's CSV injection advice). Text that already starts with such quotes gets one more, so import can
    undo exactly what export did."""
    return "'" + text if _needs_escape(text) else text


def _unescape_formula(text: str) -> str:
    stripped = text.strip()
    return stripped[1:] if stripped.startswith("'") and _needs_escape(stripped[1:]) else text
