"""``/admin/v1``: VIM accounts on the sim VIM, secrets at rest, tenant isolation, bad input.
Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path
from urllib.parse import unquote

import httpx
import pytest
from tests.support.live import LiveApi

from nfvo.vim.base import TAG_KEY, TAG_NS, ServerSpec

VIMS = "/admin/v1/vim_accounts"
SDNS = "/admin/v1/sdn_controllers"
VIM_PASSWORD = "vim-Pa55word-9f3c1e"
CONFIG_TOKEN = "cfg-token-77aa12bd"
SDN_PASSWORD = "sdn-Pa55word-c4d2e8"


def wait_vim(c: httpx.Client, vim_id: str, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        v = c.get(f"{VIMS}/{vim_id}").json()
        if v["_admin"]["operationalState"] != "PROCESSING":
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"VIM {vim_id} still PROCESSING")
        time.sleep(0.02)


def register(c: httpx.Client, name: str = "sim1", **extra: object) -> dict:
    body = {"name": name, "vim_type": "sim", "config": {"hosts": 4, "zones": 2}} | extra
    r = c.post(VIMS, json=body)
    assert r.status_code == 201, r.text
    return r.json()


def test_thousand_host_vim_enabled_and_synced_fast(live: LiveApi) -> None:
    t0 = time.monotonic()
    r = live.client.post(
        VIMS, json={"name": "big", "vim_type": "sim", "config": {"hosts": 1000, "zones": 4}}
    )
    assert r.status_code == 201, r.text
    assert r.headers["location"].endswith(r.json()["id"])
    v = wait_vim(live.client, r.json()["id"])
    elapsed = time.monotonic() - t0
    assert v["_admin"]["operationalState"] == "ENABLED", v
    # The speed figure is benchmarks/vim_register.py; this ceiling only catches a sync
    # that grew by an order of magnitude (a loaded 2-core CI runner is several times slower).
    assert elapsed <= 10.0, f"registration + check + sync took {elapsed:.2f} s"
    res = live.client.get(f"{VIMS}/{v['id']}/resources").json()
    assert len(res["hosts"]) == 1000 and len(res["zones"]) == 4
    h = res["hosts"][0]
    assert h["capacity"] == {"vcpus": 64, "ramMib": 262144, "diskGib": 2048}
    assert h["usage"]["vcpus"] == 0 and h["state"] == "up"
    assert res["servers"] == [] and res["ports"] == []


def test_owned_resources_sync_and_delete_guard(live: LiveApi) -> None:
    v = wait_vim(live.client, register(live.client)["id"])
    assert v["_admin"]["operationalState"] == "ENABLED"
    svc = live.services.resources
    driver = svc.driver_for(svc.get_vim(v["id"], svc_scope()))
    server = driver.create_server(
        ServerSpec(
            key="k1",
            name="vdu-1",
            flavor="m1.small",
            image="cirros",
            tags={TAG_KEY: "k1", TAG_NS: "ns-1"},
        )
    )
    r = live.client.post(f"{VIMS}/{v['id']}/sync")
    assert r.status_code == 200 and r.json()["synced"]["hosts"] == 4
    res = live.client.get(f"{VIMS}/{v['id']}/resources").json()
    assert [s["id"] for s in res["servers"]] == [server.id]
    assert res["servers"][0]["nsInstanceId"] == "ns-1" and res["servers"][0]["host"]
    used = {h["name"]: h["usage"]["vcpus"] for h in res["hosts"]}
    assert used[server.host] == 1
    r = live.client.delete(f"{VIMS}/{v['id']}")
    assert r.status_code == 409 and "1 servers" in r.json()["detail"]
    driver.delete_server(server.id)
    assert live.client.delete(f"{VIMS}/{v['id']}").status_code == 204
    assert live.client.get(f"{VIMS}/{v['id']}").status_code == 404
    assert not list((live.data_dir / "sim").glob(f"{v['id']}.db*"))


def svc_scope():
    from nfvo.resources.service import Scope

    return Scope(None)


def test_runtime_config_patch_and_bad_credentials(live: LiveApi) -> None:
    v = register(
        live.client,
        config={"hosts": 2, "auth": {"user": "u", "password": "right"}},
        vim_user="u",
        vim_password="wrong",
    )
    v = wait_vim(live.client, v["id"])
    assert v["_admin"]["operationalState"] == "ERROR"
    assert "VimAuthError" in v["_admin"]["detailed-status"]
    r = live.client.patch(f"{VIMS}/{v['id']}", json={"vim_password": "right"})
    assert r.status_code == 200
    assert wait_vim(live.client, v["id"])["_admin"]["operationalState"] == "ENABLED"
    r = live.client.patch(
        f"{VIMS}/{v['id']}", json={"config": {"latency_ms": {"server_create": 5}, "faults": {}}}
    )
    assert r.status_code == 200, r.text
    assert r.json()["config"]["latency_ms"]["server_create"] == 5
    r = live.client.patch(f"{VIMS}/{v['id']}", json={"config": {"hosts": 9}})
    assert r.status_code == 400 and "config.hosts" in r.json()["detail"]


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": "x", "vim_type": "vmware"}, "vim_type"),
        ({"name": "x", "vim_type": "sim", "config": {"hosts": "lots"}}, "config.hosts"),
        (
            {
                "name": "x",
                "vim_type": "sim",
                "config": {
                    "hosts": [
                        {
                            "name": "h1",
                            "zone": "zone-1",
                            "vcpus": -4,
                            "ram_mib": 1024,
                            "disk_gib": 10,
                        }
                    ]
                },
            },
            "vcpus",
        ),
        ({"name": "x", "vim_type": "sim", "config": {"host_defaults": {"ram_mib": 0}}}, "ram_mib"),
        ({"name": "x", "vim_type": "sim", "config": {"bogus_key": 1}}, "bogus_key"),
        ({"name": "", "vim_type": "sim"}, "name"),
        ({"vim_type": "sim"}, "name"),
        ({"name": "x", "vim_type": "sim", "unexpected": 1}, "unexpected"),
        ({"name": "x", "vim_type": "sim", "config": "not-an-object"}, "config"),
    ],
)
def test_bad_vim_input_names_the_field(live: LiveApi, body: dict, field: str) -> None:
    r = live.client.post(VIMS, json=body)
    assert 400 <= r.status_code < 500, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert field in r.json()["detail"], r.json()
    assert live.client.get(VIMS).json() == []


def test_ten_megabyte_config_refused(live: LiveApi) -> None:
    big = {"name": "x", "vim_type": "sim", "config": {"description_blob": "x" * (10 << 20)}}
    r = live.client.post(VIMS, json=big)
    # the request edge refuses a body over the JSON limit (1 MiB) before it is read
    assert r.status_code == 413
    assert "1048576 bytes" in r.json()["detail"]
    assert live.client.get(VIMS).json() == []


def _db_bytes(live: LiveApi) -> bytes:
    url = live.services.db.url
    if url.startswith("sqlite"):
        base = Path(url.split("///", 1)[1])
        return b"".join(p.read_bytes() for p in base.parent.glob(base.name + "*"))
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        pytest.skip("pg_dump not installed")
    schema = unquote(url).split("search_path=", 1)[1].split("&")[0]
    base_url = url.split("?", 1)[0].replace("postgresql+psycopg://", "postgresql://")
    out = subprocess.run(
        [pg_dump, "-n", schema, base_url], capture_output=True, check=True, env={**os.environ}
    )
    return out.stdout


def test_secrets_never_stored_or_returned_in_clear(live: LiveApi, caplog) -> None:
    c = live.client
    v = register(
        c,
        "secret-vim",
        vim_user="u",
        vim_password=VIM_PASSWORD,
        config={"hosts": 2, "auth": {"user": "u", "password": VIM_PASSWORD}},
    )
    wait_vim(c, v["id"])
    r = c.post(
        SDNS,
        json={
            "name": "wan",
            "type": "sim",
            "url": "http://sdn.example",
            "user": "u",
            "password": SDN_PASSWORD,
            "config": {"api_token": CONFIG_TOKEN, "region": "eu"},
        },
    )
    assert r.status_code == 201
    c.patch(f"{VIMS}/{v['id']}", json={"description": "rotated"})
    wait_vim(c, v["id"])
    for resp in (
        c.get(VIMS),
        c.get(f"{VIMS}/{v['id']}"),
        c.get(SDNS),
        c.get(f"{VIMS}/{v['id']}/resources"),
    ):
        text = resp.text
        for secret in (VIM_PASSWORD, CONFIG_TOKEN, SDN_PASSWORD):
            assert secret not in text
    shown = c.get(f"{VIMS}/{v['id']}").json()
    assert "vim_password" not in shown
    assert shown["config"]["auth"]["password"] == "********"
    sdn = c.get(SDNS).json()[0]
    assert sdn["config"] == {"api_token": "********", "region": "eu"}
    assert shown["_admin"]["operationalState"] == "ENABLED"  # the driver got the real password
    data = _db_bytes(live)
    assert b"secret-vim" in data  # the dump does hold the account...
    for secret in (VIM_PASSWORD, CONFIG_TOKEN, SDN_PASSWORD):
        assert secret.encode() not in data  # ...but no credential in clear
    assert all(secret not in caplog.text for secret in (VIM_PASSWORD, SDN_PASSWORD))
    key = live.data_dir / "secret.key"
    assert key.exists() and (key.stat().st_mode & 0o777) == 0o600


def test_sdn_controllers(live: LiveApi) -> None:
    c = live.client
    ok = c.post(SDNS, json={"name": "a", "type": "sim"}).json()
    bad = c.post(SDNS, json={"name": "b", "type": "sim", "config": {"unreachable": True}}).json()
    time.sleep(0.2)
    assert c.get(f"{SDNS}/{ok['id']}").json()["_admin"]["operationalState"] == "ENABLED"
    b = c.get(f"{SDNS}/{bad['id']}").json()
    assert (
        b["_admin"]["operationalState"] == "ERROR" and "refused" in b["_admin"]["detailed-status"]
    )
    r = c.post(SDNS, json={"name": "c", "type": "cisco-magic"})
    assert r.status_code == 400 and "type" in r.json()["detail"]
    assert c.delete(f"{SDNS}/{ok['id']}").status_code == 204


def test_tenant_isolation_on_every_admin_resource(live: LiveApi) -> None:
    g = live.client
    ta = g.post("/admin/v1/tenants", json={"name": "alpha"}).json()
    tb = g.post("/admin/v1/tenants", json={"name": "beta"}).json()
    assert g.post("/admin/v1/tenants", json={"name": "alpha"}).status_code == 409
    for cid, tenant, role in (
        ("a-adm", ta, "admin"),
        ("b-adm", tb, "admin"),
        ("a-read", ta, "reader"),
    ):
        r = g.post(
            "/admin/v1/users",
            json={
                "clientId": cid,
                "clientSecret": f"{cid}-secret",
                "role": role,
                "tenantId": tenant["id"],
            },
        )
        assert r.status_code == 201, r.text
    assert g.post("/admin/v1/users", json={"clientId": "x", "tenantId": "nope"}).status_code == 400
    a, b = live.client_for("a-adm", "a-adm-secret"), live.client_for("b-adm", "b-adm-secret")
    ar = live.client_for("a-read", "a-read-secret")
    va = register(a, "a-vim")
    assert va["tenant_id"] == ta["id"]
    sa = a.post(SDNS, json={"name": "a-sdn", "type": "sim"}).json()
    shared = register(g, "shared-vim")
    wait_vim(g, va["id"])
    # B sees neither A's VIM nor A's SDN controller; cannot touch them (404, no existence leak)
    assert [v["name"] for v in b.get(VIMS).json()] == ["shared-vim"]
    for method, path in (
        ("GET", f"{VIMS}/{va['id']}"),
        ("PATCH", f"{VIMS}/{va['id']}"),
        ("DELETE", f"{VIMS}/{va['id']}"),
        ("POST", f"{VIMS}/{va['id']}/sync"),
        ("GET", f"{VIMS}/{va['id']}/resources"),
        ("GET", f"{SDNS}/{sa['id']}"),
        ("PATCH", f"{SDNS}/{sa['id']}"),
        ("DELETE", f"{SDNS}/{sa['id']}"),
        ("GET", f"/admin/v1/tenants/{ta['id']}"),
        ("DELETE", "/admin/v1/users/a-adm"),
    ):
        kw = {"json": {"description": "x"}} if method == "PATCH" else {}
        r = b.request(method, path, **kw)
        assert r.status_code == 404, (method, path, r.status_code, r.text)
    assert b.get(SDNS).json() == []
    assert [t["name"] for t in b.get("/admin/v1/tenants").json()] == ["beta"]
    assert {u["clientId"] for u in b.get("/admin/v1/users").json()} == {"b-adm"}
    # tenants are managed by global admins only; shared VIMs too
    assert b.post("/admin/v1/tenants", json={"name": "gamma"}).status_code == 403
    assert b.delete(f"/admin/v1/tenants/{tb['id']}").status_code == 403
    assert b.patch(f"{VIMS}/{shared['id']}", json={"description": "x"}).status_code == 403
    # a reader of A sees A's VIM but cannot change it
    assert ar.get(f"{VIMS}/{va['id']}").status_code == 200
    assert ar.post(VIMS, json={"name": "n", "vim_type": "sim"}).status_code == 403
    assert ar.delete(f"{VIMS}/{va['id']}").status_code == 403
    # tenant packages: B cannot see A's package
    pkg = a.post("/vnfpkgm/v2/vnf_packages", json={}).json()
    assert b.get(f"/vnfpkgm/v2/vnf_packages/{pkg['id']}").status_code == 404
    assert b.delete(f"/vnfpkgm/v2/vnf_packages/{pkg['id']}").status_code == 404
    # a tenant that still owns things cannot be deleted; the message says what
    r = g.delete(f"/admin/v1/tenants/{ta['id']}")
    assert r.status_code == 409 and "vimAccounts" in r.json()["detail"]
    for cl in (a, b, ar):
        cl.close()


def test_periodic_sync_refreshes_usage(db_url: str, tmp_path: Path) -> None:
    from tests.support.live import start_live

    live = start_live(tmp_path / "d", db_url, sync_interval_seconds=0.2)
    try:
        v = wait_vim(live.client, register(live.client, "periodic")["id"])
        svc = live.services.resources
        driver = svc.driver_for(svc.get_vim(v["id"], svc_scope()))
        driver.create_server(
            ServerSpec(
                key="p1",
                name="p1",
                vcpus=3,
                ram_mib=1024,
                disk_gib=5,
                image="cirros",
                tags={TAG_KEY: "p1"},
            )
        )
        deadline = time.monotonic() + 10
        while True:
            hosts = live.client.get(f"{VIMS}/{v['id']}/resources").json()["hosts"]
            if sum(h["usage"]["vcpus"] for h in hosts) == 3:
                break
            assert time.monotonic() < deadline, "periodic sync did not pick up the new usage"
            time.sleep(0.1)
    finally:
        live.close()
