"""The control plane's admin on the root domain, separate from the store admin that every store host
serves, so registry models can never appear in a store's admin (its search_path reaches `public`)."""

from django.contrib.admin import AdminSite


class PlatformAdminSite(AdminSite):
    site_header = "LocalBazaar platform"
    site_title = "LocalBazaar platform"
    index_title = "Control plane"


platform_admin = PlatformAdminSite(name="platform_admin")
