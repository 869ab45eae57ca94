"""The control plane's admin on the root domain, separate from the store admin that every store host
serves, so registry models can never appear in a store's admin (its search_path reaches `public`).
Only platform operators get in: `is_staff`, which every store owner has in their own store, is not enough."""

from django.contrib.admin import AdminSite
from django.http import HttpRequest

from tenants.permissions import is_platform_staff


class PlatformAdminSite(AdminSite):
    site_header = "LocalBazaar platform"
    site_title = "LocalBazaar platform"
    index_title = "Control plane"

    def has_permission(self, request: HttpRequest) -> bool:
        return is_platform_staff(request.user, operator=True)


platform_admin = PlatformAdminSite(name="platform_admin")
