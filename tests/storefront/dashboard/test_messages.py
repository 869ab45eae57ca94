"""The dashboard's Messages section: the store's conversations with what is unread first, one conversation
(opening it reads it) with its photos, a reply with an optional photo sent as the member signed in, and the
buyer blocked and let back in. Only the store's members get in, owner or staff, and only to this store's
conversations; a refused reply sends nothing."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import tenant_context

from onboarding.services import SignupResult
from storefront.messages.models import BlockedBuyer, Message, Thread
from tests.storefront.dashboard.browsers import LURKER, assert_members_only, guest, html, signed_in
from tests.storefront.messages.conftest import buyer_api, photo, product, staff_member_api, write
from tests.storefront.orders.conftest import add_product, buyer, make_buyer, shop

pytestmark = pytest.mark.django_db
__all__ = ["buyer", "buyer_api", "make_buyer", "product", "write"]
MESSAGES = "/dashboard/messages/"


def unread_of(store: SignupResult, thread_id: int) -> int:
    with tenant_context(store.tenant):
        return Thread.objects.values_list("seller_unread", flat=True).get(pk=thread_id)


def messages_in(store: SignupResult) -> int:
    with tenant_context(store.tenant):
        return Message.objects.count()


def listed(page: str) -> list[str]:
    """The links of the conversations a list page shows, in its order."""
    return re.findall(rf'<a href="{MESSAGES}(\d+)/">', page)


@pytest.fixture
def owner(store: SignupResult) -> Any:
    return signed_in(store, store.owner.email)


def test_opening_a_conversation_reads_it_and_what_is_unread_comes_first(store, write, make_buyer, product, owner):
    first = write("Is the rye seeded?").json()["id"]
    write("And sliced?")
    later = shop(store, make_buyer()).post("/api/v1/messages", {"body": "Open on Sunday?"}, format="json")
    second = later.json()["id"]

    # Given the store read the later conversation only
    owner.get(f"{MESSAGES}{second}/")
    before = html(owner.get(MESSAGES))
    assert listed(before) == [str(first), str(second)]  # unread first, although older
    assert '<span class="count">2 unread</span>' in before and "Ada Buyer" in before
    assert "<strong>2 unread</strong>" in html(owner.get("/dashboard/"))

    # When the owner opens the first
    page = html(owner.get(f"{MESSAGES}{first}/"))

    # Then it shows the conversation and nothing is unread any more
    assert "Is the rye seeded?" in page and "And sliced?" in page and 'aria-current="page">Messages</a>' in page
    assert '<label for="id_body">Your answer</label>' in page and 'for="id_image"' in page
    assert unread_of(store, first) == 0
    after = html(owner.get(MESSAGES))
    assert "unread" not in after.split("<h1>")[1]
    assert listed(after) == [str(second), str(first)]  # now by the latest message
    assert "No unread messages" in html(owner.get("/dashboard/"))


def test_a_member_replies_with_a_photo_which_the_buyer_reads(store, write, buyer_api, owner):
    thread_id = write("Can I see the crumb?").json()["id"]

    sent = owner.post(f"{MESSAGES}{thread_id}/reply/", {"body": "Here it is.", "image": photo()}, follow=True)

    assert sent.redirect_chain == [(f"{MESSAGES}{thread_id}/", 303)]
    assert [str(m) for m in sent.context["messages"]] == ["Sent."]
    page = html(sent)
    image = re.search(rf'<img src="(/api/v1/messages/threads/{thread_id}/messages/\d+/image)"', page)
    assert image is not None and "Here it is." in page and 'alt="A photo sent by the store"' in page
    shown = owner.get(image.group(1))
    assert shown.status_code == 200 and shown["Content-Type"] == "image/jpeg"
    answer = buyer_api.get(f"/api/v1/messages/threads/{thread_id}").json()["messages"][-1]
    assert (answer["sender"], answer["body"], answer["author"]) == ("seller", "Here it is.", store.owner.email)
    assert answer["image"] == image.group(1)


def test_a_refused_reply_sends_nothing_and_keeps_what_was_written(store, write, owner):
    thread_id = write("Hello?").json()["id"]
    text = {"body": "Look:", "image": SimpleUploadedFile("crumb.jpg", b"just text", content_type="image/jpeg")}

    empty = owner.post(f"{MESSAGES}{thread_id}/reply/", {"body": "   "})
    bad_photo = owner.post(f"{MESSAGES}{thread_id}/reply/", text)

    assert empty.status_code == 400 and "Not sent: Write a message (or attach a photo)." in html(empty)
    assert bad_photo.status_code == 400 and "Not sent:" in html(bad_photo)
    assert "Look:</textarea>" in html(bad_photo)  # what was written, kept
    assert messages_in(store) == 1


def test_the_store_blocks_a_buyer_and_lets_them_back(store, write, owner):
    thread_id = write("First").json()["id"]

    blocked = owner.post(f"{MESSAGES}{thread_id}/block/", {"block": "1"}, follow=True)
    refused = write("Again")
    unblocked = owner.post(f"{MESSAGES}{thread_id}/block/", {"block": "0"}, follow=True)
    again = write("Sorry")

    assert blocked.redirect_chain == [(f"{MESSAGES}{thread_id}/", 303)]
    assert "Ada Buyer can no longer message the store." in html(blocked) and "Unblock this buyer" in html(blocked)
    assert refused.status_code == 403 and refused.json()["code"] == "blocked"
    assert "Ada Buyer can message the store again." in html(unblocked) and "Block this buyer" in html(unblocked)
    assert again.status_code == 201
    assert messages_in(store) == 2
    with tenant_context(store.tenant):
        assert not BlockedBuyer.objects.exists()


def test_a_staff_member_answers_too(store, write):
    staff_member_api(store, "assistant@example.com")
    thread_id = write("Gluten free?").json()["id"]
    staff = signed_in(store, "assistant@example.com")

    assert str(thread_id) in listed(html(staff.get(MESSAGES)))
    assert staff.post(f"{MESSAGES}{thread_id}/reply/", {"body": "No, sorry."}).status_code == 303

    with tenant_context(store.tenant):
        answer = Message.objects.get(body="No, sorry.")
    assert (answer.sender, answer.author_name) == ("seller", "assistant@example.com")
    assert unread_of(store, thread_id) == 0


def test_nobody_else_reads_or_answers_the_stores_conversations(store, make_store, make_buyer, write, owner):
    mine = write("Mine").json()["id"]
    other = make_store()
    their_product = add_product(other, stock=5)
    buyer_there = shop(other, make_buyer())
    buyer_there.post("/api/v1/messages", {"body": "Fresh?", "product": their_product}, format="json")
    theirs = buyer_there.post("/api/v1/messages", {"body": "Open?"}, format="json").json()["id"]
    assert theirs != mine  # an id only the other store has

    assert owner.get(f"{MESSAGES}{theirs}/").status_code == 404
    assert owner.post(f"{MESSAGES}{theirs}/reply/", {"body": "Hi"}).status_code == 404
    assert owner.post(f"{MESSAGES}{theirs}/block/", {"block": "1"}).status_code == 404
    assert_members_only(store, MESSAGES, f"{MESSAGES}{mine}/")
    assert signed_in(store, LURKER).post(f"{MESSAGES}{mine}/reply/", {"body": "Hi"}).status_code == 403
    assert guest(store).post(f"{MESSAGES}{mine}/block/", {"block": "1"}).status_code == 302
    assert messages_in(store) == 1 and unread_of(store, mine) == 1
    with tenant_context(other.tenant):
        assert Message.objects.count() == 2 and not BlockedBuyer.objects.exists()
    with tenant_context(store.tenant):
        assert not BlockedBuyer.objects.exists()
