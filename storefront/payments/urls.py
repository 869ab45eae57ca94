"""Card payment routes on a store host, mounted under /api/v1/ by config/urls_tenant.py."""

from django.urls import path

from storefront.payments import api

urlpatterns = [
    path("payments/stripe/account", api.StripeAccountView.as_view(), name="payments-stripe-account"),
]
