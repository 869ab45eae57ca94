"""Seed the default plan catalog (Starter, Growth, Scale, Dedicated); see billing/catalog_defaults.py."""

from django.db import migrations

from billing.catalog_defaults import remove_default_catalog, seed_default_catalog


def seed(apps, schema_editor):
    seed_default_catalog(apps)


def unseed(apps, schema_editor):
    remove_default_catalog(apps)


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
