"""Messages on the web: a signed-in buyer writes from a product page and reads the answer on the store's host;
the store answers and blocks from its admin; each side gets one mail per batch of messages, none for what
they read first. Another buyer's browser sees none of it."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django_tenants.utils import tenant_context
from rest_framework.test import APIClient

from onboarding.services import SignupResult
from storefront.messages import tasks
from storefront.messages.models import Message, Thread
from tests.conftest import ROOT_HOST, STRONG_PASSWORD
from tests.storefront.conftest import admin_browser
from tests.storefront.messages.conftest import photo
from tests.storefront.shop.test_buyer_sign_in import handoff_token, on_store, root, sign_in_on_root

pytestmark = pytest.mark.django_db


def signed_in_on_store(store: SignupResult, email: str) -> Client:
    browser = on_store(store)
    token = handoff_token(sign_in_on_root(root(), store, email), store)
    assert browser.post("/buyers/handoff/", {"token": token}).status_code == 303
    return browser


def html(response: Any) -> str:
    return str(response.content.decode())


def mail_now(store: SignupResult, thread_id: int, side: str) -> int:
    """What the queued task does once its batch window is over."""
    with tenant_context(store.tenant):
        return int(tasks.mail_side(thread_id, side))


def test_a_buyer_asks_from_the_product_page_and_the_store_answers_from_its_admin(
    store, buyer, product, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    browser = signed_in_on_store(store, buyer["buyer"]["email"])
    page = html(browser.get(f"/products/{product}/"))
    assert 'action="/messages/new/"' in page and f'name="product" value="{product}"' in page

    # When the buyer writes twice, the second time with a photo
    with django_capture_on_commit_callbacks() as queued:
        first = browser.post("/messages/new/", {"product": product, "body": "Is it still warm at 5?"})
        thread_id = int(first["Location"].strip("/").split("/")[-1])
        second = browser.post(f"/messages/{thread_id}/", {"body": "This is my bag", "image": photo()})

    # Then one mail to the store is queued for both (a batch), and nothing yet for the buyer
    assert (first.status_code, second.status_code) == (303, 303)
    assert len(queued) == 1
    assert mail_now(store, thread_id, "seller") == 2
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [store.owner.email]
    assert "2 new messages" in mailoutbox[0].subject
    assert "Is it still warm at 5?" in mailoutbox[0].body and "This is my bag" in mailoutbox[0].body
    assert f"/dashboard/messages/{thread_id}/" in mailoutbox[0].body
    assert mail_now(store, thread_id, "seller") == 0  # nothing mailed twice

    # When the owner opens the thread in the admin and answers
    admin = admin_browser(store)
    listing = html(admin.get("/admin/store_messages/thread/"))
    assert "<strong>2</strong>" in listing
    opened = html(admin.get(f"/admin/store_messages/thread/{thread_id}/change/"))
    assert "Is it still warm at 5?" in opened and "Block this buyer" in opened
    assert f"/api/v1/messages/threads/{thread_id}/messages/" in opened  # the photo, for members only
    answered = admin.post(f"/admin/store_messages/thread/{thread_id}/reply/", {"body": "Yes, fresh at 4."})
    assert answered.status_code == 302

    # Then the buyer sees one unread message, reads it on the store's host, and is mailed nothing for it
    assert "1 new" in html(browser.get("/messages/"))
    thread_page = html(browser.get(f"/messages/{thread_id}/"))
    assert "Yes, fresh at 4." in thread_page and f"/messages/{thread_id}/images/" in thread_page
    assert "1 new" not in html(browser.get("/messages/"))
    assert mail_now(store, thread_id, "buyer") == 0
    assert len(mailoutbox) == 1
    with tenant_context(store.tenant):
        image_id = Message.objects.exclude(image="").get().pk
    assert browser.get(f"/messages/{thread_id}/images/{image_id}/").status_code == 200


def test_the_buyer_is_mailed_once_for_answers_they_have_not_read(store, buyer, product, mailoutbox) -> None:
    browser = signed_in_on_store(store, buyer["buyer"]["email"])
    thread_id = int(browser.post("/messages/new/", {"product": product, "body": "Hello"})["Location"].split("/")[-2])
    admin = admin_browser(store)
    for body in ("First answer", "Second answer"):
        admin.post(f"/admin/store_messages/thread/{thread_id}/reply/", {"body": body})

    assert mail_now(store, thread_id, "buyer") == 2

    assert [m.to for m in mailoutbox] == [[buyer["buyer"]["email"]]]
    assert "First answer" in mailoutbox[0].body and "Second answer" in mailoutbox[0].body
    assert f"/messages/{thread_id}/" in mailoutbox[0].body


def test_another_buyers_browser_sees_nothing(store, make_buyer, product) -> None:
    ada, eve = make_buyer(), make_buyer()
    browser = signed_in_on_store(store, ada["buyer"]["email"])
    thread_id = int(browser.post("/messages/new/", {"product": product, "body": "Secret"})["Location"].split("/")[-2])
    with tenant_context(store.tenant):
        message_id = Message.objects.get().pk

    intruder = signed_in_on_store(store, eve["buyer"]["email"])
    assert intruder.get(f"/messages/{thread_id}/").status_code == 404
    assert intruder.post(f"/messages/{thread_id}/", {"body": "me too"}).status_code == 404
    assert intruder.get(f"/messages/{thread_id}/images/{message_id}/").status_code == 404
    assert "Secret" not in html(intruder.get("/messages/"))
    # A guest is asked to sign in; the admin's pages are the store's
    guest = on_store(store)
    assert guest.get("/messages/").status_code == 302
    assert guest.post("/messages/new/", {"product": product, "body": "x"}).status_code == 302
    assert guest.get(f"/admin/store_messages/thread/{thread_id}/change/").status_code == 302
    with tenant_context(store.tenant):
        assert Message.objects.count() == 1


def test_the_store_blocks_a_buyer_from_its_admin(store, buyer, product) -> None:
    browser = signed_in_on_store(store, buyer["buyer"]["email"])
    thread_id = int(browser.post("/messages/new/", {"product": product, "body": "Hi"})["Location"].split("/")[-2])
    admin = admin_browser(store)

    assert admin.post(f"/admin/store_messages/thread/{thread_id}/block/", {"block": "1"}).status_code == 302
    assert "Unblock this buyer" in html(admin.get(f"/admin/store_messages/thread/{thread_id}/change/"))
    refused = browser.post(f"/messages/{thread_id}/", {"body": "Hello?"}, follow=True)

    assert "This store does not accept your messages." in html(refused)
    with tenant_context(store.tenant):
        assert Message.objects.count() == 1
        assert Thread.objects.get().seller_unread == 0  # read in the admin, and nothing new since


def test_a_closed_account_is_mailed_nothing(store, buyer, product, mailoutbox) -> None:
    browser = signed_in_on_store(store, buyer["buyer"]["email"])
    thread_id = int(browser.post("/messages/new/", {"product": product, "body": "Hello"})["Location"].split("/")[-2])
    admin_browser(store).post(f"/admin/store_messages/thread/{thread_id}/reply/", {"body": "Hello to you"})
    account = APIClient(HTTP_HOST=ROOT_HOST, HTTP_AUTHORIZATION=f"Bearer {buyer['token']}")
    closed = account.delete("/api/v1/buyers/me", {"password": STRONG_PASSWORD}, format="json")
    assert closed.status_code == 204, closed.content

    assert mail_now(store, thread_id, "buyer") == 0

    assert mailoutbox == []
    # And the closed account's session on the store's host writes nothing more
    assert browser.post(f"/messages/{thread_id}/", {"body": "still here?"}).status_code == 302
    with tenant_context(store.tenant):
        assert Message.objects.count() == 2
