"""Orders in the store's admin: the list (filters, search by number or email), each order's page with
its lines and history, and the moves the merchant makes (paid, ready for pickup, shipped, completed,
cancelled, refunded). Nothing of an order is edited here: every move is services.transition_order's.

Every member of the store, owner or staff, manages its orders: access is the store membership, not
Django's model permissions (which the store's staff hold none of)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.helpers import ActionForm
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django.views.decorators.http import require_POST

from storefront.catalog.templatetags.money import money
from storefront.orders import moves
from storefront.orders.models import Order, OrderEvent, OrderLine
from tenants.permissions import is_store_member

Status = Order.Status


def is_member(request: HttpRequest) -> bool:
    """The admin asks many times a page: the membership is looked up once a request."""
    if not hasattr(request, "_is_store_member"):
        request._is_store_member = is_store_member(request.user)  # type: ignore[attr-defined]
    return bool(request._is_store_member)  # type: ignore[attr-defined]


class ReadByMembers:
    """Members read; nobody adds, edits or deletes (the record is the services')."""

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_member(request)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class OrderLineInline(ReadByMembers, admin.TabularInline):
    model = OrderLine
    fields = readonly_fields = ("title", "sku", "quantity", "shown_unit_price", "shown_line_total")
    extra = 0
    can_delete = False
    verbose_name_plural = "lines"

    @admin.display(description="price")
    def shown_unit_price(self, line: OrderLine) -> str:
        return money(line.unit_price, line.order.currency)

    @admin.display(description="total")
    def shown_line_total(self, line: OrderLine) -> str:
        return money(line.line_total, line.order.currency)

    def get_queryset(self, request: HttpRequest) -> QuerySet[OrderLine]:
        return super().get_queryset(request).select_related("order").order_by("pk")


class OrderEventInline(ReadByMembers, admin.TabularInline):
    model = OrderEvent
    fields = readonly_fields = ("created_at", "from_status", "to_status", "actor", "reason")
    extra = 0
    can_delete = False
    verbose_name = "history"
    verbose_name_plural = "history"


class OrderActionForm(ActionForm):
    """The list's action bar, with the reason a cancel or a refund needs."""

    reason = forms.CharField(max_length=moves.REASON_MAX, required=False, label="Reason (to cancel or refund)")


@admin.register(Order)
class OrderAdmin(ReadByMembers, admin.ModelAdmin):
    list_display = ["number", "created_at", "status", "fulfilment", "email", "name", "shown_total"]
    list_filter = ["status", "fulfilment", "created_at"]
    search_fields = ["number", "email"]
    list_per_page = 50
    show_full_result_count = False  # no second COUNT(*) over a store's every order on each page
    fields = readonly_fields = (
        "number", "status", "fulfilment", "email", "name", "shown_address", "payment_provider",
        "payment_reference", "shown_total", "created_at", "updated_at", "reserved_until",
    )  # fmt: skip
    inlines = [OrderLineInline, OrderEventInline]
    change_form_template = "orders/admin/order_change_form.html"
    action_form = OrderActionForm
    actions = ["mark_paid", "mark_ready_for_pickup", "mark_shipped", "mark_completed", "cancel", "refund"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_member(request)

    def has_transition_permission(self, request: HttpRequest) -> bool:
        return is_member(request)

    @admin.display(description="total", ordering="total")
    def shown_total(self, order: Order) -> str:
        return money(order.total, order.currency)

    @admin.display(description="address")
    def shown_address(self, order: Order) -> str:
        parts = [order.address.get(part, "") for part in ("line1", "line2", "town", "postcode")]
        return ", ".join(part for part in parts if part) or "-"

    # --- Moves ----------------------------------------------------------------------------------

    def _action(self, request: HttpRequest, queryset: QuerySet[Order], target: str) -> None:
        orders = list(queryset.order_by("pk").values_list("pk", "number"))
        moves.move_orders(request, orders, target, request.POST.get("reason", "")[: moves.REASON_MAX])

    @admin.action(description="Mark paid", permissions=["transition"])
    def mark_paid(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._action(request, queryset, Status.PAID)

    @admin.action(description="Mark ready for pickup", permissions=["transition"])
    def mark_ready_for_pickup(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._action(request, queryset, Status.READY_FOR_PICKUP)

    @admin.action(description="Mark shipped", permissions=["transition"])
    def mark_shipped(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._action(request, queryset, Status.SHIPPED)

    @admin.action(description="Mark completed", permissions=["transition"])
    def mark_completed(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._action(request, queryset, Status.COMPLETED)

    @admin.action(description="Cancel (give a reason)", permissions=["transition"])
    def cancel(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._action(request, queryset, Status.CANCELLED)

    @admin.action(description="Refund (give a reason)", permissions=["transition"])
    def refund(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._action(request, queryset, Status.REFUNDED)

    # --- The order's page -----------------------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(require_POST(self.transition_view))
        return [path("<int:order_id>/transition/", view, name="orders_order_transition"), *super().get_urls()]

    def transition_view(self, request: HttpRequest, order_id: int) -> HttpResponse:
        """A button of the order's page: one move, then the page again with what happened."""
        if not self.has_transition_permission(request):
            raise PermissionDenied
        moves.move_from_form(request, order_id)
        return HttpResponseRedirect(reverse("admin:orders_order_change", args=[order_id]))

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        order = Order.objects.filter(pk=int(object_id)).first() if object_id.isdigit() else None
        extra = {**(extra_context or {})}
        if order is not None and self.has_transition_permission(request):
            extra["moves"] = allowed = moves.legal_moves(order)
            extra["asks_reason"] = moves.asks_reason(allowed)
            extra["reason_max"] = moves.REASON_MAX
        return super().change_view(request, object_id, form_url, extra)
