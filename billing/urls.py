"""The customer portal's API on a store's host (included under /api/v1/billing/ by config/urls_tenant.py)."""

from django.urls import path

from billing import api, usage_api

urlpatterns = [
    path("subscription", api.SubscriptionView.as_view(), name="billing-subscription"),
    path("usage", api.UsageView.as_view(), name="billing-usage"),
    path("invoices", api.InvoiceListView.as_view(), name="billing-invoices"),
    path("change-plan", api.ChangePlanView.as_view(), name="billing-change-plan"),
    path("cancel", api.CancelView.as_view(), name="billing-cancel"),
    path("resume", api.ResumeView.as_view(), name="billing-resume"),
    path("retry-payment", api.RetryPaymentView.as_view(), name="billing-retry-payment"),
    path("invoices/<str:number>/pdf", api.InvoicePdfView.as_view(), name="billing-invoice-pdf"),
    # Stores no longer report usage (403); the ingest API is the root host's /api/v1/staff/usage-events.
    path("usage-events", usage_api.StoreUsageEventsView.as_view(), name="billing-usage-events"),
]
