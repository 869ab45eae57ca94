"""The app on a tenant's stack: platform/overlays/dedicated filled in with the run's outputs and applied to the
stack's cluster with kubectl, then waited for (the migration Job, then the rollouts).

What the run writes in the tenant's working directory: `kubeconfig` (the cluster's endpoint and CA from
`terraform output`; credentials from `aws eks get-token` at each call, never stored) and `deploy/
kustomization.yaml`, which names the overlay by a relative path (kustomize refuses absolute ones) and sets the
fields platform/README.md lists: image, settings, the IRSA role, the secrets' keys, hostnames and certificate.
Nothing secret is written: the secrets stay in Secrets Manager and reach the pods through External Secrets.
Applying is idempotent; the migration Job is deleted first because a Job cannot be changed in place.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings

from provisioning.backends.base import Outcome, StepContext, StepFailed
from provisioning.backends.terraform import cli, workdir
from storefront.marketplace.services import register_publishing_token
from tenants.models import Domain
from tenants.routing import store_hostname

NAMESPACE = "localbazaar"
KUBECONFIG = "kubeconfig"
DEPLOY_DIR = "deploy"
MIGRATE_JOB = "localbazaar-migrate"
CLUSTER_OUTPUTS = ("cluster_name", "cluster_endpoint", "cluster_certificate_authority_data")
ROLLOUTS = ("localbazaar-web", "localbazaar-worker", "localbazaar-beat")
# Outputs the deployment is made from (terraform/envs/dedicated-tenant-example/outputs.tf).
NEEDED_OUTPUTS = (
    "cluster_name",
    "cluster_endpoint",
    "cluster_certificate_authority_data",
    "database_endpoint",
    "database_name",
    "database_secret_arn",
    "redis_secret_arn",
    "media_bucket_name",
    "irsa_role_arn",
    "app_secret_name",
)


def overlay() -> Path:
    return Path(settings.BASE_DIR) / "platform" / "overlays" / "dedicated"


def hostnames(slug: str, tenant_id: int) -> list[str]:
    """The store's own hostname first, then any other domain of its (custom domains)."""
    own = store_hostname(slug)
    others = Domain.objects.filter(tenant_id=tenant_id).exclude(domain=own).order_by("domain")
    return [own, *others.values_list("domain", flat=True)]


def image(outputs: dict[str, Any]) -> tuple[str, str]:
    """(repository, tag) of the release to run: PROVISIONING_APP_IMAGE (`repo:tag`), else the stack's own
    repository (`image_repository_url`) at PROVISIONING_APP_IMAGE_TAG."""
    if configured := settings.PROVISIONING_APP_IMAGE:
        repository, _, tag = configured.rpartition(":")
        if repository and tag and "/" not in tag:
            return repository, tag
        raise StepFailed(f"PROVISIONING_APP_IMAGE must be repository:tag, not {configured!r}.")
    repository = str(outputs.get("image_repository_url") or "")
    tag = settings.PROVISIONING_APP_IMAGE_TAG
    if not repository or not tag:
        raise StepFailed(
            "No release to deploy: set PROVISIONING_APP_IMAGE (repository:tag), or PROVISIONING_APP_IMAGE_TAG for "
            "the stack's own repository (the image_repository_url output)."
        )
    return repository, tag


def kubeconfig(outputs: dict[str, Any]) -> dict[str, Any]:
    cluster = str(outputs["cluster_name"])
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": cluster,
                "cluster": {
                    "server": outputs["cluster_endpoint"],
                    "certificate-authority-data": outputs["cluster_certificate_authority_data"],
                },
            }
        ],
        "users": [
            {
                "name": "provisioner",
                "user": {
                    "exec": {
                        "apiVersion": "client.authentication.k8s.io/v1beta1",
                        "command": "aws",
                        "args": [
                            "eks",
                            "get-token",
                            "--cluster-name",
                            cluster,
                            "--region",
                            settings.PROVISIONING_AWS_REGION,
                        ],
                        "interactiveMode": "Never",
                    }
                },
            }
        ],
        "contexts": [{"name": cluster, "context": {"cluster": cluster, "user": "provisioner", "namespace": NAMESPACE}}],
        "current-context": cluster,
    }


def _rule(host: str) -> dict[str, Any]:
    backend = {"service": {"name": "localbazaar-web", "port": {"name": "http"}}}
    return {"host": host, "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": backend}]}}


def _replace(path: str, value: Any) -> dict[str, Any]:
    return {"op": "replace", "path": path, "value": value}


def _patch(kind: str, name: str, *operations: dict[str, Any]) -> dict[str, Any]:
    return {"target": {"kind": kind, "name": name}, "patch": yaml.safe_dump(list(operations), sort_keys=False)}


def kustomization(slug: str, hosts: list[str], outputs: dict[str, Any], release: tuple[str, str], at: Path) -> dict:
    """The per-run kustomization (platform/README.md's fields), for a file in directory `at`."""
    database_secret = outputs["database_secret_arn"]
    region = settings.PROVISIONING_AWS_REGION
    ingress = [_replace("/spec/rules", [_rule(host) for host in hosts])]
    if certificate := outputs.get("certificate_arn"):
        ingress.insert(0, _replace("/metadata/annotations/alb.ingress.kubernetes.io~1certificate-arn", certificate))
    return {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": [os.path.relpath(overlay(), at.resolve())],
        "images": [{"name": "localbazaar", "newName": release[0], "newTag": release[1]}],
        "configMapGenerator": [
            {
                "name": "localbazaar-config",
                "behavior": "merge",
                "literals": [
                    f"TENANT_SLUG={slug}",
                    f"ALLOWED_HOSTS={','.join(hosts)}",
                    f"CSRF_TRUSTED_ORIGINS={','.join(f'https://{host}' for host in hosts)}",
                    f"DATABASE_HOST={outputs['database_endpoint']}",
                    f"DATABASE_NAME={outputs['database_name']}",
                    f"AWS_STORAGE_BUCKET_NAME={outputs['media_bucket_name']}",
                    f"AWS_S3_REGION_NAME={region}",
                ],
            }
        ],
        "patches": [
            _patch(
                "ServiceAccount",
                "localbazaar",
                _replace("/metadata/annotations/eks.amazonaws.com~1role-arn", outputs["irsa_role_arn"]),
            ),
            _patch("SecretStore", "aws-secrets-manager", _replace("/spec/provider/aws/region", region)),
            _patch(
                "ExternalSecret",
                "localbazaar-secrets",
                _replace("/spec/data/0/remoteRef/key", database_secret),
                _replace("/spec/data/1/remoteRef/key", database_secret),
                _replace("/spec/data/2/remoteRef/key", outputs["redis_secret_arn"]),
                _replace("/spec/dataFrom/0/extract/key", outputs["app_secret_name"]),
            ),
            _patch("Ingress", "localbazaar", *ingress),
        ],
    }


def kubectl_command() -> list[str]:
    return shlex.split(settings.PROVISIONING_KUBECTL_BIN)


def kubectl(ctx: StepContext, path: Path, *args: str, ok_codes: tuple[int, ...] = (0,)) -> cli.Completed:
    command = [*kubectl_command(), "--kubeconfig", str(path / KUBECONFIG), *args]
    return cli.run_process(
        ctx, f"kubectl {args[0]}", command, cwd=path, env=cli.command_environment(ctx), ok_codes=ok_codes
    )


def _outputs(ctx: StepContext) -> dict[str, Any]:
    outputs = dict(ctx.run.outputs)
    missing = [name for name in NEEDED_OUTPUTS if not outputs.get(name)]
    if missing:
        raise StepFailed(f"The stack has no {', '.join(missing)} output to deploy the app with; was it applied?")
    return outputs


def write_deployment(ctx: StepContext) -> Path:
    """Write kubeconfig and deploy/kustomization.yaml; returns the working directory."""
    outputs = _outputs(ctx)
    path = workdir.workdir_for(ctx.tenant.slug)
    deploy = path / DEPLOY_DIR
    deploy.mkdir(parents=True, exist_ok=True)
    hosts = hostnames(ctx.tenant.slug, ctx.tenant.pk)
    release = image(outputs)
    (path / KUBECONFIG).write_text(yaml.safe_dump(kubeconfig(outputs), sort_keys=False))
    document = kustomization(ctx.tenant.slug, hosts, outputs, release, deploy)
    (deploy / "kustomization.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    ctx.remember(release=f"{release[0]}:{release[1]}", hostnames=",".join(hosts))
    return path


def deploy_app(ctx: StepContext) -> Outcome:
    path = write_deployment(ctx)
    # The stack's credential on the platform (its listings, buyers' sign-ins, usage): the app secret holds
    # the token itself (terraform), the platform its digest.
    register_publishing_token(ctx.tenant, workdir.publishing_token(ctx.tenant.slug))
    # A Job's template cannot change: the previous release's migration Job goes before the new one is made.
    kubectl(ctx, path, "delete", "job", MIGRATE_JOB, "--namespace", NAMESPACE, "--ignore-not-found=true")
    kubectl(ctx, path, "apply", "--kustomize", DEPLOY_DIR)
    return Outcome.DONE


def wait_for_rollout(ctx: StepContext) -> Outcome:
    path = write_deployment(ctx)  # again, if this worker's disk lacks it
    timeout = f"--timeout={settings.PROVISIONING_STEP_TIMEOUT}s"
    kubectl(ctx, path, "wait", "--namespace", NAMESPACE, "--for=condition=complete", f"job/{MIGRATE_JOB}", timeout)
    for name in ROLLOUTS:
        kubectl(ctx, path, "rollout", "status", "--namespace", NAMESPACE, f"deployment/{name}", timeout)
    return Outcome.DONE


def remove_app(ctx: StepContext, path: Path, outputs: dict[str, Any]) -> Outcome:
    """Before the stack is destroyed: delete the app's namespace, waiting until it is gone. Its Ingress goes
    with it, and with the Ingress the load balancer the controller made for it, which is not in Terraform's
    state and would otherwise keep the VPC from being destroyed."""
    if not all(
        outputs.get(name) for name in ("cluster_name", "cluster_endpoint", "cluster_certificate_authority_data")
    ):
        ctx.say("No cluster in the stack's outputs: nothing deployed to remove.")
        return Outcome.ALREADY_DONE
    (path / KUBECONFIG).write_text(yaml.safe_dump(kubeconfig(outputs), sort_keys=False))
    kubectl(ctx, path, "delete", "namespace", NAMESPACE, "--ignore-not-found=true", "--wait=true")
    return Outcome.DONE


def manage_command(path: Path) -> list[str]:
    """`python manage.py` in the stack's web deployment, through the cluster's API (stdin passed on)."""
    return [
        *kubectl_command(),
        "--kubeconfig",
        str(path / KUBECONFIG),
        "--namespace",
        NAMESPACE,
        "exec",
        "-i",
        "deployment/localbazaar-web",
        "--",
        "python",
        "manage.py",
    ]
