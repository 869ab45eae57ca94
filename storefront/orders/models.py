"""A store's carts, orders and the stock they hold. Kept in the store's schema; buyers are known by
their control-plane id (no foreign key into `public`). Only `storefront.orders.services` writes an
order's status and the stock it holds."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from storefront.catalog.models import Product


class Cart(models.Model):
    """One cart per buyer (signed in) or per browser session (guests)."""

    buyer_id = models.BigIntegerField(null=True, blank=True, unique=True)
    session_key = models.CharField(max_length=40, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(buyer_id__isnull=False) | Q(session_key__isnull=False), name="cart_has_owner"
            )
        ]


class CartItem(models.Model):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveIntegerField()
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cart", "product"], name="cart_item_one_per_product"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="cart_item_quantity_positive"),
        ]


class Order(models.Model):
    class Status(models.TextChoices):
        PENDING_PAYMENT = "pending_payment", "Awaiting payment"
        PLACED = "placed", "Placed"
        PAID = "paid", "Paid"
        READY_FOR_PICKUP = "ready_for_pickup", "Ready for pickup"
        SHIPPED = "shipped", "Shipped"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"
        REFUNDED = "refunded", "Refunded"

    class Fulfilment(models.TextChoices):
        PICKUP = "pickup", "Local pickup"
        DELIVERY = "delivery", "Delivery"

    class StockHold(models.TextChoices):
        """What the order holds of its products' stock (see storefront/orders/stock.py)."""

        RESERVED = "reserved", "Reserved until paid"
        ALLOCATED = "allocated", "Allocated"
        FULFILLED = "fulfilled", "Handed over"
        RELEASED = "released", "Released"

    number = models.CharField(max_length=20, unique=True)
    status = models.CharField(max_length=20, choices=Status.choices)
    stock_hold = models.CharField(max_length=12, choices=StockHold.choices)
    buyer_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    session_key = models.CharField(max_length=40, blank=True, default="")
    email = models.EmailField(max_length=254)
    name = models.CharField(max_length=120, blank=True, default="")
    fulfilment = models.CharField(max_length=10, choices=Fulfilment.choices)
    address = models.JSONField(default=dict, blank=True)
    payment_provider = models.CharField(max_length=16)
    payment_reference = models.CharField(max_length=255, blank=True, default="")
    currency = models.CharField(max_length=3)
    total = models.PositiveBigIntegerField(help_text="In minor units.")
    reserved_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "-created_at"], name="order_status_created"),
            models.Index(fields=["reserved_until"], name="order_reserved_until", condition=Q(stock_hold="reserved")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    status__in=[
                        "pending_payment",
                        "placed",
                        "paid",
                        "ready_for_pickup",
                        "shipped",
                        "completed",
                        "cancelled",
                        "refunded",
                    ]
                ),
                name="order_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(stock_hold__in=["reserved", "allocated", "fulfilled", "released"]),
                name="order_stock_hold_valid",
            ),
            models.CheckConstraint(condition=Q(fulfilment__in=["pickup", "delivery"]), name="order_fulfilment_valid"),
        ]

    def __str__(self) -> str:
        return self.number


class OrderLine(models.Model):
    """A product as it was sold: title, SKU and price copied from the catalog at checkout."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, null=True, on_delete=models.SET_NULL, related_name="+")
    title = models.CharField(max_length=200)
    sku = models.CharField(max_length=64)
    unit_price = models.PositiveBigIntegerField()
    quantity = models.PositiveIntegerField()
    line_total = models.PositiveBigIntegerField()

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(quantity__gte=1), name="order_line_quantity_positive")]


class StockReservation(models.Model):
    """Units held for a checkout in progress (awaiting payment) until `expires_at`."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="reservations")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveIntegerField()
    expires_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["product", "expires_at"], name="reservation_product_expiry")]


class OrderEvent(models.Model):
    """Each status change of an order: who, when and why."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=20, blank=True, default="")
    to_status = models.CharField(max_length=20)
    actor = models.CharField(max_length=200)
    reason = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]


class CheckoutRequest(models.Model):
    """A checkout made with an `Idempotency-Key`: a retry with the same key (by the same buyer or
    session) gets the same order and the same answer, never a second order."""

    owner = models.CharField(max_length=64, help_text="buyer:<id> or session:<key>")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the request body.")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="+")
    # The answer as sent (JSON text: jsonb would reorder its keys, and a retry gets the very same bytes).
    response = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "key"], name="checkout_request_once_per_key")]
