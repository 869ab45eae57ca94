"""What the platform hands a dedicated stack's processes (`TENANCY_MODE=dedicated` subprocesses of the
`local` backend): an allow-list of its own environment, and the stack's own secrets in place of its.

A stack runs a merchant's store: it must not hold the platform's SECRET_KEY (sessions, signed links and
password resets of every store and of the control plane), the database superuser, Stripe or AWS keys,
mail credentials or anyone else's publishing token. It gets what it needs to run and find the shared services
(Redis, the broker, the platform's root URL), non-secret tuning, and secrets of its own, derived from the
platform's key with HMAC-SHA256 and a per-stack salt: the same in every process and restart of the stack,
different for every stack, and one-way (the stack cannot recover the platform's key, nor another stack's,
from its own). Among them, its store's publishing token: its credential on the platform's root host
(serve_dedicated registers it there).
"""

from __future__ import annotations

from collections.abc import Mapping

from django.utils.crypto import salted_hmac

# Names passed through as they are: the process (paths, locale, Python) and settings that hold no secret.
INHERITED_NAMES = frozenset(
    {
        # The process
        "PATH",
        "HOME",
        "USER",
        "LOGNAME",
        "LANG",
        "LANGUAGE",
        "TZ",
        "TMPDIR",
        "VIRTUAL_ENV",
        "PYTHONPATH",
        "PYTHONDONTWRITEBYTECODE",
        "DJANGO_SETTINGS_MODULE",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        # Hosts, URLs, cookies, throttles (config/settings.py)
        "DEBUG",
        "LOG_LEVEL",
        "PLATFORM_DOMAIN",
        "PLATFORM_URL_SCHEME",
        "PLATFORM_URL_PORT",
        "ALLOWED_HOSTS",
        "CSRF_TRUSTED_ORIGINS",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "PASSWORD_HASHERS",
        "AUTH_THROTTLE_RATE",
        "SIGNUP_THROTTLE_RATE",
        "AXES_FAILURE_LIMIT",
        "AXES_COOLOFF_MINUTES",
        "NUM_PROXIES",
        # Database tuning (the database itself is the stack's own, below)
        "DB_CONN_MAX_AGE",
        "DB_BEHIND_TRANSACTION_POOLER",
        # Shared services: keys are kept apart by STACK_ID, tasks by the stack's own queue
        "REDIS_URL",
        "CACHE_KEY_PREFIX",
        "TENANT_CACHE_SECONDS",
        "TENANT_ROUTE_MEMO_SECONDS",
        "CELERY_BROKER_URL",
        "CELERY_RESULT_BACKEND",
        "CELERY_WORKER_MAX_TASKS_PER_CHILD",
        # The store's work
        "STATICFILES_MANIFEST",
        "IMAGE_MAX_BYTES",
        "IMAGE_MAX_PIXELS",
        "IMAGE_UPLOAD_SECONDS",
        "CATALOG_IMPORT_INBOX_SECONDS",
        "MARKETPLACE_API_URL",
        "MARKETPLACE_BROWSE_RADIUS_KM",
        "MARKETPLACE_SPELLINGS_PER_WORD",
        "MARKETPLACE_DRAIN_BATCH_SIZE",
        "USAGE_FLUSH_SECONDS",
        "USAGE_STORAGE_CHECK_SECONDS",
        "USAGE_FORWARD_SECONDS",
        "EMAIL_BACKEND",
        "EMAIL_HOST",
        "EMAIL_PORT",
        "EMAIL_USE_TLS",
        "DEFAULT_FROM_EMAIL",
        "SENTRY_DSN",
        "SENTRY_TRACES_SAMPLE_RATE",
        # The web server (config/gunicorn.py)
        "PORT",
        "WEB_CONCURRENCY",
    }
)
INHERITED_PREFIXES = ("LC_", "GUNICORN_")

_SECRET_KEY_SALT = "localbazaar.provisioning.stack-secret-key"
_DATABASE_PASSWORD_SALT = "localbazaar.provisioning.stack-database-password"
_PUBLISHING_TOKEN_SALT = "localbazaar.provisioning.stack-publishing-token"


def inherited_environment(environment: Mapping[str, str]) -> dict[str, str]:
    """The part of the platform's `environment` a stack may see: allow-listed names only."""
    return {
        name: value
        for name, value in environment.items()
        if name in INHERITED_NAMES or name.startswith(INHERITED_PREFIXES)
    }


def stack_secret_key(slug: str, database: str) -> str:
    """The stack's own SECRET_KEY (64 hex digits)."""
    return salted_hmac(_SECRET_KEY_SALT, f"{slug}:{database}", algorithm="sha256").hexdigest()


def stack_publishing_token(slug: str, database: str) -> str:
    """The stack's own publishing token (`lbp_` + 64 hex digits): its store-bound credential on the platform
    (listing batches, buyer token checks, usage) and the key of what the platform sends it (Connect events).
    `serve_dedicated` registers its digest as the store's publishing token (storefront.marketplace)."""
    return "lbp_" + salted_hmac(_PUBLISHING_TOKEN_SALT, f"{slug}:{database}", algorithm="sha256").hexdigest()


def stack_database_role(database: str) -> str:
    """The login role that owns the stack's database and is all the stack connects as."""
    return database


def stack_database_password(database: str) -> str:
    return salted_hmac(_DATABASE_PASSWORD_SALT, database, algorithm="sha256").hexdigest()
