"""URLs of the root domain: marketplace, signup, control plane API, staff console and admin."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from billing import api as billing_api
from billing import dedicated_api, fleet_overview, usage_api
from billing.stripe_gateway import api as stripe_api
from onboarding import api as onboarding_api
from onboarding import views as onboarding_views
from provisioning import api as provisioning_api
from provisioning import console as provisioning_console
from storefront.buyers import api as buyers_api
from storefront.buyers import web as buyers_web
from storefront.buyers import web_email_links as buyers_email_links
from storefront.buyers import web_profile as buyers_profile
from storefront.marketplace import api as marketplace_api
from storefront.marketplace import pages as marketplace_pages
from storefront.payments import api as payments_api
from storefront.purchases import api as purchases_api
from storefront.purchases import pages as purchases_pages
from tenants import api as tenants_api
from tenants import console
from tenants.accounts import api as accounts_api
from tenants.admin_site import platform_admin

urlpatterns = [
    path("", marketplace_pages.marketplace_home, name="marketplace-home"),
    path("signup/", onboarding_views.signup, name="signup"),
    path("buyers/sign-in/", buyers_web.sign_in, name="buyer-sign-in"),
    path("buyers/sign-up/", buyers_web.sign_up, name="buyer-sign-up"),
    path("buyers/sign-out/", buyers_profile.sign_out, name="buyer-sign-out"),
    path("buyers/me/", buyers_profile.profile, name="buyer-profile"),
    path("buyers/me/password/", buyers_profile.change_password, name="buyer-change-password"),
    path("buyers/me/close/", buyers_profile.close_account, name="buyer-close-account"),
    path("buyers/verify/", buyers_email_links.send_verification_link, name="buyer-send-verification"),
    path("buyers/verify/<str:token>/", buyers_email_links.verify_email, name="buyer-verify-email"),
    path("buyers/password-reset/", buyers_email_links.password_reset, name="buyer-password-reset"),
    path("buyers/password-reset/sent/", buyers_email_links.password_reset_sent, name="buyer-password-reset-sent"),
    path(
        "buyers/password-reset/<str:uid>/<str:token>/",
        buyers_email_links.password_reset_confirm,
        name="buyer-password-reset-confirm",
    ),
    path("buyers/orders/", purchases_pages.your_orders, name="buyer-orders"),
    path("console/", console.tenant_list, name="console-tenants"),
    path("console/overview/", fleet_overview.overview_page, name="console-overview"),
    path("console/tenants/<slug:slug>/", console.tenant_page, name="console-tenant"),
    path("console/tenants/<slug:slug>/suspend", console.suspend, name="console-suspend"),
    path("console/tenants/<slug:slug>/reactivate", console.reactivate, name="console-reactivate"),
    path("console/tenants/<slug:slug>/approve", provisioning_console.approve, name="console-approve"),
    path("console/tenants/<slug:slug>/reject", provisioning_console.reject, name="console-reject"),
    path("console/tenants/<slug:slug>/deprovision", provisioning_console.deprovision, name="console-deprovision"),
    path("console/tenants/<slug:slug>/upgrade", provisioning_console.upgrade, name="console-upgrade"),
    path("console/provisioning/runs/<int:run_id>/", provisioning_console.run_page, name="console-provisioning-run"),
    path(
        "console/provisioning/runs/<int:run_id>/progress",
        provisioning_console.run_progress,
        name="console-provisioning-run-progress",
    ),
    path(
        "console/provisioning/runs/<int:run_id>/retry",
        provisioning_console.retry,
        name="console-provisioning-run-retry",
    ),
    path(
        "console/provisioning/runs/<int:run_id>/cancel",
        provisioning_console.cancel,
        name="console-provisioning-run-cancel",
    ),
    path(
        "console/provisioning/runs/<int:run_id>/confirm-upgrade",
        provisioning_console.confirm_upgrade,
        name="console-provisioning-run-confirm-upgrade",
    ),
    path("admin/", platform_admin.urls),
    path("api/v1/signup", onboarding_api.SignupView.as_view(), name="api-signup"),
    path("api/v1/buyers", buyers_api.BuyerSignupView.as_view(), name="api-buyers"),
    path("api/v1/buyers/token", buyers_api.BuyerTokenView.as_view(), name="api-buyer-token"),
    path("api/v1/buyers/me", buyers_api.BuyerMeView.as_view(), name="api-buyer-me"),
    path("api/v1/buyers/token/check", buyers_api.BuyerTokenCheckView.as_view(), name="api-buyer-token-check"),
    path("api/v1/buyers/me/orders", purchases_api.BuyerOrdersView.as_view(), name="api-buyer-orders"),
    path("api/v1/purchases/orders/batch", purchases_api.OrderBatchView.as_view(), name="api-buyer-orders-batch"),
    path("api/v1/payments/stripe/webhook", payments_api.ConnectWebhookView.as_view(), name="api-payments-webhook"),
    path("api/v1/auth/token", accounts_api.TokenView.as_view(), name="api-token"),
    path("api/v1/staff/tenants", tenants_api.StaffTenantListView.as_view(), name="api-staff-tenants"),
    path("api/v1/staff/tenants/<slug:slug>/suspend", tenants_api.StaffSuspendView.as_view()),
    path("api/v1/staff/tenants/<slug:slug>/reactivate", tenants_api.StaffReactivateView.as_view()),
    path("api/v1/staff/tenants/<slug:slug>/approve", provisioning_api.ApproveView.as_view()),
    path("api/v1/staff/tenants/<slug:slug>/reject", provisioning_api.RejectView.as_view()),
    path("api/v1/staff/tenants/<slug:slug>/deprovision", provisioning_api.DeprovisionView.as_view()),
    path("api/v1/staff/tenants/<slug:slug>/upgrade-to-dedicated", provisioning_api.UpgradeView.as_view()),
    path("api/v1/staff/tenants/<slug:slug>/confirm-upgrade", provisioning_api.ConfirmUpgradeView.as_view()),
    path("api/v1/staff/provisioning-runs/<int:run_id>", provisioning_api.RunDetailView.as_view()),
    path("api/v1/staff/provisioning-runs/<int:run_id>/retry", provisioning_api.RunRetryView.as_view()),
    path("api/v1/staff/provisioning-runs/<int:run_id>/cancel", provisioning_api.RunCancelView.as_view()),
    path("api/v1/staff/usage-events", usage_api.StaffUsageEventsView.as_view(), name="api-staff-usage-events"),
    # A dedicated store's stack hands over its usage with the store's publishing token (the token names the store).
    path(
        "api/v1/dedicated/usage-events",
        usage_api.DedicatedUsageEventsView.as_view(
            authentication_classes=[marketplace_api.PublishingTokenAuthentication]
        ),
        name="api-dedicated-usage-events",
    ),
    # Its billing portal reads the store's billing from here, with the same token (billing.control_plane).
    path(
        "api/v1/dedicated/billing-summary",
        dedicated_api.DedicatedBillingSummaryView.as_view(
            authentication_classes=[marketplace_api.PublishingTokenAuthentication]
        ),
        name="api-dedicated-billing-summary",
    ),
    # It checks whether the platform has the store open, and its plan's limits, the same way (tenants.standing).
    path(
        "api/v1/dedicated/standing",
        dedicated_api.DedicatedStandingView.as_view(
            authentication_classes=[marketplace_api.PublishingTokenAuthentication]
        ),
        name="api-dedicated-standing",
    ),
    path(
        "api/v1/dedicated/invoice-pdf",
        dedicated_api.DedicatedInvoicePdfView.as_view(
            authentication_classes=[marketplace_api.PublishingTokenAuthentication]
        ),
        name="api-dedicated-invoice-pdf",
    ),
    path("api/v1/plans", billing_api.PlanListView.as_view(), name="api-plans"),
    path("api/v1/billing/stripe/webhook", stripe_api.WebhookView.as_view(), name="api-stripe-webhook"),
    path("api/v1/marketplace/", include("storefront.marketplace.urls")),
    # The root host documents its own API (signup, staff, provisioning), not the store hosts'.
    path("api/schema/", SpectacularAPIView.as_view(urlconf="config.urls_public"), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
]
