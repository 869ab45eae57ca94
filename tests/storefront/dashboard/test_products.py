"""The dashboard's products, used by a staff member (not the owner): the list with photos, search, status and
pages; price and stock changed from a row; adding and editing a product within the plan's limit; photos
uploaded, ordered and deleted; a CSV import followed to its end; categories. Every change goes through the
catalog's services (the marketplace hears of it); a refusal is shown in words and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from billing.models import Plan
from onboarding.services import SignupResult
from storefront.catalog.models import Category, ImportJob, Product
from storefront.images import processing
from storefront.images.models import ProductImage
from storefront.publishing.models import ListingChange
from tenants.accounts.services import add_staff_member
from tests.conftest import STRONG_PASSWORD
from tests.storefront.conftest import client_for, csv_upload, product_rows
from tests.storefront.dashboard.browsers import guest, html, signed_in
from tests.storefront.images.image_files import gif_bytes, photo_bytes, upload
from tests.storefront.images.test_images_api import stored_files
from tests.storefront.orders.conftest import add_product

pytestmark = pytest.mark.django_db

PRODUCTS = "/dashboard/products/"
HTMX = {"HTTP_HX_REQUEST": "true"}
SCRIPT = {"HTTP_X_REQUESTED_WITH": "XMLHttpRequest"}
JAM = {
    "title": "Damson jam",
    "description": "From the hedge.",
    "price": "4.50",
    "stock": "12",
    "status": "active",
    "category": "",
    "tags": "Jam, preserves",
    "sku": "JAM-1",
}


@pytest.fixture
def staff(store: SignupResult) -> Any:
    """A staff member of the store (not its owner), signed in with the store's login."""
    with tenant_context(store.tenant):
        add_staff_member("helper@example.com", STRONG_PASSWORD)
    return signed_in(store, "helper@example.com")


def product(store: SignupResult, pk: int) -> Product:
    with tenant_context(store.tenant):
        return Product.objects.get(pk=pk)


def listing_changes(store: SignupResult, pk: int) -> int:
    with tenant_context(store.tenant):
        return ListingChange.objects.filter(product_id=pk).count()


def with_ready_photo(store: SignupResult, pk: int, colour: tuple[int, int, int] = (40, 80, 200)) -> ProductImage:
    """A photo added through the API's upload and prepared as the worker would."""
    response = client_for(store, store.token).post(
        f"/api/v1/products/{pk}/images", {"file": upload(photo_bytes((400, 300), colour=colour))}, format="multipart"
    )
    assert response.status_code == 202, response.content
    with tenant_context(store.tenant):
        processing.process_image(response.json()["id"])
        return ProductImage.objects.get(pk=response.json()["id"])


def test_a_visitor_is_sent_to_sign_in(store) -> None:
    answer = guest(store).get(PRODUCTS)

    assert answer.status_code == 302 and answer["Location"].startswith("/admin/login/?next=/dashboard/products/")


def test_the_list_shows_each_products_photo_price_stock_and_status_in_a_fixed_number_of_queries(
    store, staff, media_root
) -> None:
    # Given products with photos, one without
    loaf = add_product(store, title="Rye loaf", price=380, stock=9)
    photo = with_ready_photo(store, loaf)
    for n in range(3):
        with_ready_photo(store, add_product(store, title=f"Bun {n}"))
    add_product(store, title="Seed cake", status="draft", stock=0)

    # When the staff member opens the list
    with CaptureQueriesContext(db_connection) as few:
        page = html(staff.get(PRODUCTS))

    # Then each row shows its main photo's thumbnail, its title, price, stock left and status
    assert photo.thumbnails["268x200"]["webp"] in page and photo.thumbnails["268x200"]["jpeg"] in page
    assert page.count("<picture>") == 4 and page.count('class="no-photo"') == 1
    assert "Rye loaf" in page and 'value="3.80"' in page and 'value="9"' in page and "9 left to sell" in page
    assert "Seed cake" in page and "Draft" in page and "sold out" in page
    assert 'aria-current="page"' in page and "Products <span" in page
    # ...in as many queries with more products: session, user, membership, count, page, main photos, shop colour
    for n in range(4):
        with_ready_photo(store, add_product(store, title=f"Roll {n}"))
    with CaptureQueriesContext(db_connection) as more:
        assert html(staff.get(PRODUCTS)).count("<picture>") == 8
    assert len(few.captured_queries) == len(more.captured_queries) == 7, [q["sql"] for q in more.captured_queries]


def test_the_list_is_searched_filtered_by_status_and_paged(store, staff, monkeypatch) -> None:
    monkeypatch.setattr("storefront.dashboard.products.PER_PAGE", 2)
    add_product(store, title="Rye loaf", sku="RYE-1")
    add_product(store, title="Spelt loaf", status="draft")
    add_product(store, title="Oat biscuits")

    found = html(staff.get(PRODUCTS, {"q": "rye"}))
    drafts = html(staff.get(PRODUCTS, {"status": "draft"}))
    first, second = html(staff.get(PRODUCTS)), html(staff.get(PRODUCTS, {"page": "2"}))

    assert "Rye loaf" in found and "Spelt loaf" not in found and "Oat biscuits" not in found
    assert "Spelt loaf" in drafts and "Rye loaf" not in drafts and "Oat biscuits" not in drafts
    assert "Oat biscuits" in first and "Spelt loaf" in first and "Rye loaf" not in first
    assert "Rye loaf" in second and "Page 2 of 2" in second
    assert "No product matches" in html(staff.get(PRODUCTS, {"q": "caviar"}))


def test_price_and_stock_change_from_the_row_through_the_catalog(store, staff) -> None:
    pk = add_product(store, title="Rye loaf", price=380, stock=9)
    heard = listing_changes(store, pk)

    priced = staff.post(f"{PRODUCTS}{pk}/quick", {"price": "4.50"}, **HTMX)
    stocked = staff.post(f"{PRODUCTS}{pk}/quick", {"stock": "20"}, **HTMX)

    # The row comes back with the new value, and the product changed through the service (the marketplace heard)
    assert priced.status_code == 200 and 'value="4.50"' in html(priced) and "Saved." in html(priced)
    assert f'<li class="product-row" id="product-{pk}">' in html(priced) and "<html" not in html(priced)
    assert 'value="20"' in html(stocked) and "20 left to sell" in html(stocked)
    assert (product(store, pk).price, product(store, pk).stock) == (450, 20)
    assert listing_changes(store, pk) == heard + 2


@pytest.mark.parametrize(
    ("field", "typed", "said"),
    [
        ("price", "abc", "Price must be an amount like 4.50."),
        ("price", "-1", "Price must be an amount like 4.50."),
        ("price", "4,50", "Write the price with a point before the pence or cents, like 4.50."),
        ("price", "4.509", "A GBP price has at most 2 digits after the point, like 4.50."),
        ("stock", "-1", "Stock cannot be negative."),
        ("stock", "2.5", "Stock must be a whole number."),
    ],
)
def test_a_bad_price_or_stock_is_refused_in_words_and_nothing_changes(store, staff, field, typed, said) -> None:
    pk = add_product(store, price=380, stock=9)
    heard = listing_changes(store, pk)

    refused = staff.post(f"{PRODUCTS}{pk}/quick", {field: typed}, **HTMX)

    assert refused.status_code == 200
    assert said in html(refused) and f'value="{typed}"' in html(refused) and 'aria-invalid="true"' in html(refused)
    assert "Saved." not in html(refused)
    assert (product(store, pk).price, product(store, pk).stock) == (380, 9)
    assert listing_changes(store, pk) == heard


def test_without_javascript_a_row_posts_and_comes_back_to_the_list_with_a_notice(store, staff) -> None:
    pk = add_product(store, title="Rye loaf", price=380, stock=9)

    saved = staff.post(f"{PRODUCTS}{pk}/quick", {"stock": "3", "next": f"{PRODUCTS}?q=rye"})
    refused = staff.post(f"{PRODUCTS}{pk}/quick", {"price": "abc", "next": "https://elsewhere.example/"}, follow=True)

    assert saved.status_code == 302 and saved["Location"] == f"{PRODUCTS}?q=rye"
    assert product(store, pk).stock == 3
    assert refused.redirect_chain == [(PRODUCTS, 302)]
    assert "Rye loaf: Price must be an amount like 4.50." in html(refused)
    assert product(store, pk).price == 380


def test_a_product_is_added_and_edited_with_the_rules_errors_next_to_the_fields(store, staff) -> None:
    made = client_for(store, store.token).post("/api/v1/categories", {"name": "Preserves"}, format="json")
    preserves = made.json()["id"]

    refused = staff.post(f"{PRODUCTS}new", {**JAM, "title": " ", "price": "4.50p", "sku": "no spaces"})
    added = staff.post(f"{PRODUCTS}new", {**JAM, "category": str(preserves)})

    assert refused.status_code == 200
    form = refused.context["form"]
    assert form.errors["title"] == ["This field is required."]
    assert form.errors["price"] == ["Price must be an amount like 4.50."]
    assert form.errors["sku"][0].startswith("SKU may contain letters, digits")
    assert added.status_code == 302
    with tenant_context(store.tenant):
        jam = Product.objects.get()
        assert (jam.title, jam.price, jam.stock, jam.category_id, jam.tags) == (
            "Damson jam",
            450,
            12,
            preserves,
            ["jam", "preserves"],
        )
    assert added["Location"] == f"{PRODUCTS}{jam.pk}/"
    assert listing_changes(store, jam.pk) == 1

    page = html(staff.get(added["Location"]))
    taken = staff.post(f"{PRODUCTS}new", {**JAM, "title": "Other jam"})
    edited = staff.post(added["Location"], {**JAM, "price": "£1,200.5", "status": "archived"})

    assert 'value="4.50"' in page and 'id="photos"' in page and "No photos yet" in page
    assert taken.context["form"].errors["sku"] == ["A product with this SKU already exists."]
    assert edited.status_code == 302
    assert (product(store, jam.pk).price, product(store, jam.pk).status) == (120050, "archived")


def test_adding_a_product_past_the_plans_limit_is_refused_in_words_and_creates_nothing(store, staff) -> None:
    Plan.objects.filter(code="starter").update(max_products=1)
    add_product(store, sku="FIRST")

    refused = staff.post(f"{PRODUCTS}new", JAM)

    assert refused.status_code == 200
    page = html(refused)
    assert "Your Starter plan includes up to 1 products, and this store has reached it." in page
    assert "/admin/billing/" in page and "Upgrade your plan" in page
    with tenant_context(store.tenant):
        assert list(Product.objects.values_list("sku", flat=True)) == ["FIRST"]


def test_another_stores_product_is_not_found_here(store, make_store, staff, media_root) -> None:
    mine = add_product(store, price=380)
    other = make_store()
    theirs = [add_product(other, price=999) for _ in range(3)][-1]
    assert theirs != mine  # an id only the other store has

    answers = [
        staff.get(f"{PRODUCTS}{theirs}/"),
        staff.post(f"{PRODUCTS}{theirs}/", JAM),
        staff.post(f"{PRODUCTS}{theirs}/quick", {"price": "1.00"}, **HTMX),
        staff.post(f"{PRODUCTS}{theirs}/photos", {"file": upload(photo_bytes((40, 30)))}),
        staff.post(f"{PRODUCTS}{theirs}/delete", {"confirm": "yes"}),
    ]

    assert [answer.status_code for answer in answers] == [404] * 5
    with tenant_context(other.tenant):
        assert Product.objects.get(pk=theirs).price == 999 and not ProductImage.objects.exists()
    with tenant_context(store.tenant):
        assert Product.objects.get(pk=mine).price == 380
    assert stored_files(media_root) == []


def test_a_photo_uploaded_on_the_product_page_is_stored_prepared_and_shown(
    store, staff, media_root, eager_tasks, django_capture_on_commit_callbacks
) -> None:
    pk = add_product(store, title="Blue jug")

    # With the page's script: the photos section comes back
    with django_capture_on_commit_callbacks(execute=True):
        scripted = staff.post(
            f"{PRODUCTS}{pk}/photos", {"file": upload(photo_bytes((800, 600))), "alt_text": "A blue jug"}, **SCRIPT
        )
    # Without it: back to the product's page
    with django_capture_on_commit_callbacks(execute=True):
        plain = staff.post(f"{PRODUCTS}{pk}/photos", {"file": upload(photo_bytes((600, 800)))})

    assert scripted.status_code == 200 and "<html" not in html(scripted)
    assert 'id="photos"' in html(scripted) and "A blue jug" in html(scripted)
    assert plain.status_code == 302 and plain["Location"] == f"{PRODUCTS}{pk}/#photos"
    with tenant_context(store.tenant):
        first, second = ProductImage.objects.filter(product_id=pk).order_by("position")
    assert (first.status, first.is_main, first.alt_text) == ("ready", True, "A blue jug")
    assert (second.status, second.is_main) == ("ready", False)
    assert any(name.endswith(first.thumbnails["268x200"]["webp"]) for name in stored_files(media_root))
    page = html(staff.get(f"{PRODUCTS}{pk}/"))
    assert first.thumbnails["268x200"]["webp"] in page and "Main photo" in page
    assert "product_photos.js" in page and "data-photo-drop" in page
    assert "hx-trigger" not in page.split('id="photo-list"')[1].split(">")[0]  # nothing processing: no polling


@pytest.mark.parametrize(
    ("content", "name", "said"),
    [
        (b"%PDF-1.4 not a photo", "notes.pdf", "The file is not an image: upload a JPEG, PNG or WebP photo."),
        (gif_bytes(), "moving.gif", "GIF images are not accepted"),
    ],
)
def test_a_file_that_is_not_an_acceptable_image_is_refused_and_nothing_is_stored(
    store, staff, media_root, content, name, said
) -> None:
    pk = add_product(store)

    scripted = staff.post(f"{PRODUCTS}{pk}/photos", {"file": upload(content, name, "image/jpeg")}, **SCRIPT)
    plain = staff.post(f"{PRODUCTS}{pk}/photos", {"file": upload(content, name, "image/jpeg")}, follow=True)

    assert scripted.status_code == 400 and "data-upload-error" in html(scripted) and said in html(scripted)
    assert plain.redirect_chain == [(f"{PRODUCTS}{pk}/#photos", 302)] and said in html(plain)
    with tenant_context(store.tenant):
        assert not ProductImage.objects.exists()
    assert stored_files(media_root) == []


def test_photos_are_moved_made_main_and_deleted_through_the_image_services(
    store, staff, media_root, django_capture_on_commit_callbacks
) -> None:
    pk = add_product(store)
    red = with_ready_photo(store, pk, colour=(200, 30, 30))
    blue = with_ready_photo(store, pk, colour=(30, 30, 200))
    green = with_ready_photo(store, pk, colour=(30, 200, 30))
    heard = listing_changes(store, pk)

    def order() -> list[tuple[int, bool]]:
        with tenant_context(store.tenant):
            return list(
                ProductImage.objects.filter(product_id=pk).order_by("position", "id").values_list("pk", "is_main")
            )

    made_main = staff.post(f"{PRODUCTS}{pk}/photos/{green.pk}/move", {"direction": "main"}, **HTMX)
    assert made_main.status_code == 200 and 'id="photos"' in html(made_main)
    assert order() == [(green.pk, True), (red.pk, False), (blue.pk, False)]

    staff.post(f"{PRODUCTS}{pk}/photos/{green.pk}/move", {"direction": "down"}, **HTMX)
    assert order() == [(red.pk, True), (green.pk, False), (blue.pk, False)]

    moved_up = staff.post(f"{PRODUCTS}{pk}/photos/{blue.pk}/move", {"direction": "up"})
    assert moved_up.status_code == 302 and order() == [(red.pk, True), (blue.pk, False), (green.pk, False)]

    red_files = red.stored_names()
    assert all(any(name.endswith(own) for name in stored_files(media_root)) for own in red_files)
    with django_capture_on_commit_callbacks(execute=True):
        deleted = staff.post(f"{PRODUCTS}{pk}/photos/{red.pk}/delete", **HTMX)
    assert deleted.status_code == 200 and order() == [(blue.pk, True), (green.pk, False)]
    assert not any(name.endswith(own) for name in stored_files(media_root) for own in red_files)
    assert listing_changes(store, pk) == heard + 4


def test_a_photo_is_described_for_people_who_cannot_see_it(store, staff, media_root) -> None:
    pk = add_product(store)
    photo = with_ready_photo(store, pk)

    described = staff.post(f"{PRODUCTS}{pk}/photos/{photo.pk}/describe", {"alt_text": "  A blue   jug "}, **HTMX)
    too_long = staff.post(f"{PRODUCTS}{pk}/photos/{photo.pk}/describe", {"alt_text": "x" * 201}, **HTMX)
    plain = staff.post(f"{PRODUCTS}{pk}/photos/{photo.pk}/describe", {"alt_text": "A blue jug on a shelf"}, follow=True)

    assert described.status_code == 200 and 'alt="A blue jug"' in html(described)
    assert too_long.status_code == 400 and "Describe the photo in at most 200 characters." in html(too_long)
    assert plain.redirect_chain == [(f"{PRODUCTS}{pk}/#photos", 302)] and "Description saved." in html(plain)
    with tenant_context(store.tenant):
        assert ProductImage.objects.get(pk=photo.pk).alt_text == "A blue jug on a shelf"
    assert 'alt="A blue jug on a shelf"' in html(guest(store).get(f"/products/{pk}/"))  # what buyers' readers say


def test_a_product_is_deleted_once_confirmed_and_leaves_the_marketplace(
    store, staff, media_root, django_capture_on_commit_callbacks
) -> None:
    pk = add_product(store, title="Damson jam")
    photo_files = with_ready_photo(store, pk).stored_names()
    heard = listing_changes(store, pk)

    unconfirmed = staff.post(f"{PRODUCTS}{pk}/delete", follow=True)
    assert "Tick the box to confirm the deletion: nothing was deleted." in html(unconfirmed)
    assert product(store, pk).title == "Damson jam"
    assert staff.get(f"{PRODUCTS}{pk}/delete").status_code == 405

    with django_capture_on_commit_callbacks(execute=True):
        deleted = staff.post(f"{PRODUCTS}{pk}/delete", {"confirm": "yes"}, follow=True)

    assert deleted.redirect_chain == [(PRODUCTS, 302)] and "Damson jam deleted." in html(deleted)
    with tenant_context(store.tenant):
        assert not Product.objects.filter(pk=pk).exists() and not ProductImage.objects.filter(product_id=pk).exists()
    assert listing_changes(store, pk) == heard + 1  # the marketplace hears it is gone
    assert not any(name.endswith(own) for name in stored_files(media_root) for own in photo_files)
    assert staff.get(f"{PRODUCTS}{pk}/").status_code == 404


def test_a_photo_still_being_prepared_cannot_be_main_and_the_list_asks_again(store, staff, media_root) -> None:
    pk = add_product(store)
    ready = with_ready_photo(store, pk)
    response = client_for(store, store.token).post(
        f"/api/v1/products/{pk}/images", {"file": upload(photo_bytes((300, 200)))}, format="multipart"
    )
    preparing = response.json()["id"]

    refused = staff.post(f"{PRODUCTS}{pk}/photos/{preparing}/move", {"direction": "main"}, **HTMX)
    polled = staff.get(f"{PRODUCTS}{pk}/photos", **HTMX)

    assert refused.status_code == 400 and "Only a photo that is ready can be the main photo." in html(refused)
    with tenant_context(store.tenant):
        assert ProductImage.objects.get(is_main=True).pk == ready.pk
    assert 'hx-trigger="every 2s"' in html(polled) and "Preparing…" in html(polled)


def test_a_csv_import_creates_the_products_and_its_progress_reports_done(
    store, staff, media_root, eager_tasks, django_capture_on_commit_callbacks
) -> None:
    rows = product_rows(3)
    rows.append(["BAD-1", "Broken", "", "4.50", "GBP", "1", "active", "", ""])  # a price not in minor units

    # When the file is uploaded (its import task queued, not yet run)
    with django_capture_on_commit_callbacks() as queued:
        started = staff.post(f"{PRODUCTS}import", {"file": csv_upload(rows, "spring.csv")})
    with tenant_context(store.tenant):
        job = ImportJob.objects.get()
    job_page = html(staff.get(started["Location"]))

    # Then its page shows a progress bar that asks again every second
    assert started.status_code == 302 and started["Location"] == f"{PRODUCTS}import/{job.pk}/"
    assert "Importing spring.csv" in job_page and "Waiting" in job_page
    assert f'hx-get="{PRODUCTS}import/{job.pk}/progress" hx-trigger="every 1s"' in job_page

    # ...until the import has run, when it reports what was done and stops asking
    for callback in queued:
        callback()
    progress = html(staff.get(f"{PRODUCTS}import/{job.pk}/progress"))

    assert "Finished" in progress and "hx-get" not in progress and "100%" in progress
    assert "<strong>3</strong> new" in progress and "<strong>1</strong> refused" in progress
    with tenant_context(store.tenant):
        assert sorted(Product.objects.values_list("sku", flat=True)) == ["SKU-0000000", "SKU-0000001", "SKU-0000002"]
    refused_rows = staff.get(f"{PRODUCTS}import/{job.pk}/refused.csv")
    report = b"".join(refused_rows.streaming_content).decode()
    assert refused_rows.status_code == 200 and "BAD-1" in report and "whole number" in report
    assert f"{PRODUCTS}import/{job.pk}/refused.csv" in progress


def test_a_file_that_cannot_be_imported_is_refused_in_words(store, staff, media_root) -> None:
    refused = staff.post(f"{PRODUCTS}import", {"file": csv_upload([["name", "cost"], ["Jam", "450"]])})

    assert refused.status_code == 200 and "field-error" in html(refused)
    with tenant_context(store.tenant):
        assert not ImportJob.objects.exists()


def test_categories_are_listed_added_and_renamed(store, staff) -> None:
    added = staff.post(f"{PRODUCTS}categories", {"name": "Bread"})
    again = staff.post(f"{PRODUCTS}categories", {"name": "bread"})
    with tenant_context(store.tenant):
        bread = Category.objects.get()
    renamed = staff.post(f"{PRODUCTS}categories/{bread.pk}/rename", {"name": "Loaves"})
    blank = staff.post(f"{PRODUCTS}categories/{bread.pk}/rename", {"name": "  "}, follow=True)

    assert added.status_code == 302
    assert again.status_code == 400 and "A category with this name" in html(again)
    assert renamed.status_code == 302
    assert "Name is required." in html(blank) or "This field is required." in html(blank)
    with tenant_context(store.tenant):
        assert list(Category.objects.values_list("name", "slug")) == [("Loaves", "bread")]
    assert 'value="Loaves"' in html(staff.get(f"{PRODUCTS}categories"))
