from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import HttpRequest

from tenants.accounts.email_verification import send_verification_link, site_url_of
from tenants.accounts.models import Membership, User
from tenants.accounts.services import SeatRefused, add_membership, check_staff_seat
from tenants.admin_site import platform_admin


@admin.register(User)
@admin.register(User, site=platform_admin)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_staff", "is_active"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Important dates", {"fields": ("last_login", "date_joined", "email_verified_at")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    readonly_fields = ["email_verified_at"]

    def save_model(self, request: HttpRequest, obj: User, form: forms.ModelForm, change: bool) -> None:
        # A verification is of one address: a new one is unverified until its own link is opened.
        if change and "email" in form.changed_data:
            obj.email_verified_at = None
        super().save_model(request, obj, form, change)


class MembershipAdminForm(forms.ModelForm):
    class Meta:
        model = Membership
        fields = ["user", "role"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.instance.pk is None and cleaned.get("role") != Membership.Role.OWNER:
            try:
                check_staff_seat()
            except SeatRefused as error:
                self.add_error(None, str(error))
        return cleaned


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    form = MembershipAdminForm
    list_display = ["user", "role", "created_at"]

    def save_model(self, request: HttpRequest, obj: Membership, form: forms.ModelForm, change: bool) -> None:
        if change:
            obj.save()
        else:
            # Through the service: the seat is counted again under the store's lock, so it holds under a race.
            obj.pk = add_membership(obj.user, obj.role).pk
            # The new member is mailed a link on the host the admin is using, to verify their address.
            send_verification_link(obj.user, site_url_of(request))
