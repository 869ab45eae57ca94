"""The `terraform` backend: a placeholder for the interface only. The real one (per-tenant working
directory and tfvars.json, init with an S3 state key and DynamoDB lock, plan -out, apply, outputs,
destroy) applies terraform/modules/dedicated-tenant and is being built separately."""

from __future__ import annotations

from provisioning.backends.base import ProvisioningBackend, StepSpec

NOT_IMPLEMENTED = (
    "The terraform provisioning backend is not implemented yet; set PROVISIONING_BACKEND=local "
    "(a dedicated database on the configured PostgreSQL server)."
)


class TerraformBackend(ProvisioningBackend):
    name = "terraform"

    def provision_steps(self) -> list[StepSpec]:
        raise NotImplementedError(NOT_IMPLEMENTED)

    def deprovision_steps(self) -> list[StepSpec]:
        raise NotImplementedError(NOT_IMPLEMENTED)
