from django.contrib import admin
from django.db import connection
from django_tenants.utils import get_public_schema_name

from tenants.models import Domain, PooledSchema, SchemaMigrationState, Tenant


class PublicSchemaOnlyAdmin(admin.ModelAdmin):
    """The registry is shown only in the root domain's admin, never in a store's."""

    def has_module_permission(self, request):  # type: ignore[no-untyped-def]
        return connection.schema_name == get_public_schema_name() and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return connection.schema_name == get_public_schema_name() and super().has_view_permission(request, obj)


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


@admin.register(Tenant)
class TenantAdmin(PublicSchemaOnlyAdmin):
    list_display = ["slug", "name", "status", "tenancy", "plan_code", "town", "created_at"]
    list_filter = ["status", "tenancy"]
    search_fields = ["slug", "name", "owner_email"]
    readonly_fields = ["schema_name", "created_at", "updated_at"]
    exclude = ["pending_owner_password"]
    inlines = [DomainInline]


@admin.register(PooledSchema)
class PooledSchemaAdmin(PublicSchemaOnlyAdmin):
    list_display = ["schema_name", "created_at"]


@admin.register(SchemaMigrationState)
class SchemaMigrationStateAdmin(PublicSchemaOnlyAdmin):
    list_display = ["schema_name", "status", "updated_at"]
    list_filter = ["status"]
