"""Liveness and readiness probes answer on every host, known or not."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("host", ["localhost", "corner.localhost", "unknown.localhost"])
def test_healthz_answers_on_every_host(host):
    response = Client(HTTP_HOST=host).get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_checks_the_database_and_the_broker():
    response = Client(HTTP_HOST="localhost").get("/readyz")

    assert response.status_code == 200
    assert response.json()["checks"] == {"database": True, "broker": True}


def test_readyz_is_503_when_the_broker_is_unreachable(settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"

    response = Client(HTTP_HOST="localhost").get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"]["broker"] is False


def test_an_unknown_store_host_is_a_404():
    response = Client(HTTP_HOST="nosuchstore.localhost").get("/")

    assert response.status_code == 404
    assert b"No store here" in response.content
