"""A dedicated store is billed for what it sells, measured by the platform: its stack records the store's
usage in its own database and forwards it (billing.usage_forwarding) to `POST /api/v1/dedicated/usage-events`
on the root host, where the store's publishing token, and nothing in the body, names the store. Each event
counts once there, whatever is resent, and nothing is lost when the platform is down."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from billing import selectors
from billing.models import UsageEvent
from billing.services import record_usage, record_usage_batch
from billing.usage_batches import UsageEventIn
from billing.usage_forwarding import ForwardFailed, PendingEvent, forward_usage
from provisioning import execution
from provisioning.backends.local import dedicated_environment
from provisioning.models import ProvisioningRun
from storefront.marketplace.services import issue_publishing_token
from tenants.models import Tenant
from tests.conftest import ROOT_HOST
from tests.provisioning.conftest import (
    databases_with_prefix,
    dedicated_database,
    drop_databases,
    drop_roles_with_prefix,
)
from tests.provisioning.dedicated_stack import serving

URL = "/api/v1/dedicated/usage-events"
MANAGE_PY = Path(django_settings.BASE_DIR) / "manage.py"
DAY = timedelta(days=1)


def post(client: Any, token: str | None, events: list[dict[str, Any]]) -> Any:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return client.post(URL, {"events": events}, format="json", **headers)


def sale(number: int, total: int = 12_500, **extra: Any) -> list[dict[str, Any]]:
    """A paid order's usage, as the order hook keys it."""
    return [
        {"metric": "orders", "quantity": 1, "idempotency_key": f"order-{number}-orders", **extra},
        {"metric": "gmv", "quantity": total, "idempotency_key": f"order-{number}-gmv", **extra},
    ]


def usage_of(tenant: Tenant) -> dict[str, int]:
    return dict(UsageEvent.objects.filter(tenant=tenant).values_list("idempotency_key", "quantity"))


@dataclass(frozen=True)
class DedicatedStore:
    tenant: Tenant
    publishing_token: str  # its stack's credential on the platform
    owner_token: str | None  # its owner's API token


@pytest.fixture
def kiln(make_store: Any) -> DedicatedStore:
    """A dedicated store (its stack would run on its own database), with its publishing token."""
    store = make_store(subdomain="kiln", email="kiln@example.com", tenancy="dedicated")
    return DedicatedStore(store.tenant, issue_publishing_token(store.tenant), store.token)


# --- The platform's endpoint ---------------------------------------------------------------------


@pytest.mark.django_db
def test_nobody_without_a_stores_publishing_token_can_add_usage(kiln: Any, root_api: Any) -> None:
    for token in (None, "lbp_not-a-token", kiln.owner_token):  # a store member's API token is no publishing token
        response = post(root_api, token, sale(1))

        assert (response.status_code, response["WWW-Authenticate"]) == (401, "Bearer"), token
    assert not UsageEvent.objects.exists()


@pytest.mark.django_db
def test_a_shared_stores_token_cannot_add_usage_the_platform_measures_itself(bakery: Any, root_api: Any) -> None:
    token = issue_publishing_token(bakery.tenant)

    response = post(root_api, token, sale(1))

    assert response.status_code == 403
    assert response.json()["code"] == "usage_measured_by_platform"
    assert not UsageEvent.objects.exists()


@pytest.mark.django_db
def test_a_dedicated_stores_batch_is_billed_to_it_once_whatever_is_resent(kiln: Any, root_api: Any) -> None:
    happened = (timezone.now() - timedelta(hours=2)).replace(microsecond=0)
    batch = sale(1001, occurred_at=happened.isoformat()) + [
        {"metric": "api_requests", "quantity": 420, "idempotency_key": "api-requests-1-ab"}
    ]

    first = post(root_api, kiln.publishing_token, batch)
    again = post(root_api, kiln.publishing_token, batch)  # the stack never saw the first answer

    assert first.status_code == 200, first.json()
    assert first.json() == {"accepted": 3, "duplicates": 0}
    assert again.json() == {"accepted": 0, "duplicates": 3}
    assert usage_of(kiln.tenant) == {"order-1001-orders": 1, "order-1001-gmv": 12_500, "api-requests-1-ab": 420}
    # In the period it happened in, and on the platform's bill from now on (nothing left to forward here).
    gmv = UsageEvent.objects.get(tenant=kiln.tenant, idempotency_key="order-1001-gmv")
    assert gmv.occurred_at == happened and gmv.forwarded_at is not None


@pytest.mark.parametrize(
    ("bad", "field", "code"),
    [
        ({"metric": "hugs"}, "metric", "unknown_metric"),
        ({"quantity": -1}, "quantity", "bad_quantity"),
        ({"quantity": 1.5}, "quantity", "bad_quantity"),
        ({"idempotency_key": ""}, "idempotency_key", "bad_idempotency_key"),
        ({"occurred_at": "yesterday"}, "occurred_at", "bad_occurred_at"),
        ({"occurred_at": "2099-01-01T00:00:00Z"}, "occurred_at", "usage_in_future"),
        ({"store": "bakery"}, "store", "unknown_store"),  # another store's name: the token decides
        ({"tenant_id": 1}, "tenant_id", "unknown_field"),
    ],
)
@pytest.mark.django_db
def test_a_batch_with_a_bad_event_is_refused_whole_naming_the_event_and_field(
    kiln: Any, bakery: Any, root_api: Any, bad: dict[str, Any], field: str, code: str
) -> None:
    good, wrong = sale(7)
    response = post(root_api, kiln.publishing_token, [good, {**wrong, **bad}])

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "usage_refused"
    assert [(e["index"], e["field"], e["code"]) for e in body["errors"]] == [(1, field, code)]
    assert not UsageEvent.objects.exists()  # neither the good event, nor anything for the store named


@pytest.mark.django_db
def test_the_endpoint_is_in_the_root_hosts_openapi_schema(root_api: Any) -> None:
    schema = root_api.get("/api/schema/?format=json").json()

    operation = schema["paths"][URL]["post"]
    assert operation["tags"] == ["billing"] and {"200", "400", "403"} <= set(operation["responses"])
    body = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    row = schema["components"]["schemas"][body]["properties"]["events"]["items"]["$ref"].rsplit("/", 1)[-1]
    assert "store" not in schema["components"]["schemas"][row]["properties"]


# --- The forwarder, batch by batch (a stand-in for the platform) -----------------------------------


class Platform:
    """Takes batches like the real endpoint, or fails the ones numbered in ``failing``."""

    def __init__(self, failing: Sequence[int] = ()) -> None:
        self.failing = set(failing)
        self.batches: list[list[str]] = []

    def send(self, events: Sequence[PendingEvent]) -> None:
        self.batches.append([event.idempotency_key for event in events])
        if len(self.batches) in self.failing:
            raise ForwardFailed("HTTP 503")


def unforwarded() -> list[str]:
    return list(
        UsageEvent.objects.filter(forwarded_at__isnull=True).order_by("pk").values_list("idempotency_key", flat=True)
    )


@pytest.mark.django_db
def test_a_stack_forwards_oldest_first_in_batches_and_keeps_what_the_platform_did_not_take(
    kiln: Any, settings: Any
) -> None:
    # Given a dedicated stack that recorded five orders, one after the other
    settings.TENANCY_MODE = "dedicated"
    for n in range(1, 6):
        record_usage(kiln.tenant.pk, "orders", 1, idempotency_key=f"order-{n}")
    assert unforwarded() == [f"order-{n}" for n in range(1, 6)]

    # When the platform takes the first batch of two and fails the second
    down = Platform(failing=[2])
    with pytest.raises(ForwardFailed):
        forward_usage(down, batch_size=2)

    # Then only the first batch is marked forwarded; the rest waits for the next run
    assert down.batches == [["order-1", "order-2"], ["order-3", "order-4"]]
    assert unforwarded() == ["order-3", "order-4", "order-5"]

    up = Platform()
    assert forward_usage(up, batch_size=2) == 3
    assert up.batches == [["order-3", "order-4"], ["order-5"]]
    assert unforwarded() == []
    assert forward_usage(up, batch_size=2) == 0 and len(up.batches) == 2  # nothing sent twice


@pytest.mark.django_db
def test_the_platform_bills_its_own_usage_as_it_is_recorded_and_never_forwards_it(bakery: Any, settings: Any) -> None:
    record_usage_batch([UsageEventIn(bakery.tenant.pk, "orders", 1, "order-1")])
    platform = Platform()

    with pytest.raises(ForwardFailed, match="dedicated"):
        forward_usage(platform)

    assert unforwarded() == [] and platform.batches == []
    assert "forward-usage" not in settings.CELERY_BEAT_SCHEDULE


def test_only_a_dedicated_stack_schedules_the_forwarder() -> None:
    code = "from django.conf import settings; print(settings.CELERY_BEAT_SCHEDULE['forward-usage'])"
    env = {**os.environ, "TENANCY_MODE": "dedicated", "DJANGO_SETTINGS_MODULE": "config.settings"}

    printed = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], cwd=django_settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=60
    ).stdout

    assert "billing.forward_usage" in printed


# --- A live dedicated stack and the live platform ------------------------------------------------


@pytest.fixture
def stack_databases(settings: Any, tmp_path: Any) -> Iterator[str]:
    """Dedicated databases named after this test database, dropped (with their roles) after the test."""
    prefix = f"{django_settings.DATABASES['default']['NAME']}_ded_"
    settings.PROVISIONING_DATABASE_PREFIX = prefix
    settings.PROVISIONING_EXPORT_DIR = tmp_path / "exports"
    yield prefix
    drop_databases(databases_with_prefix(prefix))
    drop_roles_with_prefix(prefix)


@pytest.fixture
def no_queue(monkeypatch: Any) -> None:
    """Provisioning runs are not sent to a broker: the test executes its store's run itself."""
    monkeypatch.setattr("provisioning.services.queue_run", lambda run_id: None)


def on_stack(tenant: Tenant, platform_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """manage.py as a process of the store's own stack (the environment serve_dedicated gives it),
    reaching the platform at ``platform_url``."""
    env = {**dedicated_environment(tenant.slug, tenant.database_name), "MARKETPLACE_API_URL": platform_url}
    return subprocess.run(  # noqa: S603
        [sys.executable, str(MANAGE_PY), *args], env=env, capture_output=True, text=True, timeout=120
    )


# The stack's own services: the order hook's call for a paid order, and the day's storage measurement.
STACK_RECORDS_USAGE = """
from billing.services import record_usage_batch
from billing.storage_metering import record_daily_storage
from billing.usage_batches import UsageEventIn
from tenants.models import Tenant
store = Tenant.objects.get()
record_usage_batch([
    UsageEventIn(store.pk, "orders", 1, "order-1001-orders"),
    UsageEventIn(store.pk, "gmv", 12500, "order-1001-gmv"),
])
record_daily_storage()
"""


def stack_usage(database: str) -> list[tuple[str, int, Any, bool]]:
    with dedicated_database(database) as conn, conn.cursor() as cursor:
        cursor.execute(
            "SELECT idempotency_key, quantity, occurred_at, forwarded_at IS NOT NULL"
            " FROM billing_usageevent ORDER BY id"
        )
        return list(cursor.fetchall())


def platform_fails(events: Any) -> Any:
    raise RuntimeError("the platform's database is unavailable")


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.slow
@pytest.mark.usefixtures("committed_tenancy", "stack_databases", "no_queue")
def test_a_live_dedicated_stacks_usage_reaches_the_platforms_bill_once_and_survives_the_platform_being_down(
    staff_api: Any, make_store: Any, live_server: Any, monkeypatch: Any, tmp_path: Path
) -> None:
    # Given a dedicated store provisioned by the local backend and served by its own stack
    make_store(subdomain="pottery", store_name="Calder Pottery", email="potter@example.com", tenancy="dedicated")
    run_id = staff_api.post("/api/v1/staff/tenants/pottery/approve").json()["id"]
    assert execution.execute_run(run_id) == "succeeded", ProvisioningRun.objects.get(pk=run_id).error
    pottery = Tenant.objects.get(slug="pottery")
    platform = f"http://{ROOT_HOST}:{live_server.url.rsplit(':', 1)[1]}"
    today = timezone.now().date().isoformat()
    # ...whose storage the shared platform had measured today already, before the store moved to its stack
    record_usage(pottery.pk, "storage_gb", 7, idempotency_key=f"storage-{today}")

    with serving("pottery", tmp_path):  # the stack's publishing token is registered on the platform
        # When its stack records an order paid and the day's storage in its own database
        recorded = on_stack(pottery, platform, "shell", "-c", STACK_RECORDS_USAGE)
        assert recorded.returncode == 0, recorded.stderr
        assert [(key, done) for key, _, _, done in stack_usage(pottery.database_name)] == [
            ("order-1001-gmv", False),
            ("order-1001-orders", False),
            (f"storage-{today}", False),
        ]
        assert usage_of(pottery) == {f"storage-{today}": 7}  # nobody bills it yet

        # ...and forwards it while the platform is down, then while it fails
        down = on_stack(pottery, f"http://127.0.0.1:{closed_port()}", "forward_usage")
        with monkeypatch.context() as failing:
            failing.setattr("billing.usage_api.services.record_usage_batch", platform_fails)
            failed = on_stack(pottery, platform, "forward_usage")

        # Then nothing is lost: every event waits on the stack, and the platform has none of them
        assert down.returncode != 0 and "unreachable" in down.stderr
        assert failed.returncode != 0 and "HTTP 500" in failed.stderr
        assert not any(done for *_, done in stack_usage(pottery.database_name))
        assert usage_of(pottery) == {f"storage-{today}": 7}

        # When the next run finds the platform up (two events a request)
        forwarded = on_stack(pottery, platform, "forward_usage", "--batch-size", "2")

        # Then the platform bills the store for them, in the period they happened in, once
        assert forwarded.returncode == 0, forwarded.stderr
        assert "forwarded 2 usage events" in forwarded.stdout
        assert all(done for *_, done in stack_usage(pottery.database_name))
        billed = {e.idempotency_key: e for e in UsageEvent.objects.filter(tenant=pottery)}
        assert {key: event.quantity for key, event in billed.items()} == {
            "order-1001-orders": 1,
            "order-1001-gmv": 12_500,
            # The key the platform held for other usage keeps its first measurement, and blocks nothing.
            f"storage-{today}": 7,
        }
        for key, _, occurred_at, _ in stack_usage(pottery.database_name)[:2]:
            assert billed[key].occurred_at == occurred_at
        today_usage = selectors.usage_in_period(pottery.pk, timezone.now() - DAY, timezone.now() + DAY)
        assert today_usage == {"orders": 1, "gmv": 12_500, "storage_gb": 7}

        # A run after a lost answer sends the events again: the platform counts them once
        with dedicated_database(pottery.database_name) as conn, conn.cursor() as cursor:
            cursor.execute("UPDATE billing_usageevent SET forwarded_at = NULL")
        resent = on_stack(pottery, platform, "forward_usage")
        assert resent.returncode == 0, resent.stderr
        assert UsageEvent.objects.filter(tenant=pottery).count() == 3
        assert on_stack(pottery, platform, "forward_usage").stdout.strip() == "forwarded 0 usage events"
