"""`/api/v1/categories` (addressed by slug) and `/api/v1/seller-profile` (one per store)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction

from storefront.catalog.models import Category, Product, SellerProfile
from tests.storefront.images.image_files import photo_bytes

pytestmark = pytest.mark.django_db


def test_a_category_gets_a_slug_from_its_name(api, in_store):
    response = api.post("/api/v1/categories", {"name": "Sourdough Bread"}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert (body["name"], body["slug"], body["parent"]) == ("Sourdough Bread", "sourdough-bread", None)


def test_categories_nest_by_parent_slug_and_list_with_count(api, in_store):
    api.post("/api/v1/categories", {"name": "Bread"}, format="json")
    child = api.post("/api/v1/categories", {"name": "Rye", "parent": "bread"}, format="json")

    listed = api.get("/api/v1/categories").json()

    assert child.json()["parent"] == "bread"
    assert listed["count"] == 2
    assert [c["slug"] for c in listed["results"]] == ["bread", "rye"]


def test_a_duplicate_slug_is_a_field_error(api, in_store):
    api.post("/api/v1/categories", {"name": "Bread"}, format="json")

    response = api.post("/api/v1/categories", {"name": "Bread"}, format="json")

    assert response.status_code == 400
    assert response.json() == {"slug": ["A category with this slug already exists."]}
    assert Category.objects.count() == 1


def test_a_category_cannot_sit_inside_its_own_subcategory(api, in_store):
    api.post("/api/v1/categories", {"name": "Bread"}, format="json")
    api.post("/api/v1/categories", {"name": "Rye", "parent": "bread"}, format="json")

    response = api.patch("/api/v1/categories/bread", {"parent": "rye"}, format="json")

    assert response.status_code == 400
    assert "parent" in response.json()
    assert Category.objects.get(slug="bread").parent is None


def test_deleting_a_category_keeps_its_products_and_refuses_while_it_has_subcategories(api, in_store):
    api.post("/api/v1/categories", {"name": "Bread"}, format="json")
    api.post("/api/v1/categories", {"name": "Rye", "parent": "bread"}, format="json")
    api.post("/api/v1/products", {"title": "Dark rye", "price": 520, "sku": "RYE", "category": "rye"}, format="json")

    refused = api.delete("/api/v1/categories/bread")
    deleted = api.delete("/api/v1/categories/rye")

    assert refused.status_code == 400
    assert deleted.status_code == 204
    assert Product.objects.get(sku="RYE").category is None
    assert list(Category.objects.values_list("slug", flat=True)) == ["bread"]


def test_a_category_cannot_be_its_own_parent_in_the_database(in_store):
    bread = Category.objects.create(name="Bread", slug="bread")

    with pytest.raises(IntegrityError), transaction.atomic():
        Category.objects.filter(pk=bread.pk).update(parent=bread)


def test_before_writing_one_the_profile_is_blank_in_the_stores_town(api, in_store):
    response = api.get("/api/v1/seller-profile")

    assert response.status_code == 200
    assert response.json()["town"] == "Hebden Bridge"
    assert response.json()["story"] == ""
    assert not SellerProfile.objects.exists()


def test_the_seller_writes_their_story_and_town(api, in_store):
    response = api.put(
        "/api/v1/seller-profile",
        {"story": "Two sisters baking since 1998.", "town": "Todmorden", "postcode": "ol14 5aa"},
        format="json",
    )

    assert response.status_code == 200, response.json()
    assert api.get("/api/v1/seller-profile").json()["story"] == "Two sisters baking since 1998."
    profile = SellerProfile.objects.get()
    assert (profile.town, profile.postcode) == ("Todmorden", "OL14 5AA")


def test_a_photo_is_uploaded_replaced_and_removed(api, in_store, media_root, django_capture_on_commit_callbacks):
    fields = {"story": "Hello", "town": "Hebden Bridge", "postcode": "HX7 8AD"}

    def with_photo(name):
        photo = SimpleUploadedFile(name, photo_bytes((120, 90), fmt="PNG"))
        return api.put("/api/v1/seller-profile", {**fields, "photo": photo}, format="multipart")

    first = with_photo("me.png")
    first_path = Path(SellerProfile.objects.get().photo.path)
    with django_capture_on_commit_callbacks(execute=True):
        second = with_photo("us.png")
    kept = api.put("/api/v1/seller-profile", fields, format="json")
    removed = api.put("/api/v1/seller-profile", {**fields, "photo": None}, format="json")

    assert first.status_code == second.status_code == kept.status_code == removed.status_code == 200
    # stored under names of the server's, not the client's
    assert first.json()["photo"].endswith(".png") and "me.png" not in first.json()["photo"]
    assert second.json()["photo"].endswith(".png") and second.json()["photo"] != first.json()["photo"]
    assert kept.json()["photo"] == second.json()["photo"]
    assert removed.json()["photo"] is None
    assert first_path.is_relative_to(media_root / in_store.tenant.schema_name)
    assert not first_path.exists()  # replaced: deleted once the new one was committed


def test_a_photo_that_is_not_an_image_is_refused_and_nothing_is_saved(api, in_store):
    response = api.put(
        "/api/v1/seller-profile",
        {"story": "x", "town": "y", "postcode": "z", "photo": SimpleUploadedFile("me.png", b"<?php evil();")},
        format="multipart",
    )

    assert response.status_code == 400
    assert response.json() == {"photo": ["The file is not an image: upload a JPEG, PNG or WebP photo."]}
    assert not SellerProfile.objects.exists()


def test_a_store_has_at_most_one_profile(in_store):
    SellerProfile.objects.create(story="one")

    with pytest.raises(IntegrityError), transaction.atomic():
        SellerProfile.objects.create(id=2, story="two")
