"""The marketplace's root page as a buyer in a town uses it: each result's picture, price, seller,
distance and stock; filters in the URL; the buyer's town remembered (profile or cookie); bad and
hostile parameters answered with a note, never an error; a fixed number of queries per page."""

from __future__ import annotations

import re

import pytest

from storefront.marketplace.models import Listing
from storefront.marketplace.pages import NEAR_COOKIE
from tests.conftest import ROOT_HOST
from tests.storefront.buyers.conftest import html, root, sign_in
from tests.storefront.conftest import client_for
from tests.storefront.images.image_files import photo_bytes, upload
from tests.storefront.marketplace.conftest import search, titles
from tests.storefront.orders.conftest import buyer, make_buyer

pytestmark = pytest.mark.django_db
__all__ = ["buyer", "make_buyer"]  # buyers signed up over the root's API


def listings(page_html: str) -> list[str]:
    """The result cards' titles, in page order."""
    return re.findall(r'<a href="[^"]*" class="title">([^<]*)</a>', page_html)


def card(page_html: str, title: str) -> str:
    """The HTML of the result card titled `title`."""
    for chunk in page_html.split('<li class="listing">')[1:]:
        chunk = chunk.split("</li>", 1)[0]
        if f'class="title">{title}<' in chunk:
            return chunk
    raise AssertionError(f"no card for {title!r}")


def notices(page_html: str) -> list[str]:
    block = re.search(r'<ul class="notices">(.*?)</ul>', page_html, re.S)
    return re.findall(r"<li>(.*?)</li>", block.group(1), re.S) if block else []


def test_each_result_shows_its_picture_price_seller_distance_and_stock(
    make_store, root_api, eager_tasks, django_capture_on_commit_callbacks
):
    # Given a potter in Hebden Bridge whose products reach the marketplace through the store's own outbox
    store = make_store(store_name="Calder Pottery", town="Hebden Bridge", postcode="HX7 8AD")
    api = client_for(store, store.token)
    with django_capture_on_commit_callbacks(execute=True):
        jug = api.post(
            "/api/v1/products",
            {"title": "Blue stoneware jug", "price": 2450, "sku": "JUG-1", "stock": 3, "status": "active"},
            format="json",
        ).json()
        api.post(
            "/api/v1/products",
            {"title": "Stoneware mug", "price": 1200, "sku": "MUG-1", "stock": 40, "status": "active"},
            format="json",
        )
        api.post(
            "/api/v1/products",
            {"title": "Stoneware vase", "price": 3000, "sku": "VASE-1", "stock": 0, "status": "active"},
            format="json",
        )
    with django_capture_on_commit_callbacks(execute=True):
        posted = api.post(
            f"/api/v1/products/{jug['id']}/images", {"file": upload(photo_bytes((400, 300)))}, format="multipart"
        )
    assert posted.status_code == 202, posted.content

    # When a buyer in Todmorden searches
    page = root().get("/", {"q": "stoneware", "near": "Todmorden"})

    # Then each card shows the picture (on the store's host), the price, the seller, the distance and stock
    assert page.status_code == 200
    text = html(page)
    assert sorted(listings(text)) == ["Blue stoneware jug", "Stoneware mug", "Stoneware vase"]
    jug_card = card(text, "Blue stoneware jug")
    picture = re.search(r'<img src="([^"]+)"', jug_card).group(1)
    assert picture.startswith(f"http://{store.tenant.slug}.{ROOT_HOST}/media/") and picture.endswith("/268x200.webp")
    assert "£24.50" in jug_card and "Calder Pottery" in jug_card
    assert f'href="http://{store.tenant.slug}.{ROOT_HOST}/"' in jug_card
    assert re.search(r'class="distance">\d\.\d km away<', jug_card)
    assert "Only 3 left" in jug_card
    assert "In stock" in card(text, "Stoneware mug") and "No picture yet" in card(text, "Stoneware mug")
    assert "Sold out" in card(text, "Stoneware vase")
    # And the picture is really there, served by the store
    served = client_for(store).get(picture.split(f"{ROOT_HOST}", 1)[1])
    assert served.status_code == 200 and served["Content-Type"] == "image/webp"
    # And the API carries the same
    hit = next(row for row in search(root_api, q="jug", near="Todmorden")["results"])
    assert (hit["thumbnail_url"], hit["stock"], hit["stock_status"]) == (picture, 3, "low")


def test_filters_narrow_the_results_and_live_in_the_url(make_store, publish):
    hebden = make_store(store_name="Hebden Pantry")
    carlisle = make_store(store_name="Carlisle Larder")
    publish(
        hebden,
        ("Heather honey", 650, {"category_slug": "pantry", "category_name": "Pantry", "stock": 12}),
        ("Honey cake", 900, {"category_slug": "bakery", "category_name": "Bakery", "stock": 0}),
        ("Honey and oat loaf", 450, {"category_slug": "bakery", "category_name": "Bakery"}),
        postcode="HX7 8AD",
    )
    publish(carlisle, ("Wildflower honey", 500, {"category_slug": "pantry", "stock": 2}), town="Carlisle")
    browser = root()

    def found(**params) -> list[str]:
        response = browser.get("/", {"q": "honey", "near": "Todmorden", **params})
        assert response.status_code == 200
        assert notices(html(response)) == [], notices(html(response))
        return listings(html(response))

    assert sorted(found()) == ["Heather honey", "Honey and oat loaf", "Honey cake", "Wildflower honey"]
    assert sorted(found(category="pantry")) == ["Heather honey", "Wildflower honey"]
    assert sorted(found(min_price="5", max_price="7.00")) == ["Heather honey", "Wildflower honey"]
    # Sold out leaves; a listing whose store did not say its stock is not known to be sold out
    assert sorted(found(in_stock="1")) == ["Heather honey", "Honey and oat loaf", "Wildflower honey"]
    assert sorted(found(within_km="25")) == ["Heather honey", "Honey and oat loaf", "Honey cake"]
    assert found(sort="price") == ["Honey and oat loaf", "Wildflower honey", "Heather honey", "Honey cake"]
    assert found(sort="nearest")[-1] == "Wildflower honey"
    # Together, and the form shows what is chosen
    page = browser.get("/?q=honey&near=Todmorden&category=pantry&max_price=10&in_stock=1&within_km=25&sort=price")
    assert listings(html(page)) == ["Heather honey"]
    assert '<option value="pantry" selected>Pantry</option>' in html(page)
    assert '<option value="25" selected>' in html(page) and '<option value="price" selected>' in html(page)
    assert 'name="max_price" value="10.00"' in html(page) and 'name="in_stock" value="1" checked' in html(page)


def test_pages_of_results_link_to_each_other(make_store, publish):
    store = make_store()
    publish(store, *[(f"Beeswax candle {n}", 300 + n) for n in range(25)], postcode="HX7")

    first = html(root().get("/", {"q": "candle", "sort": "price"}))
    second = html(root().get("/", {"q": "candle", "sort": "price", "page": "2"}))

    assert len(listings(first)) == 20 and "page=2" in first and 'rel="prev"' not in first
    assert listings(second) == [f"Beeswax candle {n}" for n in range(20, 25)] and 'rel="next"' not in second


def test_a_signed_in_buyer_s_profile_town_is_the_default_place(make_store, publish, buyer, root_api):
    store = make_store()
    publish(store, ("Parkin", 380), postcode="HX7")
    email = buyer["buyer"]["email"]
    patched = root_api.patch(
        "/api/v1/buyers/me", {"town": "Todmorden"}, format="json", HTTP_AUTHORIZATION=f"Bearer {buyer['token']}"
    )
    assert patched.status_code == 200, patched.content
    browser = root()
    sign_in(browser, email)

    # The page: no place in the URL, so the buyer's town
    page = html(browser.get("/", {"q": "parkin"}))
    assert "1 result near Todmorden" in page and 'name="near" value="Todmorden"' in page
    assert "Near the town on your profile" in page and re.search(r"\d\.\d km away", page)
    # A place in the URL wins; an empty one means anywhere
    assert "near Carlisle" in html(browser.get("/", {"q": "parkin", "near": "Carlisle"}))
    assert "km away" not in html(browser.get("/", {"q": "parkin", "near": ""}))

    # The API: with the buyer's token and no place, the buyer's town; a place given wins; no token, none
    token = {"HTTP_AUTHORIZATION": f"Bearer {buyer['token']}"}
    with_token = root_api.get("/api/v1/marketplace/search", {"q": "parkin"}, **token).json()
    assert with_token["near"] == "Todmorden" and 0 < with_token["results"][0]["distance_km"] < 10
    given = root_api.get("/api/v1/marketplace/search", {"q": "parkin", "near": "Carlisle"}, **token).json()
    assert given["near"] == "Carlisle" and given["results"][0]["distance_km"] > 100
    anonymous = search(root_api, q="parkin")
    assert anonymous["near"] is None and anonymous["results"][0]["distance_km"] is None
    # A postcode on the profile is more precise than the town, and is used first
    root_api.patch("/api/v1/buyers/me", {"postcode": "CA1 1AA"}, format="json", **token)
    assert root_api.get("/api/v1/marketplace/search", {"q": "parkin"}, **token).json()["near"] == "CA1"
    # A revoked or made-up buyer token is refused, not taken for anonymous
    refused = root_api.get("/api/v1/marketplace/search", {"q": "parkin"}, HTTP_AUTHORIZATION="Bearer lbb_nonsense")
    assert refused.status_code == 401


def test_a_profile_town_nobody_knows_is_said_and_results_still_show(make_store, publish, buyer, root_api):
    store = make_store()
    publish(store, ("Parkin", 380), postcode="HX7")
    token = {"HTTP_AUTHORIZATION": f"Bearer {buyer['token']}"}
    root_api.patch("/api/v1/buyers/me", {"town": "Atlantis"}, format="json", **token)
    browser = root()
    sign_in(browser, buyer["buyer"]["email"])

    page = html(browser.get("/", {"q": "parkin"}))

    assert listings(page) == ["Parkin"]
    assert any("Atlantis" in notice and "your profile" in notice for notice in notices(page))
    body = root_api.get("/api/v1/marketplace/search", {"q": "parkin"}, **token).json()
    assert (body["near"], body["count"]) == (None, 1)


def test_an_anonymous_visitor_s_last_town_is_remembered_in_a_cookie(make_store, publish):
    store = make_store()
    publish(store, ("Parkin", 380), postcode="HX7")
    browser = root()

    first = browser.get("/", {"q": "parkin", "near": "hx7 8ad"})

    # Remembered as the district, host-only, Lax, for a year
    cookie = first.cookies[NEAR_COOKIE]
    assert cookie.value == "HX7"
    assert cookie["samesite"] == "Lax" and cookie["domain"] == "" and int(cookie["max-age"]) > 300 * 24 * 3600
    # The next visit, even to the bare page, searches from there
    again = html(browser.get("/"))
    assert "1 result near HX7" in again and "Near where you last searched" in again
    assert 'name="near" value="HX7"' in again
    # An unknown town is not remembered; clearing the place forgets it
    unknown = browser.get("/", {"q": "parkin", "near": "Atlantis"})
    assert NEAR_COOKIE not in unknown.cookies
    assert "near HX7" in html(browser.get("/", {"q": "parkin"}))
    cleared = browser.get("/", {"q": "parkin", "near": ""})
    assert cleared.cookies[NEAR_COOKIE].value == "" and "km away" not in html(cleared)
    assert "km away" not in html(browser.get("/", {"q": "parkin"}))


def test_an_unknown_town_says_so_suggests_a_spelling_and_still_shows_results(make_store, publish):
    store = make_store()
    publish(store, ("Parkin", 380), postcode="HX7")

    page = html(root().get("/", {"q": "parkin", "near": "Todmordon"}))

    assert listings(page) == ["Parkin"] and "km away" not in page
    (notice,) = notices(page)
    assert "Unknown town or postcode" in notice and "Todmordon" in notice and "Did you mean Todmorden?" in notice


@pytest.mark.parametrize(
    ("params", "said"),
    [
        ({"max_price": "99999999999999999999"}, "highest price"),
        ({"min_price": "-5"}, "lowest price"),
        ({"min_price": "NaN"}, "lowest price"),
        ({"max_price": "1e999999"}, "highest price"),
        ({"min_price": "9", "max_price": "2"}, "lowest price was above"),
        ({"sort": "'; DROP TABLE marketplace_listing; --"}, "not a way we can sort"),
        ({"within_km": "-3"}, "distance"),
        ({"within_km": "inf"}, "distance"),
        ({"category": "<b>pantry</b>"}, "category"),
        ({"page": "0"}, "page"),
        ({"page": "99999999999999999999999"}, "page"),
        ({"q": "x" * 5000}, "first 200 characters"),
        ({"near": "n" * 5000}, "Unknown town"),
    ],
)
def test_bad_parameters_are_left_out_with_a_note_never_an_error(make_store, publish, params, said):
    store = make_store()
    publish(store, ("Parkin", 380), postcode="HX7")

    response = root().get("/", {"q": "parkin", "near": "Todmorden", **params})

    assert response.status_code == 200
    assert any(said in notice for notice in notices(html(response))), notices(html(response))
    assert Listing.objects.count() == 1  # nothing was changed by any of it


def test_script_in_the_search_is_shown_as_text(make_store, publish):
    store = make_store()
    publish(store, ("Parkin", 380), postcode="HX7")
    hostile = '"><script>alert(1)</script>'

    page = root().get("/", {"q": f"parkin {hostile}", "near": hostile})

    assert page.status_code == 200
    assert "<script>alert(1)" not in html(page) and "&lt;script&gt;alert(1)&lt;/script&gt;" in html(page)


def test_hostile_api_parameters_are_refused_as_field_errors(root_api):
    for params, field in [
        ({"min_price": -1}, "min_price"),
        ({"max_price": 10**30}, "max_price"),
        ({"sort": "random()"}, "sort"),
        ({"sort": "nearest"}, "sort"),  # nearest needs a place
        ({"within_km": "nan", "near": "HX7"}, "within_km"),
        ({"page": 10**9}, "page"),
    ]:
        response = root_api.get("/api/v1/marketplace/search", {"q": "parkin", **params})
        assert response.status_code == 400 and field in response.json(), (params, response.content)
    script = root_api.get("/api/v1/marketplace/search", {"q": "<script>alert(1)</script>"})
    assert script.status_code == 200 and script.json()["count"] == 0


def test_the_api_sorts_and_leaves_out_sold_out_listings(make_store, publish, root_api):
    store = make_store()
    publish(
        store,
        ("Seeded rye", 520, {"stock": 0}),
        ("Light rye", 380, {"stock": 9}),
        ("Dark rye", 450),
        postcode="HX7",
    )

    assert titles(search(root_api, q="rye", sort="price")) == ["Light rye", "Dark rye", "Seeded rye"]
    assert sorted(titles(search(root_api, q="rye", in_stock="true"))) == ["Dark rye", "Light rye"]
    rows = {row["title"]: row for row in search(root_api, q="rye")["results"]}
    assert (rows["Seeded rye"]["stock_status"], rows["Light rye"]["stock_status"]) == ("sold_out", "in_stock")
    assert (rows["Dark rye"]["stock"], rows["Dark rye"]["stock_status"], rows["Dark rye"]["thumbnail_url"]) == (
        None,
        None,
        None,
    )


def test_the_page_costs_the_same_few_queries_for_one_result_or_twenty(
    make_store, publish, buyer, root_api, django_assert_num_queries
):
    store = make_store()
    publish(
        store, *[(f"Wool scarf {n}", 2000, {"stock": n, "category_slug": "knits"}) for n in range(30)], postcode="HX7"
    )
    anonymous = root()
    anonymous.get("/", {"q": "scarf", "near": "HX7"})  # warms the gazetteer, the categories and the host route

    # Anonymous: the search and the stores list (the categories are cached)
    with django_assert_num_queries(2):
        page = anonymous.get("/", {"q": "scaf", "near": "Hebden Bridge", "sort": "price", "in_stock": "1"})
    assert len(listings(html(page))) == 20

    # A signed-in buyer with no place in the URL: their session and account too
    root_api.patch(
        "/api/v1/buyers/me", {"town": "Todmorden"}, format="json", HTTP_AUTHORIZATION=f"Bearer {buyer['token']}"
    )
    signed_in = root()
    sign_in(signed_in, buyer["buyer"]["email"])
    with django_assert_num_queries(4):
        page = signed_in.get("/", {"q": "scarf"})
    assert len(listings(html(page))) == 20 and "near Todmorden" in html(page)

    # The API with a buyer's token and no place: the token, the buyer's account, the search
    with django_assert_num_queries(3):
        body = root_api.get(
            "/api/v1/marketplace/search", {"q": "scarf"}, HTTP_AUTHORIZATION=f"Bearer {buyer['token']}"
        ).json()
    assert (body["near"], len(body["results"])) == ("Todmorden", 20)
