"""Counts buffered in a process's memory and pushed to Redis (tenants/buffered_counts.py): a forked child
(a gunicorn or Celery worker) pushes only what it counted itself, never its parent's counts a second time."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import redis
from django.conf import settings

SCRIPT = """
import logging, os, sys
import django
django.setup()
from tenants import buffered_counts

key = sys.argv[1]


def write(pipeline, counts, sets):
    for who, count in counts.items():
        pipeline.hincrby(key, who, count)


buffer = buffered_counts.BufferedCounts("test-counts", write, "test counts kept for later", logging.getLogger("t"))
for _ in range(3):
    buffer.add("parent")
child = os.fork()
if child == 0:
    buffer.add("child")
    sys.exit(0)  # pushed at exit
os.waitpid(child, 0)
"""


def test_a_forked_child_pushes_its_own_counts_and_not_its_parents():
    # Given a process that counted 3 and forked a child that counted 1, both pushing only at exit
    key = f"test-buffered-counts:{uuid.uuid4().hex}"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "USAGE_COUNT_PUSH_SECONDS": "3600"}

    # When both exit
    subprocess.run([sys.executable, "-c", SCRIPT, key], cwd=Path(settings.BASE_DIR), env=env, check=True, timeout=60)

    # Then Redis holds each count once
    pushed = redis.Redis.from_url(settings.REDIS_URL, decode_responses=True)
    try:
        assert pushed.hgetall(key) == {"parent": "3", "child": "1"}
    finally:
        pushed.delete(key)
