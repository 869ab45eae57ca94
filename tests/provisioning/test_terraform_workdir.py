"""The `terraform` backend's pure parts against the real HCL: the working directory it writes calls the
real module and sets only declared variables, and what it reads back from terraform (outputs, lock
errors) is parsed right. No database, no terraform run (except `fmt -check` when the CLI is installed)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import hcl2
import pytest
from hypothesis import given
from hypothesis import strategies as st

from provisioning.backends.base import StepFailed
from provisioning.backends.terraform import cli, workdir

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "terraform" / "envs" / "dedicated-tenant-example"
PLAIN = hcl2.SerializationOptions(with_comments=False, explicit_blocks=False, strip_string_quotes=True)


def parse(path: Path) -> dict[str, Any]:
    with path.open() as handle:
        return hcl2.load(handle, serialization_options=PLAIN)


@pytest.fixture
def tenant_dir(settings: Any, tmp_path: Path) -> Path:
    settings.PROVISIONING_TERRAFORM_ROOT = TEMPLATE
    settings.PROVISIONING_TERRAFORM_WORKDIR = tmp_path / "deep" / "er" / "work"
    settings.PROVISIONING_AWS_REGION = "eu-west-2"
    settings.PROVISIONING_TERRAFORM_VARS = {"node_max_count": 8, "alarm_emails": ["oncall@localbazaar.example"]}
    path, changed = workdir.write_workdir("hebden-bakery", allow_destroy=False)
    assert changed == {"main.tf", "outputs.tf", "variables.tf", "versions.tf", workdir.VARIABLES_FILE}
    return path


def declared_variables(directory: Path) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for path in directory.glob("*.tf"):
        for block in parse(path).get("variable", []):
            found.update(block)
    return found


def test_the_working_directory_calls_the_real_module_with_declared_variables_only(tenant_dir: Path) -> None:
    [module] = parse(tenant_dir / "main.tf")["module"]
    source = module["tenant"]["source"]
    assert source.startswith("../") and (tenant_dir / source).resolve() == REPO / "terraform/modules/dedicated-tenant"
    variables = json.loads((tenant_dir / workdir.VARIABLES_FILE).read_text())
    declared = declared_variables(tenant_dir)
    # Terraform warns about (and ignores) undeclared ones: every value set must be a declared variable,
    # and every variable without a default must be set, except sensitive ones: they come only from
    # TF_VAR_<name> in the run's environment and never land in the file.
    sensitive = {name for name, block in declared.items() if block.get("sensitive") is True}
    assert set(variables) <= set(declared) - sensitive
    assert {name for name, block in declared.items() if "default" not in block} - sensitive <= set(variables)
    assert variables == {
        "alarm_emails": ["oncall@localbazaar.example"],
        "allow_destroy": False,
        "node_max_count": 8,
        "region": "eu-west-2",
        "tenant_slug": "hebden-bakery",
    }


def test_writing_it_again_changes_nothing_and_teardown_flips_only_allow_destroy(tenant_dir: Path) -> None:
    assert workdir.write_workdir("hebden-bakery", allow_destroy=False) == (tenant_dir, set())

    _, changed = workdir.write_workdir("hebden-bakery", allow_destroy=True)

    assert changed == {workdir.VARIABLES_FILE}
    assert json.loads((tenant_dir / workdir.VARIABLES_FILE).read_text())["allow_destroy"] is True


@pytest.mark.skipif(shutil.which("terraform") is None, reason="the terraform CLI is not installed")
def test_the_written_root_is_formatted_as_terraform_fmt_wants(tenant_dir: Path) -> None:
    checked = subprocess.run(
        ["terraform", "fmt", "-check", "-diff"], cwd=tenant_dir, capture_output=True, text=True, timeout=60
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_platform_variables_may_not_override_the_tenants_own(settings: Any, tmp_path: Path) -> None:
    settings.PROVISIONING_TERRAFORM_WORKDIR = tmp_path
    settings.PROVISIONING_TERRAFORM_VARS = {"tenant_slug": "someone-else"}

    with pytest.raises(StepFailed, match="tenant_slug"):
        workdir.write_workdir("hebden-bakery", allow_destroy=False)

    assert not (tmp_path / "hebden-bakery" / workdir.VARIABLES_FILE).exists()


def test_the_state_key_is_the_tenants_own(settings: Any) -> None:
    settings.PROVISIONING_TF_STATE_BUCKET = "state"
    settings.PROVISIONING_TF_LOCK_TABLE = "locks"
    settings.PROVISIONING_AWS_REGION = "eu-west-1"

    assert workdir.backend_config("a-b") == {
        "bucket": "state",
        "key": "tenants/a-b/terraform.tfstate",
        "region": "eu-west-1",
        "dynamodb_table": "locks",
        "encrypt": "true",
    }


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=8,
)


@given(st.dictionaries(st.text(min_size=1, max_size=12), st.tuples(json_values, st.booleans()), max_size=6))
def test_outputs_split_into_plain_and_sensitive_and_every_sensitive_string_is_found(
    outputs: dict[str, tuple[Any, bool]],
) -> None:
    text = json.dumps({name: {"value": value, "sensitive": hidden} for name, (value, hidden) in outputs.items()})

    plain, sensitive = cli.parse_outputs(text)

    assert plain == {name: value for name, (value, hidden) in outputs.items() if not hidden}
    assert sensitive == {name: value for name, (value, hidden) in outputs.items() if hidden}


@given(st.text(min_size=1), st.lists(st.sampled_from(["list", "dict"]), max_size=4), json_values)
def test_a_string_nested_anywhere_in_a_sensitive_output_is_registered_for_redaction(
    secret: str, nesting: list[str], sibling: Any
) -> None:
    value: Any = secret
    for kind in nesting:
        value = [sibling, value] if kind == "list" else {"other": sibling, "secret": value}

    assert secret in cli.secret_strings(value)


def test_a_lock_error_is_parsed_and_other_errors_are_not() -> None:
    message = (
        "Error: Error acquiring the state lock\n\nError message: ConditionalCheckFailedException\nLock Info:\n"
        "  ID:        7d1f2c3a-0000-4e5f-9a8b-123456789abc\n  Path:      b/tenants/x/terraform.tfstate\n"
        "  Operation: OperationTypeApply\n  Who:       runner@worker-7\n  Version:   1.11.4\n"
        "  Created:   2025-06-01 10:00:00 +0000 UTC\n  Info:      \n\nTerraform acquires a state lock..."
    )

    info = cli.parse_lock_info(message)

    assert info is not None
    assert info["ID"] == "7d1f2c3a-0000-4e5f-9a8b-123456789abc"
    assert info["Who"] == "runner@worker-7" and info["Operation"] == "OperationTypeApply"
    assert cli.parse_lock_info("Error: creating EKS Cluster: ResourceInUseException") is None
