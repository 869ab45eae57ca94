"""platform/, as Kubernetes will see it: each overlay (and the example of a provisioning run's
kustomization) renders with `kubectl kustomize`, every object is valid against the Kubernetes 1.32
schemas (the External Secrets Operator's objects against external_secrets.schema.json beside this file),
and the behaviour an operator relies on holds: one beat, hardened containers with resources, autoscaled
web, the probes the app answers, the migrate command per tenancy mode, hosts, IRSA and no secret in Git."""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
PLATFORM = REPO / "platform"
SHARED = PLATFORM / "overlays" / "shared"
DEDICATED = PLATFORM / "overlays" / "dedicated"
DEDICATED_RUN = PLATFORM / "examples" / "dedicated-run"
RENDERED = (SHARED, DEDICATED, DEDICATED_RUN)
KUBERNETES_VERSION = "1.32.0"
CRD_SCHEMA = json.loads((Path(__file__).with_name("external_secrets.schema.json")).read_text())
# Custom resources: not in the Kubernetes schemas, checked against our own schema of the fields we use.
CRD_KINDS = {"ExternalSecret", "SecretStore"}
WORKLOAD_KINDS = {"Deployment", "Job"}
KUBECTL = shutil.which("kubectl")


def relative(path: Path) -> str:
    return str(path.relative_to(REPO))


@functools.cache
def render(directory: Path) -> tuple[dict[str, Any], ...]:
    if KUBECTL is None:
        pytest.skip("kubectl is not installed: it renders the Kustomize overlays (`kubectl kustomize`)")
    completed = subprocess.run(
        [KUBECTL, "kustomize", str(directory)], capture_output=True, text=True, timeout=120, check=False
    )
    assert completed.returncode == 0, f"kubectl kustomize {relative(directory)} failed:\n{completed.stderr}"
    return tuple(doc for doc in yaml.safe_load_all(completed.stdout) if doc)


def of_kind(docs: tuple[dict[str, Any], ...], kind: str) -> list[dict[str, Any]]:
    return [doc for doc in docs if doc["kind"] == kind]


def one(docs: tuple[dict[str, Any], ...], kind: str, name: str) -> dict[str, Any]:
    found = [doc for doc in of_kind(docs, kind) if doc["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}"
    return found[0]


def config(docs: tuple[dict[str, Any], ...]) -> dict[str, str]:
    # Kustomize appends a hash of the content to the generated ConfigMap's name.
    found = [doc for doc in of_kind(docs, "ConfigMap") if doc["metadata"]["name"].startswith("localbazaar-config-")]
    assert len(found) == 1
    data: dict[str, str] = found[0]["data"]
    return data


def pod_templates(docs: tuple[dict[str, Any], ...]) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc["spec"]["template"]["spec"] for doc in docs if doc["kind"] in WORKLOAD_KINDS}


def containers(docs: tuple[dict[str, Any], ...]) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(workload name, pod spec, container) for every container and init container."""
    return [
        (name, pod, container)
        for name, pod in pod_templates(docs).items()
        for container in pod.get("initContainers", []) + pod["containers"]
    ]


@pytest.mark.parametrize("directory", RENDERED, ids=relative)
def test_every_object_is_valid_against_its_schema(directory: Path) -> None:
    errors = []
    for doc in render(directory):
        what = f"{doc['kind']} {doc['metadata']['name']}"
        try:
            if doc["kind"] in CRD_KINDS:
                jsonschema.validate(doc, {"$ref": f"#/$defs/{doc['kind']}", **CRD_SCHEMA})
            else:
                # strict: an unknown (misspelt) field is an error, not silently dropped by the API server.
                kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
        except (jsonschema.ValidationError, kubernetes_validate.ValidationError) as error:
            errors.append(f"{what}: {error}")
    assert errors == []


@pytest.mark.parametrize("directory", RENDERED, ids=relative)
def test_the_objects_provisioning_addresses_by_name_are_there(directory: Path) -> None:
    names = {(doc["kind"], doc["metadata"]["name"]) for doc in render(directory)}
    assert {
        ("Namespace", "localbazaar"),
        ("ServiceAccount", "localbazaar"),
        ("Deployment", "localbazaar-web"),
        ("Deployment", "localbazaar-worker"),
        ("Deployment", "localbazaar-beat"),
        ("Job", "localbazaar-migrate"),
        ("Service", "localbazaar-web"),
        ("Ingress", "localbazaar"),
        ("HorizontalPodAutoscaler", "localbazaar-web"),
        ("PodDisruptionBudget", "localbazaar-web"),
        ("PodDisruptionBudget", "localbazaar-worker"),
        ("SecretStore", "aws-secrets-manager"),
        ("ExternalSecret", "localbazaar-secrets"),
    } <= names
    assert {doc["metadata"].get("namespace") for doc in render(directory) if doc["kind"] != "Namespace"} == {
        "localbazaar"
    }


@pytest.mark.parametrize("directory", RENDERED, ids=relative)
def test_beat_is_one_pod_that_is_stopped_before_its_successor_starts(directory: Path) -> None:
    docs = render(directory)
    beat = one(docs, "Deployment", "localbazaar-beat")

    assert beat["spec"]["replicas"] == 1
    assert beat["spec"]["strategy"] == {"type": "Recreate"}
    scaled = [
        hpa
        for hpa in of_kind(docs, "HorizontalPodAutoscaler")
        if hpa["spec"]["scaleTargetRef"]["name"] == "localbazaar-beat"
    ]
    assert scaled == []


@pytest.mark.parametrize("directory", RENDERED, ids=relative)
def test_every_container_runs_non_root_on_a_read_only_root_with_requests_and_limits(directory: Path) -> None:
    checked = containers(render(directory))
    assert {name for name, _, _ in checked} == {
        "localbazaar-web",
        "localbazaar-worker",
        "localbazaar-beat",
        "localbazaar-migrate",
    }
    for name, pod, container in checked:
        where = f"{name}/{container['name']}"
        # The container's own settings win over the pod's.
        effective = {**pod.get("securityContext", {}), **container.get("securityContext", {})}
        assert effective.get("runAsNonRoot") is True, where
        assert effective.get("runAsUser") == 10001, where  # the Dockerfile's app user
        assert effective.get("readOnlyRootFilesystem") is True, where
        assert effective.get("allowPrivilegeEscalation") is False, where
        assert effective.get("capabilities", {}).get("drop") == ["ALL"], where
        assert effective.get("seccompProfile", {}).get("type") == "RuntimeDefault", where
        resources = container.get("resources", {})
        for bound in ("requests", "limits"):
            assert set(resources.get(bound, {})) >= {"cpu", "memory"}, f"{where} has no {bound}"
        # The only writable place: an emptyDir at /tmp.
        tmp = [mount for mount in container.get("volumeMounts", []) if mount["mountPath"] == "/tmp"]
        assert len(tmp) == 1, where
        volume = next(v for v in pod["volumes"] if v["name"] == tmp[0]["name"])
        assert "emptyDir" in volume, where


@pytest.mark.parametrize("directory", RENDERED, ids=relative)
def test_web_autoscales_between_2_and_10_pods_on_cpu_and_memory(directory: Path) -> None:
    docs = render(directory)
    hpa = one(docs, "HorizontalPodAutoscaler", "localbazaar-web")

    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "localbazaar-web"}
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 10)
    metrics = {
        m["resource"]["name"]: m["resource"]["target"] for m in hpa["spec"]["metrics"] if m["type"] == "Resource"
    }
    assert set(metrics) == {"cpu", "memory"}
    assert all(target["type"] == "Utilization" for target in metrics.values())
    # An apply must not reset the autoscaler's choice.
    assert "replicas" not in one(docs, "Deployment", "localbazaar-web")["spec"]


@pytest.mark.parametrize("directory", RENDERED, ids=relative)
def test_disruption_budgets_leave_web_and_workers_running_during_a_drain(directory: Path) -> None:
    docs = render(directory)
    for name in ("localbazaar-web", "localbazaar-worker"):
        budget = one(docs, "PodDisruptionBudget", name)
        deployment = one(docs, "Deployment", name)
        assert (
            budget["spec"]["selector"]["matchLabels"].items()
            <= deployment["spec"]["template"]["metadata"]["labels"].items()
        )
        assert budget["spec"].get("maxUnavailable") == 1


@pytest.mark.parametrize("directory", RENDERED, ids=relative)
def test_web_probes_ask_healthz_and_readyz_on_port_8000(directory: Path) -> None:
    (web,) = pod_templates(render(directory))["localbazaar-web"]["containers"]
    ports = {port["name"]: port["containerPort"] for port in web["ports"]}

    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz"), ("startupProbe", "/healthz")):
        get = web[probe]["httpGet"]
        assert get["path"] == path, probe
        assert ports.get(get["port"], get["port"]) == 8000, probe
        # The app answers both before tenant routing (test_probe_paths_answer_on_the_pods_own_address).
        assert "httpHeaders" not in get, probe


@pytest.mark.django_db
def test_probe_paths_answer_on_the_pods_own_address(client: Any, settings: Any) -> None:
    # Given a dedicated stack, whose Django accepts only its store's hosts, and the kubelet's (or the
    # ALB's health check's) request: the pod's IP as Host and no header of its own.
    settings.ALLOWED_HOSTS = config(render(DEDICATED))["ALLOWED_HOSTS"].split(",")
    pod_address = "10.0.37.12:8000"

    healthz = client.get("/healthz", HTTP_HOST=pod_address)
    readyz = client.get("/readyz", HTTP_HOST=pod_address)

    assert (healthz.status_code, healthz.json()["status"]) == (200, "ok")
    assert (readyz.status_code, readyz.json()["status"]) == (200, "ready")
    # Any other page on that address is refused: the probes are answered before the host is checked.
    assert client.get("/", HTTP_HOST=pod_address).status_code == 400


def run_migrate_command(
    job: dict[str, Any], environment: dict[str, str], bin_dir: Path
) -> subprocess.CompletedProcess[str]:
    """Run the Job's command in a real shell, with a `python` that only says what it was asked to run."""
    fake_python = bin_dir / "python"
    fake_python.write_text('#!/bin/sh\necho "python $*"\n')
    fake_python.chmod(0o755)
    (container,) = job["spec"]["template"]["spec"]["containers"]
    env = {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", **environment}
    return subprocess.run(container["command"], env=env, capture_output=True, text=True, timeout=30, check=False)


@pytest.mark.parametrize(
    ("directory", "expected"),
    [
        (SHARED, "python manage.py migrate_tenants"),
        (DEDICATED, "python manage.py migrate --noinput"),
        (DEDICATED_RUN, "python manage.py migrate --noinput"),
    ],
    ids=lambda value: relative(value) if isinstance(value, Path) else None,
)
def test_migrate_job_runs_the_tenancy_modes_migration(directory: Path, expected: str, tmp_path: Path) -> None:
    docs = render(directory)
    job = one(docs, "Job", "localbazaar-migrate")

    completed = run_migrate_command(job, config(docs), tmp_path)

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == expected


def test_migrate_job_fails_without_a_command_rather_than_doing_nothing(tmp_path: Path) -> None:
    job = one(render(SHARED), "Job", "localbazaar-migrate")

    completed = run_migrate_command(job, {}, tmp_path)

    assert completed.returncode != 0
    assert completed.stdout == ""
    assert "MIGRATE_COMMAND is not set" in completed.stderr


@pytest.mark.parametrize(
    ("directory", "hosts"),
    [
        (SHARED, ["localbazaar.example", "*.localbazaar.example"]),
        (DEDICATED, ["example-bakery.localbazaar.example"]),
        (DEDICATED_RUN, ["hebden-bakery.localbazaar.example", "shop.hebdenbakery.example"]),
    ],
    ids=lambda value: relative(value) if isinstance(value, Path) else None,
)
def test_ingress_serves_the_overlays_hosts_over_tls_from_acm(directory: Path, hosts: list[str]) -> None:
    ingress = one(render(directory), "Ingress", "localbazaar")
    annotations = ingress["metadata"]["annotations"]

    assert [rule["host"] for rule in ingress["spec"]["rules"]] == hosts
    for rule in ingress["spec"]["rules"]:
        (path,) = rule["http"]["paths"]
        assert (path["path"], path["pathType"]) == ("/", "Prefix")
        assert path["backend"]["service"] == {"name": "localbazaar-web", "port": {"name": "http"}}
    assert ingress["spec"]["ingressClassName"] == "alb"
    assert re.fullmatch(
        r"arn:aws:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]{36}",
        annotations["alb.ingress.kubernetes.io/certificate-arn"],
    )
    assert annotations["alb.ingress.kubernetes.io/ssl-redirect"] == "443"
    assert annotations["alb.ingress.kubernetes.io/healthcheck-path"] == "/healthz"
    service = one(render(directory), "Service", "localbazaar-web")
    (port,) = service["spec"]["ports"]
    assert port["name"] == "http"


@pytest.mark.parametrize("directory", RENDERED, ids=relative)
def test_pods_and_the_secret_store_use_the_irsa_service_account(directory: Path) -> None:
    docs = render(directory)
    account = one(docs, "ServiceAccount", "localbazaar")

    assert re.fullmatch(
        r"arn:aws:iam::\d{12}:role/[\w+=,.@-]+", account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
    )
    assert {pod["serviceAccountName"] for pod in pod_templates(docs).values()} == {"localbazaar"}
    store = one(docs, "SecretStore", "aws-secrets-manager")
    assert store["spec"]["provider"]["aws"]["auth"] == {"jwt": {"serviceAccountRef": {"name": "localbazaar"}}}


@pytest.mark.parametrize("directory", RENDERED, ids=relative)
def test_secrets_come_only_through_the_external_secret(directory: Path) -> None:
    docs = render(directory)
    external = one(docs, "ExternalSecret", "localbazaar-secrets")

    assert of_kind(docs, "Secret") == []
    assert external["spec"]["target"]["name"] == "localbazaar-secrets"
    assert external["spec"]["secretStoreRef"] == {"kind": "SecretStore", "name": "aws-secrets-manager"}
    remote_keys = [entry["remoteRef"]["key"] for entry in external["spec"]["data"]]
    remote_keys += [entry["extract"]["key"] for entry in external["spec"]["dataFrom"]]
    assert not [key for key in remote_keys if "set-by-overlay" in key]
    # The database's and Redis's secrets, by the ARNs terraform outputs.
    assert all(entry["remoteRef"]["key"].startswith("arn:aws:secretsmanager:") for entry in external["spec"]["data"])
    # Nothing secret among the plain settings: Redis's URLs carry its AUTH token, so they are templated secrets.
    assert not [key for key in config(docs) if re.search(r"SECRET|PASSWORD|TOKEN|DSN|REDIS_URL|BROKER_URL", key)]
    assert {"DATABASE_USERINFO", "REDIS_URL", "CELERY_BROKER_URL"} <= set(
        external["spec"]["target"]["template"]["data"]
    )
    for name, _, container in containers(docs):
        refs = [source["secretRef"]["name"] for source in container.get("envFrom", []) if "secretRef" in source]
        assert refs == ["localbazaar-secrets"], name


def provided_names(docs: tuple[dict[str, Any], ...], container: dict[str, Any]) -> set[str]:
    external = one(docs, "ExternalSecret", "localbazaar-secrets")
    secret_keys = {entry["secretKey"] for entry in external["spec"]["data"]}
    secret_keys |= set(external["spec"]["target"].get("template", {}).get("data", {}))
    names = {env["name"] for env in container.get("env", [])}
    for source in container.get("envFrom", []):
        names |= set(config(docs)) if "configMapRef" in source else secret_keys
    return names


@pytest.mark.parametrize("directory", RENDERED, ids=relative)
def test_every_variable_a_container_refers_to_is_defined(directory: Path) -> None:
    docs = render(directory)
    for name, _, container in containers(docs):
        provided = provided_names(docs, container)
        text = json.dumps([container.get("command", []), container.get("args", []), container.get("env", [])])
        # $(NAME): expanded by Kubernetes; ${NAME...}: by the shell of the migrate Job.
        referenced = set(re.findall(r"\$\(([A-Z_][A-Z0-9_]*)\)", text)) | set(
            re.findall(r"\$\{([A-Z_][A-Z0-9_]*)", text)
        )
        assert referenced - provided == set(), name
    for name, _, container in containers(docs):
        assert "DATABASE_URL" in provided_names(docs, container), name
    assert {"DATABASE_HOST", "DATABASE_NAME", "PLATFORM_DOMAIN", "TENANCY_MODE", "AWS_STORAGE_BUCKET_NAME"} <= set(
        config(docs)
    )


@pytest.mark.parametrize(
    ("directory", "mode"),
    [(SHARED, "shared"), (DEDICATED, "dedicated"), (DEDICATED_RUN, "dedicated")],
    ids=lambda value: relative(value) if isinstance(value, Path) else value,
)
def test_each_overlay_runs_its_tenancy_mode_with_production_settings(directory: Path, mode: str) -> None:
    settings = config(render(directory))

    assert settings["TENANCY_MODE"] == mode
    assert settings["DEBUG"] == "0"
    assert settings["PLATFORM_URL_SCHEME"] == "https"
    assert settings["SESSION_COOKIE_SECURE"] == settings["CSRF_COOKIE_SECURE"] == "1"


def selecting(policies: list[dict[str, Any]], direction: str, labels: dict[str, str]) -> list[dict[str, Any]]:
    return [
        policy
        for policy in policies
        if direction in policy["spec"]["policyTypes"]
        and policy["spec"]["podSelector"].get("matchLabels", {}).items() <= labels.items()
    ]


def open_ports(policies: list[dict[str, Any]], direction: str, labels: dict[str, str]) -> set[Any]:
    """(protocol, port) pairs the pod with `labels` may use in `direction`; "any" when nothing limits it."""
    rules_key = direction.lower()
    applying = selecting(policies, direction, labels)
    if not applying:
        return {"any"}
    ports: set[Any] = set()
    for policy in applying:
        for rule in policy["spec"].get(rules_key, []):
            if "ports" not in rule:
                return {"any"}
            ports |= {(port.get("protocol", "TCP"), port["port"]) for port in rule["ports"]}
    return ports


@pytest.mark.parametrize("directory", RENDERED, ids=relative)
def test_network_policies_admit_only_the_web_port_and_let_out_only_what_the_app_uses(directory: Path) -> None:
    docs = render(directory)
    policies = of_kind(docs, "NetworkPolicy")
    labels = {
        doc["metadata"]["name"]: doc["spec"]["template"]["metadata"]["labels"]
        for doc in docs
        if doc["kind"] in WORKLOAD_KINDS
    }

    assert open_ports(policies, "Ingress", labels["localbazaar-web"]) == {("TCP", 8000)}
    for name in ("localbazaar-worker", "localbazaar-beat", "localbazaar-migrate"):
        assert open_ports(policies, "Ingress", labels[name]) == set(), name
    for name, pod_labels in labels.items():
        assert open_ports(policies, "Egress", pod_labels) == {
            ("UDP", 53),
            ("TCP", 53),
            ("TCP", 5432),
            ("TCP", 6379),
            ("TCP", 443),
        }, name
