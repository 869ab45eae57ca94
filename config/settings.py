"""LocalBazaar settings: every value comes from the environment (see .env.example)."""

from datetime import timedelta
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
# READ_DOTENV=0: the environment is all there is (a dedicated stack's, built by the platform, see
# provisioning/stack_environment.py: the .env next to manage.py holds the platform's secrets).
if env.bool("READ_DOTENV", default=True):
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env("SECRET_KEY", default="dev-insecure-change-me" if DEBUG else environ.Env.NOTSET)

# Stores live at <slug>.<PLATFORM_DOMAIN>; the bare PLATFORM_DOMAIN serves the marketplace,
# signup and the control plane.
PLATFORM_DOMAIN = env("PLATFORM_DOMAIN", default="localhost")
# Scheme and port used when the platform prints or redirects to a store's URL.
PLATFORM_URL_SCHEME = env("PLATFORM_URL_SCHEME", default="http")
PLATFORM_URL_PORT = env("PLATFORM_URL_PORT", default="8000" if DEBUG else "")
# Every host is let through to the tenant middleware, which is the real host check: it serves only the
# root domain and the domains in the tenant registry (stores' verified custom domains included), and
# answers 404 to anything else, so a forged Host header never reaches a view.
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["*"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# "shared": many tenants in one database, one schema each. "dedicated": one tenant, its own database.
TENANCY_MODE = env("TENANCY_MODE", default="shared")

SHARED_APPS = [
    "django_tenants",
    "tenants",
    "tenants.accounts",
    "billing",
    "billing.stripe_gateway",
    "provisioning",
    "storefront.marketplace",
    "storefront.buyers",
    # Buyers' order history across stores, fed by each store's order outbox (storefront.publishing).
    "storefront.purchases",
    # Only for its `seed_demo` command (make dev's demo data); the product never imports it.
    "devtools",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.admin",
    "django.contrib.staticfiles",
    # OpClass in index definitions (trigram indexes), the search and trigram lookups.
    "django.contrib.postgres",
    "rest_framework",
    "drf_spectacular",
    "django_filters",
    # Login lockouts. Its tables stay empty (attempts are counted in the cache, see AXES_HANDLER below).
    "axes",
]
TENANT_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.admin",
    "tenants.accounts",
    "storefront.catalog",
    "storefront.images",
    "storefront.publishing",
    "storefront.orders",
    "storefront.payments",
    # Product views, adds to cart and orders rolled up per product (storefront/analytics/recording.py).
    "storefront.analytics",
    # Buyers' conversations with the store (threads, replies, image attachments).
    "storefront.messages",
]
INSTALLED_APPS = list(SHARED_APPS) + [app for app in TENANT_APPS if app not in SHARED_APPS]
if TENANCY_MODE == "dedicated":
    # One tenant in its own database (provisioning's `local` backend migrates it this way): the same code
    # and routing, with every app's tables in `public`, so `manage.py migrate` builds the whole store there.
    SHARED_APPS = list(INSTALLED_APPS)

TENANT_MODEL = "tenants.Tenant"
TENANT_DOMAIN_MODEL = "tenants.Domain"
# A migrated, empty schema that new tenant schemas are cloned from when the pool is empty.
TENANT_BASE_SCHEMA = env("TENANT_TEMPLATE_SCHEMA", default="tenant_template")
# Pre-migrated schemas kept ready for instant signup; a Celery task tops the pool up.
TENANT_POOL_SIZE = env.int("TENANT_POOL_SIZE", default=5)
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]

MIDDLEWARE = [
    "config.health.HealthCheckMiddleware",
    "tenants.middleware.TenantRoutingMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "tenants.middleware.TenantAvailabilityMiddleware",
    # A store's API requests are counted for its bill (in Redis; after the tenant middlewares, which find the store).
    "billing.middleware.ApiRequestMeteringMiddleware",
    # Last, as django-axes asks: it turns a login that locked a client out into the lockout answer (429).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls_tenant"
PUBLIC_SCHEMA_URLCONF = "config.urls_public"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                # The merchant dashboard's navigation (its pages only).
                "storefront.dashboard.context.sections",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

DATABASES = {
    "default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/localbazaar"),
}
# The tenant-aware backend that keeps search_path safe behind a transaction-pooling PgBouncer.
DATABASES["default"]["ENGINE"] = "tenants.db_backend"
# Recycle connections: a connection that touched thousands of schemas holds large catalog caches.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Server-side cursors do not survive a transaction-pooling PgBouncer outside a transaction.
DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env.bool("DB_BEHIND_TRANSACTION_POOLER", default=False)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", default="")
# Which stack this is: the platform, or one dedicated store's ("dedicated:<database>"). It ends every cache
# key's prefix and is checked in cached reads, whatever CACHE_KEY_PREFIX says, so a stack and the platform
# never read each other's cache on one Redis (a stack's store lives in `public` too). Every process of the
# platform must agree on it (one evicts what another cached), so the platform's names no database.
STACK_ID = f"dedicated:{DATABASES['default']['NAME']}" if TENANCY_MODE == "dedicated" else "platform"
_CACHE_KEY_PREFIX = env("CACHE_KEY_PREFIX", default="") + STACK_ID
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "config.redis_cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": _CACHE_KEY_PREFIX,
            "KEY_FUNCTION": "django_tenants.cache.make_key",
            "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "KEY_FUNCTION": "django_tenants.cache.make_key",
            "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
        }
    }
# Host -> tenant routes live in their own cache with plain keys (not namespaced by schema).
CACHES["routing"] = {**CACHES["default"], "KEY_PREFIX": _CACHE_KEY_PREFIX + ":routing"}
CACHES["routing"].pop("KEY_FUNCTION")
CACHES["routing"].pop("REVERSE_KEY_FUNCTION")
# How long a resolved host -> tenant mapping is cached; every change to a tenant or domain evicts it.
TENANT_CACHE_SECONDS = env.int("TENANT_CACHE_SECONDS", default=300)
# How long each web process reuses a route it read, before asking Redis again (0: every request asks).
TENANT_ROUTE_MEMO_SECONDS = env.float("TENANT_ROUTE_MEMO_SECONDS", default=1.0)

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("email", "store_name", "subdomain")},
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_HASHERS = env.list(
    "PASSWORD_HASHERS",
    default=[
        "tenants.accounts.hashers.Argon2idHasher",
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ],
)
LOGIN_URL = "/admin/login/"
# Every password login (store and platform admin, the token API) goes through django-axes first: after
# AXES_FAILURE_LIMIT wrong passwords for one email from one client address, that pair is refused, the right
# password too, until AXES_COOLOFF_MINUTES pass without another try. The pair, not the email alone: nobody
# can lock a merchant out of their own admin from elsewhere, nor one typo-prone colleague a whole office.
# Counts live in the cache, whose keys django-tenants namespaces by schema (and tenants/accounts/lockout.py
# qualifies the email by schema too): a lockout on one store never reaches another, and no store's
# search_path reaches a table of every store's failed logins.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_HANDLER = "axes.handlers.cache.AxesCacheHandler"
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_CALLABLE = "tenants.accounts.lockout.lockout_username"
AXES_CLIENT_IP_CALLABLE = "tenants.client_address.client_ip"
AXES_LOCKOUT_CALLABLE = "tenants.accounts.lockout.lockout_response"
# Axes' admin would land in the store admin (django.contrib.admin.site), which every store host serves.
AXES_ENABLE_ADMIN = False
if DEBUG and not REDIS_URL:
    # make dev's one runserver process counts right in its in-process cache; axes warns for many processes.
    SILENCED_SYSTEM_CHECKS = ["axes.W001"]

SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
# Cookies stay on the host that set them: a store's session never reaches another store.
SESSION_COOKIE_DOMAIN = None
CSRF_COOKIE_DOMAIN = None

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(VAR_DIR / "media"))
MEDIA_URL = "/media/"
# Media files are namespaced by tenant schema: <MEDIA_ROOT>/<schema>/...
MULTITENANT_RELATIVE_MEDIA_ROOT = "%s"
# Production serves hashed, compressed files collected at image build; dev and tests serve the
# source files straight from the finders.
STATICFILES_MANIFEST = env.bool("STATICFILES_MANIFEST", default=not DEBUG)
WHITENOISE_USE_FINDERS = not STATICFILES_MANIFEST
# Media storage: "filesystem" (MEDIA_ROOT/<schema>/...) or "s3" (django-storages; keys <AWS_LOCATION>/<schema>/...
# in AWS_STORAGE_BUCKET_NAME; AWS_S3_ENDPOINT_URL for an S3-compatible server). Product images, see README.
MEDIA_STORAGE = env("MEDIA_STORAGE", default="filesystem")
_MEDIA_BACKENDS = {
    "filesystem": "django_tenants.files.storage.TenantFileSystemStorage",
    "s3": "storefront.images.storage.TenantS3Storage",
}
AWS_STORAGE_BUCKET_NAME = env("AWS_STORAGE_BUCKET_NAME", default="")
AWS_S3_ENDPOINT_URL = env("AWS_S3_ENDPOINT_URL", default="") or None
AWS_S3_REGION_NAME = env("AWS_S3_REGION_NAME", default="") or None
AWS_LOCATION = env("AWS_LOCATION", default="")
AWS_S3_CUSTOM_DOMAIN = env("AWS_S3_CUSTOM_DOMAIN", default="") or None
AWS_QUERYSTRING_AUTH = env.bool("AWS_QUERYSTRING_AUTH", default=True)
AWS_S3_FILE_OVERWRITE = True
AWS_DEFAULT_ACL = None
STORAGES = {
    "default": {"BACKEND": _MEDIA_BACKENDS[MEDIA_STORAGE]},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if STATICFILES_MANIFEST
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "tenants.accounts.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_CLASSES": ["tenants.throttling.ClientRateThrottle"],
    # Reverse proxies in front of the app that append the address they saw to X-Forwarded-For. Throttles and
    # lockouts key on the address the outermost one saw (tenants/client_address.py); with 0, the header is
    # ignored. Never more than the proxies really there: the client writes every entry to the left of them.
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
    "DEFAULT_THROTTLE_RATES": {
        "auth": env("AUTH_THROTTLE_RATE", default="10/min"),
        "signup": env("SIGNUP_THROTTLE_RATE", default="30/hour"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "LocalBazaar API",
    "DESCRIPTION": "Signup, authentication and store APIs of the LocalBazaar platform.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # One name for a choice set used by several fields (an order's status, and where a transition goes).
    "ENUM_NAME_OVERRIDES": {"OrderStatusEnum": "storefront.orders.models.Order.Status"},
}

# Billing: who collects ("local": the platform itself, no network) and the tax placeholder rate in
# basis points of an invoice's subtotal (0 until tax is worked out per country).
BILLING_PROVIDER = env("BILLING_PROVIDER", default="local")
BILLING_TAX_RATE_BPS = env.int("BILLING_TAX_RATE_BPS", default=0)
# Dunning: days a store stays open after its payment first failed before it is closed to buyers.
BILLING_GRACE_DAYS = env.int("BILLING_GRACE_DAYS", default=7)
# Usage measured by the platform: API requests are counted in Redis and recorded every USAGE_FLUSH_SECONDS;
# each store's storage (schema and media) is measured once a day, by a check every USAGE_STORAGE_CHECK_SECONDS.
# The usage ingest API (root host, platform-internal) takes platform staff or this service token (empty: staff only).
USAGE_FLUSH_SECONDS = env.float("USAGE_FLUSH_SECONDS", default=60.0)
# Each web process counts in memory and pushes its counts to Redis this often (and when it exits).
USAGE_COUNT_PUSH_SECONDS = env.float("USAGE_COUNT_PUSH_SECONDS", default=1.0)
# Product analytics: product pages and adds to cart record their events (in memory, pushed with the counts above).
ANALYTICS_RECORDING = env.bool("ANALYTICS_RECORDING", default=True)
USAGE_STORAGE_CHECK_SECONDS = env.float("USAGE_STORAGE_CHECK_SECONDS", default=3600.0)
USAGE_INGEST_TOKEN = env("USAGE_INGEST_TOKEN", default="")
# A dedicated stack records its store's usage in its own database and hands it to the platform's bill every
# USAGE_FORWARD_SECONDS (billing.usage_forwarding), at MARKETPLACE_API_URL with MARKETPLACE_PUBLISHING_TOKEN:
# the same platform and store-bound token its listing drain uses (below), so a stack needs no other credential.
USAGE_FORWARD_SECONDS = env.float("USAGE_FORWARD_SECONDS", default=60.0)

# Stripe (BILLING_PROVIDER=stripe): the secret key, the API's address (tests point it at the fake server in
# tests/fakes/stripe_server), the webhook signing secret, and how usage is batched into meter events:
# usage recorded in one window of STRIPE_METER_WINDOW_SECONDS is summed into one meter event per store
# and metric, once the window is STRIPE_METER_GRACE_SECONDS old (longer than any transaction recording usage).
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="")
STRIPE_API_BASE = env("STRIPE_API_BASE", default="https://api.stripe.com")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="")
# Buyers paying stores by card (Stripe Connect, direct charges): the publishable key Stripe.js confirms
# with, and the signing secret of the Connect webhook endpoint (/api/v1/payments/stripe/webhook).
STRIPE_PUBLISHABLE_KEY = env("STRIPE_PUBLISHABLE_KEY", default="")
# Where a store's payment page loads Stripe.js from (tests point it at the fake server's stand-in).
STRIPE_JS_URL = env("STRIPE_JS_URL", default="https://js.stripe.com/v3/")
STRIPE_CONNECT_WEBHOOK_SECRET = env("STRIPE_CONNECT_WEBHOOK_SECRET", default="")
# The Stripe key dedicated stacks get as their STRIPE_SECRET_KEY (with STRIPE_API_BASE, _PUBLISHABLE_KEY, _JS_URL),
# so their stores take cards and re-fetch their Connect events; never the platform's own key. Any key of the
# platform's account can act on every connected account: set it only for stacks you run. Empty: no cards there.
DEDICATED_STRIPE_SECRET_KEY = env("DEDICATED_STRIPE_SECRET_KEY", default="")
# A webhook delivery signed longer ago than this is refused (a captured one cannot be replayed later).
STRIPE_WEBHOOK_TOLERANCE_SECONDS = env.int("STRIPE_WEBHOOK_TOLERANCE_SECONDS", default=300)
STRIPE_METER_WINDOW_SECONDS = env.int("STRIPE_METER_WINDOW_SECONDS", default=60)
STRIPE_METER_GRACE_SECONDS = env.int("STRIPE_METER_GRACE_SECONDS", default=30)
STRIPE_METER_BATCH_SIZE = env.int("STRIPE_METER_BATCH_SIZE", default=200)
STRIPE_USAGE_REPORT_SECONDS = env.float("STRIPE_USAGE_REPORT_SECONDS", default=30.0)

# Celery: with no broker configured, a filesystem broker that needs no server (make dev).
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL == "filesystem://":
    _broker_dir = VAR_DIR / "celery-broker"
    (_broker_dir / "processed").mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=None)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# A dedicated stack's tasks go to a queue of its own: a worker of the shared platform must never run
# them against the shared database (manage.py serve_dedicated --with-worker consumes it).
CELERY_TASK_DEFAULT_QUEUE = env(
    "CELERY_TASK_DEFAULT_QUEUE",
    default=f"dedicated.{DATABASES['default']['NAME']}" if TENANCY_MODE == "dedicated" else "celery",
)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_MAX_TASKS_PER_CHILD = env.int("CELERY_WORKER_MAX_TASKS_PER_CHILD", default=1000)
CELERY_TIMEZONE = "UTC"
# Product images: upload limits (bytes; pixels, which bounds decompression bombs), how long a presigned
# direct upload stays valid, and the labeler ("local": colours, tags, shape; "rekognition": AWS DetectLabels).
IMAGE_MAX_BYTES = env.int("IMAGE_MAX_BYTES", default=15 * 1024 * 1024)
IMAGE_MAX_PIXELS = env.int("IMAGE_MAX_PIXELS", default=40_000_000)
# Messages between buyers and stores: the largest attached image, how many messages a buyer may send one store
# in each window, and how long a side's mail waits to gather the messages that follow (one mail, not one each).
MESSAGE_IMAGE_MAX_BYTES = env.int("MESSAGE_IMAGE_MAX_BYTES", default=8 * 1024 * 1024)
MESSAGES_PER_BUYER = env.int("MESSAGES_PER_BUYER", default=20)
MESSAGES_RATE_WINDOW_SECONDS = env.int("MESSAGES_RATE_WINDOW_SECONDS", default=600)
MESSAGE_MAIL_DELAY_SECONDS = env.int("MESSAGE_MAIL_DELAY_SECONDS", default=300)
IMAGE_UPLOAD_SECONDS = env.int("IMAGE_UPLOAD_SECONDS", default=600)
IMAGE_LABELER = env("IMAGE_LABELER", default="local")
REKOGNITION_REGION = env("REKOGNITION_REGION", default="") or AWS_S3_REGION_NAME or "eu-west-2"
REKOGNITION_ENDPOINT_URL = env("REKOGNITION_ENDPOINT_URL", default="") or None
REKOGNITION_MIN_CONFIDENCE = env.float("REKOGNITION_MIN_CONFIDENCE", default=80.0)
REKOGNITION_MAX_LABELS = env.int("REKOGNITION_MAX_LABELS", default=15)
# CSV files dropped in a store's media folder at imports/incoming/*.csv are imported; seconds between scans
# (0: off).
CATALOG_IMPORT_INBOX_SECONDS = env.float("CATALOG_IMPORT_INBOX_SECONDS", default=60.0)
# How long a checkout awaiting a card payment holds its units; unpaid by then, they are on sale again.
CHECKOUT_RESERVATION_MINUTES = env.int("CHECKOUT_RESERVATION_MINUTES", default=10)

CELERY_BEAT_SCHEDULE = {
    "refill-schema-pool": {"task": "tenants.refill_schema_pool", "schedule": 60.0},
    "resume-stalled-provisioning-runs": {"task": "provisioning.resume_stalled_runs", "schedule": 60.0},
    "sweep-pending-publications": {"task": "marketplace.sweep_pending_publications", "schedule": 60.0},
    "sweep-pending-order-changes": {"task": "purchases.sweep_pending_order_changes", "schedule": 60.0},
    "close-billing-periods": {"task": "billing.close_due_periods", "schedule": 300.0},
    "enforce-billing-grace-period": {"task": "billing.enforce_grace_period", "schedule": 3600.0},
    "flush-api-request-counts": {"task": "billing.flush_api_request_counts", "schedule": USAGE_FLUSH_SECONDS},
    "measure-storage": {"task": "billing.measure_storage", "schedule": USAGE_STORAGE_CHECK_SECONDS},
    "report-stripe-usage": {"task": "stripe_gateway.report_usage", "schedule": STRIPE_USAGE_REPORT_SECONDS},
    "release-expired-reservations": {"task": "orders.release_expired_reservations_everywhere", "schedule": 60.0},
    "roll-up-product-analytics": {"task": "analytics.roll_up_everywhere", "schedule": 60.0},
}
if TENANCY_MODE == "dedicated":
    CELERY_BEAT_SCHEDULE["forward-usage"] = {"task": "billing.forward_usage", "schedule": USAGE_FORWARD_SECONDS}
if CATALOG_IMPORT_INBOX_SECONDS > 0:
    CELERY_BEAT_SCHEDULE["scan-import-inboxes"] = {
        "task": "catalog.scan_import_inboxes",
        "schedule": CATALOG_IMPORT_INBOX_SECONDS,
    }

# Dedicated stacks: which backend builds them (`local`: a database on this PostgreSQL server; `terraform`),
# the local backend's database name prefix, where final exports go, and when a run with no live
# executor is considered stalled and queued again (after a worker was killed).
PROVISIONING_BACKEND = env("PROVISIONING_BACKEND", default="local")
PROVISIONING_DATABASE_PREFIX = env("PROVISIONING_DATABASE_PREFIX", default="lb_dedicated_")
PROVISIONING_EXPORT_DIR = env.path("PROVISIONING_EXPORT_DIR", default=str(VAR_DIR / "exports"))
PROVISIONING_STEP_TIMEOUT = env.int("PROVISIONING_STEP_TIMEOUT", default=900)
PROVISIONING_STALL_SECONDS = env.int("PROVISIONING_STALL_SECONDS", default=120)
# The `terraform` backend (provisioning/backends/terraform): the CLI, the root module copied into each
# tenant's working directory <WORKDIR>/<slug>, remote state (S3 key <prefix>/<slug>/terraform.tfstate,
# DynamoDB lock table), non-secret variables for every tenant (JSON object), the command prefix that runs
# manage.py on a tenant's stack, and extra environment names (or NAME_ prefixes) terraform may see.
PROVISIONING_TERRAFORM_BIN = env("PROVISIONING_TERRAFORM_BIN", default="terraform")
PROVISIONING_TERRAFORM_ROOT = env.path(
    "PROVISIONING_TERRAFORM_ROOT", default=str(BASE_DIR / "terraform" / "envs" / "dedicated-tenant-example")
)
PROVISIONING_TERRAFORM_WORKDIR = env.path("PROVISIONING_TERRAFORM_WORKDIR", default=str(VAR_DIR / "terraform"))
PROVISIONING_TF_STATE_BUCKET = env("PROVISIONING_TF_STATE_BUCKET", default="")
PROVISIONING_TF_STATE_KEY_PREFIX = env("PROVISIONING_TF_STATE_KEY_PREFIX", default="tenants")
PROVISIONING_TF_LOCK_TABLE = env("PROVISIONING_TF_LOCK_TABLE", default="")
PROVISIONING_AWS_REGION = env("PROVISIONING_AWS_REGION", default="eu-west-1")
PROVISIONING_TF_LOCK_TIMEOUT = env("PROVISIONING_TF_LOCK_TIMEOUT", default="10m")
PROVISIONING_TERRAFORM_VARS = env.json("PROVISIONING_TERRAFORM_VARS", default={})
PROVISIONING_TERRAFORM_MANAGE_COMMAND = env("PROVISIONING_TERRAFORM_MANAGE_COMMAND", default="")
# The app a run deploys to a stack's cluster (provisioning/backends/terraform/deploy.py): `repository:tag`, or
# only the tag, for the stack's own ECR repository.
PROVISIONING_KUBECTL_BIN = env("PROVISIONING_KUBECTL_BIN", default="kubectl")
PROVISIONING_APP_IMAGE = env("PROVISIONING_APP_IMAGE", default="")
PROVISIONING_APP_IMAGE_TAG = env("PROVISIONING_APP_IMAGE_TAG", default="")
PROVISIONING_TERRAFORM_PASS_ENV = env.list("PROVISIONING_TERRAFORM_PASS_ENV", default=[])
# Seconds the shared web process waits on a dedicated store's own stack when it forwards a request there.
DEDICATED_PROXY_TIMEOUT = env.float("DEDICATED_PROXY_TIMEOUT", default=60.0)

# Marketplace search: where a store's drained listings go (`index`: the shared index in `public`; `api`: the
# platform's batch API at MARKETPLACE_API_URL with MARKETPLACE_PUBLISHING_TOKEN, for a dedicated stack; its
# usage forwarder uses the same two), the radius of browsing near a place with no search words, and how many
# close spellings widen each query word.
MARKETPLACE_PUBLISHER = env("MARKETPLACE_PUBLISHER", default="api" if TENANCY_MODE == "dedicated" else "index")
MARKETPLACE_API_URL = env("MARKETPLACE_API_URL", default="")
MARKETPLACE_PUBLISHING_TOKEN = env("MARKETPLACE_PUBLISHING_TOKEN", default="")
MARKETPLACE_BROWSE_RADIUS_KM = env.float("MARKETPLACE_BROWSE_RADIUS_KM", default=40.0)
MARKETPLACE_SPELLINGS_PER_WORD = env.int("MARKETPLACE_SPELLINGS_PER_WORD", default=3)
# Outbox rows a drain publishes per transaction.
MARKETPLACE_DRAIN_BATCH_SIZE = env.int("MARKETPLACE_DRAIN_BATCH_SIZE", default=500)

# Mail to merchants (provisioning outcomes). Default: printed by the console backend.
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default=f"LocalBazaar <no-reply@{PLATFORM_DOMAIN}>")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO").upper()},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

SENTRY_DSN = env("SENTRY_DSN", default="")
if SENTRY_DSN:
    import sentry_sdk

    sentry_sdk.init(dsn=SENTRY_DSN, traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0))
