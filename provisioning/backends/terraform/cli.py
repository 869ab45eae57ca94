"""Running terraform (and the stack's manage.py hook) for a step: a minimal environment whose secret values
are registered for redaction, the step's timeout with Terraform's graceful interrupt first, output into
the step's log, and the two failures a resumed run must handle: a stale saved plan and a state lock left
by a terraform process that died with its worker."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

from provisioning.backends.base import StepContext, StepFailed
from provisioning.backends.terraform.workdir import publishing_token

# What terraform and the AWS provider need from the worker's environment; nothing else (no DATABASE_URL,
# SECRET_KEY or payment keys) reaches them.
PASSED_NAMES = (
    "PATH",
    "HOME",
    "USER",
    "LANG",
    "LC_ALL",
    "TMPDIR",
    "KUBECONFIG",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
)
PASSED_PREFIXES = ("AWS_", "TF_")
_SECRET_NAME = re.compile(r"SECRET|TOKEN|PASSWORD|PASSWD|CREDENTIAL|PRIVATE|^TF_VAR_", re.IGNORECASE)
# Shorter values are not worth redacting (and would garble every log): `1`, `true`, a region.
MIN_SECRET_LENGTH = 8
# After the step's timeout: SIGINT, then this long for terraform to stop cleanly (state saved, lock
# released) before it is killed.
INTERRUPT_GRACE_SECONDS = 60
ERROR_TAIL_LINES = 12

_LOCK_INFO = re.compile(r"Lock Info:\n(?P<body>(?:[ \t]+\w+:[^\n]*\n?)+)")
_STALE_PLAN = ("Saved plan is stale", "as a plan file", "Failed to read plan from plan file")


class TerraformFailed(StepFailed):
    """A terraform command exited non-zero; `output` is its stdout and stderr (for the caller to inspect)."""

    def __init__(self, message: str, output: str) -> None:
        super().__init__(message)
        self.output = output

    @property
    def is_stale_plan(self) -> bool:
        return any(marker in self.output for marker in _STALE_PLAN)

    @property
    def lock_info(self) -> dict[str, str] | None:
        return parse_lock_info(self.output)


@dataclass(frozen=True)
class Completed:
    returncode: int
    stdout: str
    stderr: str


def parse_lock_info(output: str) -> dict[str, str] | None:
    """The `Lock Info:` block of an "Error acquiring the state lock" message, as a dict (ID, Who, ...)."""
    if "Error acquiring the state lock" not in output:
        return None
    match = _LOCK_INFO.search(output)
    if not match:
        return None
    info = {}
    for line in match["body"].splitlines():
        key, _, value = line.strip().partition(":")
        info[key] = value.strip()
    return info if info.get("ID") else None


def parse_outputs(text: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """`terraform output -json` split into (plain values, sensitive values)."""
    try:
        raw = json.loads(text or "{}")
    except json.JSONDecodeError as error:
        raise StepFailed(f"terraform output -json did not print JSON ({error.msg}).") from error
    plain: dict[str, Any] = {}
    sensitive: dict[str, Any] = {}
    for name, output in raw.items():
        (sensitive if output.get("sensitive") else plain)[name] = output.get("value")
    return plain, sensitive


def secret_strings(value: Any) -> list[str]:
    """Every string inside a (JSON) value, for redaction."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in secret_strings(item)]
    if isinstance(value, list):
        return [text for item in value for text in secret_strings(item)]
    return [] if value is None else [json.dumps(value)]


def _is_passed(name: str) -> bool:
    extra = settings.PROVISIONING_TERRAFORM_PASS_ENV
    return (
        name in PASSED_NAMES
        or name.startswith(PASSED_PREFIXES)
        or name in extra
        or any(item.endswith("_") and name.startswith(item) for item in extra)
    )


def plugin_cache() -> Path:
    # Shared by every tenant's directory: the AWS provider is downloaded once, not per tenant.
    path = Path(settings.PROVISIONING_TERRAFORM_WORKDIR) / ".plugin-cache"
    path.mkdir(parents=True, exist_ok=True)
    return path


def command_environment(ctx: StepContext, **extra: str) -> dict[str, str]:
    """The subprocess environment: the passed names only, Terraform's automation switches, and `extra`.
    Every value that looks secret (AWS keys, session tokens, TF_VAR_ values) is registered for redaction."""
    env = {name: value for name, value in os.environ.items() if _is_passed(name)}
    for name, value in env.items():
        if _SECRET_NAME.search(name) and len(value) >= MIN_SECRET_LENGTH:
            ctx.secret(value)
    env.update(
        TF_IN_AUTOMATION="1",
        TF_INPUT="0",
        CHECKPOINT_DISABLE="1",
        TF_PLUGIN_CACHE_DIR=str(plugin_cache()),
    )
    env.update(extra)
    return env


def _die_with_parent(command: list[str]) -> list[str]:
    # SIGTERM, not SIGKILL, when the worker dies: terraform then stops the way it does on Ctrl-C, finishing
    # the resource in flight, saving state and releasing its lock, so the resumed run makes nothing twice.
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "TERM", "--", *command] if setpriv else command


def _tail(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return "\n".join(lines[-ERROR_TAIL_LINES:]) or "no output"


def run_process(
    ctx: StepContext,
    what: str,
    command: list[str],
    *,
    cwd: Path,
    env: dict[str, str],
    stdin: str = "",
    ok_codes: tuple[int, ...] = (0,),
    log_stdout: bool = True,
) -> Completed:
    """Run `command` in `cwd`, its output logged to the step (stdout only when `log_stdout`); a timeout or
    an exit code outside `ok_codes` fails the step with the tail of the output."""
    ctx.say("$ " + " ".join(command))
    timeout = settings.PROVISIONING_STEP_TIMEOUT
    # Output goes to unnamed temporary files, not pipes: when the worker dies, terraform must be able to go
    # on writing while it shuts down cleanly (a write to a pipe with no reader would kill it mid-apply).
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen(
            _die_with_parent(command), cwd=cwd, env=env, stdin=subprocess.PIPE, stdout=out, stderr=err, text=True
        )
        timed_out = False
        try:
            process.communicate(input=stdin, timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=INTERRUPT_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if log_stdout and stdout.strip():
        ctx.say(stdout.strip())
    if stderr.strip():
        ctx.say(stderr.strip())
    output = f"{stdout}\n{stderr}" if log_stdout else stderr
    if timed_out:
        raise TerraformFailed(f"{what} timed out after {timeout} s and was interrupted:\n{_tail(output)}", output)
    if process.returncode not in ok_codes:
        raise TerraformFailed(f"{what} exited with {process.returncode}:\n{_tail(output)}", output)
    return Completed(process.returncode, stdout, stderr)


def terraform(
    ctx: StepContext, workdir: Path, *args: str, ok_codes: tuple[int, ...] = (0,), log_stdout: bool = True
) -> Completed:
    command = [settings.PROVISIONING_TERRAFORM_BIN, args[0], "-no-color", *args[1:]]
    return run_process(
        ctx,
        f"terraform {args[0]}",
        command,
        cwd=workdir,
        # The one secret variable, registered for redaction with every TF_VAR_ value (command_environment).
        env=command_environment(ctx, TF_VAR_publishing_token=ctx.secret(publishing_token(ctx.tenant.slug))),
        ok_codes=ok_codes,
        log_stdout=log_stdout,
    )


def locked_terraform(ctx: StepContext, workdir: Path, *args: str, ok_codes: tuple[int, ...] = (0,)) -> Completed:
    """A command that takes the state lock (plan, apply, destroy), with `-lock-timeout`. A lock still held
    after the whole wait was left by a terraform that died with its worker (this tenant's executions are
    serialised by the run's advisory lock, and an interrupted terraform frees its lock well within the
    wait): it is released and the command run once more."""
    full = (args[0], f"-lock-timeout={settings.PROVISIONING_TF_LOCK_TIMEOUT}", "-input=false", *args[1:])
    try:
        return terraform(ctx, workdir, *full, ok_codes=ok_codes)
    except TerraformFailed as error:
        info = error.lock_info
        if info is None:
            raise
    release_abandoned_lock(ctx, workdir, info)
    return terraform(ctx, workdir, *full, ok_codes=ok_codes)


def live_processes_in(workdir: Path) -> list[int]:
    """Processes of this host working in `workdir` (a terraform still finishing there)."""
    found = []
    target = workdir.resolve()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if Path(os.readlink(entry / "cwd")) == target:
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def release_abandoned_lock(ctx: StepContext, workdir: Path, info: dict[str, str]) -> None:
    alive = live_processes_in(workdir)
    if alive:
        raise StepFailed(
            f"The state is locked by {info.get('Who', '?')} ({info.get('Operation', '?')}) and a process is still "
            f"working in {workdir} (pid {', '.join(map(str, alive))}); retry once it has finished."
        )
    ctx.say(
        f"The state lock {info['ID']} ({info.get('Operation', '?')} by {info.get('Who', '?')} at "
        f"{info.get('Created', '?')}) outlived the lock timeout: left by a terraform that died; releasing it."
    )
    terraform(ctx, workdir, "force-unlock", "-force", info["ID"])
