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


def test_the_shops_colour_draws_the_dashboard_and_a_colour_too_light_for_white_text_is_refused(store) -> None:
    owner = admin_browser(store)
    before = html(owner.get("/dashboard/"))
    said = {"story": "We bake.", "town": "Hebden Bridge", "postcode": "HX7"}

    too_light = owner.post("/dashboard/story/", {**said, "brand_colour": "#f5d90a"})
    not_a_colour = owner.post("/dashboard/story/", {**said, "brand_colour": "red;}body{display:none"})
    saved = owner.post("/dashboard/story/", {**said, "brand_colour": "#7A1F5C"})
    page = html(owner.get("/dashboard/orders/"))

    assert "brand.css" not in before  # the platform's colour until the seller picks one
    assert too_light.status_code == 400 and "White text on #f5d90a is hard to read" in html(too_light)
    assert not_a_colour.status_code == 400 and "six hexadecimal digits" in html(not_a_colour)
    assert saved.status_code == 303
    assert '<link rel="stylesheet" href="/dashboard/brand.css?c=7a1f5c">' in page
    sheet = owner.get("/dashboard/brand.css?c=7a1f5c")
    assert sheet["Content-Type"] == "text/css" and sheet.content == b":root { --brand: #7a1f5c; }\n"
    assert "immutable" in sheet["Cache-Control"]
    # Whatever else is asked for, the sheet holds a colour and nothing more
    sheets = {
        asked: owner.get("/dashboard/brand.css", {"c": asked}).content for asked in ("f5d90a", "zz;}x{", "7a1f5c;}p{")
    }
    assert sheets == {
        "f5d90a": b":root { --brand: #2f4f3a; }\n",
        "zz;}x{": b":root { --brand: #2f4f3a; }\n",
        "7a1f5c;}p{": b":root { --brand: #7a1f5c; }\n",
    }
    with tenant_context(store.tenant):
        assert SellerProfile.objects.get().brand_colour == "#7a1f5c"
    # The API keeps the colour when a change does not name it, and refuses a light one in the same words
    api = staff_member_api(store, "colours@example.com")
    assert api.put("/api/v1/seller-profile", said, format="json").status_code == 200
    refused = api.put("/api/v1/seller-profile", {**said, "brand_colour": "#ffffff"}, format="json")
    assert refused.status_code == 400 and "hard to read" in str(refused.json())
    with tenant_context(store.tenant):
        assert SellerProfile.objects.get().brand_colour == "#7a1f5c"


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
