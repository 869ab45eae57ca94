"""The gazetteer seeded by migration: demo towns resolve, postcode districts sit by their towns."""

from __future__ import annotations

import pytest

from devtools.demo import DEMO_STORES
from storefront.marketplace import ranking
from storefront.marketplace.models import Place
from storefront.marketplace.selectors import resolve_place

pytestmark = pytest.mark.django_db


def test_the_gazetteer_is_seeded_within_great_britain():
    assert Place.objects.filter(kind="town").count() > 150
    assert Place.objects.filter(kind="postcode").count() > 100
    assert not Place.objects.exclude(lat__range=(49.9, 60.9), lon__range=(-8.2, 1.8)).exists()


@pytest.mark.parametrize("store", DEMO_STORES, ids=lambda store: store.subdomain)
def test_demo_towns_and_postcodes_resolve_to_the_same_place(store):
    town, postcode = resolve_place(store.town), resolve_place(store.postcode)
    assert town is not None and postcode is not None
    assert ranking.haversine_km(town.lat, town.lon, postcode.lat, postcode.lon) < 3


@pytest.mark.parametrize(
    ("district", "town"),
    [
        ("HX7", "Hebden Bridge"),
        ("OL14", "Todmorden"),
        ("HX1", "Halifax"),
        ("LS1", "Leeds"),
        ("YO1", "York"),
        ("HG1", "Harrogate"),
        ("CA12", "Keswick"),
        ("SK17", "Buxton"),
        ("BD23", "Skipton"),
        ("M1", "Manchester"),
    ],
)
def test_postcode_districts_sit_by_their_towns(district, town):
    a, b = resolve_place(district), resolve_place(town)
    assert ranking.haversine_km(a.lat, a.lon, b.lat, b.lon) < 5
