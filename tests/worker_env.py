"""Loaded with ``-p tests.worker_env`` (pyproject's addopts), before Django reads its settings.

``make test`` runs the suite in pytest-xdist workers. Each worker already gets its own test database
(pytest-django suffixes its name); this gives each its own Redis databases (cache and Celery broker,
so one worker's Celery worker never takes another's tasks and cached routes never cross) and its own
names for the dedicated databases provisioning creates on the shared PostgreSQL server.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

DEFAULT_PROVISIONING_PREFIX = "lb_dedicated_"


def _shifted_redis_url(url: str, worker: int) -> str:
    """The same Redis server, database number lowered by two per worker (gw0 keeps its own)."""
    parts = urlsplit(url)
    if parts.scheme not in {"redis", "rediss"}:
        return url
    database = int(parts.path.lstrip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{(database - 2 * worker) % 16}"))


def _apply() -> None:
    name = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not name.startswith("gw"):
        return
    worker = int(name.removeprefix("gw"))
    for variable in ("REDIS_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND"):
        if os.environ.get(variable):
            os.environ[variable] = _shifted_redis_url(os.environ[variable], worker)
    prefix = os.environ.get("PROVISIONING_DATABASE_PREFIX") or DEFAULT_PROVISIONING_PREFIX
    os.environ["PROVISIONING_DATABASE_PREFIX"] = f"{prefix}{name}_"


_apply()
