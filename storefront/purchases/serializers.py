"""Request and response shapes of buyers' order history (root host): the buyer's list and the batch API."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from storefront.orders.models import Order

BATCH_MAX = 2000
# A plain string in the schema: an enum here would be the root API's second "status" choice set, and
# drf-spectacular would then rename the tenants' StatusEnum that clients already use.
STATUS_HELP = "The order's status: " + ", ".join(Order.Status.values) + "."


class HistoryParamsSerializer(serializers.Serializer):
    page = serializers.IntegerField(required=False, min_value=1, max_value=10_000, default=1)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=100, default=20)


class OrderHistoryEntrySerializer(serializers.Serializer):
    store = serializers.CharField(help_text="The store's slug.")
    store_name = serializers.CharField()
    store_url = serializers.URLField()
    order_url = serializers.URLField(help_text="The order's page on the store's host.")
    number = serializers.CharField()
    status = serializers.CharField(help_text=STATUS_HELP)
    status_label = serializers.CharField()
    total = serializers.IntegerField(help_text="Minor units.")
    currency = serializers.CharField()
    item_count = serializers.IntegerField(help_text="Units ordered, all lines together.")
    first_item_title = serializers.CharField()
    placed_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class OrderHistoryPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = OrderHistoryEntrySerializer(many=True)


class BatchOrderSerializer(serializers.Serializer):
    order_id = serializers.IntegerField(min_value=1)
    version = serializers.IntegerField(min_value=1, help_text="Higher for every later change of the order.")
    buyer_id = serializers.IntegerField(min_value=1)
    number = serializers.CharField(max_length=20)
    status = serializers.CharField(max_length=20, help_text=STATUS_HELP)
    total = serializers.IntegerField(min_value=0, help_text="Minor units.")
    currency = serializers.RegexField(r"^[A-Z]{3}$")
    item_count = serializers.IntegerField(min_value=0)
    first_item_title = serializers.CharField(max_length=200, allow_blank=True)
    placed_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def validate_status(self, value: str) -> str:
        if value not in Order.Status.values:
            raise serializers.ValidationError(f"'{value}' is not an order status.")
        return value


class OrderBatchSerializer(serializers.Serializer):
    store = serializers.SlugField(help_text="The store's slug: the publishing token's own store.")
    orders = BatchOrderSerializer(many=True)

    def validate_orders(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if len(value) > BATCH_MAX:
            raise serializers.ValidationError(f"At most {BATCH_MAX:,} orders in a batch.")
        return value


class OrderBatchResultSerializer(serializers.Serializer):
    received = serializers.IntegerField()
    changed = serializers.IntegerField(help_text="Rows written; older and replayed versions change nothing.")
