"""The image API is in the store host's OpenAPI schema, without generator warnings."""

from __future__ import annotations

from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema


def test_the_store_schema_documents_the_image_routes_without_warnings():
    GENERATOR_STATS.reset()

    schema = SchemaGenerator(urlconf="config.urls_tenant").get_schema(request=None, public=True)

    assert not GENERATOR_STATS, "drf-spectacular warned about the store API (run manage.py spectacular)"
    validate_schema(schema)
    paths = schema["paths"]
    assert set(paths["/api/v1/products/{product_id}/images"]) >= {"get", "post"}
    assert set(paths["/api/v1/products/{product_id}/images/{image_id}"]) >= {"get", "delete"}
    assert "post" in paths["/api/v1/products/{product_id}/images/presign"]
    assert "post" in paths["/api/v1/products/{product_id}/images/complete"]
    upload = paths["/api/v1/products/{product_id}/images"]["post"]["requestBody"]["content"]
    assert "multipart/form-data" in upload
