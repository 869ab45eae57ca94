"""The buyer-facing pages of a store's host, mounted at its root by config/urls_tenant.py."""

from django.urls import path

from storefront.shop import account_views, cart_views, message_views, views

urlpatterns = [
    path("", views.store_home, name="store-home"),
    path("c/<slug:slug>/", views.category_page, name="store-category"),
    path("products/<int:product_id>/", views.product_page, name="store-product"),
    path("about/", views.about_page, name="store-about"),
    path("search", views.search_page, name="store-search"),
    path("products/<int:product_id>/add-to-cart/", cart_views.add_to_cart, name="store-add-to-cart"),
    path("cart/", cart_views.cart_page, name="store-cart"),
    path("cart/items/<int:item_id>/", cart_views.change_cart_item, name="store-cart-item"),
    path("cart/items/<int:item_id>/remove/", cart_views.remove_cart_item, name="store-cart-item-remove"),
    path("checkout/", cart_views.checkout_page, name="store-checkout"),
    path("orders/<str:number>/", cart_views.order_page, name="store-order"),
    path("buyers/handoff/", account_views.handoff, name="store-buyer-handoff"),
    path("buyers/sign-out/", account_views.sign_out, name="store-buyer-sign-out"),
    path("messages/", message_views.thread_list, name="store-messages"),
    path("messages/new/", message_views.start_thread, name="store-message-new"),
    path("messages/<int:thread_id>/", message_views.thread_page, name="store-message-thread"),
    path("messages/<int:thread_id>/images/<int:message_id>/", message_views.thread_image, name="store-message-image"),
    path("orders/<str:number>/status/", cart_views.order_status, name="store-order-status"),
]
