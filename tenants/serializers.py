"""API shapes of the tenant registry."""

from rest_framework import serializers

from tenants.models import Tenant
from tenants.routing import store_url


class TenantSummarySerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = Tenant
        fields = ["slug", "url", "status", "tenancy"]

    def get_url(self, tenant: Tenant) -> str:
        return store_url(tenant.slug)


class StaffTenantSerializer(TenantSummarySerializer):
    class Meta:
        model = Tenant
        fields = [
            "slug",
            "name",
            "url",
            "status",
            "tenancy",
            "owner_email",
            "town",
            "postcode",
            "plan_code",
            "suspension_reason",
            "created_at",
        ]


class SuspendSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
