"""The mail each side gets about the messages waiting for it in one thread: one mail for all the messages
of a batch window, none when the recipient read them first (Django's email backend; console by default)."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction

from storefront.buyers.services import active_buyer
from storefront.messages.models import Message, Side, Thread
from tenants.accounts.models import Membership


def _words(message: Message) -> str:
    if not message.image:
        return message.body
    return f"{message.body} [a photo]" if message.body else "[a photo]"


def _buyer_address(thread: Thread) -> list[str]:
    if settings.TENANCY_MODE == "dedicated":
        return [thread.buyer_email]
    buyer = active_buyer(thread.buyer_id)
    return [buyer.email] if buyer is not None else []


def mail_side(thread_id: int, recipient: str, store_name: str, store_url: str) -> int:
    """Mail `recipient` the thread's messages not yet mailed or read; the number of messages mailed."""
    with transaction.atomic():
        thread = Thread.objects.select_for_update().filter(pk=thread_id).first()
        if thread is None or recipient not in Side.values:
            return 0
        Thread.objects.filter(pk=thread_id).update(**{f"{recipient}_mail_due_at": None})
        sender = Side.BUYER if recipient == Side.SELLER else Side.SELLER
        waiting = list(
            Message.objects.filter(thread=thread, sender=sender, notified=False).order_by("created_at", "pk")
        )
        if not waiting:
            return 0
        Message.objects.filter(pk__in=[message.pk for message in waiting]).update(notified=True)
        if recipient == Side.BUYER:
            to = _buyer_address(thread)
            link = f"{store_url}/messages/{thread.pk}/"
            who = store_name
        else:
            to = list(
                Membership.objects.filter(role=Membership.Role.OWNER, user__is_active=True).values_list(
                    "user__email", flat=True
                )
            )
            link = f"{store_url}/dashboard/messages/{thread.pk}/"
            who = thread.buyer_name or "A buyer"
        if not to:
            return 0
        count = len(waiting)
        lines = "\n\n".join(
            f"{message.created_at:%d %b %H:%M}: {message.body or '(a photo)'}"
            + (" [photo]" if message.image and message.body else "")
            for message in waiting
        )
        plural = "message" if count == 1 else "messages"
        subject = f"{count} new {plural} from {who}: {thread.subject}"
        body = f'{who} wrote about "{thread.subject}":\n\n{lines}\n\nRead and answer: {link}\n'
        # Sent inside the transaction: if the mail fails, nothing is marked mailed and the retry sends it.
        send_mail(subject[:200], body, settings.DEFAULT_FROM_EMAIL, to)
    return count
