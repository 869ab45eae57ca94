"""API shapes of provisioning runs and of the staff's decisions on dedicated requests."""

from rest_framework import serializers

from provisioning.models import ProvisioningRun, ProvisioningStep


class ProvisioningStepSerializer(serializers.ModelSerializer):
    class Meta:
        model = ProvisioningStep
        fields = ["position", "name", "label", "state", "attempts", "started_at", "finished_at", "output", "error"]


class ProvisioningRunSerializer(serializers.ModelSerializer):
    tenant = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    requested_by = serializers.SlugRelatedField(slug_field="email", read_only=True)
    steps = ProvisioningStepSerializer(many=True, read_only=True)

    class Meta:
        model = ProvisioningRun
        fields = [
            "id",
            "tenant",
            "kind",
            "state",
            "backend",
            "requested_by",
            "outputs",
            "error",
            "created_at",
            "started_at",
            "finished_at",
            "steps",
        ]


class RejectSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, help_text="Why the request is refused; sent to the merchant.")


class ConfirmUpgradeSerializer(serializers.Serializer):
    tenant = serializers.SlugField()
    dropped_schema = serializers.CharField(help_text="The shared schema the store was upgraded from, now dropped.")
