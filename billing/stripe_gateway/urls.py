"""Stripe links for a store's owner (included under /api/v1/billing/ by config/urls_tenant.py)."""

from django.urls import path

from billing.stripe_gateway import api

urlpatterns = [
    path("checkout", api.CheckoutView.as_view(), name="billing-stripe-checkout"),
    path("payment-methods", api.PortalView.as_view(), name="billing-stripe-portal"),
]
