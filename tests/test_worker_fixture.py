"""The shared `celery_worker` fixture: a test's worker never runs tasks an earlier test left in the broker."""

from __future__ import annotations

import pytest

from config.celery import app
from tests.conftest import wait_for

ran: list[str] = []


@app.task(name="tests.worker_fixture.note")
def note(label: str) -> None:
    ran.append(label)


@pytest.mark.django_db
def test_a_worker_started_by_the_fixture_never_runs_tasks_left_by_an_earlier_test(request):
    # Given a task an earlier test queued with no worker running to take it
    ran.clear()
    note.delay("left by an earlier test")

    # When this test sets up its worker fixture, queues its own task and starts the worker
    celery_worker = request.getfixturevalue("celery_worker")
    note.delay("this test's")
    with celery_worker():
        wait_for(lambda: "this test's" in ran, what="the test's own task")

    # Then only the test's own task ran (one solo worker takes tasks in the order they were queued, so
    # the leftover would have run first)
    assert ran == ["this test's"]
