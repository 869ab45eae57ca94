"""Gunicorn settings of the web container: ``gunicorn --config config/gunicorn.py config.wsgi``.

Every value can be tuned from the environment, so one image fits every deployment size. (It lives
in config/, not platform/: a Python file there would shadow the standard library's ``platform``.)
"""

from __future__ import annotations

import os


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


bind = f"0.0.0.0:{_int('PORT', 8000)}"
# Sync workers; scale out with more pods rather than more workers per pod. The default suits a
# container limited to one CPU, whatever os.cpu_count() reports for the host.
workers = _int("WEB_CONCURRENCY", 2)
threads = _int("GUNICORN_THREADS", 1)
# Recycle each worker after some requests: a connection that has touched thousands of tenant schemas
# holds large catalog caches in PostgreSQL and the worker; the jitter keeps workers from restarting
# all at once.
max_requests = _int("GUNICORN_MAX_REQUESTS", 1000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 100)
timeout = _int("GUNICORN_TIMEOUT", 30)
# Kubernetes sends SIGTERM and waits terminationGracePeriodSeconds (30 s by default); finish within it.
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 25)
# Longer than a typical load balancer's idle timeout would drop; shorter holds workers for idle clients.
keepalive = _int("GUNICORN_KEEPALIVE", 5)
# The worker heartbeat file on tmpfs: on a container's overlay filesystem it can stall workers.
worker_tmp_dir = "/dev/shm"  # noqa: S108 - tmpfs on purpose, as gunicorn advises for containers

# Access and error logs on stdout/stderr, collected by the container runtime.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# Host is logged because it names the tenant; %(M)s is the response time in milliseconds.
access_log_format = '%(h)s "%({host}i)s" "%(r)s" %(s)s %(b)s %(M)sms "%(f)s" "%(a)s"'
