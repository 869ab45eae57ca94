"""What buyers are told by email at each step of their order (Django's email backend; console by default)."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail

from storefront.orders.models import Order

SUBJECTS = {
    "placed": "Order {number} placed",
    "pending_payment": "Order {number}: waiting for your payment",
    "paid": "Order {number}: payment received",
    "ready_for_pickup": "Order {number} is ready for pickup",
    "shipped": "Order {number} is on its way",
    "completed": "Order {number} completed",
    "cancelled": "Order {number} cancelled",
    "refunded": "Order {number} refunded",
}


def notify_buyer(order_id: int, status: str) -> bool:
    """Mail the buyer about `status`; False when the order is gone or has moved on already."""
    order = Order.objects.prefetch_related("lines").filter(pk=order_id).first()
    if order is None or status not in SUBJECTS:
        return False
    lines = "\n".join(
        f"  {line.quantity} x {line.title}: {line.line_total} {order.currency}" for line in order.lines.all()
    )
    how = "Collect it from the shop." if order.fulfilment == "pickup" else "It will be delivered to your address."
    body = (
        f"Hello {order.name or order.email},\n\n"
        f"Your order {order.number} is now {order.get_status_display().lower()}.\n\n{lines}\n"
        f"  Total: {order.total} {order.currency} (minor units)\n\n{how}\n"
    )
    send_mail(SUBJECTS[status].format(number=order.number), body, settings.DEFAULT_FROM_EMAIL, [order.email])
    return True
