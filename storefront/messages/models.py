"""Conversations between a buyer and the store, kept in the store's schema. Buyers are known by their
control-plane id (no foreign key into `public`); a thread is about a product, an order, or the store in
general, one per buyer and subject. Only `storefront.messages.services` writes these rows."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from storefront.catalog.models import Product
from storefront.orders.models import Order

BODY_MAX = 4000


class Side(models.TextChoices):
    BUYER = "buyer", "Buyer"
    SELLER = "seller", "Seller"


class Thread(models.Model):
    buyer_id = models.BigIntegerField(db_index=True)
    # Kept from the buyer's account when they write, so the seller knows whom they answer. The shared platform
    # mails the address the account has when a mail is due (none once it is closed); a dedicated stack, which
    # holds no buyer accounts, mails this one.
    buyer_name = models.CharField(max_length=150, blank=True)
    buyer_email = models.EmailField(max_length=254)
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # What the thread is about, in words, kept if the product or order is deleted later.
    subject = models.CharField(max_length=200)
    buyer_unread = models.PositiveIntegerField(default=0)
    seller_unread = models.PositiveIntegerField(default=0)
    # When a batched mail to each side is due (None: none queued); see services.queue_mail.
    buyer_mail_due_at = models.DateTimeField(null=True, blank=True)
    seller_mail_due_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_message_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(product__isnull=True) | Q(order__isnull=True), name="thread_about_one_thing"
            ),
        ]
        indexes = [models.Index(fields=["buyer_id", "-last_message_at"], name="thread_buyer_recent")]

    def __str__(self) -> str:
        return f"{self.subject} ({self.buyer_name or self.buyer_email})"


class Message(models.Model):
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="messages")
    sender = models.CharField(max_length=8, choices=Side.choices)
    # The store member who answered (None for the buyer's own messages).
    author_id = models.BigIntegerField(null=True, blank=True)
    author_name = models.CharField(max_length=150, blank=True)
    body = models.TextField(max_length=BODY_MAX, blank=True)
    # A re-encoded image (no metadata), never served publicly: only to the thread's two sides.
    image = models.CharField(max_length=200, blank=True)
    image_type = models.CharField(max_length=16, blank=True)
    # The recipient was mailed about it (or had read it before a mail was due).
    notified = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(sender__in=["buyer", "seller"]), name="message_sender_valid"),
            models.CheckConstraint(condition=~Q(body="") | ~Q(image=""), name="message_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.sender}: {self.body[:40]}"


class BlockedBuyer(models.Model):
    """A buyer the store no longer hears from: their new messages are refused in every thread."""

    buyer_id = models.BigIntegerField(unique=True)
    blocked_by = models.CharField(max_length=254)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"buyer {self.buyer_id}"
