"""API shapes of the tenant registry."""

from rest_framework import serializers

from tenants.models import Tenant
from tenants.routing import store_url


class SignupSerializer(serializers.Serializer):
    email = serializers.CharField(max_length=254)
    password = serializers.CharField(max_length=128, write_only=True, trim_whitespace=False)
    store_name = serializers.CharField(max_length=120)
    subdomain = serializers.CharField(max_length=63)
    town = serializers.CharField(max_length=80)
    postcode = serializers.CharField(max_length=16)
    tenancy = serializers.ChoiceField(choices=Tenant.Tenancy.choices, default=Tenant.Tenancy.SHARED)
    plan = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")


class TenantSummarySerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = Tenant
        fields = ["slug", "url", "status", "tenancy"]

    def get_url(self, tenant: Tenant) -> str:
        return store_url(tenant.slug)


class SignupResponseSerializer(serializers.Serializer):
    tenant = TenantSummarySerializer()
    token = serializers.CharField(allow_null=True, help_text="Bearer token for the store host (null for dedicated).")


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
