"""The catalog's API is documented: the store host's OpenAPI schema covers every route, with no
generator warnings (an undocumented parameter, response or auth scheme would be one)."""

from __future__ import annotations

import pytest
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

from tests.conftest import store_api

CATALOG_PATHS = {
    "/api/v1/products",
    "/api/v1/products/{id}",
    "/api/v1/products/export",
    "/api/v1/products/import",
    "/api/v1/products/import/{id}",
    "/api/v1/products/import/{id}/errors.csv",
    "/api/v1/categories",
    "/api/v1/categories/{slug}",
    "/api/v1/seller-profile",
}


def test_the_store_schema_documents_the_catalog_without_warnings():
    GENERATOR_STATS.reset()

    schema = SchemaGenerator(urlconf="config.urls_tenant").get_schema(request=None, public=True)

    assert not GENERATOR_STATS, "drf-spectacular warned about the store API (run manage.py spectacular)"
    validate_schema(schema)
    assert CATALOG_PATHS <= set(schema["paths"])
    list_params = {p["name"] for p in schema["paths"]["/api/v1/products"]["get"]["parameters"]}
    assert {"q", "status", "category", "tag", "price_min", "price_max", "ordering", "page", "page_size"} <= list_params
    assert schema["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "A store member's token: `Bearer lb_...`.",
    }


@pytest.mark.django_db
def test_the_schema_is_served_on_a_store_host(make_store):
    store = make_store()

    response = store_api(store.tenant.slug).get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    assert CATALOG_PATHS <= set(response.json()["paths"])
