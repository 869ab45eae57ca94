"""The Dockerfile's two images, read without Docker: `docker build .` still gives the slim app image, and
`--target provisioner` adds terraform and kubectl (pinned, checksum-verified) and the trees they apply."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = (REPO / "Dockerfile").read_text()
DOCKERIGNORE = [
    line.strip()
    for line in (REPO / ".dockerignore").read_text().splitlines()
    if line.strip() and not line.startswith("#")
]
STAGE = re.compile(r"^FROM\s+(?P<base>\S+)(?:\s+AS\s+(?P<name>\S+))?\s*$", re.IGNORECASE | re.MULTILINE)


def stages() -> list[tuple[str, str, str]]:
    """(name, base, body) of each stage, in file order; the body has continuation lines joined."""
    found = list(STAGE.finditer(DOCKERFILE))
    result = []
    for index, match in enumerate(found):
        end = found[index + 1].start() if index + 1 < len(found) else len(DOCKERFILE)
        body = DOCKERFILE[match.end() : end].replace("\\\n", " ")
        result.append((match["name"] or "", match["base"], body))
    return result


def stage(name: str) -> tuple[str, str]:
    (found,) = [(base, body) for stage_name, base, body in stages() if stage_name == name]
    return found


def test_a_plain_build_gives_the_app_image_without_the_provisioning_tools() -> None:
    name, base, body = stages()[-1]

    # The last stage is what `docker build .` builds.
    assert (name, base) == ("app", "runtime")
    assert body.strip() == ""  # the runtime stage as it is
    _, runtime = stage("runtime")
    assert "provisioner-tools" not in runtime
    assert re.search(r"^COPY --exclude=terraform --exclude=platform \. \.$", runtime, re.MULTILINE)


def test_the_provisioner_target_adds_terraform_kubectl_and_the_trees_they_apply() -> None:
    base, body = stage("provisioner")

    assert base == "runtime"
    assert "COPY --from=provisioner-tools /tools/terraform /tools/kubectl /usr/local/bin/" in body
    assert "COPY terraform/ /app/terraform/" in body
    assert "COPY platform/ /app/platform/" in body
    # The build context must still hold them; Terraform's local state and secrets never.
    assert "terraform" not in DOCKERIGNORE
    assert "platform" not in DOCKERIGNORE
    assert {"**/.terraform", "**/*.tfstate", "**/terraform.tfvars"} <= set(DOCKERIGNORE)


def test_every_downloaded_binary_is_pinned_and_checked_before_use() -> None:
    _, tools = stage("provisioner-tools")
    arguments = dict(re.findall(r"^ARG (\w+)=(\S+)$", tools, re.MULTILINE))
    downloads = re.findall(r"curl [^;]*?-o (\S+)", tools)
    # Each download is checked with `sha256sum -c` (a mismatch fails the build) before it is unpacked or made
    # executable.
    checked_before = {
        "/tmp/terraform.zip": ('echo "${terraform_sha256}  /tmp/terraform.zip" | sha256sum -c -', "unzip -q"),
        "/tools/kubectl": ('echo "${kubectl_sha256}  /tools/kubectl" | sha256sum -c -', "chmod 0755"),
    }

    assert sorted(downloads) == sorted(checked_before)
    for path, (check, use) in checked_before.items():
        assert tools.index(f"-o {path}") < tools.index(check) < tools.index(use), path
    assert re.fullmatch(r"\d+\.\d+\.\d+", arguments["TERRAFORM_VERSION"])
    assert re.fullmatch(r"\d+\.\d+\.\d+", arguments["KUBECTL_VERSION"])
    for name in ("TERRAFORM_SHA256_AMD64", "TERRAFORM_SHA256_ARM64", "KUBECTL_SHA256_AMD64", "KUBECTL_SHA256_ARM64"):
        assert re.fullmatch(r"[0-9a-f]{64}", arguments[name]), name
