"""In-store search: the weighted text-search index and the trigram index of titles (typo fallback).

pg_trgm is installed once per database in `public` (every tenant's search_path ends in public), not in
a tenant schema: an extension belongs to exactly one schema and a cloned or dumped tenant schema must
not carry its own copy. catalog is a tenant app, which the tenant router keeps out of `public`, so the
extension is created by an operation that runs whatever schema the migration is applied to; migrate
runs `public` first, and `IF NOT EXISTS` makes every later run a no-op. pg_trgm is a trusted extension
(PostgreSQL 13+): the database owner may create it without superuser rights.
"""

from typing import Any

import django.contrib.postgres.indexes
from django.db import migrations, models

import storefront.catalog.product_search


class CreateExtensionInPublic(migrations.operations.base.Operation):
    reduces_to_sql = True
    reversible = True

    def __init__(self, name: str) -> None:
        self.name = name

    def state_forwards(self, app_label: str, state: Any) -> None:
        pass

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        # Deliberately not subject to the router (see the module docstring).
        name = schema_editor.quote_name(self.name)
        schema_editor.execute(f"CREATE EXTENSION IF NOT EXISTS {name} WITH SCHEMA public")

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        # Other schemas' indexes (and other apps) may use it: leave it installed.
        pass

    def describe(self) -> str:
        return f"Create extension {self.name} in public"


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0002_categories_tags_seller_profile_imports"),
    ]

    operations = [
        CreateExtensionInPublic("pg_trgm"),
        migrations.AddIndex(
            model_name="product",
            index=django.contrib.postgres.indexes.GinIndex(
                storefront.catalog.product_search.ProductDocument(),
                condition=models.Q(("status", "active")),
                name="product_document_gin",
            ),
        ),
        migrations.AddIndex(
            model_name="product",
            index=django.contrib.postgres.indexes.GinIndex(
                condition=models.Q(("status", "active")),
                fields=["title"],
                name="product_title_trgm",
                opclasses=["gin_trgm_ops"],
            ),
        ),
    ]
