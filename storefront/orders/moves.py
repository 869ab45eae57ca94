"""A store member's moves of an order from a page (the store's admin and the merchant dashboard): the
buttons the order's rules allow from where it is, in the merchant's words, and each move made through
services.transition_order and told back as a notice: done, or refused in words with nothing changed."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest

from storefront.orders import services, transitions
from storefront.orders.models import Order
from storefront.payments.providers import PaymentFailed

Status = Order.Status
# The merchant's words for each move, in the order the buttons show.
MOVES = {
    Status.PAID: "Mark paid",
    Status.READY_FOR_PICKUP: "Ready for pickup",
    Status.SHIPPED: "Mark shipped",
    Status.COMPLETED: "Mark completed",
    Status.CANCELLED: "Cancel order",
    Status.REFUNDED: "Refund",
}
# Moves the buyer is told about with a reason the merchant must give.
NEEDS_REASON = frozenset({Status.CANCELLED, Status.REFUNDED})
REASON_MAX = 500
# What the service refuses a move with (the order stays as it was), each with a sentence for the merchant.
REFUSALS = (services.IllegalTransition, services.SoldOut, services.NotFound, PaymentFailed)


def legal_moves(order: Order) -> list[tuple[str, str]]:
    """(status, button label) of each move the order's rules allow from where it is now."""
    moves = []
    for target, label in MOVES.items():
        try:
            transitions.check_move(order.status, target, order.fulfilment)
        except transitions.IllegalMove:
            continue
        moves.append((str(target), label))
    return moves


def asks_reason(moves: list[tuple[str, str]]) -> bool:
    return any(target in NEEDS_REASON for target, _ in moves)


class TransitionForm(forms.Form):
    to = forms.ChoiceField(choices=list(MOVES.items()))
    reason = forms.CharField(max_length=REASON_MAX, required=False)


def move_orders(request: HttpRequest, orders: list[tuple[int, str]], target: str, reason: str) -> list[str]:
    """Each order (id, number) moved by the signed-in member, in a transaction of its own; a refusal is
    told in the service's words and leaves that order as it was. Returns the numbers moved."""
    if target in NEEDS_REASON and not reason.strip():
        messages.error(request, "Nothing changed: give a reason to cancel or refund an order.")
        return []
    actor = f"staff:{request.user.email}"  # type: ignore[union-attr]
    moved = []
    for order_id, number in orders:
        try:
            services.transition_order(order_id, target, actor=actor, reason=reason.strip())
        except REFUSALS as error:
            messages.error(request, f"Order {number}: {error}")
        else:
            moved.append(number)
    if moved:
        which = f"Order {moved[0]} is" if len(moved) == 1 else f"Orders {', '.join(moved)} are"
        messages.success(request, f"{which} now {Status(target).label.lower()}.")
    return moved


def move_from_form(request: HttpRequest, order_id: int) -> None:
    """One order's move as a page's buttons post it (`to`, and `reason` to cancel or refund)."""
    number = Order.objects.filter(pk=order_id).values_list("number", flat=True).first()
    if number is None:
        raise Http404("No such order.")
    form = TransitionForm(request.POST)
    if form.is_valid():
        move_orders(request, [(order_id, number)], form.cleaned_data["to"], form.cleaned_data["reason"])
    else:
        problems = "; ".join(str(m) for field in form.errors.values() for m in field)
        messages.error(request, f"Nothing changed: {problems}")
