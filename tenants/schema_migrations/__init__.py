"""The tenant schema migration runner: Django migrations applied across thousands of tenant schemas.

Each schema's migration state is recorded in SchemaMigrationState as a digest of the migrations in its
``django_migrations`` table, so a no-op run is one query comparing those digests with the project's
migration graph. A real run groups out-of-date schemas by their recorded state, works the group's SQL
out once on a canary schema (rehearsed there, then rolled back), and replays it on every schema in
parallel: one transaction per schema that also writes the schema's new state, so a killed run resumes
exactly where it stopped. Plans that cannot be written as SQL (RunPython, non-atomic migrations) go
through Django's own executor, one schema at a time.
"""

from tenants.schema_migrations.applying import run_schema_migrations
from tenants.schema_migrations.drift import (
    DriftReport,
    MigrationStatus,
    check_schema_drift,
    schema_migration_status,
)
from tenants.schema_migrations.state import (
    MigrationRunError,
    MigrationTarget,
    RunReport,
    migration_target,
)

__all__ = [
    "DriftReport",
    "MigrationRunError",
    "MigrationStatus",
    "MigrationTarget",
    "RunReport",
    "check_schema_drift",
    "migration_target",
    "run_schema_migrations",
    "schema_migration_status",
]
