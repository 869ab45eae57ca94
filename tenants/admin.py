"""The platform admin's registry pages. A tenant's status, tenancy, domains, upstream and database belong to
`tenants.lifecycle`: the status and hostnames edited here are applied through it (legal transitions only,
routes evicted and listings hidden at once, an audit record of who did it), never written by the form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest

from tenants import lifecycle
from tenants.admin_site import platform_admin
from tenants.models import Domain, PooledSchema, SchemaMigrationState, Tenant, TenantStateChange

# Changed only through the lifecycle, or never by hand.
_OWNED_FIELDS = [
    "slug",
    "tenancy",
    "database_name",
    "upstream_url",
    "plan_code",
    "schema_name",
    "created_at",
    "updated_at",
]


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


class TenantStateChangeInline(admin.TabularInline):
    model = TenantStateChange
    extra = 0
    can_delete = False
    fields = ("created_at", "actor", "reason", "changes")
    readonly_fields = fields
    ordering = ["-created_at", "-pk"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class TenantAdminForm(forms.ModelForm):
    class Meta:
        model = Tenant
        fields = ["name", "status", "suspension_reason", "owner_email", "town", "postcode", "rejection_reason"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        before, after = self.initial.get("status"), cleaned.get("status")
        if self.instance.pk and after and after != before and not lifecycle.is_legal(str(before), after):
            self.add_error("status", f"A store cannot go from {before} to {after}.")
        return cleaned


@admin.register(Tenant, site=platform_admin)
class TenantAdmin(admin.ModelAdmin):
    form = TenantAdminForm
    list_display = ["slug", "name", "status", "tenancy", "plan_code", "town", "created_at"]
    list_filter = ["status", "tenancy"]
    search_fields = ["slug", "name", "owner_email"]
    readonly_fields = tuple(_OWNED_FIELDS)
    inlines = [DomainInline, TenantStateChangeInline]
    actions = ["suspend_selected", "reactivate_selected"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # stores are made by signup, which makes their schema, owner and subscription

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # stores are closed by suspension or taken down by deprovisioning, never deleted here

    def save_model(self, request: HttpRequest, obj: Tenant, form: forms.ModelForm, change: bool) -> None:
        by = lifecycle.Actor.user(request.user)
        others = [name for name in form.changed_data if name not in ("status", "suspension_reason")]
        if others:
            obj.save(update_fields=[*others, "updated_at"])
        reason_changed = "suspension_reason" in form.changed_data and obj.status == Tenant.Status.SUSPENDED
        if "status" in form.changed_data or reason_changed:
            if obj.status == Tenant.Status.SUSPENDED:
                lifecycle.suspend(obj, obj.suspension_reason or "Suspended by platform staff.", by=by)
            elif form.initial.get("status") == Tenant.Status.SUSPENDED and obj.status == Tenant.Status.ACTIVE:
                lifecycle.reactivate(obj, by=by, reason="reactivated in the platform admin")
            else:
                lifecycle.change_status(obj, obj.status, by=by, reason="changed in the platform admin")
        obj.refresh_from_db()

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not Domain:
            formset.save()
            return
        changed = formset.save(commit=False)
        lifecycle.save_domain_edits(
            form.instance, changed, formset.deleted_objects, by=lifecycle.Actor.user(request.user)
        )

    @admin.action(description="Suspend the selected stores")
    def suspend_selected(self, request: HttpRequest, queryset: Any) -> None:
        self._apply(request, queryset, lambda t, by: lifecycle.suspend(t, "Suspended by platform staff.", by=by))

    @admin.action(description="Reactivate the selected stores")
    def reactivate_selected(self, request: HttpRequest, queryset: Any) -> None:
        self._apply(request, queryset, lambda t, by: lifecycle.reactivate(t, by=by))

    def _apply(self, request: HttpRequest, queryset: Any, change: Any) -> None:
        by = lifecycle.Actor.user(request.user)
        for tenant in queryset.order_by("pk"):
            try:
                change(tenant, by)
            except lifecycle.IllegalTransition as error:
                self.message_user(request, str(error), messages.WARNING)
            else:
                self.message_user(request, f"{tenant.slug} is now {Tenant.objects.get(pk=tenant.pk).status}.")


@admin.register(PooledSchema, site=platform_admin)
class PooledSchemaAdmin(admin.ModelAdmin):
    list_display = ["schema_name", "created_at"]


@admin.register(SchemaMigrationState, site=platform_admin)
class SchemaMigrationStateAdmin(admin.ModelAdmin):
    list_display = ["schema_name", "status", "updated_at"]
    list_filter = ["status"]
