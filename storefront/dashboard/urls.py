"""The merchant dashboard on a store's host, mounted at /dashboard/ by config/urls_tenant.py."""

from django.urls import path

from storefront.dashboard import home

app_name = "dashboard"

urlpatterns = [
    path("", home.home, name="home"),
]
