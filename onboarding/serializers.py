"""API shapes of merchant signup."""

from rest_framework import serializers

from tenants.models import Tenant
from tenants.serializers import TenantSummarySerializer


class SignupSerializer(serializers.Serializer):
    email = serializers.CharField(max_length=254)
    password = serializers.CharField(max_length=128, write_only=True, trim_whitespace=False)
    store_name = serializers.CharField(max_length=120)
    subdomain = serializers.CharField(max_length=63)
    town = serializers.CharField(max_length=80)
    postcode = serializers.CharField(max_length=16)
    tenancy = serializers.ChoiceField(choices=Tenant.Tenancy.choices, default=Tenant.Tenancy.SHARED)
    plan = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")


class SignupResponseSerializer(serializers.Serializer):
    tenant = TenantSummarySerializer()
    token = serializers.CharField(allow_null=True, help_text="Bearer token for the store host (null for dedicated).")
