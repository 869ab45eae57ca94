"""The marketplace page's search as GET parameters, so that a search is a URL a buyer can share, read
forgivingly: a value that makes no sense is dropped with a note to the buyer, never an error page.
Pure Python, no ORM.

Prices on the page are in the currency's major unit as a buyer types them (`max_price=12.50`); the
API's are minor units.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from storefront.catalog.currencies import DEFAULT_CURRENCY, minor_unit_exponent
from storefront.catalog.product_rules import PRICE_MAX

# Relevance (the community-first score), nearest seller first (needs a place), lowest price first.
SORTS = {"relevance": "Best match", "nearest": "Nearest", "price": "Lowest price"}
RADII_KM = (5, 10, 25, 50, 100)  # the page's choices; a URL may give any distance within the limits
MIN_RADIUS_KM, MAX_RADIUS_KM = 0.1, 1000.0
MAX_QUERY = 200
MAX_PLACE = 80
MAX_PAGE = 500
PAGE_SIZE = 20
_MAX_NUMBER_TEXT = 24  # longer is no price or distance anyone types (and never reaches Decimal)
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_TRUE = {"1", "on", "true", "yes"}


@dataclass(frozen=True)
class PageSearch:
    q: str = ""
    near: str | None = None  # None when the URL gives none (the remembered town applies); "" for anywhere
    category: str = ""
    min_price: int | None = None  # minor units
    max_price: int | None = None
    in_stock: bool = False
    within_km: float | None = None
    sort: str = "relevance"
    page: int = 1
    notices: tuple[str, ...] = ()

    def noting(self, notice: str, **changes: object) -> PageSearch:
        return replace(self, notices=(*self.notices, notice), **changes)  # type: ignore[arg-type]


def read_search(params: Mapping[str, str], currency: str = DEFAULT_CURRENCY) -> PageSearch:
    """The page's search from its GET parameters; anything unusable is left out, with a notice."""
    search = PageSearch()
    q = _clean_text(params.get("q", ""))
    if len(q) > MAX_QUERY:
        search = search.noting(f"Only the first {MAX_QUERY} characters of your search were used.")
        q = q[:MAX_QUERY]
    search = replace(search, q=q)
    if "near" in params:
        search = replace(search, near=_clean_text(params["near"])[: MAX_PLACE + 1])
    category = params.get("category", "").strip()
    if category and (len(category) > 60 or not _SLUG.match(category)):
        search = search.noting("That category is not one we know: showing every category.")
    elif category:
        search = replace(search, category=category)
    search = _read_prices(search, params, currency)
    search = replace(search, in_stock=params.get("in_stock", "").strip().lower() in _TRUE)
    within = params.get("within_km", "").strip()
    if within:
        radius = _number(within)
        if radius is None or not MIN_RADIUS_KM <= radius <= MAX_RADIUS_KM:
            search = search.noting(
                f"A distance is between {MIN_RADIUS_KM:g} and {MAX_RADIUS_KM:g} km: showing any distance."
            )
        else:
            search = replace(search, within_km=float(radius))
    sort = params.get("sort", "").strip()
    if sort and sort not in SORTS:
        search = search.noting("That is not a way we can sort: showing the best matches first.")
    elif sort:
        search = replace(search, sort=sort)
    page = params.get("page", "").strip()
    if page:
        if len(page) <= 4 and page.isascii() and page.isdigit() and 1 <= int(page) <= MAX_PAGE:
            search = replace(search, page=int(page))
        else:
            search = search.noting("That page does not exist: showing the first.")
    return search


def without_place(search: PageSearch) -> PageSearch:
    """The search when it has no place to measure from: no distance filter, no nearest-first."""
    if search.within_km is not None:
        search = search.noting("A distance needs a town or postcode: showing any distance.", within_km=None)
    if search.sort == "nearest":
        search = search.noting("Sorting by distance needs a town or postcode: best matches first.", sort="relevance")
    return search


def _read_prices(search: PageSearch, params: Mapping[str, str], currency: str) -> PageSearch:
    exponent = minor_unit_exponent(currency)
    prices: dict[str, int | None] = {}
    for field, label in (("min_price", "lowest"), ("max_price", "highest")):
        text = params.get(field, "").strip().lstrip("£$€").strip()
        prices[field] = None
        if not text:
            continue
        amount = _number(text)
        if amount is None or amount < 0 or amount.scaleb(exponent) > PRICE_MAX:
            search = search.noting(f"The {label} price must be an amount like 12.50: it was left out.")
            continue
        prices[field] = int(amount.scaleb(exponent).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    low, high = prices["min_price"], prices["max_price"]
    if low is not None and high is not None and low > high:
        return search.noting("The lowest price was above the highest: prices were left out.")
    return replace(search, min_price=low, max_price=high)


def _number(text: str) -> Decimal | None:
    """A finite decimal number as typed ("12.50", "12,50" is not one), else None."""
    if len(text) > _MAX_NUMBER_TEXT:
        return None
    try:
        value = Decimal(text)
    except (InvalidOperation, ValueError):
        return None
    # Decimal reads "NaN", "Infinity" and "1e999999" too; none of them is an amount or a distance.
    if not value.is_finite() or abs(value.adjusted()) > 12:
        return None
    return value


def _clean_text(text: str) -> str:
    """What a buyer typed, without control characters and surrounding spaces."""
    return "".join(char for char in text if char.isprintable()).strip()
