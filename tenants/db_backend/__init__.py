"""The tenant-aware PostgreSQL backend (see base.py), and the default connection typed as it.

Import ``connection`` from here, not from django.db, where code calls the tenant methods
(set_tenant, set_schema_to_public, schema_name): it is the same per-thread proxy, typed for mypy.
"""

from typing import TYPE_CHECKING, cast

from django.db import connection as _default_connection

if TYPE_CHECKING:
    from tenants.db_backend.base import DatabaseWrapper

connection = cast("DatabaseWrapper", _default_connection)
