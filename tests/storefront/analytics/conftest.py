"""Product analytics tests start with no events: none left in this process's memory by earlier tests
(other suites view product pages too), and none in Redis (its database is cleared per test)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from storefront.analytics import recording


@pytest.fixture(autouse=True)
def no_earlier_events() -> Iterator[None]:
    with recording._local.lock:
        recording._local.counts.clear()
        recording._local.viewers.clear()
    for key in recording.client().scan_iter(match="analytics:*"):
        recording.client().delete(key)
    yield
