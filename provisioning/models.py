"""Provisioning runs (public schema): one run builds or takes down one tenant's dedicated stack, as an
ordered list of idempotent steps whose state survives a killed worker."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from tenants.models import Tenant


class ProvisioningRun(models.Model):
    class Kind(models.TextChoices):
        PROVISION = "provision", "Provision"
        DEPROVISION = "deprovision", "Deprovision"
        # A shared tenant moved onto its own stack: built like a provision, then its schema's data copied.
        UPGRADE = "upgrade", "Upgrade from shared"

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    # A failed run is unfinished too: it waits for staff to retry or cancel it.
    UNFINISHED_STATES = (State.PENDING, State.RUNNING, State.FAILED)

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="provisioning_runs")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.PROVISION)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    backend = models.CharField(max_length=32)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # What the backend made, for the record and later steps (database name, endpoints); never secrets.
    outputs = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-pk"]
        constraints = [
            # Two runs for one tenant must never build or destroy the same stack at once.
            models.UniqueConstraint(
                fields=["tenant"],
                condition=models.Q(state__in=["pending", "running", "failed"]),
                name="provisioning_one_unfinished_run_per_tenant",
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=["provision", "deprovision", "upgrade"]), name="provisioning_run_kind_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(state__in=["pending", "running", "succeeded", "failed", "cancelled"]),
                name="provisioning_run_state_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} of {self.tenant_id} ({self.state})"

    @property
    def is_finished(self) -> bool:
        return self.state in (self.State.SUCCEEDED, self.State.CANCELLED)


class ProvisioningStep(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped (already done)"

    DONE_STATES = (State.SUCCEEDED, State.SKIPPED)

    run = models.ForeignKey(ProvisioningRun, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=64)
    label = models.CharField(max_length=120, blank=True, default="")
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The step's log, secrets redacted before it is stored (provisioning.redaction).
    output = models.TextField(blank=True, default="")
    error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["run", "position"]
        constraints = [
            models.UniqueConstraint(fields=["run", "position"], name="provisioning_step_position_unique"),
            models.UniqueConstraint(fields=["run", "name"], name="provisioning_step_name_unique"),
            models.CheckConstraint(
                condition=models.Q(state__in=["pending", "running", "succeeded", "failed", "skipped"]),
                name="provisioning_step_state_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.name} ({self.state})"

    @property
    def is_done(self) -> bool:
        return self.state in self.DONE_STATES
