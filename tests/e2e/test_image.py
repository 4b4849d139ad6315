"""The container image, built from the repository's Dockerfile and run: non-root, healthy
through its HEALTHCHECK, serving the API on a loopback-published port, and carrying a whole
NS life cycle on a sim VIM; a worker-role container is healthy too.

Needs a docker daemon (``.ci/run`` starts one and makes the base image: see
tests/support/container.py). Without one, the tests skip and say why.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
from tests.support.container import (
    DEFAULT_BASE,
    Engine,
    EngineUnavailable,
    engine_from_env,
    image_exists,
)
from tests.support.live import wait_op
from tests.support.proc import free_port

from nfvo.samples import NSD_WEBAPP_ID, build_sample

ADMIN_PASSWORD = "image-test-admin-pw"
NS = "/nslcm/v2/ns_instances"


@pytest.fixture(scope="module")
def engine() -> Engine:
    try:
        return engine_from_env()
    except EngineUnavailable as exc:
        pytest.skip(f"no container engine: {exc}")


@pytest.fixture(scope="module")
def image(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> str:
    tag = "nfvo:test"
    log = tmp_path_factory.mktemp("image") / "build.log"
    # NFVO_TEST_BASE_IMAGE, else a local build-base.sh image if there is one, else the
    # Dockerfile's default (pulled from a registry)
    base = os.environ.get("NFVO_TEST_BASE_IMAGE")
    if not base and image_exists(engine.client, DEFAULT_BASE):
        base = DEFAULT_BASE
    seconds = engine.build(tag, base, log)
    size = int(engine.run("image", "inspect", "--format", "{{.Size}}", tag))
    print(f"\nimage {tag}: built in {seconds:.1f} s, {size / 1e6:.0f} MB")
    return tag


@pytest.fixture
def containers(engine: Engine) -> Iterator[list[str]]:
    started: list[str] = []
    yield started
    for name in started:
        engine.run("rm", "-f", "-v", name, check=False)


def start(
    engine: Engine,
    image: str,
    containers: list[str],
    *args: str,
    opts: tuple[str, ...] = (),
    publish: bool = True,
) -> str:
    name = f"nfvo-test-{uuid.uuid4().hex[:8]}"
    engine.run(
        "run",
        "-d",
        *opts,
        "--name",
        name,
        *(("--publish", "127.0.0.1::8080") if publish else ()),
        "--env",
        f"NFVO_ADMIN_PASSWORD={ADMIN_PASSWORD}",
        "--health-interval",
        "1s",  # the image's 10 s interval, shortened so the test need not wait for it
        image,
        *args,
    )
    containers.append(name)
    return name


def published(engine: Engine, name: str) -> str:
    host_port = engine.run("port", name, "8080/tcp").splitlines()[0]
    assert host_port.startswith("127.0.0.1:"), host_port  # loopback only
    return f"http://{host_port}"


def onboard(c: httpx.Client, collection: str, content: str, state: str, data: bytes) -> None:
    pkg = c.post(collection, json={})
    assert pkg.status_code == 201, pkg.text
    pkg_id = pkg.json()["id"]
    r = c.put(
        f"{collection}/{pkg_id}/{content}",
        content=data,
        headers={"Content-Type": "application/zip"},
    )
    assert r.status_code == 202, r.text
    deadline = time.monotonic() + 60
    while (info := c.get(f"{collection}/{pkg_id}").json())[state] not in ("ONBOARDED", "ERROR"):
        assert time.monotonic() < deadline, info
        time.sleep(0.1)
    assert info[state] == "ONBOARDED", info


def test_image_configuration(engine: Engine, image: str) -> None:
    user = engine.run("image", "inspect", "--format", "{{.Config.User}}", image)
    assert user and user.split(":")[0] not in ("0", "root")
    check = engine.run("image", "inspect", "--format", "{{json .Config.Healthcheck.Test}}", image)
    assert "nfvo-healthcheck" in check
    volumes = engine.run("image", "inspect", "--format", "{{json .Config.Volumes}}", image)
    assert "/var/lib/nfvo" in volumes
    # only the runtime: no pip, no build tools, no CA handed to the build
    probe = (
        "import importlib.util as u, shutil, sys; "
        "sys.exit(1 if u.find_spec('pip') or u.find_spec('hatchling') or shutil.which('gcc') "
        "else 0)"
    )
    engine.run("run", "--rm", "--entrypoint", "python3", image, "-c", probe)
    assert engine.run("run", "--rm", "--entrypoint", "ls", image, "/run/secrets", check=False) == ""


def token_client(base: str) -> httpx.Client:
    tok = httpx.post(
        f"{base}/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=("admin", ADMIN_PASSWORD),
    )
    assert tok.status_code == 200, tok.text
    headers = {"Authorization": f"Bearer {tok.json()['access_token']}"}
    return httpx.Client(base_url=base, headers=headers, timeout=60)


def ns_life_cycle(c: httpx.Client) -> None:
    """Onboard the samples, register a sim VIM, create/instantiate/terminate/delete the NS."""
    vnfs = "/vnfpkgm/v2/vnf_packages"
    onboard(c, vnfs, "package_content", "onboardingState", build_sample("vnf-web"))
    onboard(c, vnfs, "package_content", "onboardingState", build_sample("vnf-db"))
    nsds = "/nsd/v2/ns_descriptors"
    onboard(c, nsds, "nsd_content", "nsdOnboardingState", build_sample("ns-webapp"))
    vim = c.post(
        "/admin/v1/vim_accounts",
        json={
            "name": "lab",
            "vim_type": "sim",
            "config": {
                "zones": 2,
                "hosts": 6,
                "images": [{"name": n} for n in ("cirros", "web-img", "db-img")],
            },
        },
    )
    assert vim.status_code in (201, 202), vim.text
    vim_id = vim.json()["id"]
    deadline = time.monotonic() + 30
    while c.get(f"/admin/v1/vim_accounts/{vim_id}").json()["_admin"]["operationalState"] != (
        "ENABLED"
    ):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    ns = c.post(NS, json={"nsdId": NSD_WEBAPP_ID, "nsName": "in-a-container"})
    assert ns.status_code == 201, ns.text
    ns_id = ns.json()["id"]
    r = c.post(
        f"{NS}/{ns_id}/instantiate",
        json={"nsFlavourId": "default", "additionalParamsForNs": {"vimAccountId": vim_id}},
    )
    assert r.status_code == 202, r.text
    assert wait_op(c, r.headers["location"], 120)["operationState"] == "COMPLETED"
    got = c.get(f"{NS}/{ns_id}").json()
    assert got["nsState"] == "INSTANTIATED"
    servers = c.get(f"/admin/v1/vim_accounts/{vim_id}/resources").json()["servers"]
    assert len([s for s in servers if s["nsInstanceId"] == ns_id]) >= 2
    r = c.post(f"{NS}/{ns_id}/terminate", json={})
    assert r.status_code == 202, r.text
    assert wait_op(c, r.headers["location"], 120)["operationState"] == "COMPLETED"
    assert c.delete(f"{NS}/{ns_id}").status_code == 204
    assert c.get(f"{NS}/{ns_id}").status_code == 404


def test_container_serves_the_ns_life_cycle(
    engine: Engine, image: str, containers: list[str]
) -> None:
    # run as a Kubernetes pod of the Helm chart would: read-only root, no capabilities
    hardened = ("--read-only", "--tmpfs", "/tmp", "--cap-drop", "ALL")
    name = start(engine, image, containers, opts=(*hardened, "--security-opt", "no-new-privileges"))
    seconds = engine.wait_healthy(name)
    print(f"\n{name}: healthy {seconds:.1f} s after docker run")
    assert engine.run("exec", name, "id", "-u") != "0"
    base = published(engine, name)
    assert httpx.get(f"{base}/nslcm/api_versions").json()["apiVersions"][0]["version"]
    assert httpx.get(f"{base}/vnfpkgm/v2/vnf_packages").status_code == 401  # auth is on
    with token_client(base) as c:
        ns_life_cycle(c)
    # the state lives in the data volume, written by the non-root user
    listing = engine.run("exec", name, "ls", "-ln", "/var/lib/nfvo")
    assert "nfvo.db" in listing and " 0 0 " not in listing


def test_api_and_two_workers_on_postgresql(
    engine: Engine, image: str, containers: list[str], pg_url: str
) -> None:
    """compose.yaml's topology on the test PostgreSQL: the API node only queues operations,
    the two worker containers run them. Host networking, so PostgreSQL on the host's loopback
    is reachable; every node listens on loopback only."""
    volume = f"nfvo-test-{uuid.uuid4().hex[:8]}"  # one data volume: the sim VIM's state
    key = "a2V5LWtleS1rZXkta2V5LWtleS1rZXkta2V5LWtleS0="
    ports = {role: free_port() for role in ("api", "worker-1", "worker-2")}
    try:
        # started in compose.yaml's order: workers once the API node is healthy (it has
        # migrated the schema and created the admin client)
        for role, port in ports.items():
            env = [
                *("--env", f"NFVO_DATABASE_URL={pg_url}"),
                *("--env", f"NFVO_SECRET_KEY={key}"),
                *("--env", f"NFVO_HEALTH_URL=http://127.0.0.1:{port}"),
                *("--env", f"NFVO_EXECUTOR_ID={role}"),
            ]
            args = ("serve", "--host", "127.0.0.1", "--port", str(port))
            name = start(
                engine,
                image,
                containers,
                *args,
                "--role",
                "api" if role == "api" else "worker",
                opts=("--network", "host", "--volume", f"{volume}:/var/lib/nfvo", *env),
                publish=False,
            )
            if role == "api":
                engine.wait_healthy(name)
        for name in containers[1:]:
            engine.wait_healthy(name)
        base = f"http://127.0.0.1:{ports['api']}"
        with token_client(base) as c:
            ns_life_cycle(c)
        worker = f"http://127.0.0.1:{ports['worker-1']}"
        assert httpx.get(f"{worker}/healthz").json()["role"] == "worker"
    finally:
        for name in containers:
            engine.run("rm", "-f", name, check=False)
        engine.run("volume", "rm", "-f", volume, check=False)


def test_worker_role_is_healthy_without_an_api(
    engine: Engine, image: str, containers: list[str]
) -> None:
    name = start(engine, image, containers, "serve", "--host", "0.0.0.0", "--role", "worker")
    engine.wait_healthy(name)
    base = published(engine, name)
    assert httpx.get(f"{base}/healthz").json()["role"] == "worker"
    assert httpx.get(f"{base}/nslcm/api_versions").status_code == 404


def test_unhealthy_when_the_api_does_not_answer(
    engine: Engine, image: str, containers: list[str]
) -> None:
    # the server listens on a port the health check does not probe: never healthy
    name = start(
        engine,
        image,
        containers,
        *("serve", "--host", "0.0.0.0", "--port", "9090"),
        opts=("--health-start-period", "1s"),
    )
    deadline = time.monotonic() + 60
    while (status := engine.health(name)) != "unhealthy":
        assert status == "starting" and time.monotonic() < deadline, status
        time.sleep(0.5)
    with pytest.raises(AssertionError, match="unhealthy: .*Connection refused"):
        engine.run("exec", name, "python3", "/opt/nfvo/bin/nfvo-healthcheck")
