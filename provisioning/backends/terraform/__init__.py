"""The `terraform` backend: each dedicated tenant's stack is terraform/modules/dedicated-tenant applied from
its own working directory, with its own remote state (S3 key tenants/<slug>/terraform.tfstate) locked in
DynamoDB; the app is then deployed to the stack's cluster from platform/overlays/dedicated (deploy.py), and
migrated, bootstrapped and verified through it."""

from __future__ import annotations

from provisioning import stack_state
from provisioning.backends.base import ProvisioningBackend, StepSpec
from provisioning.backends.terraform import deploy, steps


class TerraformBackend(ProvisioningBackend):
    name = "terraform"

    def provision_steps(self) -> list[StepSpec]:
        return [
            StepSpec("write_workdir", "Write the tenant's Terraform working directory", steps.write_workdir),
            StepSpec("terraform_init", "terraform init (the tenant's state key, locked)", steps.terraform_init),
            StepSpec("terraform_plan", "terraform plan -out", steps.terraform_plan),
            StepSpec("terraform_apply", "terraform apply of the saved plan", steps.terraform_apply),
            StepSpec("read_outputs", "Read the stack's outputs", steps.read_outputs),
            StepSpec("deploy_app", "Deploy the app to the stack's cluster (kubectl apply)", deploy.deploy_app),
            StepSpec("wait_for_rollout", "Wait for the migration Job and the rollouts", deploy.wait_for_rollout),
            StepSpec("migrate_database", "Migrate the stack's database", steps.migrate_database),
            StepSpec("bootstrap_owner", "Bootstrap the owner account", steps.bootstrap_owner),
            StepSpec("verify_health", "Verify health", steps.verify_health),
            StepSpec("switch_routing", "Switch routing: the store goes live", stack_state.switch_routing, True),
        ]

    def deprovision_steps(self) -> list[StepSpec]:
        return [
            StepSpec("write_workdir", "Write the working directory (allow_destroy)", steps.write_workdir),
            StepSpec("terraform_init", "terraform init (the tenant's state key, locked)", steps.terraform_init),
            StepSpec("terraform_plan", "Plan lifting deletion protection", steps.terraform_plan),
            StepSpec("terraform_apply", "Lift deletion protection", steps.terraform_apply),
            StepSpec("remove_app", "Remove the app and its load balancer", steps.remove_app, True),
            StepSpec("terraform_destroy", "terraform destroy", steps.terraform_destroy, True),
            StepSpec("remove_workdir", "Remove the working directory", steps.remove_workdir),
            StepSpec("record_deprovisioned", "Record the tenant as deprovisioned", stack_state.record_deprovisioned),
        ]
