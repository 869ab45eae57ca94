"""What a buyer asks a storefront list for (words, category, price range, sort order, page), read from
query parameters that anyone can type, and the arithmetic of pages and category trees. Pure Python.

Nothing here raises on bad input: a value that can't be read is ignored, as a shop would ignore it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from urllib.parse import urlencode

from storefront.catalog.currencies import minor_unit_exponent
from storefront.catalog.product_rules import PRICE_MAX

PER_PAGE = 24
# Deep offsets cost the database a scan of every skipped row; nobody pages this far in one shop.
MAX_PAGE = 400
# Longer queries are cut: a tsquery of a pasted essay is slow and matches nothing anyway.
MAX_WORDS_CHARS = 100

NEWEST, PRICE_ASCENDING, PRICE_DESCENDING, RELEVANCE = "newest", "price", "-price", "relevance"
SORT_LABELS = {
    RELEVANCE: "Best match",
    NEWEST: "Newest",
    PRICE_ASCENDING: "Price: low to high",
    PRICE_DESCENDING: "Price: high to low",
}
LIST_SORTS = (NEWEST, PRICE_ASCENDING, PRICE_DESCENDING)
SEARCH_SORTS = (RELEVANCE, *LIST_SORTS)

_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_PRICE = re.compile(r"[0-9]{1,12}(?:\.[0-9]*)?|\.[0-9]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_PAGE = re.compile(r"[0-9]{1,9}")


@dataclass(frozen=True)
class ListingRequest:
    words: str = ""
    category: str = ""
    # In minor units of the store's currency, both bounds included.
    price_min: int | None = None
    price_max: int | None = None
    sort: str = NEWEST
    page: int = 1

    @property
    def offset(self) -> int:
        return (self.page - 1) * PER_PAGE

    @property
    def is_filtered(self) -> bool:
        return bool(self.category) or self.price_min is not None or self.price_max is not None


def parse_words(text: str) -> str:
    """Search words with control characters and surplus whitespace removed, at most MAX_WORDS_CHARS."""
    return " ".join(_CONTROL.sub(" ", text).split())[:MAX_WORDS_CHARS].strip()


def parse_price(text: str, currency: str) -> int | None:
    """A price typed in major units ("4.50", "£4.5", "1,200") as minor units; None if unreadable.

    Digits beyond the currency's minor unit are cut (a bound of 4.509 is 4.50): never rounded up past
    what the buyer typed.
    """
    cleaned = text.strip().lstrip("£$€").replace(",", "").strip()
    if not _PRICE.fullmatch(cleaned):
        return None
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        return None
    minor = int(amount.scaleb(minor_unit_exponent(currency)))
    return min(minor, PRICE_MAX)


def parse_page(text: str | None) -> int:
    # ASCII digits only: str.isdigit() also accepts "²", which int() refuses.
    if text is None or not _PAGE.fullmatch(text.strip()):
        return 1
    return min(max(int(text.strip()), 1), MAX_PAGE)


def parse_listing(params: Mapping[str, str], *, currency: str, sorts: tuple[str, ...] = LIST_SORTS) -> ListingRequest:
    """`q`, `category`, `min`, `max`, `sort` and `page` from a request's query string."""
    words = parse_words(params.get("q", ""))
    category = params.get("category", "").strip()
    price_min = parse_price(params.get("min", ""), currency)
    price_max = parse_price(params.get("max", ""), currency)
    if price_min is not None and price_max is not None and price_min > price_max:
        price_min, price_max = price_max, price_min
    sort = params.get("sort", "")
    # Relevance needs words to be relevant to; without them the newest come first.
    if sort not in sorts or (sort == RELEVANCE and not words):
        sort = RELEVANCE if words and RELEVANCE in sorts else NEWEST
    return ListingRequest(
        words=words,
        category=category if _SLUG.fullmatch(category) else "",
        price_min=price_min,
        price_max=price_max,
        sort=sort,
        page=parse_page(params.get("page")),
    )


def query_string(request: ListingRequest, currency: str, **changes: object) -> str:
    """The request as a query string (for links to other pages and sort orders), `changes` applied."""
    exponent = minor_unit_exponent(currency)

    def major(amount: int | None) -> str:
        return "" if amount is None else f"{Decimal(amount).scaleb(-exponent):.{exponent}f}"

    values: dict[str, object] = {
        "q": request.words,
        "category": request.category,
        "min": major(request.price_min),
        "max": major(request.price_max),
        "sort": request.sort,
        "page": request.page,
    }
    values.update(changes)
    # Defaults are left out, so links stay short and one page has one address.
    if values["page"] == 1:
        del values["page"]
    if values["sort"] == (RELEVANCE if values["q"] else NEWEST):
        del values["sort"]
    return urlencode([(key, value) for key, value in values.items() if value not in ("", None)])


def category_and_descendants(parents: Iterable[tuple[int, int | None]], root: int) -> set[int]:
    """`root` and every category below it, from (id, parent id) pairs. Safe against cycles."""
    children: dict[int, list[int]] = {}
    for category, parent in parents:
        if parent is not None:
            children.setdefault(parent, []).append(category)
    found = {root}
    pending = [root]
    while pending:
        for child in children.get(pending.pop(), ()):
            if child not in found:
                found.add(child)
                pending.append(child)
    return found
