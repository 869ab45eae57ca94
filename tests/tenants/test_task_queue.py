"""Queueing tasks by name from a fresh web process: its threads' first calls all find their task (a
threaded gunicorn worker's first requests queue tasks at the same moment)."""

from __future__ import annotations

import os
import subprocess
import sys

from django.conf import settings

FIRST_CALLS = """
import threading
import django
django.setup()
from tenants.task_queue import registered_task
names = ["orders.notify_buyer", "publishing.drain_listing_changes", "catalog.import_products", "images.process_image"]
barrier, failures = threading.Barrier(8), []
def first_call(n):
    barrier.wait()
    try:
        registered_task(names[n % len(names)])
    except Exception as error:
        failures.append(repr(error))
threads = [threading.Thread(target=first_call, args=(n,)) for n in range(8)]
[t.start() for t in threads]
[t.join() for t in threads]
print(len(failures), failures[:1])
"""


def test_eight_threads_of_a_fresh_process_all_find_their_tasks():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
    for _ in range(3):
        result = subprocess.run(  # noqa: S603
            [sys.executable, "-c", FIRST_CALLS],
            cwd=settings.BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr[-2000:]
        assert result.stdout.strip() == "0 []"
