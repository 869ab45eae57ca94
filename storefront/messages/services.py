"""Everything that changes a conversation: a buyer writes to the store (a new thread or the one already
open about the same product or order), either side answers, reads, and the store blocks or unblocks a
buyer. Each write is one transaction; the other side's unread count moves with `F()`, and a mail to them
is queued once per batch window (`queue_mail`), never once per message."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import IO

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from storefront.catalog.models import Product
from storefront.messages.attachments import AttachmentRejected, forget_attachment, store_attachment
from storefront.messages.models import BODY_MAX, BlockedBuyer, Message, Side, Thread
from storefront.orders.models import Order
from tenants.advisory_locks import hold_until_commit, store_lock_name
from tenants.db_backend import connection
from tenants.task_queue import enqueue

# A mail queued longer ago than this was lost (a worker died before it ran): the next message queues another.
MAIL_LOST_AFTER = timedelta(hours=1)


class MessageRefused(Exception):
    """The message can't be sent; `errors` maps each input to what is wrong with it."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(message for messages in errors.values() for message in messages))
        self.errors = errors


class BuyerBlocked(Exception):
    """The store blocked this buyer."""


class TooManyMessages(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"You have sent too many messages; try again in {retry_after} seconds.")
        self.retry_after = retry_after


class NotFound(Exception):
    pass


@dataclass(frozen=True)
class Writer:
    """Who writes: the buyer (their control-plane id) or a member of the store (their user id)."""

    side: str
    id: int
    name: str
    email: str = ""


@dataclass(frozen=True)
class Upload:
    stream: IO[bytes]
    size: int


def _checked_body(body: str, upload: Upload | None) -> str:
    body = (body or "").strip()
    if len(body) > BODY_MAX:
        raise MessageRefused({"body": [f"A message is at most {BODY_MAX} characters ({len(body)} given)."]})
    if not body and upload is None:
        raise MessageRefused({"body": ["Write a message (or attach a photo)."]})
    if "\x00" in body:
        raise MessageRefused({"body": ["The message contains a character that can't be stored."]})
    return body


def _check_rate(buyer_id: int) -> None:
    """Fixed windows per buyer in this store (the cache is namespaced by the store's schema)."""
    window = settings.MESSAGES_RATE_WINDOW_SECONDS
    now = time.time()
    key = f"messages:rate:{buyer_id}:{int(now // window)}"
    cache.add(key, 0, timeout=window + 1)
    try:
        sent = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=window + 1)
        sent = 1
    if sent > settings.MESSAGES_PER_BUYER:
        raise TooManyMessages(max(1, math.ceil(window - now % window)))


def _stored_image(upload: Upload | None) -> tuple[str, str]:
    if upload is None:
        return "", ""
    try:
        return store_attachment(upload.stream, upload.size)
    except AttachmentRejected as error:
        raise MessageRefused({"image": [str(error)]}) from error


def is_blocked(buyer_id: int) -> bool:
    return BlockedBuyer.objects.filter(buyer_id=buyer_id).exists()


def _subject_of(product_id: int | None, order_id: int | None, buyer_id: int) -> tuple[dict[str, object], str]:
    """The thread's link and words; a product must be on sale, an order must be the buyer's own."""
    if product_id is not None and order_id is not None:
        raise MessageRefused({"product": ["Write about a product or an order, not both."]})
    if product_id is not None:
        product = Product.objects.filter(pk=product_id, status=Product.Status.ACTIVE).only("title").first()
        if product is None:
            raise MessageRefused({"product": ["No such product in this store."]})
        return {"product": product}, product.title[:200]
    if order_id is not None:
        order = Order.objects.filter(pk=order_id, buyer_id=buyer_id).only("number").first()
        if order is None:
            raise MessageRefused({"order": ["No such order of yours in this store."]})
        return {"order": order}, f"Order {order.number}"
    return {}, "A question for the store"


def write_to_store(
    buyer: Writer,
    body: str,
    *,
    product_id: int | None = None,
    order_id: int | None = None,
    upload: Upload | None = None,
) -> Thread:
    """A buyer's message to the store, in the thread already open about the same subject or a new one."""
    body = _checked_body(body, upload)
    if is_blocked(buyer.id):
        raise BuyerBlocked
    about, subject = _subject_of(product_id, order_id, buyer.id)
    _check_rate(buyer.id)
    lookup = {"buyer_id": buyer.id, "product": about.get("product"), "order": about.get("order")}
    image = _stored_image(upload)
    try:
        with transaction.atomic():
            # One first message at a time per buyer and store: two sent at once about one product make one thread.
            hold_until_commit(store_lock_name(f"message-thread:{buyer.id}"))
            thread = Thread.objects.filter(**lookup).order_by("pk").first()
            if thread is None:
                thread = Thread.objects.create(
                    **lookup,
                    buyer_name=buyer.name[:150],
                    buyer_email=buyer.email,
                    subject=subject,
                    last_message_at=timezone.now(),
                )
            _add_message(thread, buyer, body, image)
    except BaseException:
        forget_attachment(image[0])
        raise
    return thread


def reply(thread_id: int, writer: Writer, body: str, *, upload: Upload | None = None) -> Thread:
    """An answer in an existing thread, by its buyer or by a member of the store."""
    body = _checked_body(body, upload)
    if writer.side == Side.BUYER:
        if is_blocked(writer.id):
            raise BuyerBlocked
        _check_rate(writer.id)
    image = _stored_image(upload)
    try:
        with transaction.atomic():
            threads = Thread.objects.select_for_update()
            if writer.side == Side.BUYER:
                threads = threads.filter(buyer_id=writer.id)
            thread = threads.filter(pk=thread_id).first()
            if thread is None:
                raise NotFound("No such conversation.")
            _add_message(thread, writer, body, image)
    except BaseException:
        forget_attachment(image[0])
        raise
    return thread


def _add_message(thread: Thread, writer: Writer, body: str, image: tuple[str, str]) -> Message:
    message = Message.objects.create(
        thread=thread,
        sender=writer.side,
        author_id=writer.id if writer.side == Side.SELLER else None,
        author_name=writer.name[:150] if writer.side == Side.SELLER else "",
        body=body,
        image=image[0],
        image_type=image[1],
    )
    recipient = Side.SELLER if writer.side == Side.BUYER else Side.BUYER
    now = timezone.now()
    Thread.objects.filter(pk=thread.pk).update(
        last_message_at=now,
        **{f"{recipient}_unread": F(f"{recipient}_unread") + 1, f"{writer.side}_unread": 0},
    )
    # What the writer had not read yet, they answered now.
    Message.objects.filter(thread=thread, sender=recipient, notified=False).update(notified=True)
    queue_mail(thread.pk, recipient)
    thread.refresh_from_db()
    return message


def queue_mail(thread_id: int, recipient: str) -> None:
    """Queue one mail to `recipient` about this thread, due after the batch window, unless one is queued
    already: the messages that follow it in the window go in the same mail."""
    due_field = f"{recipient}_mail_due_at"
    now = timezone.now()
    delay = settings.MESSAGE_MAIL_DELAY_SECONDS
    queued = Thread.objects.filter(
        Q(**{f"{due_field}__isnull": True}) | Q(**{f"{due_field}__lt": now - MAIL_LOST_AFTER}), pk=thread_id
    ).update(**{due_field: now + timedelta(seconds=delay)})
    if queued:
        headers = {"_schema_name": connection.schema_name}
        transaction.on_commit(
            lambda: enqueue("messages.mail_side", thread_id, recipient, headers=headers, countdown=delay)
        )


def mark_read(thread: Thread, side: str) -> None:
    """`side` has seen the thread: its unread count is zero, and nothing it saw is mailed to it later."""
    if getattr(thread, f"{side}_unread") == 0:
        return
    other = Side.SELLER if side == Side.BUYER else Side.BUYER
    with transaction.atomic():
        Thread.objects.filter(pk=thread.pk).update(**{f"{side}_unread": 0})
        Message.objects.filter(thread=thread, sender=other, notified=False).update(notified=True)
    setattr(thread, f"{side}_unread", 0)


def block_buyer(buyer_id: int, *, by: str) -> bool:
    """The store hears no more from this buyer; True when they were not blocked before."""
    _, created = BlockedBuyer.objects.get_or_create(buyer_id=buyer_id, defaults={"blocked_by": by[:254]})
    return created


def unblock_buyer(buyer_id: int) -> bool:
    deleted, _ = BlockedBuyer.objects.filter(buyer_id=buyer_id).delete()
    return bool(deleted)


def forget_buyer(buyer_id: int) -> int:
    """A closed account's threads stay with the store (what was said, to whom it answered) without the buyer's
    name or address."""
    return Thread.objects.filter(buyer_id=buyer_id).update(
        buyer_name="", buyer_email=f"deleted-{buyer_id}@deleted.invalid"
    )
