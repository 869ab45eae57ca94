"""URLs of the root domain: marketplace, signup, control plane API, staff console and admin."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from tenants import api as tenants_api
from tenants import console
from tenants import views as tenants_views
from tenants.accounts import api as accounts_api
from tenants.admin_site import platform_admin

urlpatterns = [
    path("", tenants_views.marketplace_home, name="marketplace-home"),
    path("signup/", tenants_views.signup, name="signup"),
    path("console/", console.tenant_list, name="console-tenants"),
    path("console/tenants/<slug:slug>/suspend", console.suspend, name="console-suspend"),
    path("console/tenants/<slug:slug>/reactivate", console.reactivate, name="console-reactivate"),
    path("admin/", platform_admin.urls),
    path("api/v1/signup", tenants_api.SignupView.as_view(), name="api-signup"),
    path("api/v1/auth/token", accounts_api.TokenView.as_view(), name="api-token"),
    path("api/v1/staff/tenants", tenants_api.StaffTenantListView.as_view(), name="api-staff-tenants"),
    path("api/v1/staff/tenants/<slug:slug>/suspend", tenants_api.StaffSuspendView.as_view()),
    path("api/v1/staff/tenants/<slug:slug>/reactivate", tenants_api.StaffReactivateView.as_view()),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
]
