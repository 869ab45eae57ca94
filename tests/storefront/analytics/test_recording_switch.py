"""ANALYTICS_RECORDING=0 switches product analytics recording off: product pages and carts still answer,
and record nothing, in memory, in Redis or in the rollup's tables; switched on again, views count."""

from __future__ import annotations

import pytest

from storefront.analytics import recording
from storefront.analytics.models import ProductDay, ProductMinute
from tests.storefront.analytics.test_product_analytics import days, roll_up, view, visitor
from tests.storefront.shop.test_guest_checkout import add_product, add_to_cart

pytestmark = pytest.mark.django_db


def test_with_recording_switched_off_pages_and_carts_record_nothing(in_store, settings):
    # Given recording switched off
    settings.ANALYTICS_RECORDING = False
    loaf = add_product("Sourdough loaf", price=450, stock=10)
    guest = visitor(in_store)

    # When a visitor views the product and adds it to the cart
    view(guest, loaf, 3)
    assert add_to_cart(guest, loaf).status_code == 303

    # Then nothing was recorded anywhere
    assert recording.push_local_events() == 0
    assert not list(recording.client().scan_iter(match="analytics:*"))
    assert roll_up() == 0
    assert not ProductMinute.objects.exists() and not ProductDay.objects.exists()

    # ... and switched on again, the next view counts
    settings.ANALYTICS_RECORDING = True
    view(guest, loaf)
    assert roll_up() == 1
    assert days() == [("Sourdough loaf", 1, 1, 0, 0, 0)]
