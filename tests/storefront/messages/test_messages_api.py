"""A buyer writes to a store about a product or an order; the store answers; both sides see unread counts;
nobody else reads the thread; the store blocks a buyer; a buyer is rate limited; photos are checked and
stripped of their metadata. All over HTTP on real stores."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import tenant_context
from PIL import Image

from storefront.messages.models import BlockedBuyer, Message, Thread
from tests.conftest import store_api
from tests.storefront.messages.conftest import photo, staff_member_api
from tests.storefront.orders.conftest import add_product, fill_cart, shop

pytestmark = pytest.mark.django_db


def messages_in(store: Any) -> int:
    with tenant_context(store.tenant):
        return Message.objects.count()


def stored_message_files(media_root: Any, store: Any) -> list[str]:
    folder = media_root / store.tenant.schema_name / "messages"
    return sorted(path.name for path in folder.iterdir()) if folder.exists() else []


def test_a_buyer_writes_about_a_product_and_the_store_answers(store, write, seller_api, buyer_api, product) -> None:
    # When the buyer writes twice about the product
    first = write("Is this still available?")
    second = write("And could I collect it on Saturday?")

    # Then both messages are in one thread about the product, unread by the store
    assert first.status_code == 201, first.content
    assert second.status_code == 201
    thread = second.json()
    assert thread["id"] == first.json()["id"]
    assert thread["product"] == product
    assert [m["body"] for m in thread["messages"]] == [
        "Is this still available?",
        "And could I collect it on Saturday?",
    ]
    listed = seller_api.get("/api/v1/messages/threads").json()
    assert listed["unread"] == 2
    assert [(t["id"], t["unread"], t["buyer"]["name"]) for t in listed["results"]] == [(thread["id"], 2, "Ada Buyer")]

    # When the store reads the thread and answers
    read = seller_api.get(f"/api/v1/messages/threads/{thread['id']}")
    answered = seller_api.post(f"/api/v1/messages/threads/{thread['id']}", {"body": "Yes, until 4pm."}, format="json")

    # Then the store has nothing unread, and the buyer has one answer waiting, signed by the member
    assert read.status_code == 200
    assert answered.status_code == 201, answered.content
    assert seller_api.get("/api/v1/messages/threads").json()["unread"] == 0
    mine = buyer_api.get("/api/v1/messages/threads").json()
    assert (mine["unread"], mine["results"][0]["unread"]) == (1, 1)
    shown = buyer_api.get(f"/api/v1/messages/threads/{thread['id']}").json()
    assert [(m["sender"], m["body"]) for m in shown["messages"]][-1] == ("seller", "Yes, until 4pm.")
    assert shown["messages"][-1]["author"] == store.owner.email
    assert buyer_api.get("/api/v1/messages/threads").json()["unread"] == 0


def test_a_buyer_writes_about_their_own_order_only(store, make_buyer, product) -> None:
    # Given an order placed by one buyer
    owner, other = make_buyer(), make_buyer()
    client = shop(store, owner)
    fill_cart(client, (product, 1))
    placed = client.post(
        "/api/v1/checkout", {"fulfilment": "pickup", "payment": "local"}, format="json", HTTP_IDEMPOTENCY_KEY="k1"
    )
    assert placed.status_code == 201, placed.content
    order_id = placed.json()["order"]["id"]

    # When another buyer writes about that order
    refused = shop(store, other).post("/api/v1/messages", {"body": "Where is it?", "order": order_id}, format="json")

    # Then they are refused and nothing is stored; the order's own buyer may write about it
    assert refused.status_code == 400
    assert "order" in refused.json()
    assert messages_in(store) == 0
    accepted = client.post("/api/v1/messages", {"body": "Where is it?", "order": order_id}, format="json")
    assert accepted.status_code == 201, accepted.content
    assert accepted.json()["subject"].startswith("Order ")
    assert accepted.json()["order"] == order_id


def test_nobody_else_reads_or_writes_in_a_thread(store, make_store, make_buyer, write, seller_api) -> None:
    thread_id = write("My address is 1 Mill Lane").json()["id"]
    stranger = shop(store, make_buyer())
    other_store = make_store()
    other_staff_here = store_api(store.tenant.slug, other_store.token)
    other_staff_there = store_api(other_store.tenant.slug, other_store.token)

    # Another buyer: not in their list, 404 on read, write and photo
    assert stranger.get("/api/v1/messages/threads").json()["results"] == []
    assert stranger.get(f"/api/v1/messages/threads/{thread_id}").status_code == 404
    assert stranger.post(f"/api/v1/messages/threads/{thread_id}", {"body": "hi"}, format="json").status_code == 404
    # Another store's staff: their token means nothing here, and the id means nothing on their host
    assert other_staff_here.get(f"/api/v1/messages/threads/{thread_id}").status_code == 401
    assert other_staff_there.get(f"/api/v1/messages/threads/{thread_id}").status_code == 404
    assert other_staff_there.get("/api/v1/messages/threads").json()["results"] == []
    # Anonymous visitors and the root host
    assert store_api(store.tenant.slug).get("/api/v1/messages/threads").status_code == 401
    assert store_api(store.tenant.slug).get(f"/api/v1/messages/threads/{thread_id}").status_code == 401
    # A buyer's token is no staff token: blocking needs the store
    assert shop(store, make_buyer()).post(f"/api/v1/messages/threads/{thread_id}/block").status_code == 403
    # And nothing was added by any of them
    assert messages_in(store) == 1
    # While the store's staff member (not only the owner) reads it
    helper = staff_member_api(store)
    assert (
        helper.get(f"/api/v1/messages/threads/{thread_id}").json()["messages"][0]["body"] == "My address is 1 Mill Lane"
    )


def test_the_root_host_serves_no_messages(root_api, buyer) -> None:
    root_api.credentials(HTTP_AUTHORIZATION=f"Bearer {buyer['token']}")
    assert root_api.get("/api/v1/messages/threads").status_code == 404
    assert root_api.post("/api/v1/messages", {"body": "hi"}, format="json").status_code == 404


def test_a_blocked_buyer_is_refused_until_unblocked(store, write, seller_api, buyer_api) -> None:
    thread_id = write("First").json()["id"]

    blocked = seller_api.post(f"/api/v1/messages/threads/{thread_id}/block")
    assert blocked.json() == {"thread": thread_id, "blocked": True}
    assert seller_api.get(f"/api/v1/messages/threads/{thread_id}").json()["buyer"]["blocked"] is True

    for response in (
        write("Again"),
        buyer_api.post(f"/api/v1/messages/threads/{thread_id}", {"body": "x"}, format="json"),
    ):
        assert response.status_code == 403
        assert response.json()["code"] == "blocked"
    assert messages_in(store) == 1

    assert seller_api.delete(f"/api/v1/messages/threads/{thread_id}/block").json()["blocked"] is False
    assert write("Sorry").status_code == 201
    with tenant_context(store.tenant):
        assert not BlockedBuyer.objects.exists()


def test_a_buyer_is_rate_limited(store, write, settings) -> None:
    settings.MESSAGES_PER_BUYER = 3
    for n in range(3):
        assert write(f"message {n}").status_code == 201

    refused = write("one too many")

    assert refused.status_code == 429
    assert refused.json()["code"] == "too_many_messages"
    assert 1 <= int(refused["Retry-After"]) <= settings.MESSAGES_RATE_WINDOW_SECONDS
    assert messages_in(store) == 3


def test_bad_messages_are_refused_with_nothing_stored(store, write, buyer_api, product, media_root) -> None:
    assert write("").status_code == 400
    assert write("   ").status_code == 400
    assert write("x" * 4001).status_code == 400
    assert write("nul \x00 byte").status_code == 400
    assert buyer_api.post("/api/v1/messages", {"body": "hi", "product": 999999}, format="json").status_code == 400
    draft = add_product(store, status="draft")
    assert buyer_api.post("/api/v1/messages", {"body": "hi", "product": draft}, format="json").status_code == 400
    both = buyer_api.post("/api/v1/messages", {"body": "hi", "product": product, "order": 1}, format="json")
    assert both.status_code == 400
    fake = SimpleUploadedFile("photo.png", b"<svg onload=alert(1)>", content_type="image/png")
    refused = buyer_api.post(
        "/api/v1/messages", {"body": "look", "product": product, "image": fake}, format="multipart"
    )
    assert refused.status_code == 400
    assert "image" in refused.json()
    assert messages_in(store) == 0
    assert stored_message_files(media_root, store) == []
    with tenant_context(store.tenant):
        assert not Thread.objects.exists()


def test_a_photo_is_kept_without_its_metadata_and_shown_only_to_the_thread(
    store, make_buyer, buyer_api, seller_api, product, media_root, settings
) -> None:
    # When the buyer sends a photo taken with a phone (GPS position in its EXIF)
    sent = buyer_api.post(
        "/api/v1/messages",
        {"body": "Like this one?", "product": product, "image": photo(size=(3000, 1500), gps=True)},
        format="multipart",
    )

    # Then the thread shows it, re-encoded at most 2048 px wide with no metadata
    assert sent.status_code == 201, sent.content
    url = sent.json()["messages"][0]["image"]
    served = seller_api.get(url)
    assert served.status_code == 200
    assert served["Content-Type"] == "image/jpeg"
    assert served["X-Content-Type-Options"] == "nosniff"
    assert "private" in served["Cache-Control"]
    with Image.open(io.BytesIO(b"".join(served.streaming_content))) as image:
        assert image.size == (2048, 1024)
        assert not image.getexif()
    assert buyer_api.get(url).status_code == 200
    # And nobody else gets it
    assert shop(store, make_buyer()).get(url).status_code == 404
    assert store_api(store.tenant.slug).get(url).status_code == 401
    # A photo alone is a message too; one too large is refused
    alone = buyer_api.post(
        f"/api/v1/messages/threads/{sent.json()['id']}", {"image": photo(kind="PNG")}, format="multipart"
    )
    assert alone.status_code == 201, alone.content
    settings.MESSAGE_IMAGE_MAX_BYTES = 100
    too_big = buyer_api.post(
        f"/api/v1/messages/threads/{sent.json()['id']}", {"body": "big", "image": photo()}, format="multipart"
    )
    assert too_big.status_code == 400
    assert messages_in(store) == 2
    assert len(stored_message_files(media_root, store)) == 2


def test_a_photo_is_not_public_media(store, buyer_api, product) -> None:
    sent = buyer_api.post(
        "/api/v1/messages", {"body": "see", "product": product, "image": photo()}, format="multipart"
    ).json()
    with tenant_context(store.tenant):
        name = Message.objects.get().image
        assert default_storage.exists(name)
    assert store_api(store.tenant.slug).get(f"/media/{store.tenant.schema_name}/{name}").status_code == 404
    assert sent["messages"][0]["image"].startswith(f"/api/v1/messages/threads/{sent['id']}/")
