"""Reading the marketplace index: the gazetteer lookup and the community-first search.

`search_listings` is one SQL statement: the query words widened with close spellings from the
index's vocabulary (trigram index on `marketplace_listingword`), full-text match on the GIN index,
the score of `ranking.py` computed in PostgreSQL (ts_rank_cd, word_similarity, haversine), and the
total count by a window function, so a search page costs one round trip. Results come best first, or
nearest first, or cheapest first (`search_filters.SORTS`).
"""

from __future__ import annotations

import difflib
import time
from dataclasses import dataclass
from threading import Lock

from django.conf import settings
from django.core.cache import cache
from django.db.models import Max

from storefront.marketplace import ranking, search_terms
from storefront.marketplace.models import VISIBLE, Listing, Place
from tenants.db_backend import connection

# The gazetteer is a few hundred rows that change only with a migration: each process keeps a copy.
_PLACES_TTL_SECONDS = 300
_places: dict[tuple[str, str], Place] = {}
_places_loaded_at = 0.0
_places_lock = Lock()


def _gazetteer() -> dict[tuple[str, str], Place]:
    global _places, _places_loaded_at
    if time.monotonic() - _places_loaded_at > _PLACES_TTL_SECONDS or not _places:
        with _places_lock:
            _places = {(place.kind, place.key): place for place in Place.objects.all()}
            _places_loaded_at = time.monotonic()
    return _places


def resolve_place(text: str) -> Place | None:
    """A town name, postcode district or full postcode ("Hebden Bridge", "HX7", "HX7 8AD") -> Place."""
    lookups = search_terms.place_lookups(text or "")
    if not lookups:
        return None
    places = _gazetteer()
    return next((places[lookup] for lookup in lookups if lookup in places), None)


def similar_places(text: str, limit: int = 3) -> list[str]:
    """Towns spelt like `text` ("Todmordon" -> Todmorden), for the message about an unknown place."""
    key = search_terms.place_key(text or "")[:80]
    if not key:
        return []
    towns = {place.key: place.name for (kind, _), place in _gazetteer().items() if kind == Place.Kind.TOWN}
    return [towns[found] for found in difflib.get_close_matches(key, list(towns), n=limit, cutoff=0.75)]


def home_place(town: str, postcode: str) -> str:
    """The place a buyer's profile puts them in (postcode district first, as sellers are placed), as
    `near` text; "" when neither is a place the gazetteer knows."""
    for text in (postcode, town):
        place = resolve_place(text)
        if place is not None:
            return place.name
    return ""


@dataclass(frozen=True)
class SearchQuery:
    text: str = ""
    lat: float | None = None
    lon: float | None = None
    category: str = ""
    min_price: int | None = None
    max_price: int | None = None
    within_km: float | None = None
    in_stock: bool = False
    sort: str = "relevance"  # one of search_filters.SORTS
    limit: int = 20
    offset: int = 0

    @property
    def has_location(self) -> bool:
        return self.lat is not None and self.lon is not None


@dataclass(frozen=True)
class ListingHit:
    listing_id: int
    title: str
    price: int
    currency: str
    product_path: str
    seller_town: str
    store_slug: str
    store_name: str
    distance_km: float | None
    score: float
    thumbnail_url: str = ""
    stock: int | None = None


@dataclass(frozen=True)
class SearchPage:
    count: int
    results: list[ListingHit]


# Close spellings of each query word from the vocabulary (pg_trgm `%`, similarity >= 0.3 by default).
_TEXT_QUERY = """
WITH terms AS (
    SELECT term, ord FROM unnest(%(terms)s::text[]) WITH ORDINALITY AS t(term, ord)
), alternatives AS (
    SELECT ord, quote_literal(term) || CASE WHEN length(term) >= 3 THEN ':*' ELSE '' END AS alt FROM terms
    UNION
    SELECT t.ord, quote_literal(w.word)
      FROM terms t CROSS JOIN LATERAL (
          SELECT word FROM marketplace_listingword
           WHERE length(t.term) >= %(min_fuzzy)s AND word %% t.term
           ORDER BY similarity(word, t.term) DESC, word LIMIT %(spellings)s
      ) w
), query AS (
    SELECT to_tsquery('english', string_agg(alts, ' & ')) AS q
      FROM (SELECT '(' || string_agg(alt, ' | ') || ')' AS alts FROM alternatives GROUP BY ord) grouped
)
"""

_HAVERSINE = (
    "2 * %(earth_km)s * asin(least(1, sqrt(power(sin(radians(l.lat - %(lat)s) / 2), 2)"
    " + cos(radians(%(lat)s)) * cos(radians(l.lat)) * power(sin(radians(l.lon - %(lon)s) / 2), 2))))"
)


def _sql(query: SearchQuery, has_text: bool) -> tuple[str, dict[str, object]]:
    window = max(ranking.RESCORE_WINDOW, query.offset + query.limit)
    params: dict[str, object] = {
        "earth_km": ranking.EARTH_RADIUS_KM,
        "text_weight": ranking.TEXT_WEIGHT,
        "title_weight": ranking.TITLE_WEIGHT,
        "near_boost": ranking.NEAR_BOOST,
        "half_km": ranking.HALF_BOOST_KM,
        "window": window,
        "limit": query.limit,
        "offset": query.offset,
    }
    where = ["l.is_listed", "l.store_is_live"]
    sources = "marketplace_listing l"
    if has_text:
        sources += ", query"
        where.append("l.search_vector @@ query.q")
        text_rank = "ts_rank_cd(l.search_vector, query.q, 33)"
        similarity = "word_similarity(%(text)s, c.title)"
        params["text"] = query.text
    else:
        # Browsing: every listing equally relevant, nearness alone orders them.
        text_rank, similarity = "1.0", "0.0"
        params["text_weight"], params["title_weight"] = 1.0, 0.0
    if query.category:
        where.append("l.category_slug = %(category)s")
        params["category"] = query.category
    if query.min_price is not None:
        where.append("l.price >= %(min_price)s")
        params["min_price"] = query.min_price
    if query.max_price is not None:
        where.append("l.price <= %(max_price)s")
        params["max_price"] = query.max_price
    if query.in_stock:
        # A listing whose store did not say its stock is not known to be sold out: it stays.
        where.append("(l.stock IS NULL OR l.stock > 0)")
    if query.has_location:
        params["lat"], params["lon"] = query.lat, query.lon
        distance = f"CASE WHEN l.lat IS NULL THEN NULL ELSE {_HAVERSINE} END"
        radius = query.within_km if query.within_km is not None else (None if has_text else _browse_radius())
        if radius is not None:
            box = ranking.bounding_box(query.lat, query.lon, radius)  # type: ignore[arg-type]
            where.append("l.lat BETWEEN %(min_lat)s AND %(max_lat)s AND l.lon BETWEEN %(min_lon)s AND %(max_lon)s")
            where.append(f"{_HAVERSINE} <= %(radius)s")
            params.update(
                min_lat=box.min_lat, max_lat=box.max_lat, min_lon=box.min_lon, max_lon=box.max_lon, radius=radius
            )
    else:
        distance = "NULL::float8"
    boost = "(1 + %(near_boost)s * coalesce(1 / (1 + {d} / %(half_km)s), 0))"
    order = _order(query.sort if query.has_location or query.sort != "nearest" else "relevance")
    cheap_score = f"m.text_rank * {boost.format(d='m.distance_km')}"
    sql = f"""
        {_TEXT_QUERY if has_text else "WITH"} {"," if has_text else ""} matched AS (
            SELECT l.id, l.price, {text_rank} AS text_rank, {distance} AS distance_km
              FROM {sources}
             WHERE {" AND ".join(where)}
        ), candidates AS (
            SELECT m.*, count(*) OVER () AS total
              FROM matched m
             ORDER BY {order.format(t="m", score=cheap_score)}
             LIMIT %(window)s
        ), scored AS (
            SELECT c.id, c.distance_km, c.total, l.tenant_id, l.title, l.price, l.currency, l.product_path,
                   l.seller_town, l.thumbnail_url, l.stock,
                   (%(text_weight)s * c.text_rank + %(title_weight)s * {similarity.replace("c.title", "l.title")})
                   * {boost.format(d="c.distance_km")} AS score
              FROM candidates c JOIN marketplace_listing l ON l.id = c.id
             ORDER BY {order.format(t="c", score="score")}
             LIMIT %(limit)s OFFSET %(offset)s
        )
        SELECT s.id, s.title, s.price, s.currency, s.product_path, s.seller_town, t.slug, t.name,
               s.distance_km, s.score, s.total, s.thumbnail_url, s.stock
          FROM scored s JOIN tenants_tenant t ON t.id = s.tenant_id
         ORDER BY {order.format(t="s", score="s.score")}
    """
    return sql, params


def _order(sort: str) -> str:
    """The ORDER BY of each step, for a table alias `{t}` and its score expression `{score}`; the id
    breaks ties so pages never overlap."""
    if sort == "nearest":
        return "{t}.distance_km ASC NULLS LAST, {t}.id DESC"
    if sort == "price":
        return "{t}.price ASC, {t}.id DESC"
    return "{score} DESC, {t}.id DESC"


def _browse_radius() -> float:
    return float(settings.MARKETPLACE_BROWSE_RADIUS_KM)


def search_listings(query: SearchQuery) -> SearchPage:
    """A page of listings, best first, and how many match in all."""
    terms = search_terms.query_terms(query.text)
    sql, params = _sql(query, has_text=bool(terms))
    if terms:
        params.update(
            terms=terms,
            min_fuzzy=search_terms.MIN_FUZZY_LENGTH,
            spellings=settings.MARKETPLACE_SPELLINGS_PER_WORD,
        )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if not rows and query.offset:
        return SearchPage(count=_count_only(query, terms), results=[])
    hits = [
        ListingHit(
            listing_id=row[0],
            title=row[1],
            price=row[2],
            currency=row[3],
            product_path=row[4],
            seller_town=row[5],
            store_slug=row[6],
            store_name=row[7],
            distance_km=None if row[8] is None else round(row[8], 1),
            score=row[9],
            thumbnail_url=row[11],
            stock=row[12],
        )
        for row in rows
    ]
    return SearchPage(count=rows[0][10] if rows else 0, results=hits)


def _count_only(query: SearchQuery, terms: list[str]) -> int:
    """The total for a page past the end (the window count has no row to ride on)."""
    first = SearchQuery(**{**query.__dict__, "limit": 1, "offset": 0})
    page = search_listings(first) if terms or query.text == "" else SearchPage(0, [])
    return page.count


_CATEGORIES_KEY = "marketplace:categories"
_CATEGORIES_SECONDS = 300
_CATEGORIES_MAX = 200


def listed_categories() -> list[tuple[str, str]]:
    """(slug, name) of the categories buyers can find listings in, by name: the search's category
    choices. Read from the index at most once per `_CATEGORIES_SECONDS` (shared cache), not per page."""
    found = cache.get(_CATEGORIES_KEY)
    if found is None:
        rows = (
            Listing.objects.filter(VISIBLE)
            .exclude(category_slug="")
            .values("category_slug")
            .annotate(name=Max("category_name"))
            .order_by("name", "category_slug")
            .values_list("category_slug", "name")[:_CATEGORIES_MAX]
        )
        found = [(slug, name or slug) for slug, name in rows]
        cache.set(_CATEGORIES_KEY, found, _CATEGORIES_SECONDS)
    return found
