"""What a merchant typed at signup (email, store name) never becomes a command-line argument of the
commands that build their dedicated stack: it travels on stdin (or in a file), intact, so no shell on the
way (`ssh` joins its arguments into a remote command line) can run it and `ps` never shows it."""

from __future__ import annotations

import json

import pytest

from provisioning import execution
from tests.conftest import STRONG_PASSWORD
from tests.provisioning.conftest import dedicated_database, step_states, wait_for_run
from tests.provisioning.terraform_stand_in import TerraformStandIn, terraform_stand_in

__all__ = ["terraform_stand_in"]  # the fixture, imported for this module's tests

# Valid (Django's validator and RFC 5322 dot-atom accept every character), yet a shell would run
# `touch pwned` from it, and an option parser would take it for an option.
HOSTILE_EMAIL = "--o'brien+`touch${IFS}pwned`|$HOME&@example.com"
HOSTILE_NAME = 'Rosa\'s "Pies"; $(touch pwned) `id` && echo'


def sign_up_dedicated(root_api, subdomain: str) -> None:
    response = root_api.post(
        "/api/v1/signup",
        {
            "email": HOSTILE_EMAIL,
            "password": STRONG_PASSWORD,
            "store_name": HOSTILE_NAME,
            "subdomain": subdomain,
            "town": "Hebden Bridge",
            "postcode": "HX7 8AD",
            "tenancy": "dedicated",
        },
        format="json",
    )
    assert response.status_code == 201, response.content


def assert_no_merchant_text(argv: list[str]) -> None:
    for arg in argv:
        assert HOSTILE_EMAIL not in arg and "o'brien" not in arg
        assert HOSTILE_NAME not in arg and "$(" not in arg and "`" not in arg


@pytest.mark.django_db
def test_the_terraform_backend_hands_the_stack_merchant_text_on_stdin_never_as_arguments(
    root_api, staff_api, no_queue, terraform_stand_in: TerraformStandIn
):
    sign_up_dedicated(root_api, "rosas-pies")
    run_id = staff_api.post("/api/v1/staff/tenants/rosas-pies/approve").json()["id"]

    assert execution.execute_run(run_id) == "succeeded"

    for call in terraform_stand_in.calls():
        assert_no_merchant_text(call["argv"])
    stack = {call["argv"][0]: call for call in terraform_stand_in.stack_calls()}
    for call in stack.values():
        assert_no_merchant_text(call["argv"])
    assert stack["bootstrap_dedicated_owner"]["argv"] == ["bootstrap_dedicated_owner"]
    # Intact on stdin, next to the password hash (whose value the stand-in never records).
    assert stack["bootstrap_dedicated_owner"]["stdin_fields"] == {"email": HOSTILE_EMAIL}
    assert stack["verify_dedicated_stack"]["argv"] == ["verify_dedicated_stack"]
    assert stack["verify_dedicated_stack"]["stdin_fields"] == {"owner_email": HOSTILE_EMAIL}
    # Terraform's inputs are a JSON file of the platform's own values: the slug, never the merchant's text.
    workdir = terraform_stand_in.workdir_root / "rosas-pies"
    variables = json.loads((workdir / "terraform.tfvars.json").read_text())
    assert variables["tenant_slug"] == "rosas-pies"
    assert HOSTILE_EMAIL not in json.dumps(variables) and "Pies" not in json.dumps(variables)
    assert not list(workdir.rglob("pwned"))


@pytest.mark.usefixtures("committed_tenancy")
def test_the_local_backend_makes_the_owner_with_the_email_exactly_as_typed(
    root_api, staff_api, worker, dedicated_prefix
):
    sign_up_dedicated(root_api, "rosas-pies")

    response = staff_api.post("/api/v1/staff/tenants/rosas-pies/approve")

    run = wait_for_run(response.json()["id"])
    assert run.state == "succeeded", (run.error, step_states(run))
    # The manage.py commands were logged as run: no merchant text on any of their command lines.
    commands = [
        line
        for step in run.steps.all()
        for line in step.output.splitlines()
        if line.startswith("$ ") and "manage.py" in line
    ]
    assert len(commands) == 4  # migrate, bootstrap_dedicated_owner, register_dedicated_store, verify
    for line in commands:
        assert_no_merchant_text(line.split())
    with dedicated_database(f"{dedicated_prefix}rosas_pies") as conn, conn.cursor() as cursor:
        cursor.execute("SELECT email FROM accounts_user")
        assert cursor.fetchall() == [(HOSTILE_EMAIL,)]
        cursor.execute("SELECT name, owner_email FROM tenants_tenant")
        assert cursor.fetchall() == [(HOSTILE_NAME, HOSTILE_EMAIL)]
