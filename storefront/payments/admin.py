"""Card payments in the store's admin: the store's Stripe account, what Stripe says of it, and the way
to connect it (the owner only): a button that takes the owner to Stripe's onboarding."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django.views.decorators.http import require_POST

from storefront.payments import services
from storefront.payments.models import StripeAccount
from storefront.payments.providers import PaymentFailed
from tenants.permissions import is_store_owner


@admin.register(StripeAccount)
class StripeAccountAdmin(admin.ModelAdmin):
    change_list_template = "payments/admin/stripe_account_list.html"
    list_display = ("account_id", "details_submitted", "charges_enabled", "payouts_enabled", "updated_at")
    readonly_fields = list_display

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # made by Stripe's onboarding, never by hand

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_active and request.user.is_staff)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    def get_urls(self) -> list[URLPattern]:
        connect = self.admin_site.admin_view(require_POST(self.connect_view))
        return [path("connect/", connect, name="payments_stripeaccount_connect"), *super().get_urls()]

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        if request.GET.get("refresh") is not None or StripeAccount.objects.exists():
            try:
                services.refresh_account()
            except PaymentFailed as error:
                messages.warning(request, str(error))
        extra = {**(extra_context or {}), "can_connect": is_store_owner(request.user)}
        return super().changelist_view(request, extra)

    def connect_view(self, request: HttpRequest) -> HttpResponse:
        back = request.build_absolute_uri(reverse("admin:payments_stripeaccount_changelist"))
        if not is_store_owner(request.user):
            messages.error(request, "Only the store's owner connects its Stripe account.")
            return HttpResponseRedirect(back)
        try:
            email = getattr(request.user, "email", "")
            _, url = services.start_onboarding(email=email, return_url=back, refresh_url=back)
        except PaymentFailed as error:
            messages.error(request, str(error))
            return HttpResponseRedirect(back)
        return HttpResponseRedirect(url)
