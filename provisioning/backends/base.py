"""The interface every provisioning backend implements: an ordered list of named, idempotent steps per
run kind. The executor (provisioning.execution) records each step's state; a backend only does the work."""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction

from provisioning.models import ProvisioningRun
from tenants.models import Tenant


class Outcome(enum.Enum):
    DONE = "done"
    # Found already done (a resumed run, a replayed step): nothing was changed.
    ALREADY_DONE = "already_done"


class StepFailed(Exception):
    """A step could not do its work; the message is shown to staff (redacted) and the run fails."""


@dataclass
class StepContext:
    """What a step may read and write: its run and tenant (fresh from the database), its log, and the
    run's outputs. Values passed to `secret()` are redacted from everything stored."""

    run: ProvisioningRun
    lines: list[str] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)

    @property
    def tenant(self) -> Tenant:
        return self.run.tenant

    def say(self, line: str) -> None:
        self.lines.append(line.rstrip("\n"))

    def secret(self, value: str) -> str:
        if value:
            self.secrets.append(value)
        return value

    def remember(self, **outputs: object) -> None:
        """Merge non-secret `outputs` into the run's record, committed at once."""
        with transaction.atomic():
            run = ProvisioningRun.objects.select_for_update().get(pk=self.run.pk)
            run.outputs = {**run.outputs, **outputs}
            run.save(update_fields=["outputs", "updated_at"])
        self.run.outputs = run.outputs


@dataclass(frozen=True)
class StepSpec:
    name: str
    label: str
    perform: Callable[[StepContext], Outcome]
    # Once such a step has started, the run can no longer be cancelled: it has changed what the world
    # sees (routing switched, a database dropped) and must be finished, not abandoned.
    irreversible: bool = False


class ProvisioningBackend(ABC):
    """Builds and takes down dedicated stacks. Every step must be idempotent: it may be run again after
    a crash at any point, and must then finish the work without making anything twice."""

    name: str

    @abstractmethod
    def provision_steps(self) -> list[StepSpec]: ...

    @abstractmethod
    def deprovision_steps(self) -> list[StepSpec]: ...

    def upgrade_steps(self) -> list[StepSpec]:
        """Moving a shared tenant onto its own stack: a backend that cannot copy a schema's data says so."""
        raise NotImplementedError(f"The {self.name} backend cannot upgrade a shared tenant to dedicated yet.")

    def steps(self, kind: str) -> list[StepSpec]:
        if kind == ProvisioningRun.Kind.DEPROVISION:
            return self.deprovision_steps()
        if kind == ProvisioningRun.Kind.UPGRADE:
            return self.upgrade_steps()
        return self.provision_steps()

    def step(self, kind: str, name: str) -> StepSpec:
        for spec in self.steps(kind):
            if spec.name == name:
                return spec
        raise StepFailed(f"The {self.name} backend has no {kind} step named '{name}'.")
