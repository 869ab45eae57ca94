"""`make dev`'s demo: its stores, their products, and those products on the marketplace."""

from __future__ import annotations

import pytest
from django.core.files.storage import storages
from django.db import connection
from django_tenants.utils import tenant_context
from PIL import Image

from devtools.demo import DEMO_STORES, seed_demo_marketplace
from provisioning.models import ProvisioningRun
from storefront.images.models import ProductImage
from storefront.publishing.drain import drain_listing_changes
from tenants.models import Tenant

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    storage = storages["default"]
    storage.__dict__.pop("relative_media_root", None)  # django-tenants caches MEDIA_ROOT on first use
    settings.MEDIA_ROOT = str(tmp_path / "media")
    yield tmp_path / "media"
    storage.__dict__.pop("relative_media_root", None)


def test_the_demo_stores_products_are_on_the_marketplace_and_seeding_twice_adds_nothing(root_api):
    first = seed_demo_marketplace()
    for store in DEMO_STORES:
        with tenant_context(Tenant.objects.get(slug=store.subdomain)):
            drain_listing_changes()
    connection.set_schema_to_public()
    again = seed_demo_marketplace()

    found = root_api.get("/api/v1/marketplace/search", {"q": "sourdugh", "near": "Todmorden"}).json()
    assert [hit["title"] for hit in found["results"]] == ["Sourdough loaf"]
    assert found["results"][0]["store"] == "bakery"
    assert first.products_created == sum(len(store.products) for store in DEMO_STORES)
    assert (again.stores_created, again.products_created) == ([], 0)
    # The dedicated demo store is signed up and approved once: its run is there for the worker to build
    assert "weavers" in first.stores_created
    weavers = Tenant.objects.get(slug="weavers")
    assert (weavers.tenancy, weavers.status) == ("dedicated", "provisioning")
    assert list(ProvisioningRun.objects.filter(tenant=weavers).values_list("kind", "state")) == [
        ("provision", "pending")
    ]
    # Each demo product has its one photo, a real JPEG (seeding again adds none)
    for store in DEMO_STORES:
        with tenant_context(Tenant.objects.get(slug=store.subdomain)):
            photos = list(ProductImage.objects.select_related("product"))
            assert sorted(p.product.sku for p in photos) == sorted(product.sku for product in store.products)
            with photos[0].original.open("rb") as stored, Image.open(stored) as picture:
                assert (picture.format, picture.size) == ("JPEG", (800, 600))
