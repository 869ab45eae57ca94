"""Cached reads that are dropped all at once when what they were read from changes.

A *generation* is a random token kept in the shared cache per schema and name ("accounts", "catalog").
A cached read is stored with the generation it was read under, and is good only while that is still
the current one; `bump` replaces it, so every read cached before is stale at once, without knowing
their keys. Both are fetched in one round trip (`read`).

Ordering: `bump` replaces the generation when the change is made *and* again when its transaction
commits. A reader that took the generation before the commit may cache what it read from the old
snapshot, but under a generation the commit then replaces; a reader that takes it after the commit
reads the committed rows. The first bump makes the change visible to the writer's own later reads in
the same transaction (and to tests, whose transactions never commit).

Keys carry the schema explicitly (the plain-keyed "routing" cache), so they never cross tenants (a
schema name freed and given to a new store starts afresh: signup calls `start_schema`), and
the callbacks of `on_commit` do not depend on the schema the connection is in by then. Stacks share
schema names (a dedicated store lives in `public`, like the platform's root host), so an entry also
records the stack (`STACK_ID`) and schema it was read in, and one from anywhere else is a miss, even
if a key prefix were ever misconfigured to collide. Only a cache
shared by every process (Redis) can do this: with a per-process cache (`make dev` without Redis) a
change in a worker would not reach the web process, so nothing is cached there. A cache that fails
makes reads miss, never fail; a cached read also expires after `timeout` seconds whatever happens.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.db import transaction

from tenants.db_backend import connection

logger = logging.getLogger(__name__)

SHARED_BACKENDS = ("config.redis_cache.RedisCache", "django.core.cache.backends.redis.RedisCache")


def enabled() -> bool:
    return bool(settings.CACHES.get("routing", {}).get("BACKEND") in SHARED_BACKENDS)


# Every name in use; a schema given to a new store starts all of them afresh (`start_schema`).
NAMES = ("accounts", "catalog")


def _schema() -> str:
    return str(getattr(connection, "schema_name", "public"))


def _generation_key(schema: str, name: str) -> str:
    return f"generation:{schema}:{name}"


def _entry_key(schema: str, name: str, key: str) -> str:
    return f"cached:{schema}:{name}:{key}"


def read(name: str, key: str) -> tuple[Any, str | None]:
    """(the value cached under `key`, or None; the current generation to store a fresh read under)."""
    if not enabled():
        return None, None
    schema = _schema()
    generation_key = _generation_key(schema, name)
    try:
        found = caches["routing"].get_many([generation_key, _entry_key(schema, name, key)])
        generation = found.get(generation_key)
        if generation is None:
            generation = uuid.uuid4().hex
            if not caches["routing"].add(generation_key, generation, timeout=None):
                return None, None  # another process just made one: take no chance, read the database
            return None, generation
    except Exception:  # noqa: BLE001 - a cache outage makes a miss, not an error
        logger.warning("cache unavailable: reading %s from the database", name, exc_info=True)
        return None, None
    entry = found.get(_entry_key(schema, name, key))
    if isinstance(entry, tuple) and len(entry) == 4 and entry[:3] == (generation, settings.STACK_ID, schema):
        return entry[3], generation
    return None, generation


def store(name: str, key: str, generation: str | None, value: Any, timeout: int) -> None:
    """Cache `value` (read under `generation`, as `read` answered) for `timeout` seconds at most."""
    if generation is None or not enabled():
        return
    schema = _schema()
    try:
        entry = (generation, settings.STACK_ID, schema, value)
        caches["routing"].set(_entry_key(schema, name, key), entry, timeout=timeout)
    except Exception:  # noqa: BLE001
        logger.warning("cache unavailable: %s not cached", name, exc_info=True)


def bump(name: str) -> None:
    """What `name` reads from changed in this schema: every read cached so far is stale."""
    if not enabled():
        return
    generation_key = _generation_key(_schema(), name)

    def replace() -> None:
        try:
            caches["routing"].set(generation_key, uuid.uuid4().hex, timeout=None)
        except Exception:  # noqa: BLE001 - cached reads then expire by their timeout
            logger.exception("could not invalidate cached %s (%s)", name, generation_key)

    replace()
    transaction.on_commit(replace)


def start_schema(schema: str) -> None:
    """`schema` now holds a new store: nothing cached under that name before may be read as its own."""
    if not enabled():
        return
    fresh = {_generation_key(schema, name): uuid.uuid4().hex for name in NAMES}
    try:
        caches["routing"].set_many(fresh, timeout=None)
    except Exception:  # noqa: BLE001
        logger.exception("could not start the cache generations of %s", schema)
