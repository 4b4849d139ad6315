"""compose.yaml: an API node, two workers with their own executor ids, and PostgreSQL, wired
by environment, health checks and start-up order. Parsed as YAML always; also checked by
``docker compose config`` / ``docker-compose config`` when one is installed (nothing pulled)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "compose.yaml"
REQUIRED_ENV = {
    "POSTGRES_PASSWORD": "pg-pw",
    "NFVO_ADMIN_PASSWORD": "admin-pw",
    "NFVO_SECRET_KEY": "a2V5LWtleS1rZXkta2V5LWtleS1rZXkta2V5LWtleS0=",
}


@pytest.fixture(scope="module")
def services() -> dict[str, dict]:
    return yaml.safe_load(COMPOSE.read_text())["services"]


def test_services(services: dict[str, dict]) -> None:
    assert set(services) == {"postgres", "api", "worker-1", "worker-2"}
    assert services["postgres"]["image"].startswith("postgres:")
    roles = {
        name: svc["command"][svc["command"].index("--role") + 1]
        for name, svc in services.items()
        if name != "postgres"
    }
    assert roles == {"api": "api", "worker-1": "worker", "worker-2": "worker"}
    for name in ("api", "worker-1", "worker-2"):
        cmd = services[name]["command"]
        assert cmd[:3] == ["serve", "--host", "0.0.0.0"]  # reachable inside the network
        assert services[name]["build"]["context"] == "."
        assert services[name]["image"] == services["api"]["image"]


def test_environment(services: dict[str, dict]) -> None:
    pg = services["postgres"]["environment"]
    for name in ("api", "worker-1", "worker-2"):
        env = services[name]["environment"]
        url = env["NFVO_DATABASE_URL"]
        assert url.startswith(f"postgresql+psycopg://{pg['POSTGRES_USER']}:")
        assert url.endswith(f"@postgres:5432/{pg['POSTGRES_DB']}")
        assert "${POSTGRES_PASSWORD" in url and "${POSTGRES_PASSWORD" in pg["POSTGRES_PASSWORD"]
        # no default for any secret: compose refuses to start without them
        assert env["NFVO_ADMIN_PASSWORD"].startswith("${NFVO_ADMIN_PASSWORD:?")
        assert env["NFVO_SECRET_KEY"].startswith("${NFVO_SECRET_KEY:?")
    ids = {services[w]["environment"]["NFVO_EXECUTOR_ID"] for w in ("worker-1", "worker-2")}
    assert len(ids) == 2
    assert "NFVO_EXECUTOR_ID" not in services["api"]["environment"]


def test_health_and_start_order(services: dict[str, dict]) -> None:
    assert "pg_isready" in services["postgres"]["healthcheck"]["test"]
    for name in ("api", "worker-1", "worker-2"):
        assert services[name]["healthcheck"]["test"] == [
            "CMD",
            "python3",
            "/opt/nfvo/bin/nfvo-healthcheck",
        ]
        assert services[name]["depends_on"]["postgres"] == {"condition": "service_healthy"}
    for worker in ("worker-1", "worker-2"):  # the API node migrates the schema first
        assert services[worker]["depends_on"]["api"] == {"condition": "service_healthy"}
        assert "ports" not in services[worker]
    assert services["api"]["ports"] == ["127.0.0.1:${NFVO_PORT:-8080}:8080"]


def test_nodes_share_one_data_volume(services: dict[str, dict]) -> None:
    mounts = {services[n]["volumes"][0] for n in ("api", "worker-1", "worker-2")}
    assert mounts == {"nfvo-data:/var/lib/nfvo"}
    declared = yaml.safe_load(COMPOSE.read_text())["volumes"]
    assert set(declared) == {"nfvo-data", "postgres-data"}


def _compose_command() -> list[str] | None:
    docker = shutil.which("docker")
    if docker:
        r = subprocess.run([docker, "compose", "version"], capture_output=True, timeout=30)
        if r.returncode == 0:
            return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy else None


def test_compose_config_check(tmp_path: Path) -> None:
    cmd = _compose_command()
    if cmd is None:
        pytest.skip("neither `docker compose` nor `docker-compose` is installed")
    env = {**os.environ, **REQUIRED_ENV}
    base = [*cmd, "--project-directory", str(ROOT), "-f", str(COMPOSE)]
    r = subprocess.run([*base, "config"], capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    resolved = yaml.safe_load(r.stdout)["services"]
    assert resolved["api"]["environment"]["NFVO_DATABASE_URL"] == (
        "postgresql+psycopg://nfvo:pg-pw@postgres:5432/nfvo"
    )
    missing = {k: v for k, v in env.items() if k != "NFVO_SECRET_KEY"}
    r = subprocess.run([*base, "config"], capture_output=True, text=True, env=missing, timeout=60)
    assert r.returncode != 0 and "NFVO_SECRET_KEY" in r.stderr
