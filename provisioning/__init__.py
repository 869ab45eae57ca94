"""Dedicated-stack lifecycle: provisioning runs and their steps, executed by Celery through a backend."""
