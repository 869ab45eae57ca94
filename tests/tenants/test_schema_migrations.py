"""The tenant schema migration runner (manage.py migrate_tenants): no-op runs, new migrations across
every schema, interrupted and failed runs that resume, drift, and schemas with no history."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django_tenants.utils import quote_schema_name

from onboarding.services import sign_up_merchant
from tenants import schema_pool
from tenants.models import PooledSchema, SchemaMigrationState
from tenants.schema_migrations import check_schema_drift, migration_target, run_schema_migrations
from tests.conftest import signup_request, wait_for

# The catalog's real migrations; the test's new one comes after the latest of them.
CATALOG_MIGRATIONS = sorted(
    (Path(__file__).resolve().parents[2] / "storefront" / "catalog" / "migrations").glob("[0-9]*.py")
)
LATEST_MIGRATION = CATALOG_MIGRATIONS[-1].stem
NEW_MIGRATION = f"{int(LATEST_MIGRATION[:4]) + 1:04d}_gift_note_and_coupon"
# A column and a model: the model also needs the content type and permissions post_migrate makes.
NEW_MIGRATION_SOURCE = """
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("catalog", "LATEST_MIGRATION")]
    operations = [
        migrations.AddField("product", "gift_note", models.CharField(max_length=200, null=True)),
        migrations.CreateModel(
            "Coupon",
            [
                ("id", models.BigAutoField(primary_key=True)),
                ("code", models.CharField(max_length=20, unique=True)),
                ("product", models.ForeignKey("catalog.product", on_delete=models.CASCADE)),
            ],
            options={"permissions": [("redeem_coupon", "Can redeem a coupon")]},
        ),
    ]
"""


def _query(sql: str, params: Any = None) -> list[tuple[Any, ...]]:
    connection.set_schema_to_public()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _execute(sql: str, params: Any = None) -> None:
    connection.set_schema_to_public()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _schemas_with_gift_note() -> set[str]:
    rows = _query(
        "SELECT table_schema FROM information_schema.columns"
        " WHERE table_name = 'catalog_product' AND column_name = 'gift_note'"
    )
    return {schema for (schema,) in rows}


def _schemas_recording(app: str, name: str) -> set[str]:
    schemas = [s for (s,) in _query("SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%%'")]
    found = set()
    for schema in schemas:
        if _query("SELECT to_regclass(%s)", [f"{quote_schema_name(schema)}.django_migrations"])[0][0]:
            table = f"{quote_schema_name(schema)}.django_migrations"
            if _query(f"SELECT 1 FROM {table} WHERE app = %s AND name = %s", [app, name]):
                found.add(schema)
    return found


def _managed_schemas() -> set[str]:
    return {schema_pool.template_schema_name()} | set(PooledSchema.objects.values_list("schema_name", flat=True))


@pytest.fixture
def stores(committed_tenancy: None) -> list[str]:
    """Three live stores whose signups committed (the runner's workers use their own connections),
    and two schemas in the pool."""
    names = [sign_up_merchant(signup_request()).tenant.schema_name for _ in range(3)]
    schema_pool.refill_schema_pool(2)
    return names


@pytest.fixture
def add_catalog_migration(stores: list[str], tmp_path: Path, settings: Any, monkeypatch: Any) -> Iterator[Any]:
    """Call it to give the catalog app a new migration (by default a nullable column and a model) through
    a temporary MIGRATION_MODULES package, whose name it returns. Afterwards the column and its records
    are taken out of every schema again, so the template and the pool are as the rest of the session
    expects them."""
    package = f"catalog_migrations_{uuid.uuid4().hex[:8]}"
    (tmp_path / package).mkdir()
    (tmp_path / package / "__init__.py").write_text("")
    for migration in CATALOG_MIGRATIONS:
        shutil.copy(migration, tmp_path / package)
    monkeypatch.syspath_prepend(str(tmp_path))

    def add(source: str = NEW_MIGRATION_SOURCE) -> str:
        (tmp_path / package / f"{NEW_MIGRATION}.py").write_text(source.replace("LATEST_MIGRATION", LATEST_MIGRATION))
        settings.MIGRATION_MODULES = {"catalog": package}
        return package

    yield add
    for schema in _schemas_with_gift_note():
        _execute(f"ALTER TABLE {quote_schema_name(schema)}.catalog_product DROP COLUMN gift_note")
        _execute(f"DROP TABLE IF EXISTS {quote_schema_name(schema)}.catalog_coupon")
    for schema in _schemas_recording("catalog", NEW_MIGRATION):
        table = f"{quote_schema_name(schema)}.django_migrations"
        _execute(f"DELETE FROM {table} WHERE app = 'catalog' AND name = %s", [NEW_MIGRATION])
    for (schema,) in _query("SELECT table_schema FROM information_schema.tables WHERE table_name = 'auth_permission'"):
        quoted = quote_schema_name(schema)
        _execute(
            f"DELETE FROM {quoted}.auth_permission WHERE content_type_id IN"
            f" (SELECT id FROM {quoted}.django_content_type WHERE app_label = 'catalog' AND model = 'coupon')"
        )
        _execute(f"DELETE FROM {quoted}.django_content_type WHERE app_label = 'catalog' AND model = 'coupon'")


def _states() -> dict[str, SchemaMigrationState]:
    return {state.schema_name: state for state in SchemaMigrationState.objects.all()}


def test_noop_run_changes_nothing_and_costs_two_queries(stores: list[str], django_assert_num_queries: Any) -> None:
    # Given every schema recorded by a first run
    first = run_schema_migrations()
    assert first.ok and not first.applied
    assert first.recorded == len(_managed_schemas() | set(stores))
    before = {name: state.updated_at for name, state in _states().items()}

    # When nothing changed: the public check and the one comparison of recorded states
    with django_assert_num_queries(2):
        report = run_schema_migrations()

    # Then nothing is migrated or rewritten
    assert report.managed == len(before)
    assert (report.out_of_date, report.recorded, report.applied) == (0, 0, [])
    assert {name: state.updated_at for name, state in _states().items()} == before


def test_noop_command_reports_nothing_to_migrate(stores: list[str], capsys: Any) -> None:
    call_command("migrate_tenants")
    call_command("migrate_tenants")

    out = capsys.readouterr().out.splitlines()
    assert "public: up to date" in out
    assert out[-1].startswith(f"done: {len(_managed_schemas() | set(stores))} schemas managed, 0 out of date")


def test_new_migration_is_applied_to_every_store_pool_and_template_schema(
    stores: list[str], add_catalog_migration: Any, capsys: Any
) -> None:
    # Given schemas recorded at the old state
    run_schema_migrations()
    managed = _managed_schemas() | set(stores)

    # When the project gains a catalog migration
    add_catalog_migration()
    call_command("migrate_tenants", workers=2)

    # Then every schema has the column and the record, and its state says so
    assert managed <= _schemas_with_gift_note()
    assert managed <= _schemas_recording("catalog", NEW_MIGRATION)
    target = migration_target()
    states = _states()
    assert all(states[name].state_digest == target.digest and states[name].status == "applied" for name in managed)
    out = capsys.readouterr().out
    assert f"catalog.{NEW_MIGRATION}; SQL replay" in out
    assert f"{len(managed)} migrated, 0 recorded as up to date, 0 failed, 0 drifted" in out
    # And a store signed up afterwards (from the pool) has the new schema, its state row renamed with it
    new_store = sign_up_merchant(signup_request()).tenant.schema_name
    assert new_store in _schemas_with_gift_note()
    assert _states()[new_store].state_digest == target.digest
    assert run_schema_migrations().out_of_date == 0


def test_an_interrupted_run_is_completed_by_the_next_one(stores: list[str], add_catalog_migration: Any) -> None:
    run_schema_migrations()
    managed = _managed_schemas() | set(stores)
    add_catalog_migration()

    # When a run stops after two schemas
    first = run_schema_migrations(limit=2)

    # Then exactly those two are migrated and recorded; the rest still record the old state
    assert len(first.applied) == 2 and first.not_attempted == len(managed) - 2
    target = migration_target()
    done = {name for name, state in _states().items() if state.state_digest == target.digest}
    assert done == set(first.applied) == _schemas_with_gift_note() & managed
    stamps = {name: _states()[name].updated_at for name in done}

    # And the next run migrates only the rest
    second = run_schema_migrations()
    assert set(second.applied) == managed - done
    assert managed <= _schemas_with_gift_note()
    assert {name: _states()[name].updated_at for name in done} == stamps


def test_a_failing_schema_is_recorded_failed_and_retried_without_holding_up_the_others(
    stores: list[str], add_catalog_migration: Any
) -> None:
    run_schema_migrations()
    add_catalog_migration()
    broken = stores[1]
    _execute(f"ALTER TABLE {quote_schema_name(broken)}.catalog_product ADD COLUMN gift_note text")

    with pytest.raises(CommandError, match="not migrated"):
        call_command("migrate_tenants")

    state = _states()[broken]
    assert state.status == "failed" and "already exists" in state.error
    assert broken not in _schemas_recording("catalog", NEW_MIGRATION)
    assert (_managed_schemas() | set(stores)) - {broken} <= _schemas_recording("catalog", NEW_MIGRATION)

    # When the schema is repaired, the next run picks it up again from its real history
    _execute(f"ALTER TABLE {quote_schema_name(broken)}.catalog_product DROP COLUMN gift_note")
    report = run_schema_migrations()
    assert report.applied == [broken]
    assert _states()[broken].status == "applied"


def test_drift_is_detected_reported_and_kept_aside(stores: list[str], capsys: Any) -> None:
    run_schema_migrations()
    drifted = stores[0]
    _execute(
        f"DELETE FROM {quote_schema_name(drifted)}.django_migrations WHERE app = 'sessions' AND name = '0001_initial'"
    )

    with pytest.raises(CommandError, match="1 schemas drifted"):
        call_command("migrate_tenants", check_drift=True)

    out = capsys.readouterr().out
    assert f"drifted: {drifted}: " in out and "missing ['sessions.0001_initial']" in out
    assert _states()[drifted].status == "drift"
    # A migration run leaves the drifted schema alone and says so
    report = run_schema_migrations()
    assert list(report.drifted) == [drifted] and not report.applied
    call_command("migrate_tenants", status=True)
    assert f"needs attention: {drifted}: drift" in capsys.readouterr().out
    # Once repaired, the next drift check marks it up to date again
    _execute(
        f"INSERT INTO {quote_schema_name(drifted)}.django_migrations (app, name, applied)"
        " VALUES ('sessions', '0001_initial', now())"
    )
    assert check_schema_drift().drifted == {}
    assert _states()[drifted].status == "applied"


def test_rediscover_takes_a_drifted_schema_back_at_its_real_history(stores: list[str]) -> None:
    run_schema_migrations()
    drifted = stores[0]
    SchemaMigrationState.objects.filter(schema_name=drifted).update(status="drift", state_digest="0" * 64)

    assert list(run_schema_migrations().drifted) == [drifted]
    report = run_schema_migrations(rediscover=True)

    assert report.ok and report.recorded == 1
    assert _states()[drifted].status == "applied"
    assert _states()[drifted].state_digest == migration_target().digest


def _structure(schema: str) -> set[tuple[Any, ...]]:
    columns = _query(
        "SELECT table_name, column_name, data_type, is_nullable, character_maximum_length"
        " FROM information_schema.columns WHERE table_schema = %s",
        [schema],
    )
    constraints = _query(
        "SELECT c.conrelid::regclass::text, c.contype, pg_get_constraintdef(c.oid) FROM pg_constraint c"
        " JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = %s",
        [schema],
    )
    indexes = _query("SELECT indexname FROM pg_indexes WHERE schemaname = %s", [schema])
    permissions = _query(
        f"SELECT ct.app_label, ct.model, p.codename FROM {quote_schema_name(schema)}.auth_permission p"
        f" JOIN {quote_schema_name(schema)}.django_content_type ct ON ct.id = p.content_type_id"
    )
    # Constraint definitions name the schema of the tables they reference.
    unqualified = {
        ("constraint", table.split(".")[-1], kind, definition.replace(f"{schema}.", ""))
        for table, kind, definition in constraints
    }
    return (
        {("column", *row) for row in columns}
        | unqualified
        | {("index", *row) for row in indexes}
        | {("permission", *row) for row in permissions}
    )


@pytest.mark.usefixtures("committed_tenancy")
def test_a_schema_with_no_history_is_migrated_to_match_the_template() -> None:
    # Given an empty pooled schema (made outside the runner, e.g. by hand)
    name = f"pool_empty{uuid.uuid4().hex[:8]}"
    _execute(f"CREATE SCHEMA {quote_schema_name(name)}")
    PooledSchema.objects.create(schema_name=name)

    report = run_schema_migrations()

    assert name in report.applied and report.ok, report.failed
    made, template = _structure(name), _structure(schema_pool.template_schema_name())
    assert made == template, (made - template, template - made)
    assert _states()[name].state_digest == migration_target().digest


def test_sql_replay_gives_the_schema_django_migrate_gives(stores: list[str], add_catalog_migration: Any) -> None:
    # Given the template (made by Django's migrate) at the old state, and an empty schema that Django's
    # executor will migrate from scratch. (Stores are compared with neither: django-tenants' clone
    # gives unique constraints names of its own.)
    run_schema_migrations()
    empty = f"pool_empty{uuid.uuid4().hex[:8]}"
    _execute(f"CREATE SCHEMA {quote_schema_name(empty)}")
    PooledSchema.objects.create(schema_name=empty)
    template = schema_pool.template_schema_name()

    add_catalog_migration()
    report = run_schema_migrations()

    assert report.ok and {template, empty} <= set(report.applied)
    replayed, migrated = _structure(template), _structure(empty)
    assert replayed == migrated, (replayed - migrated, migrated - replayed)
    assert ("permission", "catalog", "coupon", "redeem_coupon") in replayed


def test_a_later_operation_failing_leaves_none_of_the_migration_in_that_schema(
    stores: list[str], add_catalog_migration: Any, capsys: Any
) -> None:
    # Given a store whose schema already has a table of the name the migration's second operation creates
    run_schema_migrations()
    managed = _managed_schemas() | set(stores)
    add_catalog_migration()
    broken = stores[1]
    _execute(f"CREATE TABLE {quote_schema_name(broken)}.catalog_coupon (id bigint)")

    # When the migration runs: its first operation (the column) succeeds there, its second fails
    with pytest.raises(CommandError, match="not migrated"):
        call_command("migrate_tenants")

    # Then that schema's replay (and Django's retry) left nothing of the migration: no column, no record
    out = capsys.readouterr().out
    assert f"catalog.{NEW_MIGRATION}; SQL replay" in out
    assert "1 schemas failed the SQL replay; retrying them with Django's executor" in out
    assert broken not in _schemas_with_gift_note()
    assert broken not in _schemas_recording("catalog", NEW_MIGRATION)
    columns = _query(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = 'catalog_coupon'",
        [broken],
    )
    assert columns == [("id",)]
    state = _states()[broken]
    assert state.status == "failed" and "already exists" in state.error
    # And every other schema was migrated
    assert managed - {broken} <= _schemas_with_gift_note() & _schemas_recording("catalog", NEW_MIGRATION)
    assert {name for name, state in _states().items() if state.status != "applied"} == {broken}

    # When the schema is repaired, the next run migrates it
    _execute(f"DROP TABLE {quote_schema_name(broken)}.catalog_coupon")
    assert run_schema_migrations().applied == [broken]
    assert managed <= _schemas_with_gift_note()


# A migration that records each schema it commits in (public.test_migration_log), and waits, inside the
# schema's transaction, while the test holds that schema (public.test_migration_hold): a stand-in for
# a slow statement that lets the test kill the runner with a schema half-migrated, at no timing's mercy.
HELD_MIGRATION_SOURCE = """
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("catalog", "LATEST_MIGRATION")]
    operations = [
        migrations.AddField("product", "gift_note", models.CharField(max_length=200, null=True)),
        migrations.RunSQL("INSERT INTO public.test_migration_log (schema_name) VALUES (current_schema())"),
        migrations.RunSQL(
            "DO $$ BEGIN"
            " WHILE EXISTS (SELECT 1 FROM public.test_migration_hold WHERE schema_name = current_schema())"
            " LOOP PERFORM pg_sleep(0.05); END LOOP;"
            " END $$"
        ),
    ]
"""


@pytest.fixture
def migration_gate(stores: list[str]) -> Iterator[None]:
    _execute("CREATE TABLE public.test_migration_log (schema_name text NOT NULL)")
    _execute("CREATE TABLE public.test_migration_hold (schema_name text PRIMARY KEY)")
    yield
    # Whatever still waits on a hold goes on, and ends, before the tables go.
    _execute("DELETE FROM public.test_migration_hold")
    wait_for(lambda: not _runner_sessions(), seconds=60, what="every migrate_tenants session to end")
    _execute("DROP TABLE public.test_migration_log, public.test_migration_hold")


def _database_url() -> str:
    params = connection.settings_dict
    return f"postgres://{params['USER']}@{params['HOST']}:{params['PORT']}/{params['NAME']}"


def _runner_sessions() -> list[tuple[int, str, str]]:
    """The database sessions of migrate_tenants runs: (pid, state, query)."""
    return _query(
        "SELECT pid, state, query FROM pg_stat_activity"
        " WHERE application_name = 'migrate_tenants' AND datname = current_database()"
    )


@pytest.mark.slow
@pytest.mark.usefixtures("migration_gate")
def test_a_run_killed_mid_schema_is_finished_by_the_next_each_schema_migrated_once(
    stores: list[str], add_catalog_migration: Any, tmp_path: Path
) -> None:
    # Given every schema recorded at the old state, a new migration, and the stores' schemas held
    # (the runner does the template and the pool first)
    run_schema_migrations()
    managed = _managed_schemas() | set(stores)
    package = add_catalog_migration(HELD_MIGRATION_SOURCE)
    target = migration_target()
    for store in stores:
        _execute("INSERT INTO public.test_migration_hold VALUES (%s)", [store])
    (tmp_path / "killed_run_settings.py").write_text(
        f"from config.settings import *  # noqa: F403\nMIGRATION_MODULES = {{'catalog': {package!r}}}\n"
    )
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "DJANGO_SETTINGS_MODULE": "killed_run_settings",
        "PYTHONPATH": str(tmp_path),
    }
    with open(tmp_path / "run.log", "wb") as log:
        runner = subprocess.Popen(
            [sys.executable, "manage.py", "migrate_tenants", "--workers", "2"],
            cwd=Path(settings.BASE_DIR),
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        # When the run is SIGKILLed once every other schema is recorded migrated and a worker is in
        # the middle of a held store's schema
        def only_held_left() -> bool:
            done = SchemaMigrationState.objects.filter(
                schema_name__in=managed, state_digest=target.digest, status="applied"
            )
            in_flight = [q for _, state, q in _runner_sessions() if state == "active" and "test_migration_hold" in q]
            return set(done.values_list("schema_name", flat=True)) == managed - set(stores) and bool(in_flight)

        wait_for(only_held_left, seconds=180, what=f"the run to reach the held schemas ({tmp_path / 'run.log'})")
        runner.send_signal(signal.SIGKILL)
        assert runner.wait(timeout=30) == -signal.SIGKILL
    finally:
        runner.kill()
        runner.wait(timeout=30)
    done = {name: state.updated_at for name, state in _states().items() if state.state_digest == target.digest}

    # Then the killed run's sessions end without it (their transactions rolled back), held or not
    wait_for(lambda: not _runner_sessions(), seconds=60, what="the killed run's database sessions to end")
    assert _schemas_with_gift_note() & managed == set(done) == managed - set(stores)
    assert {name for (name,) in _query("SELECT schema_name FROM public.test_migration_log")} == set(done)

    # And the next run migrates exactly the stores' schemas
    _execute("DELETE FROM public.test_migration_hold")
    report = run_schema_migrations()
    assert report.ok and sorted(report.applied) == sorted(stores)

    # And every schema is migrated once: one commit of the migration, one record, its state up to date
    commits = _query("SELECT schema_name, count(*) FROM public.test_migration_log GROUP BY schema_name")
    assert dict(commits) == {name: 1 for name in managed}
    for schema in managed:
        table = f"{quote_schema_name(schema)}.django_migrations"
        assert _query(f"SELECT count(*) FROM {table} WHERE app = 'catalog' AND name = %s", [NEW_MIGRATION]) == [(1,)]
    states = _states()
    assert all(states[name].state_digest == target.digest and states[name].status == "applied" for name in managed)
    assert {name: states[name].updated_at for name in done} == done
