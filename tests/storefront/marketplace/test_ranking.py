"""The ranking formula and the geometry under it (pure, property-tested), and query/place parsing."""

from __future__ import annotations

import math

from hypothesis import example, given
from hypothesis import strategies as st

from storefront.marketplace import ranking, search_terms

relevances = st.floats(min_value=0, max_value=1)
distances = st.floats(min_value=0, max_value=20_000)
latitudes = st.floats(min_value=-85, max_value=85)
longitudes = st.floats(min_value=-180, max_value=180)


@given(relevances, distances, distances)
def test_closer_never_ranks_lower_at_equal_relevance(relevance, d1, d2):
    near, far = sorted((d1, d2))
    assert ranking.score(relevance, near) >= ranking.score(relevance, far)


@given(relevances, relevances, st.one_of(st.none(), distances))
def test_more_relevant_never_ranks_lower_at_equal_distance(r1, r2, distance):
    low, high = sorted((r1, r2))
    assert ranking.score(high, distance) >= ranking.score(low, distance)


@given(relevances, st.one_of(st.none(), distances))
def test_nearness_is_a_bounded_boost_and_never_lifts_the_irrelevant(relevance, distance):
    value = ranking.score(relevance, distance)
    assert relevance <= value <= relevance * (1 + ranking.NEAR_BOOST) + 1e-12
    assert ranking.score(0.0, distance) == 0.0
    assert ranking.score(relevance, None) == relevance


def test_the_boost_halves_at_the_half_boost_distance():
    assert ranking.nearness(0) == 1.0
    assert math.isclose(ranking.nearness(ranking.HALF_BOOST_KM), 0.5)


@given(st.floats(0, 1), st.floats(0, 1))
def test_relevance_stays_within_zero_and_one(text_rank, similarity):
    assert 0 <= ranking.relevance(text_rank, similarity) <= 1


def destination(lat: float, lon: float, bearing_deg: float, km: float) -> tuple[float, float]:
    delta = km / ranking.EARTH_RADIUS_KM
    phi, lam, theta = math.radians(lat), math.radians(lon), math.radians(bearing_deg)
    phi2 = math.asin(math.sin(phi) * math.cos(delta) + math.cos(phi) * math.sin(delta) * math.cos(theta))
    lam2 = lam + math.atan2(
        math.sin(theta) * math.sin(delta) * math.cos(phi), math.cos(delta) - math.sin(phi) * math.sin(phi2)
    )
    return math.degrees(phi2), (math.degrees(lam2) + 540) % 360 - 180


@given(latitudes, st.floats(-170, 170), st.floats(0, 360), st.floats(0.1, 500), st.floats(0, 1))
@example(36.0, 0.0, 0.0, 2.0, 1.0)  # due north, right on the circle: once outside by 1e-14 degrees
def test_the_bounding_box_holds_every_point_within_the_radius(lat, lon, bearing, radius, fraction):
    point = destination(lat, lon, bearing, radius * fraction)
    if abs(point[1] - lon) > 180 - 1e-9:
        return  # crossed the antimeridian: the UK never does
    assert ranking.haversine_km(lat, lon, *point) <= radius + 1e-6
    assert ranking.bounding_box(lat, lon, radius).contains(*point)


@given(latitudes, longitudes, latitudes, longitudes)
def test_haversine_is_symmetric_and_zero_on_itself(lat1, lon1, lat2, lon2):
    assert math.isclose(ranking.haversine_km(lat1, lon1, lat2, lon2), ranking.haversine_km(lat2, lon2, lat1, lon1))
    assert ranking.haversine_km(lat1, lon1, lat1, lon1) == 0


def test_known_distance_hebden_bridge_to_leeds():
    assert 29 < ranking.haversine_km(53.7420, -2.0110, 53.8008, -1.5491) < 33  # about 31 km as the crow flies


@given(st.text(max_size=300))
def test_query_terms_are_lower_case_words_once_each(text):
    terms = search_terms.query_terms(text)
    assert len(terms) <= search_terms.MAX_TERMS and len(set(terms)) == len(terms)
    assert all(term and term == term.casefold() and term.isalnum() for term in terms)


def test_query_terms_and_place_lookups():
    assert search_terms.query_terms("Farmhouse CHEDDAR, farmhouse!") == ["farmhouse", "cheddar"]
    assert search_terms.place_lookups("HX7 8AD") == [("postcode", "hx7"), ("town", "hx78ad")]
    assert search_terms.place_lookups("ol14") == [("postcode", "ol14"), ("town", "ol14")]
    assert search_terms.place_lookups("Hebden Bridge") == [("town", "hebdenbridge")]
    assert search_terms.place_lookups("Robin Hood's Bay") == [("town", "robinhoodsbay")]
    assert search_terms.place_lookups("  ") == []
