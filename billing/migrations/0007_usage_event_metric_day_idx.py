from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class AddIndexConcurrentlyInPublic(AddIndexConcurrently):
    """CREATE INDEX CONCURRENTLY where the table is (public); nothing at all in a store's schema, which has
    no billing tables and is made by migrating inside a transaction (tenants.schema_pool), where Django's
    own operation would refuse to run even though the router skips it there."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if self.allow_migrate_model(
            schema_editor.connection.alias, to_state.apps.get_model(app_label, self.model_name)
        ):
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if self.allow_migrate_model(
            schema_editor.connection.alias, from_state.apps.get_model(app_label, self.model_name)
        ):
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    # Built concurrently: the table takes every store's usage as it happens (a paid order records its own
    # in its transaction), and a plain CREATE INDEX would hold those inserts for the whole build.
    atomic = False

    dependencies = [
        ("billing", "0006_usage_event_forwarded_at"),
        ("tenants", "0004_state_changes_and_platform_roles"),
    ]

    operations = [
        AddIndexConcurrentlyInPublic(
            model_name="usageevent",
            index=models.Index(
                fields=["metric", "occurred_at"], include=("quantity", "tenant"), name="usage_event_metric_day_idx"
            ),
        ),
    ]
