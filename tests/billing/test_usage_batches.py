"""The rules a usage batch must pass and the ingest API's row parsing (pure Python, hypothesis)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from billing.usage_batches import MAX_BATCH_SIZE, UsageEventIn, check_batch, parse_rows, store_slugs

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
METRICS = ("orders", "gmv", "api_requests", "storage_gb")

good_events = st.builds(
    UsageEventIn,
    tenant_id=st.integers(1, 3),
    metric=st.sampled_from(METRICS),
    quantity=st.integers(0, 2**62),
    idempotency_key=st.text(st.characters(blacklist_characters="\x00"), min_size=1, max_size=100),
    occurred_at=st.none() | st.datetimes(max_value=datetime(2025, 6, 1, 12, 4), timezones=st.just(UTC)),
)


@given(st.lists(good_events, max_size=50))
def test_events_that_keep_every_rule_pass_unless_a_key_is_reused_for_other_usage(events):
    errors = check_batch(events, metrics=METRICS, now=NOW)

    first: dict[tuple[int, str], UsageEventIn] = {}
    expected = []
    for index, event in enumerate(events):
        seen = first.setdefault((event.tenant_id, event.idempotency_key), event)
        if (seen.metric, seen.quantity) != (event.metric, event.quantity):
            expected.append(index)
    assert [e.index for e in errors] == expected
    assert all(e.code == "idempotency_key_reused" for e in errors)


@given(st.lists(good_events, min_size=1, max_size=20), st.data())
def test_a_bad_event_is_named_by_its_index(events, data):
    index = data.draw(st.integers(0, len(events) - 1))
    bad, code = data.draw(
        st.sampled_from(
            [
                ({"metric": "bandwidth"}, "unknown_metric"),
                ({"quantity": -1}, "bad_quantity"),
                ({"quantity": 1.5}, "bad_quantity"),
                ({"quantity": True}, "bad_quantity"),
                ({"quantity": 2**63}, "bad_quantity"),
                ({"idempotency_key": ""}, "bad_idempotency_key"),
                ({"idempotency_key": "k" * 101}, "bad_idempotency_key"),
                ({"occurred_at": NOW + timedelta(minutes=6)}, "usage_in_future"),
            ]
        )
    )
    original = events[index]
    events[index] = UsageEventIn(**{**original.__dict__, **bad})

    errors = check_batch(events, metrics=METRICS, now=NOW)

    assert (index, code) in [(e.index, e.code) for e in errors]


def test_a_batch_past_the_limit_is_refused_whole():
    events = [UsageEventIn(1, "orders", 1, f"k{n}") for n in range(MAX_BATCH_SIZE + 1)]

    assert [e.code for e in check_batch(events, metrics=METRICS, now=NOW)] == ["batch_too_large"]


def test_rows_become_events_of_the_stores_they_name():
    events, errors = parse_rows(
        [
            {"store": "bakery", "metric": "orders", "quantity": 1, "idempotency_key": "o-1"},
            {
                "store": "pottery",
                "metric": "gmv",
                "quantity": 250,
                "idempotency_key": "o-1-gmv",
                "occurred_at": "2025-06-01T09:30:00Z",
            },
        ],
        {"bakery": 7, "pottery": 8},
    )

    assert not errors
    assert events == [
        UsageEventIn(7, "orders", 1, "o-1"),
        UsageEventIn(8, "gmv", 250, "o-1-gmv", datetime(2025, 6, 1, 9, 30, tzinfo=UTC)),
    ]


def test_the_stores_named_are_gathered_for_one_lookup():
    rows = [{"store": "bakery"}, {"store": "pottery"}, {"store": "bakery"}, {"store": 7}, "orders", {}]

    assert store_slugs(rows) == {"bakery", "pottery"}
    assert store_slugs("orders") == set()


def test_rows_not_shaped_like_usage_are_named_by_index():
    _, errors = parse_rows(
        [
            {"store": "bakery", "metric": "orders", "quantity": 1, "idempotency_key": "a"},
            {"store": "bakery", "metric": "orders", "quantity": 1, "idempotency_key": "b", "tenant": 8},
            {"store": "bakery", "metric": "orders", "idempotency_key": "c"},
            {"store": "bakery", "metric": "orders", "quantity": 1, "idempotency_key": "d", "occurred_at": "09:30"},
            "orders",
            {"store": "bakery", "metric": 3, "quantity": 1, "idempotency_key": "e"},
            {"store": "pottery", "metric": "orders", "quantity": 1, "idempotency_key": "f"},
            {"metric": "orders", "quantity": 1, "idempotency_key": "g"},
            {"store": 7, "metric": "orders", "quantity": 1, "idempotency_key": "h"},
        ],
        {"bakery": 7},
    )

    assert [(e.index, e.code) for e in errors] == [
        (1, "unknown_field"),
        (2, "missing_field"),
        (3, "bad_occurred_at"),
        (4, "bad_row"),
        (5, "unknown_metric"),
        (6, "unknown_store"),
        (7, "missing_field"),
        (8, "unknown_store"),
    ]


@given(st.one_of(st.none(), st.just([]), st.integers(), st.text(), st.dictionaries(st.text(), st.integers())))
def test_anything_but_a_list_of_events_is_refused(body):
    events, errors = parse_rows(body, {"bakery": 7})

    assert not events and [e.code for e in errors] == ["bad_batch"]
