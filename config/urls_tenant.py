"""URLs of a store's own host."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from storefront.images import views as images_views
from storefront.payments import api as payments_api
from tenants import views as tenants_views
from tenants.accounts import api as accounts_api
from tenants.accounts import password_reset
from tenants.accounts import web_email_verification as email_verification_pages

router = SimpleRouter(trailing_slash=False)

urlpatterns = [
    path("", include("storefront.shop.urls")),
    path("accounts/handoff/", tenants_views.login_handoff, name="login-handoff"),
    # Before the admin's own routes, which would answer 404 for it.
    path("admin/billing/", include("billing.portal_urls")),
    # A forgotten password, reset by a link mailed for this store's host (its admin login links here).
    path("admin/password-reset/", password_reset.StorePasswordResetView.as_view(), name="admin_password_reset"),
    path("admin/password-reset/done/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "admin/password-reset/<uidb64>/<token>/",
        password_reset.StorePasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "admin/password-reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    # A member's email address, verified by a link mailed for this store's host (tenants.accounts.email_verification).
    path("admin/verify-email/send/", email_verification_pages.send_verification_link, name="admin_verify_email_send"),
    path("admin/verify-email/<str:token>/", email_verification_pages.verify_email, name="admin_verify_email"),
    path("admin/", admin.site.urls),
    path("dashboard/", include("storefront.dashboard.urls")),
    path("api/v1/auth/token", accounts_api.TokenView.as_view(), name="api-token"),
    path("api/v1/billing/", include("billing.urls")),
    path("api/v1/billing/", include("billing.stripe_gateway.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/v1/", include("storefront.catalog.urls")),
    path("api/v1/", include("storefront.images.urls")),
    path("api/v1/", include("storefront.orders.urls")),
    path("api/v1/", include("storefront.payments.urls")),
    path("api/v1/", include("storefront.messages.urls")),
    path("media/<str:schema>/<path:name>", images_views.serve_media, name="store-media"),
    # A dedicated store's stack only: the platform hands on its Connect events (storefront.payments.forwarding).
    path("internal/payments/stripe/events", payments_api.ForwardedConnectEventView.as_view()),
    path("api/v1/", include(router.urls)),
]
