"""The merchant dashboard on a store's host, mounted at /dashboard/ by config/urls_tenant.py."""

from django.urls import path

from storefront.dashboard import home, payouts, story

app_name = "dashboard"

urlpatterns = [
    path("", home.home, name="home"),
    path("story/", story.story_page, name="story"),
    path("payouts/", payouts.payouts_page, name="payouts"),
    path("payouts/connect", payouts.connect, name="payouts-connect"),
]
