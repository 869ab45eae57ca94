"""An order's life, as rules: which status may follow which, and what each move does to the stock the
order holds. Pure Python (no ORM); `services.transition_order` applies it under row locks.

    pending_payment --paid--> paid          (a card payment succeeded: the reservation becomes an allocation)
    placed ---------paid--> paid            (pay on pickup / bank transfer: the merchant marks it paid)
    paid --> ready_for_pickup --> completed  (pickup)
    paid --> shipped ---------> completed    (delivery)
    pending_payment, placed --> cancelled    (stock back on sale)
    paid, ready_for_pickup, shipped, completed --> refunded (stock back on sale, restocked if handed over)

Stock an order holds (`stock_hold`): `reserved` (checkout awaiting payment, until it expires),
`allocated` (counted in the product's `allocated`), `fulfilled` (handed over: gone from `stock`),
`released` (nothing: cancelled or refunded).
"""

from __future__ import annotations

from dataclasses import dataclass

PENDING_PAYMENT, PLACED, PAID = "pending_payment", "placed", "paid"
READY_FOR_PICKUP, SHIPPED, COMPLETED = "ready_for_pickup", "shipped", "completed"
CANCELLED, REFUNDED = "cancelled", "refunded"
RESERVED, ALLOCATED, FULFILLED, RELEASED = "reserved", "allocated", "fulfilled", "released"

NEXT: dict[str, frozenset[str]] = {
    PENDING_PAYMENT: frozenset({PAID, CANCELLED}),
    PLACED: frozenset({PAID, CANCELLED}),
    PAID: frozenset({READY_FOR_PICKUP, SHIPPED, REFUNDED}),
    READY_FOR_PICKUP: frozenset({COMPLETED, REFUNDED}),
    SHIPPED: frozenset({COMPLETED, REFUNDED}),
    COMPLETED: frozenset({REFUNDED}),
    CANCELLED: frozenset(),
    REFUNDED: frozenset(),
}
# Only for orders fulfilled this way.
ONLY_FOR = {READY_FOR_PICKUP: "pickup", SHIPPED: "delivery"}


@dataclass(frozen=True)
class StockMove:
    """What happens to the stock when an order holding `before` moves: `effect` is one of
    `allocate_reserved` (allocated += n, the reservation dropped), `release_reserved` (reservation
    dropped), `release_allocated` (allocated -= n), `fulfil` (stock -= n and allocated -= n),
    `restock` (stock += n), or "" (nothing)."""

    effect: str
    after: str


class IllegalMove(Exception):
    pass


def check_move(status: str, target: str, fulfilment: str) -> None:
    """Raise IllegalMove (with a sentence for the merchant) unless `status` may become `target`."""
    if target not in NEXT:
        raise IllegalMove(f"'{target}' is not an order status.")
    if target not in NEXT.get(status, frozenset()):
        allowed = ", ".join(sorted(NEXT.get(status, frozenset()))) or "nothing (it is final)"
        raise IllegalMove(f"An order that is {status} cannot become {target}; it can become {allowed}.")
    if ONLY_FOR.get(target, fulfilment) != fulfilment:
        raise IllegalMove(f"Only {ONLY_FOR[target]} orders can become {target}; this one is {fulfilment}.")


def stock_move(hold: str, target: str) -> StockMove:
    if target == PAID and hold == RESERVED:
        return StockMove("allocate_reserved", ALLOCATED)
    if target in (SHIPPED, COMPLETED) and hold == ALLOCATED:
        return StockMove("fulfil", FULFILLED)
    if target in (CANCELLED, REFUNDED):
        effect = {RESERVED: "release_reserved", ALLOCATED: "release_allocated", FULFILLED: "restock"}.get(hold, "")
        return StockMove(effect, RELEASED)
    return StockMove("", hold)


def shortfalls(wanted: dict[int, int], on_hand: dict[int, int], unavailable: set[int]) -> dict[int, int]:
    """The products (id -> units left) of which fewer than `wanted` can be sold: `on_hand` is what is
    left to sell of each (stock - allocated - live reservations), `unavailable` those no longer for sale."""
    short = {}
    for product_id, quantity in wanted.items():
        left = 0 if product_id in unavailable else max(on_hand.get(product_id, 0), 0)
        if quantity > left:
            short[product_id] = left
    return short
