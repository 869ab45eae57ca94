"""Provisioning backends, chosen by the PROVISIONING_BACKEND setting (default `local`)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from provisioning.backends.base import ProvisioningBackend


def backend_names() -> tuple[str, ...]:
    return ("local", "terraform")


def get_backend(name: str | None = None) -> ProvisioningBackend:
    """The backend called `name` (a run's recorded backend), else the configured one."""
    name = name or settings.PROVISIONING_BACKEND
    # Imported here: a backend's module may need tools (psycopg2, subprocess wrappers) only it uses.
    if name == "local":
        from provisioning.backends.local import LocalBackend

        return LocalBackend()
    if name == "terraform":
        from provisioning.backends.terraform import TerraformBackend

        return TerraformBackend()
    raise ImproperlyConfigured(f"Unknown PROVISIONING_BACKEND '{name}'; choose one of {', '.join(backend_names())}.")
