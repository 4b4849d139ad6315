"""Current metrics through a live server on loopback, with samples fed into its running
Monitor: an NS's metrics per VNF and per VNFC reflect a sample at once; after silence a
metric is ``noData`` with null values (never 0); a VIM's hosts; one resource by key; tenant
isolation (another tenant's NS, VIM, server: 404; a shared VIM's host: readable); bad query
parameters are 400 ProblemDetails naming them; ``nfvo ns show`` / ``nfvo vim show`` print the
tables. SQLite and PostgreSQL."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.support.cli import Cli
from tests.support.live import ADMIN_PASSWORD, LiveApi, sim_vim, start_live, wait_op

from nfvo.monitoring.model import Resource, ResourceKind, Sample
from nfvo.samples.synthetic import nsd_package, vnf_package

NS = "/nslcm/v2/ns_instances"
OFF = {"enabled": False}  # no source of the sim VIM feeds samples: the test does


@dataclass
class World:
    live: LiveApi
    vim_id: str
    ns_id: str
    vnf_id: str
    server_id: str
    host: str


@pytest.fixture
def world(db_url: str, tmp_path: Path) -> Iterator[World]:
    live = start_live(tmp_path / "data", db_url)
    try:
        yield _world(live)
    finally:
        live.close()


def _world(live: LiveApi) -> World:
    c = live.client
    vim_id = sim_vim(c, "mon-vim", hosts=2, images=[{"name": "cirros"}], monitoring=OFF)
    vnfd_id, nsd_id = str(uuid.uuid4()), str(uuid.uuid4())
    assert live.onboard("vnf", vnf_package(vnfd_id))["onboardingState"] == "ONBOARDED"
    assert live.onboard("nsd", nsd_package(nsd_id, vnfd_id))["nsdOnboardingState"] == "ONBOARDED"
    ns_id = c.post(NS, json={"nsdId": nsd_id, "nsName": "mon-ns"}).json()["id"]
    r = c.post(
        f"{NS}/{ns_id}/instantiate",
        json={"nsFlavourId": "default", "additionalParamsForNs": {"vimAccountId": vim_id}},
    )
    assert r.status_code == 202, r.text
    assert wait_op(c, r.headers["location"])["operationState"] == "COMPLETED"
    vnf = c.get(f"{NS}/{ns_id}").json()["vnfInstance"][0]
    vnfc = vnf["instantiatedVnfInfo"]["vnfcResourceInfo"][0]
    monitor = live.services.monitor
    assert monitor is not None
    assert monitor.refresh_index()  # the hub learns the new NS's servers now, not in 5 s
    return World(
        live,
        vim_id,
        ns_id,
        vnf["id"],
        vnfc["computeResource"]["resourceId"],
        vnfc["metadata"]["host"],
    )


def _feed(w: World, resource: Resource, metric: str, *values: float) -> None:
    monitor = w.live.services.monitor
    assert monitor is not None
    now = time.time()
    n = len(values)
    monitor.samples(
        [Sample(resource, metric, v, now - (n - i) * 0.01) for i, v in enumerate(values)]
    )


def _no_data(value: dict[str, Any]) -> None:
    assert value == {
        "last": None,
        "mean": None,
        "peak": None,
        "low": None,
        "count": 0,
        "timestamp": None,
        "noData": True,
    }


def _problem(r: httpx.Response, status: int, field: str | None = None) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == status
    if field is not None:
        assert field in str(body.get("field")) or field in body["detail"], body
    return body


def test_ns_metrics_follow_a_sample_and_turn_to_no_data(world: World) -> None:
    c, w = world.live.client, world
    url = f"/admin/v1/ns_instances/{w.ns_id}/metrics"
    before = c.get(url)
    assert before.status_code == 200, before.text
    body = before.json()
    assert body["nsInstanceId"] == w.ns_id and body["window"] is None
    [vnf] = body["vnfs"]
    [vnfc] = vnf["vnfcs"]
    assert vnf["vnfInstanceId"] == w.vnf_id and vnf["vimAccountId"] == w.vim_id
    assert (vnfc["serverId"], vnfc["host"]) == (w.server_id, w.host)
    assert vnfc["resource"] == f"server:{w.vim_id}:{w.server_id}"
    for value in [*vnfc["metrics"].values(), *vnf["metrics"].values(), *body["metrics"].values()]:
        _no_data(value)
    assert {"cpu_utilization", "memory_utilization"} <= set(vnfc["metrics"])
    assert "v_cpu_usage_mean_vnf" in vnf["metrics"] and "byte_incoming" in body["metrics"]

    server = Resource(ResourceKind.SERVER, w.server_id, w.vim_id)
    started = time.monotonic()
    _feed(w, server, "cpu_utilization", 20.0, 60.0, 40.0)
    after = c.get(url).json()
    assert time.monotonic() - started < 2.0  # loose ceiling: visible on the next read
    cpu = after["vnfs"][0]["vnfcs"][0]["metrics"]["cpu_utilization"]
    assert cpu["noData"] is False and cpu["count"] == 3
    assert (cpu["last"], cpu["peak"], cpu["low"]) == (40.0, 60.0, 20.0)
    assert cpu["mean"] == pytest.approx(40.0)
    assert abs(datetime.fromisoformat(cpu["timestamp"]).timestamp() - time.time()) < 30
    _no_data(after["vnfs"][0]["vnfcs"][0]["metrics"]["memory_utilization"])
    vnf_cpu = after["vnfs"][0]["metrics"]["v_cpu_usage_mean_vnf"]
    assert vnf_cpu["noData"] is False and vnf_cpu["mean"] == pytest.approx(40.0)

    # silence: a 1 s window holds nothing once a second has passed -> no data, not 0
    time.sleep(1.2)
    silent = c.get(url, params={"window": "1"}).json()
    assert silent["window"] == 1.0
    _no_data(silent["vnfs"][0]["vnfcs"][0]["metrics"]["cpu_utilization"])
    _no_data(silent["vnfs"][0]["metrics"]["v_cpu_usage_mean_vnf"])
    # the default window still holds the samples
    kept = c.get(url).json()["vnfs"][0]["vnfcs"][0]["metrics"]["cpu_utilization"]
    assert kept["count"] == 3


def test_vim_and_resource_metrics(world: World) -> None:
    c, w = world.live.client, world
    host = Resource(ResourceKind.HOST, w.host, w.vim_id)
    _feed(w, host, "cpu_utilization", 12.5)
    r = c.get(f"/admin/v1/vim_accounts/{w.vim_id}/metrics")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["vimAccountId"] == w.vim_id and len(body["hosts"]) == 2
    by_host = {h["host"]: h for h in body["hosts"]}
    assert by_host[w.host]["metrics"]["cpu_utilization"]["last"] == 12.5
    assert by_host[w.host]["resource"] == host.key and by_host[w.host]["state"]
    other = next(h for h in by_host if h != w.host)
    _no_data(by_host[other]["metrics"]["cpu_utilization"])
    assert body["zones"] and all(z["metrics"] == {} for z in body["zones"])

    one = c.get("/admin/v1/metrics", params={"resource": host.key, "window": "30"})
    assert one.status_code == 200, one.text
    assert one.json()["resource"] == host.key and one.json()["window"] == 30.0
    assert one.json()["metrics"]["cpu_utilization"]["count"] == 1
    for key in (f"ns:{w.ns_id}", f"vnf:{w.vnf_id}", f"server:{w.vim_id}:{w.server_id}"):
        assert c.get("/admin/v1/metrics", params={"resource": key}).status_code == 200, key
    assert (
        c.get("/admin/v1/metrics", params={"resource": f"vim:{w.vim_id}"}).json()["metrics"] == {}
    )


def test_bad_query_parameters_are_problem_details(world: World) -> None:
    c, w = world.live.client, world
    ns_url = f"/admin/v1/ns_instances/{w.ns_id}/metrics"
    for bad in ("0", "-5", "3601", "nan", "abc", "1e309"):
        _problem(c.get(ns_url, params={"window": bad}), 400, "window")
        _problem(
            c.get(f"/admin/v1/vim_accounts/{w.vim_id}/metrics", params={"window": bad}),
            400,
            "window",
        )
    _problem(c.get(ns_url, params={"window": "9" * 40}), 400, "window")
    metrics = "/admin/v1/metrics"
    _problem(c.get(metrics), 400, "resource")
    for bad in ("bogus:x", "server:only-one-part", "ns:", "x" * 601):
        _problem(c.get(metrics, params={"resource": bad}), 400, "resource")
    _problem(c.get(metrics, params={"resource": f"ns:{w.ns_id}", "window": "0"}), 400, "window")
    _problem(c.get(metrics, params={"resource": f"ns:{uuid.uuid4()}"}), 404)
    _problem(c.get(metrics, params={"resource": f"host:{uuid.uuid4()}:h"}), 404)
    _problem(c.get(f"/admin/v1/ns_instances/{uuid.uuid4()}/metrics"), 404)
    _problem(c.get(f"/admin/v1/vim_accounts/{uuid.uuid4()}/metrics"), 404)


def test_tenant_isolation(world: World) -> None:
    live, w, g = world.live, world, world.live.client
    tenant = g.post("/admin/v1/tenants", json={"name": "t-mon"}).json()["id"]
    body = {"clientId": "mon-reader", "clientSecret": "mon-reader-secret", "role": "reader"}
    assert g.post("/admin/v1/users", json=body | {"tenantId": tenant}).status_code == 201
    body = {"clientId": "mon-admin", "clientSecret": "mon-admin-secret", "role": "admin"}
    assert g.post("/admin/v1/users", json=body | {"tenantId": tenant}).status_code == 201
    reader = live.client_for("mon-reader", "mon-reader-secret")
    tenant_admin = live.client_for("mon-admin", "mon-admin-secret")
    try:
        own_vim = sim_vim(tenant_admin, "t-vim", hosts=1, monitoring=OFF)
        other = g.post("/admin/v1/tenants", json={"name": "t-other"}).json()["id"]
        body = {"name": "o-vim", "vim_type": "sim", "tenant_id": other}
        foreign_vim = g.post("/admin/v1/vim_accounts", json=body | {"config": {"hosts": 1}})
        foreign = foreign_vim.json()["id"]
        # the global NS is no tenant's: hidden from the tenant, as in nslcm
        _problem(reader.get(f"/admin/v1/ns_instances/{w.ns_id}/metrics"), 404)
        for key in (f"ns:{w.ns_id}", f"vnf:{w.vnf_id}", f"server:{w.vim_id}:{w.server_id}"):
            _problem(reader.get("/admin/v1/metrics", params={"resource": key}), 404)
        # the shared VIM and its hosts are visible, as in the VIM routes
        assert reader.get(f"/admin/v1/vim_accounts/{w.vim_id}/metrics").status_code == 200
        shared_host = {"resource": f"host:{w.vim_id}:{w.host}"}
        assert reader.get("/admin/v1/metrics", params=shared_host).status_code == 200
        assert reader.get(f"/admin/v1/vim_accounts/{own_vim}/metrics").status_code == 200
        # another tenant's VIM: 404, by route and by resource key
        _problem(reader.get(f"/admin/v1/vim_accounts/{foreign}/metrics"), 404)
        _problem(reader.get("/admin/v1/metrics", params={"resource": f"vim:{foreign}"}), 404)
        _problem(
            reader.get("/admin/v1/metrics", params={"resource": f"host:{foreign}:host-0001"}),
            404,
        )
        # the global admin sees all
        assert g.get(f"/admin/v1/vim_accounts/{foreign}/metrics").status_code == 200
    finally:
        reader.close()
        tenant_admin.close()


def test_cli_ns_show_and_vim_show_print_metrics(world: World, tmp_path: Path) -> None:
    w = world
    server = Resource(ResourceKind.SERVER, w.server_id, w.vim_id)
    _feed(w, server, "cpu_utilization", 37.5)
    _feed(w, Resource(ResourceKind.HOST, w.host, w.vim_id), "memory_utilization", 61.0)
    cli = Cli(
        tmp_path / "home",
        NFVO_URL=w.live.base_url,
        NFVO_USER="admin",
        NFVO_PASSWORD=ADMIN_PASSWORD,
    )
    out = cli.run("ns", "show", w.ns_id).stdout
    assert "Metrics of the VNFCs" in out
    [row] = [line for line in out.splitlines() if w.server_id[:8] in line and "37.5" in line]
    assert w.host in row
    assert "no data" in row  # memory and disk of the VNFC: never 0
    out = cli.run("vim", "show", w.vim_id).stdout
    assert "Metrics of the hosts" in out
    [row] = [line for line in out.splitlines() if line.lstrip().startswith(w.host)]
    assert "61.0" in row and "no data" in row
