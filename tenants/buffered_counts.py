"""Counts kept in the web process's memory and pushed to Redis in the background, so that counting costs a
request a lock and a dict (no network round trip on its path). Billing's API-request metering and the
storefront's product analytics both count this way; each says what a push writes.

A ``BufferedCounts`` holds the process's counts (and, for distinct counts, sets of members) until a push. A
daemon thread, started by the first count of each process (a forked child, whose parent's thread did not
survive the fork, starts its own), pushes every USAGE_COUNT_PUSH_SECONDS (1 s), and once more when the
process exits (atexit: gunicorn's graceful stop and recycling). A push is one pipelined round trip. A push
that cannot reach Redis keeps its counts for the next (a warning is logged, at most once a minute per
buffer and process): nothing is refused for it. What a SIGKILLed process had not pushed (at most its last
second) is lost. Without REDIS_URL nothing is counted.
"""

from __future__ import annotations

import atexit
import functools
import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

import redis
from django.conf import settings
from redis.client import Pipeline

WARN_EVERY_SECONDS = 60.0

CountKey = TypeVar("CountKey", bound=Hashable)
SetKey = TypeVar("SetKey", bound=Hashable)


def is_enabled() -> bool:
    return bool(settings.REDIS_URL)


@functools.cache
def client() -> redis.Redis:
    # One pool per process; redis-py's pool starts afresh in a forked child (gunicorn, Celery).
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1.0, socket_connect_timeout=1.0)


def stack_tag() -> str:
    """The stack's identity (CACHE_KEY_PREFIX, else STACK_ID) as a Redis Cluster hash tag: a dedicated stack
    on the same Redis keeps its own keys, and one stack's keys share a slot."""
    return "{" + str(settings.CACHES["default"].get("KEY_PREFIX") or settings.STACK_ID) + "}"


class BufferedCounts(Generic[CountKey, SetKey]):
    """This process's counts not yet pushed to Redis, and the thread that pushes them. ``write`` adds a
    push's counts and sets to a Redis pipeline; ``name`` names the thread; ``warning`` is what ``logger``
    says when a push cannot reach Redis."""

    def __init__(
        self,
        name: str,
        write: Callable[[Pipeline, Counter[CountKey], dict[SetKey, set[str]]], None],
        warning: str,
        logger: logging.Logger,
    ) -> None:
        self.name = name
        self.write = write
        self.warning = warning
        self.logger = logger
        self.lock = threading.Lock()
        self.counts: Counter[CountKey] = Counter()
        self.sets: dict[SetKey, set[str]] = {}
        self.pusher_pid = 0  # the process whose pusher thread runs (a forked child starts its own)
        self.last_warning = 0.0
        atexit.register(self.push)
        os.register_at_fork(after_in_child=self._forget_parent)

    def add(self, key: CountKey, set_key: SetKey | None = None, member: str = "") -> None:
        """Count one for ``key`` and, with ``set_key``, add ``member`` to its set (in memory; never raises,
        never waits on the network)."""
        with self.lock:
            self.counts[key] += 1
            if set_key is not None and member:
                self.sets.setdefault(set_key, set()).add(member)
            if self.pusher_pid != os.getpid():
                self.pusher_pid = os.getpid()
                threading.Thread(target=self._push_every_interval, name=self.name, daemon=True).start()

    def _push_every_interval(self) -> None:
        while True:
            time.sleep(settings.USAGE_COUNT_PUSH_SECONDS)
            self.push()

    def push(self) -> int:
        """Add this process's counts to Redis (one pipelined round trip); answers how many counts were
        pushed. On failure they stay here for the next push."""
        with self.lock:
            counts, self.counts = self.counts, Counter()
            sets, self.sets = self.sets, {}
        if not (counts or sets) or not is_enabled():
            return 0
        try:
            pipeline = client().pipeline(transaction=False)
            self.write(pipeline, counts, sets)
            pipeline.execute()
        except redis.RedisError:
            with self.lock:
                self.counts.update(counts)
                for key, members in sets.items():
                    self.sets.setdefault(key, set()).update(members)
            now = time.monotonic()
            if now - self.last_warning >= WARN_EVERY_SECONDS:
                self.last_warning = now
                self.logger.warning(self.warning, exc_info=True)
            return 0
        return len(counts)

    def _forget_parent(self) -> None:
        # A forked child starts empty, with a lock no thread of the parent can be holding: the parent pushes
        # its own counts (pushed from both, they would count twice).
        self.lock = threading.Lock()
        self.counts = Counter()
        self.sets = {}
