from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.http import HttpRequest

from tenants.accounts.email_verification import send_verification_link, site_url_of
from tenants.accounts.models import Membership, User
from tenants.accounts.services import (
    EmailRefused,
    SeatRefused,
    add_membership,
    change_email,
    check_email_change,
    check_staff_seat,
)
from tenants.admin_site import platform_admin


class UserAdminChangeForm(UserChangeForm):
    def clean_email(self) -> str:
        email: str = self.cleaned_data["email"]
        if "email" in self.changed_data:
            try:
                check_email_change(self.instance, email)
            except EmailRefused as error:
                raise forms.ValidationError(str(error)) from error
        return email


@admin.register(User)
@admin.register(User, site=platform_admin)
class UserAdmin(DjangoUserAdmin):
    form = UserAdminChangeForm
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
        super().save_model(request, obj, form, change)
        if change and "email" in form.changed_data:
            # Through the service, in the admin's transaction: the old address's verification is undone, and
            # an owner's new address becomes the registry's copy too.
            change_email(obj, obj.email, by=request.user)


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
