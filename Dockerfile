# syntax=docker/dockerfile:1
# LocalBazaar image: gunicorn serving config.wsgi as a non-root user, static files collected at build
# and served by whitenoise. The same image runs the Celery worker and beat with another command:
#   docker run IMAGE                                              web (gunicorn, port 8000)
#   docker run IMAGE celery -A config worker -l info              worker
#   docker run IMAGE celery -A config beat -l info -s /tmp/celerybeat-schedule
#   docker run IMAGE python manage.py migrate_tenants             migrations (a release job)
# Configuration comes from the environment; see .env.example.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- builder: every dependency as a wheel, compilers only here --------------------------------
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
# A compiler and libpq headers in case a pinned package has no wheel for the target platform.
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential libpq-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /build
COPY requirements.txt .
RUN pip wheel --wheel-dir /wheels -r requirements.txt

# --- runtime: slim, no compilers, no pip cache, non-root ---------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    DJANGO_SETTINGS_MODULE=config.settings \
    PORT=8000
# pg_dump: provisioning's final export of a dedicated database before it is destroyed.
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --shell /usr/sbin/nologin app
WORKDIR /app
# The wheels are bind-mounted from the builder, so they never become a layer of this image.
COPY requirements.txt .
RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
    pip install --no-index --find-links=/wheels -r requirements.txt

# The code stays root-owned, so the app can't change it; only var/ (local media) is writable.
COPY . .
# Hashed, compressed static files for whitenoise. Settings need a SECRET_KEY to import, and a broker
# URL so that they don't make the development filesystem broker's folders in the image.
RUN SECRET_KEY=collectstatic-only CELERY_BROKER_URL=memory:// \
        python manage.py collectstatic --noinput --verbosity 0 \
    && mkdir -p /app/var \
    && chown app:app /app/var

USER app
EXPOSE 8000
# /healthz is answered before tenant routing, so the container's own address needs no host setup.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:${PORT}/healthz', timeout=4)"
CMD ["gunicorn", "--config", "config/gunicorn.py", "config.wsgi"]
