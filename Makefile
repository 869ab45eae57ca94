# LocalBazaar: `make dev` runs the platform with demo stores, `make test` runs the whole suite.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
# Test against DATABASE_URL, else the PostgreSQL on 127.0.0.1:5432, else an embedded one under var/.
DB_URL = $${DATABASE_URL:-$$($(PY) -m devtools.embedded_postgres url)}
TEST_ENV = DATABASE_URL=$(DB_URL) REDIS_URL=$${REDIS_URL:-redis://127.0.0.1:6379/14} \
	CELERY_BROKER_URL=$${CELERY_BROKER_URL:-redis://127.0.0.1:6379/13} SECRET_KEY=test-only DEBUG=0 STATICFILES_MANIFEST=0 \
	PLATFORM_DOMAIN=localhost

.PHONY: db-stop install dev test test-fast e2e lint bench-onboarding bench-migrate bench-catalog bench-analytics bench-catalog-import bench-metering bench-marketplace bench-checkout clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || python3.11 -m venv $(VENV) || python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

dev: install
	$(PY) -m devtools.dev

# Two pytest-xdist workers (one per core), whole files to a worker; each has its own test database,
# Redis databases and dedicated-database names (tests/worker_env.py). PYTEST_WORKERS=0 runs in one process.
PYTEST_WORKERS ?= 2
XDIST = $(if $(filter 0,$(PYTEST_WORKERS)),,-n $(PYTEST_WORKERS) --dist loadfile)

test: install
	$(TEST_ENV) $(PY) -m pytest $(XDIST) $(PYTEST_ARGS)

test-fast: install
	$(TEST_ENV) $(PY) -m pytest -m "not e2e and not pgbouncer and not slow" $(PYTEST_ARGS)

e2e: install
	$(TEST_ENV) $(PY) -m pytest tests/e2e $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	SECRET_KEY=lint-only $(VENV)/bin/mypy config tenants storefront billing onboarding provisioning devtools
	# The layers of ARCHITECTURE.md and no import cycles (pyproject.toml's [tool.importlinter]).
	$(VENV)/bin/lint-imports

bench-onboarding: install
	$(TEST_ENV) $(PY) bench/onboarding.py $(BENCH_ARGS)

bench-migrate: install
	$(TEST_ENV) $(PY) bench/migrate.py $(BENCH_ARGS)

bench-marketplace: install
	$(TEST_ENV) $(PY) bench/marketplace_search.py $(BENCH_ARGS)

bench-metering: install
	$(TEST_ENV) $(PY) bench/metering.py $(BENCH_ARGS)

bench-catalog-import: install
	$(TEST_ENV) $(PY) bench/catalog_import.py $(BENCH_ARGS)

# Needs wrk (apt-get install wrk).
bench-catalog: install
	$(TEST_ENV) $(PY) bench/catalog.py $(BENCH_ARGS)

# Needs wrk (apt-get install wrk).
bench-analytics: install
	$(TEST_ENV) $(PY) bench/analytics.py $(BENCH_ARGS)

bench-checkout: install
	$(TEST_ENV) $(PY) bench/checkout.py $(BENCH_ARGS)

db-stop:
	$(PY) -m devtools.embedded_postgres stop

clean:
	rm -rf staticfiles .pytest_cache

# checkov (Terraform static analysis) in its own venv: its pins would clash with the app's.
CHECKOV_VENV := var/checkov-venv
CHECKOV_ARGS ?= --compact
.PHONY: checkov checkov-install

$(CHECKOV_VENV)/.installed: terraform/requirements-checkov.txt
	python3.11 -m venv $(CHECKOV_VENV) || python3 -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install -q --disable-pip-version-check -r terraform/requirements-checkov.txt
	touch $@

checkov-install: $(CHECKOV_VENV)/.installed

checkov: checkov-install
	BC_SKIP_MAPPING=TRUE $(CHECKOV_VENV)/bin/checkov -d terraform --framework terraform --skip-download $(CHECKOV_ARGS)
