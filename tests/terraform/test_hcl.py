"""Static checks of terraform/: the HCL parses, every variable and output is described and documented,
the example roots pin their providers and keep state in S3, `terraform fmt` is clean, and checkov finds
nothing that is neither fixed nor suppressed with a written reason. No AWS and no providers needed."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import hcl2
import pytest

REPO = Path(__file__).resolve().parents[2]
TERRAFORM = REPO / "terraform"
MODULES = sorted(p for p in (TERRAFORM / "modules").iterdir() if p.is_dir())
ENV_ROOTS = sorted(p for p in (TERRAFORM / "envs").iterdir() if p.is_dir())
ALL_ROOTS = MODULES + ENV_ROOTS
TF_FILES = sorted(p for p in TERRAFORM.rglob("*.tf") if ".terraform" not in p.parts)
README = TERRAFORM / "README.md"

# Outputs the `terraform` provisioning backend reads after apply.
DEDICATED_TENANT_CONTRACT = {
    "cluster_endpoint",
    "cluster_name",
    "database_endpoint",
    "database_secret_arn",
    "media_bucket_name",
    "irsa_role_arn",
}
PLAIN = hcl2.SerializationOptions(with_comments=False, explicit_blocks=False, strip_string_quotes=True)
SUPPRESSION = re.compile(r"#\s*checkov:skip=(?P<check>[A-Z0-9_]+)(?::(?P<reason>.*))?")


def relative(path: Path) -> str:
    return str(path.relative_to(TERRAFORM))


def parse(path: Path) -> dict[str, Any]:
    with path.open() as handle:
        return hcl2.load(handle, serialization_options=PLAIN)


def declared(directory: Path, kind: str) -> dict[str, dict[str, Any]]:
    """The `variable` or `output` blocks of one module, by name."""
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(directory.glob("*.tf")):
        for block in parse(path).get(kind, []):
            found.update(block)
    return found


def terraform_block(directory: Path) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for path in sorted(directory.glob("*.tf")):
        for block in parse(path).get("terraform", []):
            merged.update(block)
    return merged


def readme_sections() -> dict[str, str]:
    """README text under each '### `modules/<name>`' or '### `envs/<name>`' heading."""
    text = README.read_text()
    parts = re.split(r"^### `((?:modules|envs)/[a-z0-9-]+)`\s*$", text, flags=re.M)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts), 2)}


def documented(section: str, column: str) -> set[str]:
    """Names in the first column of the section's table headed `| <column> |`."""
    match = re.search(rf"^\| {column} \|.*\n\|[-| ]+\|\n((?:\|.*\n?)*)", section, flags=re.M)
    if not match:
        return set()
    return set(re.findall(r"^\| `([a-z0-9_]+)` \|", match.group(1), flags=re.M))


# --- Parsing -------------------------------------------------------------------------------------


def test_the_tree_has_both_modules_and_an_example_root_for_each() -> None:
    names = {relative(p) for p in ALL_ROOTS}
    assert {"modules/dedicated-tenant", "modules/shared-platform"} <= names
    assert {"envs/dedicated-tenant-example", "envs/shared-platform-prod"} <= names


@pytest.mark.parametrize("path", TF_FILES, ids=relative)
def test_every_tf_file_parses(path: Path) -> None:
    assert parse(path), f"{relative(path)} parsed to nothing"


# --- Variables and outputs -----------------------------------------------------------------------


@pytest.mark.parametrize("directory", ALL_ROOTS, ids=relative)
def test_every_variable_has_a_type_and_a_description(directory: Path) -> None:
    variables = declared(directory, "variable")
    assert variables, f"{relative(directory)} declares no variables"
    undescribed = [name for name, body in variables.items() if not str(body.get("description", "")).strip()]
    untyped = [name for name, body in variables.items() if "type" not in body]
    assert undescribed == [], f"{relative(directory)}: variables without a description"
    assert untyped == [], f"{relative(directory)}: variables without a type"


@pytest.mark.parametrize("directory", ALL_ROOTS, ids=relative)
def test_every_output_has_a_description(directory: Path) -> None:
    outputs = declared(directory, "output")
    assert outputs, f"{relative(directory)} declares no outputs"
    undescribed = [name for name, body in outputs.items() if not str(body.get("description", "")).strip()]
    assert undescribed == [], f"{relative(directory)}: outputs without a description"


@pytest.mark.parametrize("directory", ALL_ROOTS, ids=relative)
def test_no_output_exposes_a_secret_value(directory: Path) -> None:
    for name, body in declared(directory, "output").items():
        value = str(body["value"])
        assert not re.search(r"password|auth_token|secret_string|random_", value), f"{name} = {value}"


@pytest.mark.parametrize("directory", ALL_ROOTS, ids=relative)
def test_the_readme_documents_exactly_the_declared_variables_and_outputs(directory: Path) -> None:
    section = readme_sections().get(relative(directory))
    assert section is not None, f"README.md has no '### `{relative(directory)}`' section"
    assert documented(section, "variable") == set(declared(directory, "variable"))
    assert documented(section, "output") == set(declared(directory, "output"))


@pytest.mark.parametrize("directory", ["modules/dedicated-tenant", "envs/dedicated-tenant-example"])
def test_the_dedicated_tenant_gives_the_provisioning_backend_its_outputs(directory: str) -> None:
    assert DEDICATED_TENANT_CONTRACT <= set(declared(TERRAFORM / directory, "output"))


# --- Example roots ---------------------------------------------------------------------------------


@pytest.mark.parametrize("root", ENV_ROOTS, ids=relative)
def test_each_root_pins_terraform_and_its_providers(root: Path) -> None:
    block = terraform_block(root)
    assert block.get("required_version"), "no required_version"
    providers: dict[str, Any] = {}
    for entry in block.get("required_providers", []):
        providers.update(entry)
    assert "aws" in providers
    for name, spec in providers.items():
        assert spec.get("source", "").startswith("hashicorp/"), name
        assert spec.get("version", "").startswith("~> "), f"{name} is not pinned with ~>: {spec.get('version')}"


@pytest.mark.parametrize("root", ENV_ROOTS, ids=relative)
def test_each_root_keeps_state_in_s3_with_the_location_given_at_init(root: Path) -> None:
    backends = terraform_block(root).get("backend", [])
    assert len(backends) == 1 and "s3" in backends[0], f'expected one backend "s3" block, got {backends}'
    settings = backends[0]["s3"]
    # Partial configuration: one root serves every tenant, so where the state lives comes from -backend-config.
    assert not {"bucket", "key", "region", "dynamodb_table"} & set(settings), settings
    assert settings.get("encrypt") is True


@pytest.mark.parametrize("root", ENV_ROOTS, ids=relative)
def test_each_root_has_a_tfvars_example_naming_only_its_variables(root: Path) -> None:
    example = root / "terraform.tfvars.example"
    assert example.is_file()
    variables = declared(root, "variable")
    assert set(parse(example)) <= set(variables)
    # Sensitive variables come only from TF_VAR_<name> in the run's environment, never from a file.
    sensitive = {name for name, body in variables.items() if body.get("sensitive") is True}
    assert not sensitive & set(parse(example)), "the example gives a sensitive variable a value"
    required = {name for name, body in variables.items() if "default" not in body} - sensitive
    assert required <= set(parse(example)), "the example leaves required variables out"


def test_the_readme_explains_per_tenant_state_and_locking() -> None:
    text = README.read_text()
    assert "tenants/<slug>/terraform.tfstate" in text
    assert "dynamodb_table" in text
    assert "-backend-config" in text


# --- Suppressions ----------------------------------------------------------------------------------


def test_every_checkov_suppression_gives_a_reason() -> None:
    found = []
    for path in TF_FILES:
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            match = SUPPRESSION.search(line)
            if match:
                reason = (match.group("reason") or "").strip()
                found.append((f"{relative(path)}:{number}", match.group("check"), reason))
    assert found, "expected the documented suppressions"
    without_reason = [(where, check) for where, check, reason in found if len(reason.split()) < 5]
    assert without_reason == [], "suppressions need a reason of a few words"


# --- Tools -----------------------------------------------------------------------------------------


def test_terraform_fmt_is_clean() -> None:
    terraform = shutil.which("terraform")
    if terraform is None:
        pytest.skip("no terraform CLI on PATH (it needs no providers for fmt, but is not installed here)")
    result = subprocess.run(
        [terraform, "fmt", "-check", "-recursive", "-diff", str(TERRAFORM)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_checkov_finds_nothing_above_low_that_is_not_suppressed_with_a_reason() -> None:
    # Given checkov in its own venv (created on first use by `make checkov-install`)
    started = time.monotonic()
    env = {key: value for key, value in os.environ.items() if not key.startswith("MAKE")}
    install = subprocess.run(
        ["make", "-s", "--no-print-directory", "-C", str(REPO), "checkov-install"],
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
    )
    assert install.returncode == 0, install.stdout + install.stderr

    # When it scans terraform/ (modules alone and as called from the example roots)
    scan = subprocess.run(
        ["make", "-s", "--no-print-directory", "-C", str(REPO), "checkov", "CHECKOV_ARGS=-o json"],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
    )
    assert scan.stdout.lstrip().startswith(("{", "[")), scan.stdout[-2000:] + scan.stderr[-2000:]
    reports = json.loads(scan.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    terraform_reports = [r for r in reports if r.get("check_type") == "terraform"]
    assert terraform_reports, scan.stdout[-2000:] + scan.stderr[-2000:]
    report = terraform_reports[0]

    # Then it scanned for real, and every failure above LOW is fixed. Without a Prisma API key
    # checkov reports no severities, so an unknown severity counts as above LOW.
    summary = report["summary"]
    assert summary["parsing_errors"] == 0
    assert summary["resource_count"] > 50 and summary["passed"] > 300, summary
    failed = report["results"].get("failed_checks", [])
    above_low = [
        f"{c['check_id']} {c['resource']} ({c['file_path']})"
        for c in failed
        if c.get("severity") not in ("INFO", "LOW")
    ]
    assert above_low == []
    # And what it skipped, it skipped for a written reason (checkov says "No comment provided" otherwise)
    skipped = report["results"].get("skipped_checks", [])
    assert skipped, "the documented suppressions should show up as skipped checks"
    unexplained = [
        f"{c['check_id']} {c['resource']}"
        for c in skipped
        if len(str(c["check_result"].get("suppress_comment") or "").split()) < 5
    ]
    assert unexplained == []
    assert time.monotonic() - started < 180
