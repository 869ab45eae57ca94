"""The staff console's indexes: one per sort of the tenant list (keyset pages) and trigram indexes for its
search. pg_trgm lives in `public` once per database (see storefront/catalog/migrations/0003); the tenants
app migrates in `public` only, and IF NOT EXISTS makes this a no-op where the marketplace made it first."""

import django.contrib.postgres.indexes
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('tenants', '0004_state_changes_and_platform_roles'),
    ]

    operations = [
        TrigramExtension(),
        migrations.AddIndex(
            model_name='domain',
            index=django.contrib.postgres.indexes.GinIndex(fields=['domain'], name='domain_trgm', opclasses=['gin_trgm_ops']),
        ),
        migrations.AddIndex(
            model_name='tenant',
            index=models.Index(fields=['-created_at', '-id'], name='tenant_newest_idx'),
        ),
        migrations.AddIndex(
            model_name='tenant',
            index=models.Index(fields=['name', 'id'], name='tenant_name_idx'),
        ),
        migrations.AddIndex(
            model_name='tenant',
            index=models.Index(fields=['-status', '-created_at', '-id'], name='tenant_status_idx'),
        ),
        migrations.AddIndex(
            model_name='tenant',
            index=django.contrib.postgres.indexes.GinIndex(fields=['name'], name='tenant_name_trgm', opclasses=['gin_trgm_ops']),
        ),
        migrations.AddIndex(
            model_name='tenant',
            index=django.contrib.postgres.indexes.GinIndex(fields=['slug'], name='tenant_slug_trgm', opclasses=['gin_trgm_ops']),
        ),
        migrations.AddIndex(
            model_name='tenant',
            index=django.contrib.postgres.indexes.GinIndex(fields=['owner_email'], name='tenant_owner_email_trgm', opclasses=['gin_trgm_ops']),
        ),
    ]
