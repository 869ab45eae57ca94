"""The forms of a store's cart and checkout pages: their shape and bounds only (the order services
decide what may be ordered, and check the address a delivery needs)."""

from __future__ import annotations

import hashlib
import json
import secrets
from typing import Any, cast

from django import forms

from storefront.orders.models import Order
from storefront.orders.services import MAX_QUANTITY

IDEMPOTENCY_KEY_MAX = 255
LOCAL = ("local", "Pay on pickup or by bank transfer")
CARD = ("stripe", "Card")


class QuantityForm(forms.Form):
    quantity = forms.IntegerField(
        min_value=1,
        max_value=MAX_QUANTITY,
        initial=1,
        error_messages={"invalid": "A quantity is a whole number.", "required": "Say how many."},
    )


class CheckoutForm(forms.Form):
    # One per rendered form: a second submit of the same form (a double click, a reload) is the same
    # checkout and gets the first one's order (place_order's idempotency_key), never a second order.
    checkout_key = forms.CharField(widget=forms.HiddenInput, max_length=IDEMPOTENCY_KEY_MAX)
    email = forms.EmailField(max_length=254, help_text="Where we send your order's updates.")
    name = forms.CharField(max_length=120, help_text="Who will collect or receive it.")
    fulfilment = forms.ChoiceField(
        choices=[(Order.Fulfilment.PICKUP, "Collect from the shop"), (Order.Fulfilment.DELIVERY, "Delivery")],
        initial=Order.Fulfilment.PICKUP,
        widget=forms.RadioSelect,
    )
    line1 = forms.CharField(label="Address", max_length=200, required=False)
    line2 = forms.CharField(label="Address line 2", max_length=200, required=False)
    town = forms.CharField(max_length=80, required=False)
    postcode = forms.CharField(max_length=16, required=False)
    payment = forms.ChoiceField(choices=[LOCAL], initial="local", widget=forms.RadioSelect)

    ADDRESS_FIELDS = ("line1", "line2", "town", "postcode")

    def __init__(self, *args: Any, takes_cards: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Card only where the store takes cards (its Stripe account can charge); local stays the default.
        if takes_cards:
            cast(forms.ChoiceField, self.fields["payment"]).choices = [LOCAL, CARD]

    @classmethod
    def blank(cls, *, takes_cards: bool = False, **initial: Any) -> CheckoutForm:
        return cls(initial={"checkout_key": secrets.token_urlsafe(24), **initial}, takes_cards=takes_cards)

    def address(self) -> dict[str, str]:
        return {part: self.cleaned_data[part] for part in self.ADDRESS_FIELDS}

    def fingerprint(self) -> str:
        """What the checkout asked for: the same key with other answers is another checkout (KeyReused)."""
        asked = {name: value for name, value in self.cleaned_data.items() if name != "checkout_key"}
        return hashlib.sha256(json.dumps(asked, sort_keys=True).encode()).hexdigest()
