"""Fixtures for the `terraform` backend's tests: the stand-in CLI (tests/fakes/terraform/terraform) first
on PATH, its remote state and call records under the test's tmp_path, the backend selected and pointed
at them, and readers for what the stand-ins recorded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import connection

from provisioning.backends import local
from tests.conftest import purge_broker

FAKES = Path(__file__).resolve().parents[1] / "fakes" / "terraform"
KUBECTL = Path(__file__).resolve().parents[1] / "fakes" / "kubectl" / "kubectl"
APP_IMAGE = "registry.example/localbazaar:2026.12.1"
BUCKET = "lb-test-terraform-state"
LOCK_TABLE = "lb-test-terraform-locks"
REGION = "eu-west-2"


def read_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@dataclass
class TerraformStandIn:
    root: Path
    workdir_root: Path

    @property
    def remote(self) -> Path:
        return self.root / "remote"

    @property
    def calls_file(self) -> Path:
        return self.root / "terraform-calls.jsonl"

    @property
    def stack_calls_file(self) -> Path:
        return self.root / "stack-calls.jsonl"

    @property
    def kubectl_calls_file(self) -> Path:
        return self.root / "kubectl-calls.jsonl"

    @property
    def cluster(self) -> Path:
        return self.root / "clusters"

    def calls(self) -> list[dict[str, Any]]:
        return read_lines(self.calls_file)

    def kubectl_records(self) -> list[dict[str, Any]]:
        return read_lines(self.kubectl_calls_file)

    def kubectl_calls(self) -> list[list[str]]:
        return [call["argv"] for call in self.kubectl_records()]

    def cluster_objects(self) -> dict[str, Any]:
        """Every object the stand-in cluster holds (one cluster: the test's tenant's), by Kind/name."""
        found: dict[str, Any] = {}
        for path in self.cluster.glob("*.json"):
            found.update(json.loads(path.read_text()))
        return found

    def commands(self) -> list[str]:
        """Each call as `command [subcommand]`, e.g. ["init", "plan", "apply", "output"]."""
        names = []
        for call in self.calls():
            argv = [arg for arg in call["argv"] if not arg.startswith("-")]
            names.append(" ".join(argv[:2]) if argv[:1] == ["state"] else argv[0])
        return names

    def calls_of(self, command: str) -> list[list[str]]:
        return [call["argv"] for call in self.calls() if call["argv"][0] == command]

    def stack_calls(self) -> list[dict[str, Any]]:
        return read_lines(self.stack_calls_file)

    def resource_events(self) -> list[dict[str, Any]]:
        return read_lines(self.remote / "resources.jsonl")

    def created(self) -> Counter[str]:
        return Counter(event["address"] for event in self.resource_events() if event["op"] == "create")

    def destroyed(self) -> Counter[str]:
        return Counter(event["address"] for event in self.resource_events() if event["op"] == "destroy")

    def state(self, slug: str) -> dict[str, Any]:
        return json.loads((self.remote / BUCKET / "tenants" / slug / "terraform.tfstate").read_text())

    def environment(self) -> dict[str, str]:
        """What a worker process needs to use the stand-ins like this test process does."""
        return {
            "PATH": f"{FAKES}{os.pathsep}{os.environ['PATH']}",
            "FAKE_TERRAFORM_STATE_DIR": str(self.remote),
            "FAKE_TERRAFORM_CALLS": str(self.calls_file),
            "FAKE_STACK_CALLS": str(self.stack_calls_file),
            "PROVISIONING_BACKEND": "terraform",
            "PROVISIONING_TERRAFORM_WORKDIR": str(self.workdir_root),
            "PROVISIONING_TF_STATE_BUCKET": BUCKET,
            "PROVISIONING_TF_LOCK_TABLE": LOCK_TABLE,
            "PROVISIONING_AWS_REGION": REGION,
            "PROVISIONING_TF_LOCK_TIMEOUT": "1s",
            "PROVISIONING_TERRAFORM_PASS_ENV": "FAKE_TERRAFORM_,FAKE_STACK_,FAKE_KUBECTL_",
            # manage.py on the stack goes through the stand-in cluster (kubectl exec) to the stack's stand-in.
            "PROVISIONING_TERRAFORM_MANAGE_COMMAND": "",
            "PROVISIONING_KUBECTL_BIN": f"{sys.executable} {KUBECTL}",
            "PROVISIONING_APP_IMAGE": APP_IMAGE,
            "FAKE_KUBECTL_CALLS": str(self.kubectl_calls_file),
            "FAKE_KUBECTL_STATE_DIR": str(self.cluster),
            "FAKE_KUBECTL_EXEC": str(FAKES / "stack-manage"),
        }


@pytest.fixture
def terraform_stand_in(settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TerraformStandIn:
    stand_in = TerraformStandIn(root=tmp_path / "terraform-stand-in", workdir_root=tmp_path / "terraform-work")
    stand_in.root.mkdir()
    for name, value in stand_in.environment().items():
        if name.startswith("FAKE_") or name == "PATH":
            monkeypatch.setenv(name, value)
    settings.PROVISIONING_BACKEND = "terraform"
    settings.PROVISIONING_TERRAFORM_WORKDIR = stand_in.workdir_root
    settings.PROVISIONING_TF_STATE_BUCKET = BUCKET
    settings.PROVISIONING_TF_LOCK_TABLE = LOCK_TABLE
    settings.PROVISIONING_AWS_REGION = REGION
    settings.PROVISIONING_TF_LOCK_TIMEOUT = "1s"
    settings.PROVISIONING_TERRAFORM_PASS_ENV = ["FAKE_TERRAFORM_", "FAKE_STACK_", "FAKE_KUBECTL_"]
    settings.PROVISIONING_TERRAFORM_MANAGE_COMMAND = ""
    settings.PROVISIONING_KUBECTL_BIN = f"{sys.executable} {KUBECTL}"
    settings.PROVISIONING_APP_IMAGE = APP_IMAGE
    return stand_in


@pytest.fixture
def terraform_worker(terraform_stand_in: TerraformStandIn, dedicated_prefix: str) -> Iterator[Any]:
    """`start(**faults)` starts a `celery worker` process using the stand-ins (with `faults`, e.g.
    FAKE_TERRAFORM_HANG_AT="apply:1", in its environment); every one started is killed after the test."""
    purge_broker()
    started: list[subprocess.Popen[bytes]] = []

    def start(**faults: str) -> subprocess.Popen[bytes]:
        env = {
            **os.environ,
            **terraform_stand_in.environment(),
            "DATABASE_URL": local.database_url(connection.settings_dict["NAME"]),
            "PROVISIONING_DATABASE_PREFIX": dedicated_prefix,
            "CELERY_BROKER_URL": django_settings.CELERY_BROKER_URL,
            **faults,
        }
        process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--loglevel=WARNING"],
            cwd=Path(django_settings.BASE_DIR),
            env=env,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
