"""Community-first ranking of marketplace results (pure Python, no ORM); the search SQL mirrors it.

    relevance = TEXT_WEIGHT * text_rank + TITLE_WEIGHT * title_similarity          (0 <= relevance < 1)
        text_rank        PostgreSQL's ts_rank_cd(search_vector, query, 1|32): cover density (title words
                         weigh most), divided by 1 + log(length) so a short, to-the-point listing
                         wins, then squashed to r / (r + 1) in [0, 1)
        title_similarity pg_trgm's word_similarity(query text, title), in [0, 1]
    nearness  = 1 / (1 + distance_km / HALF_BOOST_KM)       1 next door, 1/2 at 15 km, 0 with no location
    score     = relevance * (1 + NEAR_BOOST * nearness)

PostgreSQL orders every match by the text rank and nearness alone (cheap), then computes the full
score, title similarity included, for the best RESCORE_WINDOW of them (as search engines rescore a
window): the similarity term is at most TITLE_WEIGHT, so only listings close to the window's edge
could be ordered differently by the full formula.

So a seller next door doubles a listing's score, one 15 km away multiplies it by 1.5, and with no
buyer location (or no seller location) the order is plain relevance. Among equally relevant
listings the closer one never ranks lower, and nearness alone never lifts an irrelevant listing
(relevance 0 stays 0). Browsing without a query gives every listing relevance 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

TEXT_WEIGHT = 0.8
TITLE_WEIGHT = 0.2
NEAR_BOOST = 1.0
HALF_BOOST_KM = 15.0
RESCORE_WINDOW = 200
EARTH_RADIUS_KM = 6371.0088
# Kilometres in one degree of latitude (and of longitude at the equator).
KM_PER_DEGREE = math.pi * EARTH_RADIUS_KM / 180


def relevance(text_rank: float, title_similarity: float) -> float:
    return TEXT_WEIGHT * text_rank + TITLE_WEIGHT * title_similarity


def nearness(distance_km: float | None) -> float:
    if distance_km is None:
        return 0.0
    return 1.0 / (1.0 + max(distance_km, 0.0) / HALF_BOOST_KM)


def score(relevance_value: float, distance_km: float | None) -> float:
    return relevance_value * (1.0 + NEAR_BOOST * nearness(distance_km))


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance; the SQL computes the same expression."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((phi2 - phi1) / 2) ** 2
        + math.cos(phi1) * math.cos(phi2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


@dataclass(frozen=True)
class BoundingBox:
    min_lat: float
    max_lat: float
    min_lon: float
    max_lon: float

    def contains(self, lat: float, lon: float) -> bool:
        return self.min_lat <= lat <= self.max_lat and self.min_lon <= lon <= self.max_lon


def bounding_box(lat: float, lon: float, radius_km: float) -> BoundingBox:
    """A lat/lon box holding every point within `radius_km` of (lat, lon): the indexed prefilter of a
    distance filter (the exact haversine check runs on what it lets through)."""
    # A hair wider than exact (1e-9 degrees, a tenth of a millimetre): a point right on the circle must
    # not fall outside by a rounding error; the haversine check after it is the exact one.
    dlat = radius_km / KM_PER_DEGREE + 1e-9
    # Longitude degrees shrink with latitude; near a pole the box spans every longitude.
    cos_lat = math.cos(math.radians(min(89.0, abs(lat) + dlat)))
    dlon = 180.0 if cos_lat <= 0 else min(180.0, radius_km / (KM_PER_DEGREE * cos_lat) + 1e-9)
    return BoundingBox(lat - dlat, lat + dlat, lon - dlon, lon + dlon)
