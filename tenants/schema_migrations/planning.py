"""Working a group's migrations out as one SQL script on a canary schema (rehearsed there, rolled back)."""

from __future__ import annotations

from django.apps import apps as global_apps
from django.db import router, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.migration import Migration
from django.db.migrations.operations import (
    RenameModel,
    RunPython,
    SeparateDatabaseAndState,
)
from django.db.migrations.operations.base import Operation
from django.db.migrations.state import StateApps

from tenants.db_backend import connection
from tenants.schema_migrations.state import (
    LOCK_TIMEOUT,
    GroupPlan,
    MigrationTarget,
    _DriftError,
    state_digest,
)

# --- Planning a group on its canary --------------------------------------------------------------


def _is_effective_in_tenants(operation: Operation, app_label: str) -> bool:
    """Whether the tenant router lets this operation touch a tenant schema (the connection's schema)."""
    return router.allow_migrate(connection.alias, app_label, **getattr(operation, "hints", {})) is not False


def _reduces_to_sql(operation: Operation) -> bool:
    if isinstance(operation, SeparateDatabaseAndState):
        return all(_reduces_to_sql(inner) for inner in operation.database_operations)
    if isinstance(operation, RunPython):
        return operation.code is RunPython.noop
    # A renamed model's content type is renamed by Python that Django's migrate injects.
    return operation.reduces_to_sql and not isinstance(operation, RenameModel)


def _why_not_sql(plan: list[tuple[Migration, bool]], pre_keys: frozenset[str]) -> str:
    if not pre_keys:
        return "the schema has no migration history yet"
    for migration, _backwards in plan:
        label = f"{migration.app_label}.{migration.name}"
        effective = [op for op in migration.operations if _is_effective_in_tenants(op, migration.app_label)]
        if any(not _reduces_to_sql(op) for op in effective):
            return f"{label} runs Python"
        if effective and not migration.atomic:
            return f"{label} is not atomic"
    return ""


def _content_types_sql(state_apps: StateApps) -> str:
    """What Django's post_migrate handlers would add: content types and permissions, as idempotent SQL.

    Like create_contenttypes/create_permissions, every installed app's models get rows in a tenant
    schema when contenttypes and auth are tenant apps.
    """
    # The private helper is what create_permissions itself uses: the same rows, by construction.
    from django.contrib.auth.management import _get_all_permissions  # type: ignore[attr-defined]
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType

    if not (router.allow_migrate_model(connection.alias, ContentType)):
        return ""
    types: list[tuple[str, str]] = []
    permissions: list[tuple[str, str, str, str]] = []
    for app_config in global_apps.get_app_configs():
        if app_config.models_module is None:
            continue
        try:
            models = state_apps.get_app_config(app_config.label).get_models()
        except LookupError:
            continue
        for model in models:
            opts = model._meta
            model_name = str(opts.model_name)
            types.append((opts.app_label, model_name))
            permissions.extend((opts.app_label, model_name, code, name) for code, name in _get_all_permissions(opts))
    if not types:
        return ""
    compose = connection.ops.compose_sql  # type: ignore[attr-defined]  # PostgreSQL's operations
    statements = [
        compose(
            "INSERT INTO django_content_type (app_label, model) VALUES "
            + ", ".join(["(%s, %s)"] * len(types))
            + " ON CONFLICT (app_label, model) DO NOTHING;",
            [value for row in types for value in row],
        )
    ]
    if permissions and router.allow_migrate_model(connection.alias, Permission):
        statements.append(
            compose(
                "INSERT INTO auth_permission (name, content_type_id, codename)"
                " SELECT p.name, ct.id, p.codename FROM (VALUES "
                + ", ".join(["(%s, %s, %s, %s)"] * len(permissions))
                + ") AS p (app_label, model, codename, name)"
                " JOIN django_content_type ct ON ct.app_label = p.app_label AND ct.model = p.model"
                " ON CONFLICT (content_type_id, codename) DO NOTHING;",
                [value for row in permissions for value in row],
            )
        )
    return "\n".join(statements)


def _collect_and_rehearse(executor: MigrationExecutor, plan: list[tuple[Migration, bool]], inserts: list[str]) -> str:
    """The group's SQL, collected migration by migration on the canary and run there as it goes.

    Running each migration's SQL before collecting the next one keeps the schema editor's
    introspection (constraint names and the like) true for later migrations in the plan. The caller
    rolls the rehearsal back: the canary is then migrated by the workers like every other schema.
    """
    loader = executor.loader
    applied = [key for key in loader.applied_migrations if key in loader.graph.nodes]
    state = loader.project_state(applied, at_end=True)
    state.apps  # noqa: B018 - render once up front, as Django's executor does (performance critical)
    script: list[str] = []
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        for migration, _backwards in plan:
            with connection.schema_editor(collect_sql=True, atomic=False) as editor:
                state = migration.apply(state, editor, collect_sql=True)
            statements = [sql for sql in editor.collected_sql if not sql.startswith("--")]
            script.append(f"-- {migration.app_label}.{migration.name}")
            script.extend(statements)
            if statements:
                cursor.execute("\n".join(statements))
        bookkeeping = [_content_types_sql(state.apps)]
        if inserts:
            values = ", ".join(["(%s, %s, now())"] * len(inserts))
            params = [part for key in inserts for part in key.split(".", 1)]
            bookkeeping.append(
                connection.ops.compose_sql(  # type: ignore[attr-defined]
                    f"INSERT INTO django_migrations (app, name, applied) VALUES {values};",
                    params,
                )
            )
        bookkeeping = [sql for sql in bookkeeping if sql]
        if bookkeeping:
            cursor.execute("\n".join(bookkeeping))
    return "\n".join(script + bookkeeping)


def _plan_on_canary(canary: str, pre_digest: str, target: MigrationTarget) -> GroupPlan:
    connection.set_schema(canary)
    try:
        # In a transaction: the backend sends its SET LOCAL search_path (canary, public) once, so
        # django-tenants' introspection can narrow the path to the canary and not see public's tables
        # (its django_migrations above all). Nothing here is kept: the rehearsal is rolled back.
        with transaction.atomic():
            plan = _plan_in_transaction(canary, pre_digest, target)
            transaction.set_rollback(True)
        return plan
    finally:
        connection.set_schema_to_public()


def _plan_in_transaction(canary: str, pre_digest: str, target: MigrationTarget) -> GroupPlan:
    executor = MigrationExecutor(connection)
    try:
        executor.loader.check_consistent_history(connection)
    except Exception as error:  # InconsistentMigrationHistory: applied out of dependency order
        raise _DriftError(str(error)) from error
    recorded = {f"{app}.{name}" for app, name in executor.recorder.applied_migrations()}
    pre_keys = frozenset(recorded & target.keys)
    if state_digest(pre_keys) != pre_digest:
        raise _DriftError(f"recorded state {pre_digest[:12]}, found {state_digest(pre_keys)[:12]}")
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    names = tuple(f"{m.app_label}.{m.name}" for m, _ in plan)
    inserts = sorted(target.keys - pre_keys)
    planned = {f"{m.app_label}.{m.name}" for m, _ in plan}
    planned.update(f"{app}.{name}" for m, _ in plan for app, name in m.replaces)
    # Whatever the plan does not record itself must be a squash Django marks applied afterwards.
    marked = {f"{app}.{name}" for app, name in executor.loader.applied_migrations}
    reason = _why_not_sql(plan, pre_keys)
    if not reason and not set(inserts) <= planned | marked:
        reason = "the plan does not reach the full migration state"
    if reason:
        return GroupPlan(pre_keys, pre_digest, names, script=None, fallback_reason=reason)
    return GroupPlan(
        pre_keys,
        pre_digest,
        names,
        script=_collect_and_rehearse(executor, plan, inserts),
    )
