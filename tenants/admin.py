from django.contrib import admin

from tenants.admin_site import platform_admin
from tenants.models import Domain, PooledSchema, SchemaMigrationState, Tenant


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


@admin.register(Tenant, site=platform_admin)
class TenantAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "status", "tenancy", "plan_code", "town", "created_at"]
    list_filter = ["status", "tenancy"]
    search_fields = ["slug", "name", "owner_email"]
    readonly_fields = ["schema_name", "created_at", "updated_at"]
    exclude = ["pending_owner_password"]
    inlines = [DomainInline]


@admin.register(PooledSchema, site=platform_admin)
class PooledSchemaAdmin(admin.ModelAdmin):
    list_display = ["schema_name", "created_at"]


@admin.register(SchemaMigrationState, site=platform_admin)
class SchemaMigrationStateAdmin(admin.ModelAdmin):
    list_display = ["schema_name", "status", "updated_at"]
    list_filter = ["status"]
