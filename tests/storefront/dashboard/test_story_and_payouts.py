"""The dashboard's story and payouts: the seller's story, photo and town saved through the catalog's service
(the marketplace republishes a move), and Stripe's onboarding started by the owner only."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import tenant_context
from PIL import Image

from storefront.catalog.models import SellerProfile
from tests.conftest import STRONG_PASSWORD, store_host
from tests.storefront.conftest import SchemaKeepingBrowser, admin_browser
from tests.storefront.messages.conftest import staff_member_api
from tests.storefront.payments.conftest import connected_store, stripe_fake

pytestmark = pytest.mark.django_db
__all__ = ["stripe_fake"]


def html(response) -> str:
    return response.content.decode()


def png() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (120, 90), (90, 140, 60)).save(buffer, format="PNG")
    return SimpleUploadedFile("me.png", buffer.getvalue(), content_type="image/png")


def staff_browser_of(store) -> SchemaKeepingBrowser:
    staff_member_api(store, "helper@example.com")
    browser = SchemaKeepingBrowser(HTTP_HOST=store_host(store.tenant.slug))
    assert browser.post("/admin/login/", {"username": "helper@example.com", "password": STRONG_PASSWORD}).status_code
    return browser


def test_the_story_is_saved_with_a_photo_and_shown_to_buyers(store, media_root) -> None:
    owner = admin_browser(store)
    saved = owner.post(
        "/dashboard/story/",
        {"story": "We bake with Calder valley flour.", "town": "Hebden Bridge", "postcode": "hx7 8ad", "photo": png()},
    )
    assert saved.status_code == 303
    assert "Your story is saved" in html(owner.get("/dashboard/story/"))
    with tenant_context(store.tenant):
        profile = SellerProfile.objects.get()
        assert (profile.story, profile.town, profile.postcode) == (
            "We bake with Calder valley flour.",
            "Hebden Bridge",
            "HX7 8AD",
        )
        assert profile.photo.name
    assert "Calder valley flour" in html(SchemaKeepingBrowser(HTTP_HOST=store_host(store.tenant.slug)).get("/about/"))


def test_a_bad_story_is_refused_and_nothing_changes(store, media_root) -> None:
    owner = admin_browser(store)
    fake = SimpleUploadedFile("me.png", b"not an image", content_type="image/png")
    refused = owner.post("/dashboard/story/", {"story": "x" * 5001, "town": "Hebden", "postcode": "HX7"})
    bad_photo = owner.post("/dashboard/story/", {"story": "Hi", "town": "Hebden", "postcode": "HX7", "photo": fake})
    assert (refused.status_code, bad_photo.status_code) == (400, 400)
    assert 'role="alert"' in html(refused) and 'role="alert"' in html(bad_photo)
    with tenant_context(store.tenant):
        assert not SellerProfile.objects.filter(story__in=["Hi", "x" * 5001]).exists()


def test_the_owner_starts_stripes_onboarding_and_staff_cannot(make_store, stripe_fake) -> None:
    store = make_store()
    owner = admin_browser(store)
    assert "Connect with Stripe" in html(owner.get("/dashboard/payouts/"))

    started = owner.post("/dashboard/payouts/connect")

    assert started.status_code == 303 and "/connect/onboarding/" in started["Location"]
    helper = staff_browser_of(store)
    page = html(helper.get("/dashboard/payouts/"))
    assert "Only the store's owner connects payouts." in page and "Connect with Stripe" not in page
    assert helper.post("/dashboard/payouts/connect").status_code == 403


def test_a_connected_store_shows_it_takes_cards(make_store, stripe_fake) -> None:
    store = connected_store(make_store, stripe_fake)

    page = html(admin_browser(store).get("/dashboard/payouts/"))

    assert "Takes cards: <strong>yes</strong>" in page and "Connect with Stripe" not in page
