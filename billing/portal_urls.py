"""The customer portal page in a store's admin (included under /admin/billing/ by config/urls_tenant.py)."""

from django.urls import path

from billing import portal

urlpatterns = [
    path("", portal.portal_page, name="billing-portal"),
    path("preview", portal.preview_change, name="billing-portal-preview"),
    path("change-plan", portal.change_plan, name="billing-portal-change-plan"),
    path("cancel", portal.cancel, name="billing-portal-cancel"),
    path("resume", portal.resume, name="billing-portal-resume"),
    path("retry-payment", portal.retry_payment, name="billing-portal-retry-payment"),
    path("invoices/<str:number>.pdf", portal.invoice_pdf, name="billing-portal-invoice-pdf"),
]
