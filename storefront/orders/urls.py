"""Cart, checkout and order routes on a store host, mounted under /api/v1/ by config/urls_tenant.py."""

from django.urls import path

from storefront.orders import api

urlpatterns = [
    path("cart", api.CartView.as_view(), name="cart"),
    path("cart/items", api.CartItemsView.as_view(), name="cart-items"),
    path("cart/items/<int:item_id>", api.CartItemView.as_view(), name="cart-item"),
    path("checkout", api.CheckoutView.as_view(), name="checkout"),
    path("orders", api.OrderListView.as_view(), name="orders"),
    path("orders/<int:order_id>", api.OrderView.as_view(), name="order"),
    path("orders/<int:order_id>/transition", api.OrderTransitionView.as_view(), name="order-transition"),
]
