# syntax=docker/dockerfile:1.19
# LocalBazaar image: gunicorn serving config.wsgi as a non-root user, static files collected at build
# and served by whitenoise. The same image runs the Celery worker and beat with another command:
#   docker run IMAGE                                              web (gunicorn, port 8000)
#   docker run IMAGE celery -A config worker -l info              worker
#   docker run IMAGE celery -A config beat -l info -s /tmp/celerybeat-schedule
#   docker run IMAGE python manage.py migrate_tenants             migrations (a release job)
# Configuration comes from the environment; see .env.example. Kubernetes manifests: platform/.
#
# Two images from this file:
#   docker build .                          the app (the last stage, `app`)
#   docker build --target provisioner .     the app plus terraform, kubectl, terraform/ and platform/,
#                                           for the worker that provisions dedicated stacks

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

# --- provisioner-tools: terraform and kubectl, pinned, each checked against its release checksum -------
FROM ${PYTHON_IMAGE} AS provisioner-tools
# Set by BuildKit to the platform being built (amd64 or arm64).
ARG TARGETARCH
# A version and its checksums change together: releases.hashicorp.com/terraform/<v>/terraform_<v>_SHA256SUMS
# and dl.k8s.io/release/v<v>/bin/linux/<arch>/kubectl.sha256.
ARG TERRAFORM_VERSION=1.11.4
ARG TERRAFORM_SHA256_AMD64=1ce994251c00281d6845f0f268637ba50c0005657eb3cf096b92f753b42ef4dc
ARG TERRAFORM_SHA256_ARM64=a43d1d0da9b9bab214a8305a39db0e40869572594ccf50c416a7756499143633
ARG KUBECTL_VERSION=1.32.4
ARG KUBECTL_SHA256_AMD64=10d739e9af8a59c9e7a730a2445916e04bc9cbb44bc79d22ce460cd329fa076c
ARG KUBECTL_SHA256_ARM64=c6f96d0468d6976224f5f0d81b65e1a63b47195022646be83e49d38389d572c2
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl unzip \
    && rm -rf /var/lib/apt/lists/*
RUN set -eu; \
    arch="${TARGETARCH:-amd64}"; \
    case "$arch" in \
        amd64) terraform_sha256="$TERRAFORM_SHA256_AMD64"; kubectl_sha256="$KUBECTL_SHA256_AMD64" ;; \
        arm64) terraform_sha256="$TERRAFORM_SHA256_ARM64"; kubectl_sha256="$KUBECTL_SHA256_ARM64" ;; \
        *) echo "no pinned terraform/kubectl for $arch" >&2; exit 1 ;; \
    esac; \
    mkdir -p /tools; \
    curl -fsSL --proto '=https' -o /tmp/terraform.zip \
        "https://releases.hashicorp.com/terraform/${TERRAFORM_VERSION}/terraform_${TERRAFORM_VERSION}_linux_${arch}.zip"; \
    echo "${terraform_sha256}  /tmp/terraform.zip" | sha256sum -c -; \
    unzip -q /tmp/terraform.zip terraform -d /tools; \
    curl -fsSL --proto '=https' -o /tools/kubectl \
        "https://dl.k8s.io/release/v${KUBECTL_VERSION}/bin/linux/${arch}/kubectl"; \
    echo "${kubectl_sha256}  /tools/kubectl" | sha256sum -c -; \
    chmod 0755 /tools/terraform /tools/kubectl; \
    rm /tmp/terraform.zip

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

# The code stays root-owned, so the app can't change it; only var/ (local media) is writable. The
# infrastructure code is the provisioner's alone.
COPY --exclude=terraform --exclude=platform . .
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

# --- provisioner: the app image plus what the `terraform` provisioning backend runs ------------------
# terraform applies terraform/ per tenant; kubectl applies platform/ to the tenant's cluster and runs
# manage.py there. Build it with --target provisioner.
FROM runtime AS provisioner
COPY --from=provisioner-tools /tools/terraform /tools/kubectl /usr/local/bin/
COPY terraform/ /app/terraform/
COPY platform/ /app/platform/
ENV CHECKPOINT_DISABLE=1
RUN terraform version && kubectl version --client

# --- app: the default target (the last stage), the slim image without terraform or kubectl ----------
FROM runtime AS app
