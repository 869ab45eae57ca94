"""Input shapes of the cart, checkout and order APIs (validation only: the services do the work)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from storefront.orders.models import Order
from storefront.orders.services import MAX_QUANTITY


class WholeNumberField(serializers.IntegerField):
    """A JSON whole number: "2", 2.0 and true are refused, not read as 2 and 1."""

    default_error_messages = {"invalid": "A whole number is required (a JSON number, not text)."}

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return int(super().to_internal_value(data))


class CartItemInSerializer(serializers.Serializer):
    product = WholeNumberField(min_value=1)
    quantity = WholeNumberField(min_value=1, max_value=MAX_QUANTITY)


class CartQuantitySerializer(serializers.Serializer):
    quantity = WholeNumberField(min_value=1, max_value=MAX_QUANTITY)


class AddressSerializer(serializers.Serializer):
    line1 = serializers.CharField(max_length=200)
    line2 = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    town = serializers.CharField(max_length=80)
    postcode = serializers.CharField(max_length=16)


class CheckoutSerializer(serializers.Serializer):
    fulfilment = serializers.ChoiceField(choices=Order.Fulfilment.choices)
    address = AddressSerializer(required=False)
    payment = serializers.ChoiceField(
        choices=[("local", "Pay on pickup or by transfer"), ("stripe", "Card")], default="local"
    )
    name = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")

    def validate(self, attrs: dict) -> dict:
        if attrs["fulfilment"] == Order.Fulfilment.DELIVERY and not attrs.get("address"):
            raise serializers.ValidationError({"address": ["Delivery needs an address."]})
        return attrs


class TransitionSerializer(serializers.Serializer):
    to = serializers.ChoiceField(choices=Order.Status.choices)
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


# --- Output shapes (documentation: the selectors build the bodies) ------------------------------------


class CartLineSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    product = serializers.IntegerField()
    title = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price = serializers.IntegerField(help_text="Minor units, from the catalog.")
    line_total = serializers.IntegerField()


class CartSerializer(serializers.Serializer):
    items = CartLineSerializer(many=True)
    currency = serializers.CharField()
    total = serializers.IntegerField(help_text="Minor units.")


class OrderLineSerializer(serializers.Serializer):
    product = serializers.IntegerField(allow_null=True)
    title = serializers.CharField()
    sku = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price = serializers.IntegerField()
    line_total = serializers.IntegerField()


class OrderEventSerializer(serializers.Serializer):
    # "from" is a Python keyword: the field is declared under another name and renamed.
    from_status = serializers.CharField(source="from")
    to = serializers.CharField()
    by = serializers.CharField()
    reason = serializers.CharField()
    at = serializers.DateTimeField()


class OrderSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    status = serializers.ChoiceField(choices=Order.Status.choices)
    fulfilment = serializers.ChoiceField(choices=Order.Fulfilment.choices)
    address = AddressSerializer(required=False)
    payment = serializers.CharField()
    total = serializers.IntegerField()
    currency = serializers.CharField()
    email = serializers.EmailField()
    name = serializers.CharField()
    created_at = serializers.DateTimeField()
    reserved_until = serializers.DateTimeField(allow_null=True)
    items = OrderLineSerializer(many=True)
    history = OrderEventSerializer(many=True, required=False, help_text="Store staff only.")


class CheckoutResultSerializer(serializers.Serializer):
    order = OrderSerializer()
    payment = serializers.DictField(help_text="What the buyer needs to pay: the provider's instructions.")


class SoldOutItemSerializer(serializers.Serializer):
    product = serializers.IntegerField()
    title = serializers.CharField()
    requested = serializers.IntegerField()
    available = serializers.IntegerField()


class SoldOutSerializer(serializers.Serializer):
    code = serializers.CharField()
    detail = serializers.CharField()
    items = SoldOutItemSerializer(many=True)


class ProblemSerializer(serializers.Serializer):
    code = serializers.CharField()
    detail = serializers.CharField()
