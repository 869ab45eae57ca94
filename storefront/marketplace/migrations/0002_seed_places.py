"""Seed the gazetteer from data/uk_places.csv (towns and postcode districts of northern England)."""

import csv
from pathlib import Path

from django.db import migrations

from storefront.marketplace.search_terms import place_key

CSV_PATH = Path(__file__).resolve().parent.parent / "data" / "uk_places.csv"


def seed_places(apps, schema_editor):
    Place = apps.get_model("marketplace", "Place")
    with CSV_PATH.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    Place.objects.bulk_create(
        [
            Place(
                name=row["name"],
                key=place_key(row["name"]),
                kind=row["kind"],
                country=row["country"],
                lat=float(row["lat"]),
                lon=float(row["lon"]),
            )
            for row in rows
        ],
        ignore_conflicts=True,
    )


def unseed_places(apps, schema_editor):
    apps.get_model("marketplace", "Place").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("marketplace", "0001_initial")]

    operations = [migrations.RunPython(seed_places, unseed_places)]
