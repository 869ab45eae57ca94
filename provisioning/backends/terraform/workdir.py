"""A tenant's Terraform working directory: the dedicated-tenant root copied from its template (local module
sources pointed back at terraform/modules), `terraform.tfvars.json` with non-secret variables only, and
the S3 backend settings of the tenant's own state. No ORM: plain files and settings."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from django.conf import settings

from provisioning import stack_environment
from provisioning.backends.base import StepFailed

PLAN_FILE = "tenant.tfplan"
VARIABLES_FILE = "terraform.tfvars.json"
# What the template contributes; everything else in the directory (.terraform/, the plan) is Terraform's.
LOCK_FILE = ".terraform.lock.hcl"
TEMPLATE_PATTERNS = ("*.tf", LOCK_FILE)
_LOCAL_SOURCE = re.compile(r'(?P<head>\bsource\s*=\s*")(?P<path>\.{1,2}/[^"]*)(?P<tail>")')
# Set by the backend itself; PROVISIONING_TERRAFORM_VARS may not override them.
OWN_VARIABLES = ("region", "tenant_slug", "allow_destroy")


def stack_identifier(slug: str) -> str:
    # Every resource of the stack is named lb-<slug>-...; the database instance is lb-<slug>.
    return f"lb-{slug}"


def publishing_token(slug: str) -> str:
    """The stack's own publishing token: terraform stores it in the stack's app secret (TF_VAR_publishing_
    token, never a file) and the platform registers its digest as the store's."""
    return stack_environment.stack_publishing_token(slug, stack_identifier(slug))


def workdir_for(slug: str) -> Path:
    return Path(settings.PROVISIONING_TERRAFORM_WORKDIR) / slug


def state_key(slug: str) -> str:
    return f"{settings.PROVISIONING_TF_STATE_KEY_PREFIX.strip('/')}/{slug}/terraform.tfstate"


def backend_config(slug: str) -> dict[str, str]:
    """The tenant's remote state: its own key in the state bucket, locked in the DynamoDB table."""
    missing = [
        name
        for name in ("PROVISIONING_TF_STATE_BUCKET", "PROVISIONING_TF_LOCK_TABLE", "PROVISIONING_AWS_REGION")
        if not getattr(settings, name)
    ]
    if missing:
        raise StepFailed(f"The terraform backend needs {', '.join(missing)} (remote state and its lock table).")
    return {
        "bucket": settings.PROVISIONING_TF_STATE_BUCKET,
        "key": state_key(slug),
        "region": settings.PROVISIONING_AWS_REGION,
        "dynamodb_table": settings.PROVISIONING_TF_LOCK_TABLE,
        "encrypt": "true",
    }


def tenant_variables(slug: str, *, allow_destroy: bool) -> dict[str, Any]:
    """The root's variables: the platform-wide ones (sizes, admin roles, alarm emails) and the tenant's.
    Never secrets: the database password is made by RDS inside Secrets Manager, not passed in."""
    shared = dict(settings.PROVISIONING_TERRAFORM_VARS)
    overridden = sorted(set(shared) & set(OWN_VARIABLES))
    if overridden:
        raise StepFailed(f"PROVISIONING_TERRAFORM_VARS may not set {', '.join(overridden)}; the backend sets them.")
    return {**shared, "region": settings.PROVISIONING_AWS_REGION, "tenant_slug": slug, "allow_destroy": allow_destroy}


def root_files(template: Path, target: Path) -> dict[str, str]:
    """The template's files as they must read in `target`: relative module sources rewritten so that they
    still point at the same folders (Terraform only treats ./ and ../ sources as local)."""
    if not template.is_dir():
        raise StepFailed(f"The Terraform root template {template} does not exist (PROVISIONING_TERRAFORM_ROOT).")

    def repoint(match: re.Match[str]) -> str:
        module = (template / match["path"]).resolve()
        path = os.path.relpath(module, target.resolve())
        return f"{match['head']}{path if path.startswith('.') else './' + path}{match['tail']}"

    files: dict[str, str] = {}
    for pattern in TEMPLATE_PATTERNS:
        for source in sorted(template.glob(pattern)):
            text = source.read_text()
            files[source.name] = _LOCAL_SOURCE.sub(repoint, text) if source.suffix == ".tf" else text
    if not any(name.endswith(".tf") for name in files):
        raise StepFailed(f"The Terraform root template {template} has no .tf files.")
    return files


def write_workdir(slug: str, *, allow_destroy: bool) -> tuple[Path, set[str]]:
    """Write (or bring up to date) the tenant's working directory; returns it and the files changed."""
    target = workdir_for(slug)
    target.mkdir(parents=True, exist_ok=True)
    wanted = root_files(Path(settings.PROVISIONING_TERRAFORM_ROOT), target)
    wanted[VARIABLES_FILE] = json.dumps(tenant_variables(slug, allow_destroy=allow_destroy), indent=2, sort_keys=True)
    changed = set()
    for name, text in wanted.items():
        path = target / name
        if path.exists() and (path.read_text() == text or name == LOCK_FILE):
            # terraform init adds the platform's hashes to the dependency lock file: it is its own after that.
            continue
        # Written aside and renamed: a crash never leaves a half-written file for terraform to read.
        partial = path.with_name(f".{name}.partial")
        partial.write_text(text)
        partial.replace(path)
        changed.add(name)
    for stale in target.glob("*.tf"):
        if stale.name not in wanted:
            stale.unlink()
            changed.add(stale.name)
    return target, changed
