"""Batch usage ingest: `record_usage_batch` (the order hook's path) and the platform-internal
`POST /api/v1/staff/usage-events` on the root host. Each event counts once per store and idempotency key,
a refused batch records nothing, and stores cannot report their own usage (the platform measures it)."""

from __future__ import annotations

import random
import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from billing.errors import BillingError
from billing.models import UsageEvent
from billing.services import UsageRefused, record_usage, record_usage_batch
from billing.usage_batches import UsageEventIn
from tenants.accounts.models import Membership
from tenants.accounts.services import add_staff_member, issue_api_token
from tenants.models import PlatformRole
from tests.conftest import STRONG_PASSWORD, make_platform_staff, store_api, token_for

pytestmark = pytest.mark.django_db

URL = "/api/v1/staff/usage-events"
STORE_URL = "/api/v1/billing/usage-events"  # the store host's former route
SERVICE_TOKEN = "lbu_usage-ingest-service-token"


@pytest.fixture
def store(make_store):
    return make_store(subdomain="bakery", email="baker@example.com")


@pytest.fixture
def owner(store):
    return store_api("bakery", store.token)


@pytest.fixture
def service(root_api, settings):
    """The platform's usage ingest service: USAGE_INGEST_TOKEN on the root host."""
    settings.USAGE_INGEST_TOKEN = SERVICE_TOKEN
    root_api.credentials(HTTP_AUTHORIZATION=f"Bearer {SERVICE_TOKEN}")
    return root_api


def orders(tenant_id: int, count: int, prefix: str = "order") -> list[UsageEventIn]:
    return [UsageEventIn(tenant_id, "orders", 1, f"{prefix}-{n}") for n in range(count)]


def rows(count: int, prefix: str = "order", store: str = "bakery", **extra) -> list[dict]:
    return [
        {"store": store, "metric": "orders", "quantity": 1, "idempotency_key": f"{prefix}-{n}", **extra}
        for n in range(count)
    ]


def recorded(tenant_id: int) -> dict[str, int]:
    return dict(UsageEvent.objects.filter(tenant_id=tenant_id).values_list("idempotency_key", "quantity"))


# --- The service ---------------------------------------------------------------------------------


def test_a_retried_batch_counts_once(store):
    batch = orders(store.tenant.pk, 500) + [UsageEventIn(store.tenant.pk, "gmv", 12_500, "order-gmv")]

    first = record_usage_batch(batch)
    again = record_usage_batch(batch)

    assert (first.accepted, first.duplicates) == (501, 0)
    assert (again.accepted, again.duplicates) == (0, 501)
    assert again.event_ids == first.event_ids
    assert UsageEvent.objects.filter(tenant_id=store.tenant.pk).count() == 501


def test_a_batch_overlapping_a_recorded_one_adds_only_the_new_events(store):
    record_usage_batch(orders(store.tenant.pk, 10))

    outcome = record_usage_batch(orders(store.tenant.pk, 15))

    assert (outcome.accepted, outcome.duplicates) == (5, 10)
    assert len(recorded(store.tenant.pk)) == 15


def test_a_key_repeated_within_a_batch_counts_once(store):
    event = UsageEventIn(store.tenant.pk, "orders", 1, "order-1")

    outcome = record_usage_batch([event, event])

    assert (outcome.accepted, outcome.duplicates) == (1, 1)
    assert recorded(store.tenant.pk) == {"order-1": 1}


def test_a_batch_with_a_bad_event_records_nothing(store):
    batch = orders(store.tenant.pk, 3) + [UsageEventIn(store.tenant.pk, "bandwidth", 1, "b")]
    batch.append(UsageEventIn(store.tenant.pk, "orders", -2, "neg"))

    with pytest.raises(UsageRefused) as refused:
        record_usage_batch(batch)

    assert [(e.index, e.code) for e in refused.value.errors] == [(3, "unknown_metric"), (4, "bad_quantity")]
    assert not UsageEvent.objects.exists()


def test_a_key_already_used_for_other_usage_refuses_the_whole_batch(store):
    tenant_id = store.tenant.pk
    record_usage_batch([UsageEventIn(tenant_id, "gmv", 2_500, "order-7-gmv")])

    with pytest.raises(UsageRefused) as refused:
        record_usage_batch(orders(tenant_id, 3) + [UsageEventIn(tenant_id, "gmv", 9_999, "order-7-gmv")])

    assert [(e.index, e.code) for e in refused.value.errors] == [(3, "idempotency_key_reused")]
    assert recorded(tenant_id) == {"order-7-gmv": 2_500}  # the three new orders were not recorded either


def test_record_usage_is_a_batch_of_one(store):
    first = record_usage(store.tenant.pk, "orders", 1, idempotency_key="order-1")
    [event_id] = record_usage_batch([UsageEventIn(store.tenant.pk, "orders", 1, "order-1")]).event_ids.values()

    assert first.created and event_id == first.event_id
    with pytest.raises(BillingError) as refused:
        record_usage(store.tenant.pk, "orders", 2, idempotency_key="order-1")
    assert refused.value.code == "idempotency_key_reused"


def test_a_batch_may_carry_several_stores_each_with_its_own_keys(make_store):
    alpha, beta = make_store().tenant.pk, make_store().tenant.pk

    outcome = record_usage_batch(orders(alpha, 2) + orders(beta, 2))

    assert outcome.accepted == 4
    assert recorded(alpha) == recorded(beta) == {"order-0": 1, "order-1": 1}


@pytest.mark.usefixtures("committed_tenancy")
def test_concurrent_overlapping_batches_record_each_event_once(make_store):
    # Given four senders posting overlapping batches of the same 400 events, each in its own order
    tenant_id = make_store().tenant.pk
    events = orders(tenant_id, 400)
    batches = {seed: random.Random(seed).sample(events, 300) for seed in range(4)}
    barrier = threading.Barrier(4)
    accepted: list[int] = []
    failures: list[BaseException] = []

    def send(seed: int) -> None:
        mine = batches[seed]
        try:
            barrier.wait()
            for start in range(0, 300, 100):
                accepted.append(record_usage_batch(mine[start : start + 100]).accepted)
        except BaseException as error:  # noqa: BLE001 - reported below
            failures.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send, args=(seed,)) for seed in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then no sender failed (no deadlock), and each event that was sent is recorded exactly once
    assert not failures
    sent = {event.idempotency_key for batch in batches.values() for event in batch}
    stored = list(UsageEvent.objects.filter(tenant_id=tenant_id).values_list("idempotency_key", "quantity"))
    assert sorted(stored) == sorted((key, 1) for key in sent)
    assert sum(accepted) == len(sent)


# --- The API (platform-internal) ------------------------------------------------------------------


def test_the_ingest_service_records_usage_and_a_resent_request_adds_nothing(service, store, django_assert_num_queries):
    body = {"events": rows(1_000)}
    service.post(URL, {"events": rows(1, prefix="warm-up")}, format="json")  # routes cached

    # The stores named, the recording lock and one INSERT (and the test's savepoint, twice)
    with django_assert_num_queries(5):
        first = service.post(URL, body, format="json")
    again = service.post(URL, body, format="json")

    assert first.status_code == again.status_code == 200
    assert first.json() == {"accepted": 1_000, "duplicates": 0}
    assert again.json() == {"accepted": 0, "duplicates": 1_000}
    assert len(recorded(store.tenant.pk)) == 1_001


def test_one_request_may_carry_several_stores_usage(service, store, make_store):
    other = make_store(subdomain="pottery", email="potter@example.com")

    response = service.post(URL, {"events": rows(2) + rows(3, store="pottery")}, format="json")

    assert response.status_code == 200 and response.json() == {"accepted": 5, "duplicates": 0}
    assert recorded(store.tenant.pk) == {"order-0": 1, "order-1": 1}
    assert recorded(other.tenant.pk) == {"order-0": 1, "order-1": 1, "order-2": 1}


def test_batch_ingested_usage_is_in_the_projected_invoice(service, owner):
    # Given a Starter store (50 orders included, then 20p each)
    service.post(
        URL,
        {"events": rows(60) + [{"store": "bakery", "metric": "gmv", "quantity": 10_000, "idempotency_key": "g"}]},
        format="json",
    )

    usage = owner.get("/api/v1/billing/usage").json()

    metrics = {row["metric"]: (row["quantity"], row["amount"]) for row in usage["metrics"]}
    assert metrics["orders"] == (60, 200)
    assert metrics["gmv"] == (10_000, 200)  # 2 %


def test_a_platform_operator_may_record_usage(store, staff_api):
    response = staff_api.post(URL, {"events": rows(2)}, format="json")

    assert response.status_code == 200 and response.json()["accepted"] == 2
    assert recorded(store.tenant.pk) == {"order-0": 1, "order-1": 1}


@pytest.mark.parametrize(
    ("event", "index", "code"),
    [
        ({"store": "bakery", "metric": "bandwidth", "quantity": 1, "idempotency_key": "x"}, 2, "unknown_metric"),
        ({"store": "bakery", "metric": "orders", "quantity": -1, "idempotency_key": "x"}, 2, "bad_quantity"),
        ({"store": "bakery", "metric": "orders", "quantity": 2.5, "idempotency_key": "x"}, 2, "bad_quantity"),
        ({"store": "bakery", "metric": "orders", "quantity": "1", "idempotency_key": "x"}, 2, "bad_quantity"),
        ({"store": "bakery", "metric": "orders", "quantity": 1, "idempotency_key": ""}, 2, "bad_idempotency_key"),
        ({"store": "bakery", "metric": "orders", "quantity": 1}, 2, "missing_field"),
        ({"metric": "orders", "quantity": 1, "idempotency_key": "x"}, 2, "missing_field"),
        ({"store": "nowhere", "metric": "orders", "quantity": 1, "idempotency_key": "x"}, 2, "unknown_store"),
        (
            {"store": "bakery", "metric": "orders", "quantity": 1, "idempotency_key": "x", "occurred_at": "yesterday"},
            2,
            "bad_occurred_at",
        ),
        (
            {"store": "bakery", "metric": "orders", "quantity": 3, "idempotency_key": "order-0"},
            2,
            "idempotency_key_reused",
        ),
    ],
)
def test_a_bad_row_refuses_the_request_and_records_nothing(service, store, event, index, code):
    response = service.post(URL, {"events": [*rows(2), event]}, format="json")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "usage_refused" and "Nothing was recorded" in body["detail"]
    assert [(e["index"], e["code"]) for e in body["errors"]] == [(index, code)]
    assert not UsageEvent.objects.exists()


def test_usage_stamped_in_the_future_is_refused(service, store):
    ahead = (timezone.now() + timedelta(minutes=10)).isoformat()

    response = service.post(URL, {"events": rows(1, occurred_at=ahead)}, format="json")

    assert response.status_code == 400 and response.json()["errors"][0]["code"] == "usage_in_future"
    assert not UsageEvent.objects.exists()


@pytest.mark.parametrize("body", [{}, {"events": []}, {"events": "orders"}, {"events": rows(1_001)}, [1]])
def test_a_request_that_is_not_a_batch_is_refused(service, body):
    response = service.post(URL, body, format="json")

    assert response.status_code == 400 and response.json()["errors"][0]["code"] in ("bad_batch", "batch_too_large")
    assert not UsageEvent.objects.exists()


def test_a_store_cannot_report_its_own_usage(owner, store, service):
    # Given the store's owner and one of its staff, each with a token of the store
    connection.set_tenant(store.tenant)
    assistant = add_staff_member("assistant@example.com", STRONG_PASSWORD, role=Membership.Role.STAFF)
    assistant_token = issue_api_token(assistant)
    connection.set_schema_to_public()

    # When they post usage on the store's host (the former route), or with the owner's token on the root host
    by_owner = owner.post(STORE_URL, {"events": rows(1)}, format="json")
    by_staff = store_api("bakery", assistant_token).post(STORE_URL, {"events": rows(1)}, format="json")
    anonymous = store_api("bakery").post(STORE_URL, {"events": rows(1)}, format="json")
    service_token_on_store_host = store_api("bakery", SERVICE_TOKEN).post(STORE_URL, {"events": rows(1)}, format="json")
    service.credentials(HTTP_AUTHORIZATION=f"Bearer {store.token}")
    owner_token_on_root_host = service.post(URL, {"events": rows(1)}, format="json")

    # Then the store's own people are refused (403) and no token of theirs is an account on the root host
    assert (by_owner.status_code, by_staff.status_code) == (403, 403)
    assert by_owner.json()["code"] == "usage_measured_by_platform"
    assert anonymous.status_code == 401
    assert service_token_on_store_host.status_code == 401
    assert owner_token_on_root_host.status_code == 401
    assert not UsageEvent.objects.exists()


def test_nobody_else_may_record_usage(store, root_api, settings):
    make_platform_staff("support@localbazaar.test", role=PlatformRole.Role.SUPPORT)
    support = token_for(root_api, "support@localbazaar.test")
    settings.USAGE_INGEST_TOKEN = SERVICE_TOKEN

    def post(token: str | None) -> int:
        root_api.credentials(**({"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}))
        return root_api.post(URL, {"events": rows(1)}, format="json").status_code

    assert post(None) == 401
    assert post(SERVICE_TOKEN + "x") == 401
    assert post(support) == 403  # support staff: recorded usage is billed, operators only
    settings.USAGE_INGEST_TOKEN = ""
    assert post(SERVICE_TOKEN) == 401  # no service token configured: none is accepted
    assert post("") == 401
    assert not UsageEvent.objects.exists()


def test_the_ingest_api_is_in_the_root_hosts_openapi_schema_and_gone_from_the_stores(root_api, owner):
    schema = root_api.get("/api/schema/?format=json").json()
    store_schema = owner.get("/api/schema/?format=json").json()

    operation = schema["paths"][URL]["post"]
    assert operation["tags"] == ["billing"] and set(operation["responses"]) == {"200", "400"}
    body = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    events = schema["components"]["schemas"][body]["properties"]["events"]
    assert events["type"] == "array" and "events" in schema["components"]["schemas"][body]["required"]
    assert STORE_URL not in store_schema["paths"]
