"""Turning what a buyer types into search terms and gazetteer keys (pure Python, no ORM)."""

from __future__ import annotations

import re
import unicodedata

MAX_TERMS = 8
MAX_TERM_LENGTH = 40
# Shorter words are matched exactly: a typo in a two-letter word has too many "corrections".
MIN_FUZZY_LENGTH = 4

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_POSTCODE = re.compile(r"^([a-z]{1,2}[0-9][a-z0-9]?)([0-9][a-z]{2})?$")


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def query_terms(text: str) -> list[str]:
    """The query's distinct words, lower case, letters and digits only, in order (at most MAX_TERMS)."""
    seen: list[str] = []
    for word in _WORD.findall(_fold(text)):
        word = word[:MAX_TERM_LENGTH]
        if word not in seen:
            seen.append(word)
    return seen[:MAX_TERMS]


def place_key(text: str) -> str:
    """The gazetteer key of a name: "Hebden Bridge" -> "hebdenbridge", "St. Ives" -> "stives"."""
    return "".join(_WORD.findall(_fold(text)))


def postcode_district(text: str) -> str | None:
    """The outward code of a UK postcode or district ("HX7 8AD" -> "hx7", "hx7" -> "hx7"), else None."""
    match = _POSTCODE.match(place_key(text))
    return match.group(1) if match else None


def place_lookups(text: str) -> list[tuple[str, str]]:
    """(kind, key) pairs to try in order: a postcode district first (more precise), then a town."""
    lookups: list[tuple[str, str]] = []
    if district := postcode_district(text):
        lookups.append(("postcode", district))
    if key := place_key(text):
        lookups.append(("town", key))
    return lookups
