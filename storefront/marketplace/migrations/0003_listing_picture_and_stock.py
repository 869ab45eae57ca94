"""Listings carry their picture (a thumbnail URL) and the units left to sell. Both columns are added
without rewriting the table: rows published before keep "" and null until their store republishes."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("marketplace", "0002_seed_places"),
    ]

    operations = [
        migrations.AddField(
            model_name="listing",
            name="stock",
            field=models.IntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="listing",
            name="thumbnail_url",
            field=models.CharField(blank=True, db_default="", default="", max_length=500),
        ),
        migrations.AddConstraint(
            model_name="listing",
            constraint=models.CheckConstraint(
                condition=models.Q(("stock__isnull", True), ("stock__gte", 0), _connector="OR"),
                name="listing_stock_non_negative",
            ),
        ),
    ]
