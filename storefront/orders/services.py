"""Carts, checkout and an order's status: the only code that writes them and the stock they hold.

Never oversold: a checkout locks its cart, then its products' rows in id order (two carts holding the
same products in any order queue behind each other instead of deadlocking), counts what is left of
each (stock - allocated - live reservations) and either places the whole order or none of it (409
`sold_out`). Prices always come from the catalog at that moment, never from the request.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from billing.limits import current_store
from billing.services import record_usage_batch
from billing.usage_batches import UsageEventIn
from storefront.catalog.availability import LOW_STOCK
from storefront.catalog.models import Product
from storefront.orders import transitions
from storefront.orders.models import Cart, CartItem, CheckoutRequest, Order, OrderEvent, OrderLine, StockReservation
from storefront.orders.selectors import order_body
from storefront.payments.providers import (
    PaymentFailed,
    PaymentProvider,
    PaymentRequest,
    PaymentUnavailable,
    payment_provider,
)
from storefront.publishing import order_history
from storefront.publishing import services as publishing
from tenants.db_backend import connection
from tenants.task_queue import enqueue

MAX_QUANTITY = 10_000


@dataclass(frozen=True)
class CartOwner:
    """Whose cart: a signed-in buyer (by control-plane id) or a guest's browser session."""

    buyer_id: int | None = None
    session_key: str | None = None

    def __post_init__(self) -> None:
        if (self.buyer_id is None) == (self.session_key is None):
            raise ValueError("A cart belongs to a buyer or to a session, not both or neither.")

    @property
    def label(self) -> str:
        return f"buyer:{self.buyer_id}" if self.buyer_id is not None else f"session:{self.session_key}"

    def carts(self) -> Any:
        if self.buyer_id is not None:
            return Cart.objects.filter(buyer_id=self.buyer_id)
        return Cart.objects.filter(session_key=self.session_key)


class OrderRefused(Exception):
    """Bad input for a cart or checkout: a 400 with `errors` keyed by field."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(" ".join(messages) for messages in errors.values()))
        self.errors = errors


class SoldOut(Exception):
    """Fewer units left than the cart asks for: nothing was ordered. `items` says which and how many."""

    def __init__(self, items: list[dict[str, Any]]) -> None:
        super().__init__(f"{len(items)} products of the cart are sold out or short.")
        self.items = items


class KeyReused(Exception):
    """An `Idempotency-Key` already used for a different checkout."""


class IllegalTransition(Exception):
    pass


class NotFound(Exception):
    pass


@dataclass(frozen=True)
class Checkout:
    body: dict[str, Any]
    created: bool  # False: a retry with the same Idempotency-Key, answered as the first time


# --- Cart -------------------------------------------------------------------------------------------


def _sellable(product_id: Any) -> Product:
    product = Product.objects.filter(pk=product_id).first() if isinstance(product_id, int) else None
    if product is None:
        raise OrderRefused({"product": [f"There is no product {product_id!r} in this store."]})
    if product.status != Product.Status.ACTIVE:
        raise OrderRefused({"product": [f"'{product.title}' is not for sale."]})
    return product


def _check_quantity(quantity: Any) -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= MAX_QUANTITY:
        raise OrderRefused({"quantity": [f"A quantity is a whole number from 1 to {MAX_QUANTITY}."]})
    return quantity


def _cart_for_update(owner: CartOwner) -> Cart:
    cart = owner.carts().select_for_update().first()
    if cart is None:
        Cart.objects.bulk_create(
            [Cart(buyer_id=owner.buyer_id, session_key=owner.session_key)],
            ignore_conflicts=True,  # two first requests at once: one cart
        )
        cart = owner.carts().select_for_update().get()
    return cart


def _check_currency(cart: Cart, product: Product) -> None:
    other = CartItem.objects.filter(cart=cart).exclude(product__currency=product.currency).exists()
    if other:
        message = f"'{product.title}' is priced in {product.currency}; an order has one currency."
        raise OrderRefused({"product": [message]})


def add_to_cart(owner: CartOwner, product_id: Any, quantity: Any) -> Cart:
    """Add `quantity` of a product for sale (to what the cart already holds of it)."""
    quantity = _check_quantity(quantity)
    with transaction.atomic():
        product = _sellable(product_id)
        cart = _cart_for_update(owner)
        _check_currency(cart, product)
        item = CartItem.objects.filter(cart=cart, product=product).first()
        total = quantity + (item.quantity if item else 0)
        if total > MAX_QUANTITY:
            raise OrderRefused({"quantity": [f"A cart holds at most {MAX_QUANTITY} of a product."]})
        if item is None:
            CartItem.objects.create(cart=cart, product=product, quantity=quantity)
        else:
            CartItem.objects.filter(pk=item.pk).update(quantity=total)
        Cart.objects.filter(pk=cart.pk).update(updated_at=timezone.now())
    return cart


def _owned_item(owner: CartOwner, item_id: int) -> CartItem:
    item = CartItem.objects.filter(pk=item_id, cart__in=owner.carts()).select_for_update().first()
    if item is None:
        raise NotFound(f"There is no item {item_id} in your cart.")
    return item


def change_cart_item(owner: CartOwner, item_id: int, quantity: Any) -> None:
    quantity = _check_quantity(quantity)
    with transaction.atomic():
        item = _owned_item(owner, item_id)
        CartItem.objects.filter(pk=item.pk).update(quantity=quantity)


def remove_cart_item(owner: CartOwner, item_id: int) -> None:
    with transaction.atomic():
        _owned_item(owner, item_id).delete()


def merge_guest_cart(session_key: str, buyer_id: int) -> None:
    """A guest who signs in keeps what they put in their cart: quantities add up in the buyer's cart."""
    with transaction.atomic():
        guest = Cart.objects.select_for_update().filter(session_key=session_key).first()
        if guest is None:
            return
        cart = _cart_for_update(CartOwner(buyer_id=buyer_id))
        for item in CartItem.objects.filter(cart=guest):
            existing = CartItem.objects.filter(cart=cart, product_id=item.product_id).first()
            if existing is None:
                CartItem.objects.create(cart=cart, product_id=item.product_id, quantity=item.quantity)
            else:
                merged = min(existing.quantity + item.quantity, MAX_QUANTITY)
                CartItem.objects.filter(pk=existing.pk).update(quantity=merged)
        guest.delete()


# --- Checkout ---------------------------------------------------------------------------------------


def _live_reservations(product_ids: list[int], now: datetime) -> dict[int, int]:
    rows = (
        StockReservation.objects.filter(product_id__in=product_ids, expires_at__gt=now)
        .values("product_id")
        .annotate(units=Sum("quantity"))
    )
    return {row["product_id"]: row["units"] for row in rows}


def _next_order_id() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id'))", [Order._meta.db_table])
        return int(cursor.fetchone()[0])


def _check_fulfilment(fulfilment: str, address: dict[str, str] | None) -> dict[str, str]:
    if fulfilment not in Order.Fulfilment.values:
        raise OrderRefused({"fulfilment": ["Choose pickup or delivery."]})
    if fulfilment == Order.Fulfilment.DELIVERY:
        missing = [part for part in ("line1", "town", "postcode") if not (address or {}).get(part, "").strip()]
        if missing:
            raise OrderRefused({"address": [f"Delivery needs an address with {', '.join(missing)}."]})
        return {key: value.strip() for key, value in (address or {}).items()}
    return {}


def place_order(
    owner: CartOwner,
    *,
    email: str,
    name: str = "",
    fulfilment: str,
    address: dict[str, str] | None = None,
    payment: str = "local",
    idempotency_key: str = "",
    fingerprint: str = "",
    now: datetime | None = None,
) -> Checkout:
    """Turn the owner's cart into an order, all of it or nothing (SoldOut). With `idempotency_key`, a
    retry of the same checkout (same owner and key) answers the first one's body and orders nothing.

    A card payment is started after the order commits (no network call while its products are locked):
    the order waits for it with its units reserved; if Stripe cannot start it, the order is cancelled
    (units back on sale) and PaymentFailed raised. A retry meanwhile finishes starting the same payment."""
    address = _check_fulfilment(fulfilment, address)
    try:
        provider = payment_provider(payment)
        provider.check_available()
    except PaymentUnavailable as error:
        raise OrderRefused({"payment": [str(error)]}) from error
    now = now or timezone.now()
    with transaction.atomic():
        # The cart's lock first: the same cart checked out twice at once (a double click, a retry) queues
        # here, and the second then finds the first's answer under the same key, or an empty cart.
        cart = owner.carts().select_for_update().first()
        previous = None
        if idempotency_key:
            previous = CheckoutRequest.objects.filter(owner=owner.label, key=idempotency_key).first()
            if previous is not None and previous.fingerprint != fingerprint:
                raise KeyReused(f"Idempotency-Key '{idempotency_key}' was used for a different checkout.")
            if previous is not None and previous.response:
                return Checkout(json.loads(previous.response), created=False)
        if previous is None:
            order, body = _order_from_cart(owner, cart, provider, email, name, fulfilment, address, now)
            if idempotency_key:
                CheckoutRequest.objects.create(
                    owner=owner.label,
                    key=idempotency_key,
                    fingerprint=fingerprint,
                    order=order,
                    response=json.dumps(body) if body is not None else "",
                )
            if body is not None:
                return Checkout(body, created=True)
            order_id = order.pk
        else:
            order_id = previous.order_id  # a retry of a checkout whose card payment is not started yet
    return _start_payment(order_id, provider, owner, idempotency_key, replayed=previous is not None)


def _order_from_cart(
    owner: CartOwner,
    cart: Cart | None,
    provider: PaymentProvider,
    email: str,
    name: str,
    fulfilment: str,
    address: dict[str, str],
    now: datetime,
) -> tuple[Order, dict[str, Any] | None]:
    """The order made of the cart (locked by the caller), its units allocated or reserved, the cart
    emptied; and the checkout's answer, or None while a card payment is still to be started."""
    wanted = dict(CartItem.objects.filter(cart=cart).values_list("product_id", "quantity")) if cart else {}
    if not wanted:
        raise OrderRefused({"cart": ["Your cart is empty."]})
    # Stable order: every checkout locks the rows it shares with another in the same sequence.
    products = {p.pk: p for p in Product.objects.select_for_update().filter(pk__in=wanted).order_by("pk")}
    reserved = _live_reservations(list(wanted), now)
    left = {pk: p.stock - p.allocated - reserved.get(pk, 0) for pk, p in products.items()}
    unavailable = {pk for pk in wanted if pk not in products or products[pk].status != Product.Status.ACTIVE}
    short = transitions.shortfalls(wanted, left, unavailable)
    if short:
        raise SoldOut(
            [
                {
                    "product": pk,
                    "title": products[pk].title if pk in products else "",
                    "requested": wanted[pk],
                    "available": units,
                }
                for pk, units in sorted(short.items())
            ]
        )
    currencies = {products[pk].currency for pk in wanted}
    if len(currencies) > 1:
        raise OrderRefused({"cart": ["An order has one currency; remove the products priced in another."]})
    currency = currencies.pop()
    order_id = _next_order_id()
    number = f"{order_id:06d}"
    total = sum(products[pk].price * quantity for pk, quantity in wanted.items())
    awaits = provider.awaits_payment
    reserved_until = now + timedelta(minutes=settings.CHECKOUT_RESERVATION_MINUTES)
    status = Order.Status.PENDING_PAYMENT if awaits else Order.Status.PLACED
    order = Order.objects.create(
        id=order_id,
        number=number,
        status=status,
        stock_hold=Order.StockHold.RESERVED if awaits else Order.StockHold.ALLOCATED,
        buyer_id=owner.buyer_id,
        session_key=owner.session_key or "",
        email=email,
        name=name,
        fulfilment=fulfilment,
        address=address,
        payment_provider=provider.code,
        currency=currency,
        total=total,
        reserved_until=reserved_until if awaits else None,
    )
    lines = OrderLine.objects.bulk_create(
        [
            OrderLine(
                order=order,
                product_id=pk,
                title=products[pk].title,
                sku=products[pk].sku,
                unit_price=products[pk].price,
                quantity=quantity,
                line_total=products[pk].price * quantity,
            )
            for pk, quantity in sorted(wanted.items())
        ]
    )
    if awaits:
        StockReservation.objects.bulk_create(
            [
                StockReservation(order=order, product_id=pk, quantity=quantity, expires_at=reserved_until)
                for pk, quantity in sorted(wanted.items())
            ]
        )
    else:
        _move_allocated(wanted, +1)
        _publish_low_stock({pk: products[pk].stock - products[pk].allocated for pk in wanted}, wanted, -1)
    OrderEvent.objects.create(order=order, to_status=status, actor=owner.label, reason="checkout")
    order_history.record_order_change(order, [(line.title, line.quantity) for line in lines])
    CartItem.objects.filter(cart=cart).delete()
    _notify_on_commit(order.pk, status)
    if awaits:
        return order, None
    start = provider.start(PaymentRequest(order.pk, number, total, currency, email))
    return order, {"order": order_body(order, lines), "payment": start.body}


def _start_payment(
    order_id: int, provider: PaymentProvider, owner: CartOwner, idempotency_key: str, *, replayed: bool
) -> Checkout:
    """Start the card payment of a committed order awaiting it (the provider makes one payment per
    order, however often this runs); the answer is kept under the checkout's key."""
    order = Order.objects.get(pk=order_id)
    if order.status != Order.Status.PENDING_PAYMENT:
        # A retry after the order stopped waiting (its reservation ran out and it was cancelled): it says
        # what became of the order and starts nothing (past Stripe's 24-hour key window, a new payment).
        body = {"order": order_body(order), "payment": {"provider": order.payment_provider, "status": "not_started"}}
        return Checkout(body, created=False)
    try:
        start = provider.start(PaymentRequest(order.pk, order.number, order.total, order.currency, order.email))
    except PaymentFailed:
        try:
            transition_order(order.pk, Order.Status.CANCELLED, actor="system", reason="the card payment did not start")
        except IllegalTransition:
            pass
        if idempotency_key:
            CheckoutRequest.objects.filter(owner=owner.label, key=idempotency_key).delete()
        raise
    with transaction.atomic():
        Order.objects.filter(pk=order.pk).update(payment_reference=start.reference)
        order.payment_reference = start.reference
        body = {"order": order_body(order), "payment": start.body}
        if idempotency_key:
            CheckoutRequest.objects.filter(owner=owner.label, key=idempotency_key, response="").update(
                response=json.dumps(body)
            )
    return Checkout(body, created=not replayed)


def _move_allocated(units: dict[int, int], sign: int) -> None:
    for pk, quantity in sorted(units.items()):
        Product.objects.filter(pk=pk).update(allocated=F("allocated") + sign * quantity)


def _notify_on_commit(order_id: int, status: str) -> None:
    headers = {"_schema_name": connection.schema_name}
    transaction.on_commit(lambda: enqueue("orders.notify_buyer", order_id, status, headers=headers))


# --- An order's status ------------------------------------------------------------------------------


def transition_order(order_id: int, target: str, *, actor: str, reason: str = "") -> Order:
    """Move an order to `target` if that is a legal move from where it is (IllegalTransition if not),
    with what the move does to its stock, its usage, its buyer's inbox and order history, in one transaction."""
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(pk=order_id).first()
        if order is None:
            raise NotFound(f"There is no order {order_id}.")
        try:
            transitions.check_move(order.status, target, order.fulfilment)
        except transitions.IllegalMove as error:
            raise IllegalTransition(str(error)) from error
        provider = payment_provider(order.payment_provider)
        if target == Order.Status.REFUNDED and not actor.startswith("stripe"):
            # The money goes back first; if the provider refuses, nothing here changes (PaymentFailed).
            provider.refund(order.payment_reference, order.number)
        if target == Order.Status.CANCELLED and not actor.startswith("stripe"):
            # Even with no reference saved (a worker killed between Stripe's answer and saving it): the
            # provider finds the payment by the order's number, so nobody can pay a cancelled order.
            reference, number = order.payment_reference, order.number
            transaction.on_commit(lambda: provider.abandon(reference, number))
        move = transitions.stock_move(order.stock_hold, target)
        _apply_stock(order, move.effect)
        if target == Order.Status.PAID:
            _record_sale(order)
        previous = order.status
        order.status, order.stock_hold = target, move.after
        if move.after != Order.StockHold.RESERVED:
            order.reserved_until = None
        order.save(update_fields=["status", "stock_hold", "reserved_until", "updated_at"])
        OrderEvent.objects.create(order=order, from_status=previous, to_status=target, actor=actor, reason=reason)
        order_history.record_order_change(order)
        _notify_on_commit(order.pk, target)
    return order


def _apply_stock(order: Order, effect: str) -> None:
    if not effect:
        return
    units: dict[int, int] = {}
    for product_id, quantity in order.lines.filter(product__isnull=False).values_list("product_id", "quantity"):
        units[product_id] = units.get(product_id, 0) + quantity
    # The products' rows in id order, as every checkout locks them.
    list(Product.objects.select_for_update().filter(pk__in=units).order_by("pk").values_list("pk", flat=True))
    if effect == "allocate_reserved":
        StockReservation.objects.filter(order=order).delete()
        # While the reservation was live nobody else could take its units; paid after it lapsed (swept
        # or not), they may be gone: SoldOut then, and the payment goes back.
        _check_still_there(units)
        _move_allocated(units, +1)
    elif effect == "release_reserved":
        StockReservation.objects.filter(order=order).delete()
    elif effect == "release_allocated":
        _move_allocated(units, -1)
    elif effect == "fulfil":
        for pk, quantity in sorted(units.items()):
            Product.objects.filter(pk=pk).update(stock=F("stock") - quantity, allocated=F("allocated") - quantity)
    elif effect == "restock":
        for pk, quantity in sorted(units.items()):
            Product.objects.filter(pk=pk).update(stock=F("stock") + quantity)
    sign = {"allocate_reserved": -1, "release_allocated": +1, "restock": +1}.get(effect)
    if sign is not None:
        now_left = Product.objects.filter(pk__in=units).annotate(left=F("stock") - F("allocated"))
        left = dict(now_left.values_list("pk", "left"))
        _publish_low_stock({pk: n - sign * units[pk] for pk, n in left.items()}, units, sign)


def _publish_low_stock(before: dict[int, int], units: dict[int, int], sign: int) -> None:
    """The marketplace shows "Only N left" and "Sold out": a product whose units left to sell are that low
    before or after an order moved them is republished (in the order's transaction); plentiful ones are not,
    so a busy product's checkouts don't each write to the outbox."""
    moved = [pk for pk, n in before.items() if min(n, n + sign * units[pk]) <= LOW_STOCK]
    if moved:
        publishing.record_product_changes(moved)


def _check_still_there(units: dict[int, int]) -> None:
    products = Product.objects.filter(pk__in=units).values_list("pk", "stock", "allocated")
    reserved = _live_reservations(list(units), timezone.now())
    left = {pk: stock - allocated - reserved.get(pk, 0) for pk, stock, allocated in products}
    short = transitions.shortfalls(units, left, set())
    if short:
        raise SoldOut([{"product": pk, "requested": units[pk], "available": n} for pk, n in sorted(short.items())])


def _record_sale(order: Order) -> None:
    """A paid order is billed usage (`orders`, `gmv`), in the order's own transaction: once per order,
    whatever retries and replays happen (the keys name the order)."""
    store = current_store()
    if store is None:
        return
    events = [UsageEventIn(store.pk, "orders", 1, f"order-{order.number}-orders")]
    if order.total:
        events.append(UsageEventIn(store.pk, "gmv", order.total, f"order-{order.number}-gmv"))
    record_usage_batch(events)


def release_expired_reservations(now: datetime | None = None) -> int:
    """Cancel the orders whose payment never came before their reservation expired; their stock is on
    sale again (it already was, to checkouts, the moment the reservation expired)."""
    now = now or timezone.now()
    expired = list(
        Order.objects.filter(stock_hold=Order.StockHold.RESERVED, reserved_until__lte=now).values_list("pk", flat=True)
    )
    cancelled = 0
    for order_id in expired:
        try:
            transition_order(order_id, Order.Status.CANCELLED, actor="system", reason="payment not received in time")
            cancelled += 1
        except (IllegalTransition, NotFound):
            continue  # paid or cancelled meanwhile
    return cancelled


def anonymise_buyer(buyer_id: int) -> int:
    """A closed account's orders in this store keep their numbers, lines and totals (the store's records) but no
    longer say who the buyer was; their cart goes. The number of orders changed."""
    with transaction.atomic():
        Cart.objects.filter(buyer_id=buyer_id).delete()
        return Order.objects.filter(buyer_id=buyer_id).update(
            name="", email=f"deleted-{buyer_id}@deleted.invalid", address={}
        )
