"""The `terraform` backend's steps. Each is idempotent and finds its working directory itself (written and
initialised again if this worker's disk lacks it), so a run resumed on another worker, after a kill at
any point, finishes without making anything twice: Terraform's remote state is the record of what exists."""

from __future__ import annotations

import json
import shlex
import shutil
from pathlib import Path

from django.conf import settings

from provisioning.backends.base import Outcome, StepContext, StepFailed
from provisioning.backends.terraform import cli, deploy, workdir
from provisioning.management.commands.bootstrap_dedicated_owner import OWNER_ALREADY_PRESENT
from provisioning.models import ProvisioningRun
from tenants import lifecycle
from tenants.models import Tenant

# Outputs later steps and the platform rely on (terraform/modules/dedicated-tenant/outputs.tf).
REQUIRED_OUTPUTS = ("cluster_endpoint", "database_endpoint", "database_secret_arn")
SENSITIVE = "(sensitive)"
# The resources `allow_destroy` unprotects: the database (deletion protection) and the media bucket
# (force_destroy). Deprovisioning lifts protection on these only, never building what is missing.
PROTECTED_MODULES = ("module.tenant.module.database", "module.tenant.module.media")


def _is_teardown(ctx: StepContext) -> bool:
    return ctx.run.kind == ProvisioningRun.Kind.DEPROVISION


def _init(ctx: StepContext, path: Path) -> None:
    config = workdir.backend_config(ctx.tenant.slug)
    # -reconfigure: the backend settings are given afresh every time, never migrated from a previous init.
    flags = [f"-backend-config={key}={value}" for key, value in config.items()]
    cli.terraform(ctx, path, "init", "-input=false", "-reconfigure", *flags)


def _ready(ctx: StepContext) -> Path:
    """The working directory, up to date and initialised (again, when this disk lacks it or files changed)."""
    path, changed = workdir.write_workdir(ctx.tenant.slug, allow_destroy=_is_teardown(ctx))
    needs_init = changed - {workdir.VARIABLES_FILE}
    if needs_init or not (path / ".terraform" / "terraform.tfstate").exists():
        _init(ctx, path)
    return path


def _state_addresses(ctx: StepContext, path: Path) -> list[str]:
    try:
        listed = cli.terraform(ctx, path, "state", "list")
    except cli.TerraformFailed as error:
        if "No state file was found" in error.output:
            return []
        raise
    return [line.strip() for line in listed.stdout.splitlines() if line.strip()]


def _plan(ctx: StepContext, path: Path) -> bool:
    """Save a fresh plan; returns whether it changes anything (no plan file is kept when it does not)."""
    plan = path / workdir.PLAN_FILE
    plan.unlink(missing_ok=True)
    targets: list[str] = []
    if _is_teardown(ctx):
        addresses = _state_addresses(ctx, path)
        protected = [m for m in PROTECTED_MODULES if any(a.startswith(m + ".") for a in addresses)]
        if not protected:
            ctx.say("Nothing protected in the state (no database or media bucket): no protection to lift.")
            return False
        targets = [f"-target={module}" for module in protected]
    # -detailed-exitcode: 0 = nothing to change, 2 = changes planned.
    completed = cli.locked_terraform(
        ctx, path, "plan", "-detailed-exitcode", f"-out={workdir.PLAN_FILE}", *targets, ok_codes=(0, 2)
    )
    if completed.returncode == 0:
        plan.unlink(missing_ok=True)
        return False
    return True


# --- provision ---------------------------------------------------------------------------------------------


def write_workdir(ctx: StepContext) -> Outcome:
    slug = ctx.tenant.slug
    path, changed = workdir.write_workdir(slug, allow_destroy=_is_teardown(ctx))
    if not _is_teardown(ctx):
        # On record before anything exists: a rejected request's clean-up run knows there is a stack to
        # take down (the state is the authority on what exists).
        lifecycle.record_database(ctx.tenant, workdir.stack_identifier(slug), by=lifecycle.Actor.system("provisioning"))
    ctx.remember(workdir=str(path), state_key=workdir.state_key(slug))
    ctx.say(f"Working directory {path}: {', '.join(sorted(changed)) or 'already up to date'}.")
    return Outcome.DONE if changed else Outcome.ALREADY_DONE


def terraform_init(ctx: StepContext) -> Outcome:
    path, _ = workdir.write_workdir(ctx.tenant.slug, allow_destroy=_is_teardown(ctx))
    _init(ctx, path)
    return Outcome.DONE


def terraform_plan(ctx: StepContext) -> Outcome:
    if _plan(ctx, _ready(ctx)):
        return Outcome.DONE
    ctx.say("No changes: the stack already matches the configuration.")
    return Outcome.ALREADY_DONE


def terraform_apply(ctx: StepContext) -> Outcome:
    path = _ready(ctx)
    plan = path / workdir.PLAN_FILE
    if not plan.exists() and not _plan(ctx, path):
        ctx.say("No changes to apply.")
        return Outcome.ALREADY_DONE
    try:
        cli.locked_terraform(ctx, path, "apply", workdir.PLAN_FILE)
    except cli.TerraformFailed as error:
        if not error.is_stale_plan:
            raise
        # The state moved since the plan was saved (an interrupted apply saved what it had made): plan the
        # rest and apply that.
        ctx.say("The saved plan no longer matches the state; planning again.")
        if not _plan(ctx, path):
            return Outcome.DONE
        cli.locked_terraform(ctx, path, "apply", workdir.PLAN_FILE)
    finally:
        plan.unlink(missing_ok=True)
    return Outcome.DONE


def read_outputs(ctx: StepContext) -> Outcome:
    path = _ready(ctx)
    # stdout is not logged: `output -json` prints sensitive values in the clear.
    completed = cli.terraform(ctx, path, "output", "-json", log_stdout=False)
    plain, sensitive = cli.parse_outputs(completed.stdout)
    for value in sensitive.values():
        for text in cli.secret_strings(value):
            ctx.secret(text)
    missing = [name for name in REQUIRED_OUTPUTS if not plain.get(name)]
    if missing:
        raise StepFailed(f"The stack has no {', '.join(missing)} output; was it applied?")
    ctx.remember(**plain, **dict.fromkeys(sensitive, SENSITIVE))
    ctx.say(f"Outputs: {', '.join(sorted(plain))}; sensitive (not kept): {', '.join(sorted(sensitive)) or 'none'}.")
    return Outcome.DONE


# --- the app on the stack ----------------------------------------------------------------------------------


def run_on_stack(ctx: StepContext, *args: str, stdin: str = "") -> str:
    """`manage.py <args>` on the tenant's stack: the database is private to the tenant's VPC, so the command
    runs there, by `kubectl exec -i` into the web deployment the run made (or PROVISIONING_TERRAFORM_MANAGE_
    COMMAND). It gets the stack's outputs as LB_STACK_<NAME> variables."""
    path = workdir.workdir_for(ctx.tenant.slug)
    # By default through the cluster the run deployed the app to (deploy.py); an operator may name another.
    prefix = shlex.split(settings.PROVISIONING_TERRAFORM_MANAGE_COMMAND) or deploy.manage_command(path)
    outputs = {
        f"LB_STACK_{name.upper()}": value
        for name, value in ctx.run.outputs.items()
        if isinstance(value, str) and value != SENSITIVE
    }
    env = cli.command_environment(ctx, LB_TENANT_SLUG=ctx.tenant.slug, **outputs)
    path.mkdir(parents=True, exist_ok=True)
    completed = cli.run_process(ctx, f"manage.py {args[0]}", [*prefix, *args], cwd=path, env=env, stdin=stdin)
    return completed.stdout.strip()


def migrate_database(ctx: StepContext) -> Outcome:
    run_on_stack(ctx, "migrate", "--noinput")
    return Outcome.DONE


def bootstrap_owner(ctx: StepContext) -> Outcome:
    tenant = Tenant.objects.get(pk=ctx.tenant.pk)
    password_hash = ctx.secret(tenant.pending_owner_password)
    # The hash goes on stdin: never on a command line, in the environment or in the log. So does the
    # email: the manage command may reach the stack through a remote shell (ssh joins its arguments into
    # one command line), where a merchant's text must never be an argument.
    owner = json.dumps({"email": tenant.owner_email, "password_hash": password_hash})
    output = run_on_stack(ctx, "bootstrap_dedicated_owner", stdin=owner)
    Tenant.objects.filter(pk=tenant.pk).update(pending_owner_password="")
    return Outcome.ALREADY_DONE if output.endswith(OWNER_ALREADY_PRESENT) else Outcome.DONE


def verify_health(ctx: StepContext) -> Outcome:
    tenant = Tenant.objects.get(pk=ctx.tenant.pk)
    run_on_stack(ctx, "verify_dedicated_stack", stdin=json.dumps({"owner_email": tenant.owner_email}))
    return Outcome.DONE


# --- deprovision -----------------------------------------------------------------------------------------


def remove_app(ctx: StepContext) -> Outcome:
    path = _ready(ctx)
    if not _state_addresses(ctx, path):
        ctx.say("The state holds nothing: no cluster, no app to remove.")
        return Outcome.ALREADY_DONE
    # stdout is not logged: `output -json` prints sensitive values in the clear.
    plain, _ = cli.parse_outputs(cli.terraform(ctx, path, "output", "-json", log_stdout=False).stdout)
    return deploy.remove_app(ctx, path, plain)


def terraform_destroy(ctx: StepContext) -> Outcome:
    path = _ready(ctx)
    if not _state_addresses(ctx, path):
        ctx.say("The state holds nothing: nothing to destroy.")
        return Outcome.ALREADY_DONE
    cli.locked_terraform(ctx, path, "destroy", "-auto-approve")
    # The database's final snapshot is the stack's final export (skip_final_snapshot = false).
    ctx.remember(final_snapshot=f"{workdir.stack_identifier(ctx.tenant.slug)}-final")
    return Outcome.DONE


def remove_workdir(ctx: StepContext) -> Outcome:
    path = workdir.workdir_for(ctx.tenant.slug)
    if not path.exists():
        ctx.say(f"{path} is already gone.")
        return Outcome.ALREADY_DONE
    shutil.rmtree(path)
    ctx.say(f"Removed {path}; the (empty) state stays in the bucket at {workdir.state_key(ctx.tenant.slug)}.")
    return Outcome.DONE
