"""Queue a Celery task by its registered name. Tasks are thin wrappers that call services; a service that
must hand work to a worker queues it through here instead of importing its app's tasks module (which imports
the service back). Eager mode (unit tests) behaves as with `.delay()`."""

from __future__ import annotations

import threading
from typing import Any

from celery import current_app
from celery.app.task import Task
from celery.result import AsyncResult

_discovering = threading.Lock()


def registered_task(name: str) -> Task:
    if name not in current_app.tasks:
        # A web process has not imported the apps' tasks modules: Celery's autodiscovery does, once. One
        # thread at a time: a thread arriving while another is halfway through would find the registry
        # half full and fail with NotRegistered (seen with threaded gunicorn workers' first requests).
        with _discovering:
            if name not in current_app.tasks:
                current_app.loader.import_default_modules()
    return current_app.tasks[name]


def enqueue(name: str, *args: Any, headers: dict[str, Any] | None = None, **options: Any) -> AsyncResult:
    """Send task `name` with positional `args` (headers: tenant-schemas-celery's `_schema_name`, ...)."""
    if headers is not None:
        options["headers"] = headers
    return registered_task(name).apply_async(args=args, **options)
