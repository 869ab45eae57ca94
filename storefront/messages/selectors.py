"""Reading conversations: the threads one side sees (a buyer their own, the store all of them), each with
its unread count for that side, and one thread's messages."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet, Sum
from django.urls import reverse

from storefront.messages.models import BlockedBuyer, Message, Side, Thread


def threads(*, buyer_id: int | None = None) -> QuerySet[Thread]:
    """The store's threads, most recent first; a buyer's own only, with `buyer_id`."""
    queryset = Thread.objects.all()
    if buyer_id is not None:
        queryset = queryset.filter(buyer_id=buyer_id)
    return queryset.order_by("-last_message_at", "-pk")


def unread_total(side: str, *, buyer_id: int | None = None) -> int:
    total = threads(buyer_id=buyer_id).aggregate(total=Sum(f"{side}_unread"))["total"]
    return int(total or 0)


def image_url(message: Message) -> str | None:
    if not message.image:
        return None
    return reverse("api-message-image", kwargs={"thread_id": message.thread_id, "message_id": message.pk})


def message_body(message: Message) -> dict[str, Any]:
    return {
        "id": message.pk,
        "sender": message.sender,
        "author": message.author_name if message.sender == Side.SELLER else None,
        "body": message.body,
        "image": image_url(message),
        "created_at": message.created_at,
    }


def thread_summary(thread: Thread, side: str) -> dict[str, Any]:
    return {
        "id": thread.pk,
        "subject": thread.subject,
        "product": thread.product_id,
        "order": thread.order_id,
        "buyer": {"name": thread.buyer_name} if side == Side.SELLER else None,
        "unread": getattr(thread, f"{side}_unread"),
        "last_message_at": thread.last_message_at,
        "created_at": thread.created_at,
    }


def thread_body(thread: Thread, side: str) -> dict[str, Any]:
    body = thread_summary(thread, side)
    if side == Side.SELLER:
        body["buyer"]["blocked"] = BlockedBuyer.objects.filter(buyer_id=thread.buyer_id).exists()
    body["messages"] = [message_body(message) for message in thread.messages.order_by("created_at", "pk")]
    return body
