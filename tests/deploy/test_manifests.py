"""deploy/ matches the code and the specifications: the compose file validates against the
compose specification (check-jsonschema's vendored schema), the Kubernetes manifests with
`kubernetes-validate --strict` (schemas shipped in the package: nothing is downloaded), every
setting they pass is one the code reads, and every thidua series the alerts name exists."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from app.settings import Settings

pytestmark = pytest.mark.pure

DEPLOY = Path(__file__).parents[2] / "deploy"
BIN = Path(sys.executable).parent
# read by `thidua db roles` (the roles' passwords) and by Temporal/PostgreSQL images, not thidua
NOT_SETTINGS = {"DB_OWNER_PASSWORD", "DB_APP_PASSWORD", "DB_AUDITOR_PASSWORD"}


def tool(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / name), *args], capture_output=True, text=True, timeout=300)


def test_compose_validates_against_the_compose_specification() -> None:
    run = tool(
        "check-jsonschema",
        "--builtin-schema",
        "vendor.compose-spec",
        str(DEPLOY / "docker-compose.yml"),
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_manifests_validate_strictly() -> None:
    files = sorted(
        str(p) for p in (DEPLOY / "k8s").glob("*.yaml") if p.name != "kustomization.yaml"
    )
    run = tool("kubernetes-validate", "--strict", *files)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "ERROR" not in run.stdout + run.stderr
    assert run.stdout.count("passed") >= len(files)


def _settings() -> set[str]:
    names = set()
    for name, field in Settings.model_fields.items():
        names.add(name.upper())
        alias = field.validation_alias
        for choice in getattr(alias, "choices", ()) or ():
            names.add(str(choice).upper())
    return names


def test_every_thidua_setting_in_deploy_is_read_by_the_code() -> None:
    known = _settings() | NOT_SETTINGS
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text("utf-8"))
    seen: set[str] = set()
    for service in compose["services"].values():
        if service.get("image", "").startswith("${THIDUA_IMAGE"):
            seen |= set(service.get("environment", {}))
    config = yaml.safe_load((DEPLOY / "k8s" / "configmap.yaml").read_text("utf-8"))
    seen |= set(config["data"])
    for doc in yaml.safe_load_all((DEPLOY / "k8s" / "secret.example.yaml").read_text("utf-8")):
        seen |= set(doc["stringData"])
    assert {"DATABASE_URL", "TEMPORAL_ADDRESS", "METRICS_PORT"} <= seen
    assert seen <= known, sorted(seen - known)


def test_each_component_has_its_own_database_role() -> None:
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text("utf-8"))
    url = {
        name: s["environment"].get("DATABASE_URL", "")
        for name, s in compose["services"].items()
        if isinstance(s.get("environment"), dict)
    }
    assert url["worker"].startswith("postgresql://thidua_app:")
    assert url["api"].startswith("postgresql://thidua_app:")
    assert url["migrate"].startswith("postgresql://thidua_owner:")
    docs = {}
    for p in (DEPLOY / "k8s").glob("*.yaml"):
        for doc in yaml.safe_load_all(p.read_text("utf-8")):
            if doc and doc.get("kind") in ("Deployment", "Job"):
                docs[doc["metadata"]["name"]] = doc

    def secrets(doc: dict, key: str = "containers") -> list[str]:
        spec = doc["spec"]["template"]["spec"]
        return [
            e["secretRef"]["name"]
            for c in spec.get(key, [])
            for e in c.get("envFrom", [])
            if "secretRef" in e
        ]

    assert secrets(docs["thidua-worker"]) == ["thidua-db-app"]
    assert secrets(docs["thidua-api"]) == ["thidua-db-app"]
    assert secrets(docs["thidua-migrate-0-1-0"], "initContainers") == [
        "thidua-db-admin",
        "thidua-db-owner",
    ]
    for name in ("thidua-worker", "thidua-api"):
        container = docs[name]["spec"]["template"]["spec"]["containers"][0]
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"


def test_the_alerts_name_series_that_exist() -> None:
    from prometheus_client import REGISTRY

    import app.metrics  # noqa: F401  (registers the series)

    ours = {m.name for m in REGISTRY.collect()}
    rules = yaml.safe_load((DEPLOY / "alerts.yml").read_text("utf-8"))
    exprs = [r["expr"] for g in rules["groups"] for r in g["rules"]]
    assert len(exprs) >= 6
    named = {n for e in exprs for n in re.findall(r"\bthidua_[a-z_]+", e)}
    assert named
    for name in named:
        base = re.sub(r"_(total|bucket|count|sum|created)$", "", name)
        assert base in ours, name
