"""What makes a product field valid, as pure functions shared by the API and the CSV import (no ORM).

Each `clean_*` takes what a person typed and returns the stored value, or raises `FieldInvalid`
with a message meant for that person.
"""

from __future__ import annotations

import re

from storefront.catalog.currencies import DEFAULT_CURRENCY, is_currency

STATUSES = ("draft", "active", "archived")
DEFAULT_STATUS = "draft"

TITLE_MAX = 200
DESCRIPTION_MAX = 10_000
SKU_MAX = 64
CATEGORY_SLUG_MAX = 50
TAG_MAX = 40
TAGS_MAX = 20
# A hundred million pounds in pence: far beyond any local shop, far inside a bigint, and it catches
# a price typed into the wrong column (a barcode, say).
PRICE_MAX = 10_000_000_000
# The ceiling of PostgreSQL's integer (the stock column).
STOCK_MAX = 2_147_483_647

_SKU = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]*")
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_INTEGER = re.compile(r"[+-]?[0-9]+")


class FieldInvalid(ValueError):
    """A field's value is not acceptable; the message says why, for the merchant."""


def clean_sku(value: str) -> str:
    sku = value.strip()
    if not sku:
        raise FieldInvalid("SKU is required.")
    if len(sku) > SKU_MAX:
        raise FieldInvalid(f"SKU must be at most {SKU_MAX} characters.")
    if not _SKU.fullmatch(sku):
        raise FieldInvalid("SKU may contain letters, digits and . _ / - only, and must start with a letter or digit.")
    return sku


def clean_text(value: str, what: str, max_length: int, *, required: bool = False) -> str:
    """Free text, trimmed. PostgreSQL text holds neither NUL nor lone surrogates (valid in JSON escapes,
    not in UTF-8), and other control characters are pasting accidents: all are refused."""
    if any((c < " " and c not in "\t\n\r") or "\ud800" <= c <= "\udfff" for c in value):
        raise FieldInvalid(f"{what} contains control characters.")
    text = value.strip()
    if required and not text:
        raise FieldInvalid(f"{what} is required.")
    if len(text) > max_length:
        raise FieldInvalid(f"{what} must be at most {max_length} characters.")
    return text


def clean_title(value: str) -> str:
    return clean_text(value, "Title", TITLE_MAX, required=True)


def clean_description(value: str) -> str:
    return clean_text(value, "Description", DESCRIPTION_MAX)


def _whole_number(value: str | int, what: str, *, maximum: int, unit: str = "", example: str = "") -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise FieldInvalid(f"{what} must be a whole number{example}.")
    if isinstance(value, str):
        if not _INTEGER.fullmatch(value.strip()):
            raise FieldInvalid(f"{what} must be a whole number{example}.")
        value = int(value.strip())
    if value < 0:
        raise FieldInvalid(f"{what} cannot be negative.")
    if value > maximum:
        raise FieldInvalid(f"{what} must be at most {maximum}{unit}.")
    return value


def clean_price(value: str | int) -> int:
    """Integer minor units: 450 is £4.50. A decimal point is refused rather than guessed at."""
    return _whole_number(
        value, "Price", maximum=PRICE_MAX, unit=" minor units", example=" of minor units, e.g. 450 for 4.50"
    )


def clean_stock(value: str | int) -> int:
    if isinstance(value, str) and not value.strip():
        return 0
    return _whole_number(value, "Stock", maximum=STOCK_MAX)


def clean_currency(value: str) -> str:
    code = value.strip().upper() or DEFAULT_CURRENCY
    if not is_currency(code):
        raise FieldInvalid(f"'{value.strip()}' is not an ISO 4217 currency code (e.g. GBP, EUR, USD).")
    return code


def clean_status(value: str) -> str:
    status = value.strip().lower() or DEFAULT_STATUS
    if status not in STATUSES:
        raise FieldInvalid(f"Status must be one of {', '.join(STATUSES)}.")
    return status


def clean_category_slug(value: str) -> str:
    """A category's slug, or "" for none."""
    slug = value.strip().lower()
    if not slug:
        return ""
    if len(slug) > CATEGORY_SLUG_MAX or not _SLUG.fullmatch(slug):
        raise FieldInvalid(
            f"Category must be a slug: lowercase letters, digits and single hyphens, at most {CATEGORY_SLUG_MAX}."
        )
    return slug


def clean_tags(values: list[str] | tuple[str, ...]) -> list[str]:
    """Tags are lowercase and unique, in the order given: `Gluten free` and `gluten free` are one tag."""
    tags: list[str] = []
    for value in values:
        tag = " ".join(clean_text(value, "A tag", TAG_MAX).split()).lower()
        if not tag or tag in tags:
            continue
        if "," in tag:
            raise FieldInvalid("A tag cannot contain a comma.")
        tags.append(tag)
    if len(tags) > TAGS_MAX:
        raise FieldInvalid(f"At most {TAGS_MAX} tags.")
    return tags


def split_tags(value: str) -> list[str]:
    """Tags as written in one CSV cell: separated by commas."""
    return clean_tags(value.split(","))
