"""``nfvo demo``: the embedded server, the sample packages onboarded through the API."""

from __future__ import annotations

import logging
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from rich.console import Console

from nfvo.api.app import create_app
from nfvo.api.server import server_config
from nfvo.auth.service import read_admin_credentials
from nfvo.config import Settings
from nfvo.runtime import Runtime
from nfvo.samples import build_sample, sample_kind, sample_names

console = Console()
_COLLECTION = {
    "vnf": ("vnfpkgm", "vnf_packages", "package_content"),
    "ns": ("nsd", "ns_descriptors", "nsd_content"),
}


def _free_port(port: int) -> int:
    """``port`` if it is free, else any free port (the demo must not fail on a busy 8080)."""
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(
    settings: Settings, port: int = 0, log_level: str = "warning"
) -> tuple[uvicorn.Server, str]:
    """nfvo on loopback in a background thread (port 0: any free port); (server, base URL)."""
    config = server_config(create_app(Runtime(settings)), settings, "127.0.0.1", port, log_level)
    server = uvicorn.Server(config)
    threading.Thread(target=server.run, daemon=True).start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the API server did not start within 30 s")
        time.sleep(0.05)
    return server, f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"


def _client(base: str, settings: Settings) -> httpx.Client:
    user, password = settings.admin_user, settings.admin_password
    if password is None:
        creds = read_admin_credentials(settings.data_dir)
        if creds is None:
            raise RuntimeError(f"no admin credentials in {settings.data_dir}/admin-credentials")
        user, password = creds
    r = httpx.post(
        f"{base}/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(user, password),
        timeout=30,
    )
    r.raise_for_status()
    token = r.json()["access_token"]
    return httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60)


def _kind(name: str) -> str:
    return sample_kind(name)


def onboard(client: httpx.Client, name: str) -> dict[str, Any]:
    """Create the package resource, upload the sample, wait for the outcome."""
    api, coll, content = _COLLECTION[_kind(name)]
    r = client.post(f"/{api}/v2/{coll}", json={"userDefinedData": {"sample": name}})
    r.raise_for_status()
    pkg_id = r.json()["id"]
    r = client.put(
        f"/{api}/v2/{coll}/{pkg_id}/{content}",
        content=build_sample(name),
        headers={"Content-Type": "application/zip"},
    )
    r.raise_for_status()
    state_key = "onboardingState" if api == "vnfpkgm" else "nsdOnboardingState"
    deadline = time.monotonic() + 60
    while True:
        info = client.get(f"/{api}/v2/{coll}/{pkg_id}", params={"all_fields": ""}).json()
        if info[state_key] in ("ONBOARDED", "ERROR") or time.monotonic() > deadline:
            return info
        time.sleep(0.1)


def _existing(client: httpx.Client) -> dict[str, dict[str, Any]]:
    """Samples already onboarded in this data dir (a second demo run reuses them)."""
    out = {}
    for api, coll, _ in _COLLECTION.values():
        for info in client.get(f"/{api}/v2/{coll}", params={"all_fields": ""}).json():
            sample = (info.get("userDefinedData") or {}).get("sample")
            if (
                sample
                and info.get("onboardingState", info.get("nsdOnboardingState")) == "ONBOARDED"
            ):
                out[sample] = info
    return out


DEMO_VIM = {
    "name": "demo-sim",
    "vim_type": "sim",
    "description": "built-in simulated VIM of the demo",
    "config": {
        "zones": 2,
        "hosts": 6,
        "host_defaults": {
            "vcpus": 32,
            "ram_mib": 131072,
            "disk_gib": 1024,
            "cpu_allocation_ratio": 4.0,
        },
        "images": [{"name": n} for n in ("cirros", "web-img", "db-img")],
        "latency_ms": {"server_boot": 300},
    },
}


def _demo_ns(client: httpx.Client, base: str, vim_id: str) -> dict[str, Any]:
    """Create and instantiate the sample NS on the demo VIM (once), print where it runs;
    the NS instance as the API shows it."""
    from nfvo.samples import NSD_WEBAPP_ID

    found = [
        n
        for n in client.get("/nslcm/v2/ns_instances").json()
        if n["nsInstanceName"] == "demo-webapp"
    ]
    ns = (
        found[0]
        if found
        else client.post(
            "/nslcm/v2/ns_instances",
            json={
                "nsdId": NSD_WEBAPP_ID,
                "nsName": "demo-webapp",
                "nsDescription": "the sample web application NS",
            },
        ).json()
    )
    if ns["nsState"] == "NOT_INSTANTIATED" and "currentLcmOpOcc" not in ns["_links"]:
        r = client.post(
            f"/nslcm/v2/ns_instances/{ns['id']}/instantiate",
            json={"nsFlavourId": "default", "additionalParamsForNs": {"vimAccountId": vim_id}},
        )
        r.raise_for_status()
        op_url = r.headers["location"]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            op = client.get(op_url).json()
            if op["operationState"] not in ("STARTING", "PROCESSING"):
                break
            time.sleep(0.1)
        if op["operationState"] != "COMPLETED":
            console.print(f"[red]instantiation {op['operationState']}:[/red] {op.get('error')}")
    ns = client.get(f"/nslcm/v2/ns_instances/{ns['id']}").json()
    state = ns["nsState"]
    colour = "green" if state == "INSTANTIATED" else "red"
    vnfs = ns.get("vnfInstance", [])
    vnfcs = [
        (vnf, vnfc)
        for vnf in vnfs
        for vnfc in (vnf.get("instantiatedVnfInfo") or {}).get("vnfcResourceInfo", [])
    ]
    console.print(
        "\n[bold]3. The sample NS instantiated on it[/bold] (nslcm/v2: placement, networks, "
        f"servers)\n  [{colour}]{state}[/{colour}]  demo-webapp (flavour "
        f"{ns.get('flavourId', '-')}, {len(vnfs)} VNFs, {len(vnfcs)} VNFCs); where it runs:",
        soft_wrap=True,
    )
    for vnf, vnfc in vnfcs:
        meta = vnfc.get("metadata", {})
        console.print(
            f"      {vnf['vnfProfileId']}/{vnfc['vduId']}: {meta.get('status')} on "
            f"{meta.get('host')} ({meta.get('zone')}), "
            f"{', '.join(a for ips in meta.get('addresses', {}).values() for a in ips)}",
            soft_wrap=True,
            highlight=False,
        )
    console.print(f"      {base}/nslcm/v2/ns_instances/{ns['id']}", soft_wrap=True, highlight=False)
    return ns


def _demo_vim(client: httpx.Client, base: str) -> dict[str, Any] | None:
    """Register the demo's sim VIM (once), wait for its check and sync, instantiate the
    sample NS on it; the NS instance (None when the VIM is not usable)."""
    existing = [
        v for v in client.get("/admin/v1/vim_accounts").json() if v["name"] == DEMO_VIM["name"]
    ]
    vim = existing[0] if existing else client.post("/admin/v1/vim_accounts", json=DEMO_VIM).json()
    deadline = time.monotonic() + 30
    while vim["_admin"]["operationalState"] == "PROCESSING" and time.monotonic() < deadline:
        time.sleep(0.05)
        vim = client.get(f"/admin/v1/vim_accounts/{vim['id']}").json()
    res = client.get(f"/admin/v1/vim_accounts/{vim['id']}/resources").json()
    state = vim["_admin"]["operationalState"]
    colour = "green" if state == "ENABLED" else "red"
    vcpus = sum(h["capacity"]["vcpus"] for h in res.get("hosts", []))
    console.print(
        "\n[bold]2. A VIM account registered, checked and synced[/bold] (/admin/v1)\n"
        f"  [{colour}]{state}[/{colour}]  {vim['name']} (sim: "
        f"{len(res.get('zones', []))} zones, {len(res.get('hosts', []))} hosts, {vcpus} vCPU)",
        soft_wrap=True,
    )
    console.print(
        f"      {base}/admin/v1/vim_accounts/{vim['id']}/resources", soft_wrap=True, highlight=False
    )
    return _demo_ns(client, base, vim["id"]) if state == "ENABLED" else None


def cli_name() -> str:
    """How to call this command line: the ``nfvo`` script as it was started (e.g.
    ``.venv/bin/nfvo`` under ``make demo``), else ``nfvo``."""
    argv0 = sys.argv[0] if sys.argv else ""
    return argv0 if Path(argv0).name == "nfvo" else "nfvo"


def next_commands(base: str, creds: Path, ns: dict[str, Any] | None) -> list[tuple[str, str]]:
    """(command, what it shows) to try against the demo server with the ``nfvo`` client."""
    nfvo = cli_name()
    out = [
        (
            f"sed -n 's/^NFVO_PASSWORD=//p' {creds} | {nfvo} login --url {base} --user admin "
            "--password-stdin",
            "once: log in (the token is kept in ~/.config/nfvo, mode 0600)",
        ),
        (f"{nfvo} pkg list", "the VNF packages above"),
        (f"{nfvo} vim resources {DEMO_VIM['name']}", "hosts, their usage, the servers nfvo owns"),
    ]
    if ns is not None and ns.get("nsState") == "INSTANTIATED":
        name = ns["nsInstanceName"]
        out += [
            (f"{nfvo} ns show {name}", "VNFs, VNFCs, hosts, zones, addresses"),
            (
                f"{nfvo} ns scale {name} --vnf vnf_web --aspect web_scale --out --wait",
                "one more web VDU, with live progress",
            ),
            (
                f"{nfvo} ns heal {name} --vnf vnf_db --recreate --wait",
                "recreate the database VDU",
            ),
            (
                f"{nfvo} policy decisions --ns {name}",
                "what the policy engine decided and why (auto-scale, auto-heal, windows)",
            ),
            (f"{nfvo} op list --ns {name}", "every operation and its state"),
        ]
    return out


def run_demo(port: int, data_dir: Path | None, exit_after: bool) -> int:
    """The guided tour; returns the exit code (errors are reported, not thrown)."""
    try:
        return _tour(port, data_dir, exit_after)
    except (httpx.HTTPError, RuntimeError, OSError) as exc:
        console.print(f"[red]demo failed:[/red] {exc}")
        return 1


def _tour(port: int, data_dir: Path | None, exit_after: bool) -> int:
    logging.basicConfig(level=logging.ERROR)
    settings = Settings.from_env(data_dir=data_dir)
    port = _free_port(port)
    base = f"http://127.0.0.1:{port}"
    console.print(
        f"[bold]nfvo demo[/bold] - data in {settings.data_dir} "
        f"({'PostgreSQL' if settings.database_url else 'embedded SQLite'})"
    )
    server, _ = start_server(settings, port)
    ok = True
    with _client(base, settings) as client:
        done = _existing(client)
        console.print("\n[bold]1. Sample packages onboarded[/bold] (SOL005 vnfpkgm/v2 and nsd/v2)")
        for name in sample_names():
            info = done.get(name) or onboard(client, name)
            api, coll, _ = _COLLECTION[_kind(name)]
            state = info.get("onboardingState") or info.get("nsdOnboardingState")
            ok &= state == "ONBOARDED"
            desc_id = info.get("vnfdId") or info.get("nsdId") or "-"
            note = "" if name not in done else " (already there)"
            colour = "green" if state == "ONBOARDED" else "red"
            console.print(
                f"  [{colour}]{state}[/{colour}]{note}  {name} "
                f"({_kind(name).upper()}, descriptor id {desc_id})",
                soft_wrap=True,
            )
            console.print(
                f"      {base}/{api}/v2/{coll}/{info['id']}", soft_wrap=True, highlight=False
            )
            if state == "ERROR":
                console.print(f"[red]{name} failed:[/red] {info.get('onboardingFailureDetails')}")
        ns = _demo_vim(client, base)
        ok &= ns is not None and ns["nsState"] == "INSTANTIATED"
    creds = settings.data_dir / "admin-credentials"
    console.print(
        "\n[bold]4. Your turn[/bold]: the nfvo command line on this server (docs/cli.md)",
        soft_wrap=True,
    )
    for command, what in next_commands(base, creds, ns):
        for line in (f"  # {what}", f"  {command}"):
            console.print(line, soft_wrap=True, highlight=False, markup=False)
    gui = f"{base}/ui/" + (f"ns/{ns['id']}" if ns is not None else "")
    out = [
        f"\nAPI        {base}   (OpenAPI: {base}/docs)",
        f"GUI        {gui}   (sign in as admin; docs/gui.md)",
        f"Admin      credentials in {creds} (mode 0600)",
    ]
    console.print("\n".join(out), soft_wrap=True, highlight=False, markup=False)
    if exit_after:
        server.should_exit = True
        return 0 if ok else 1
    console.print("\nServing until Ctrl-C.")
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        server.should_exit = True
    return 0 if ok else 1
