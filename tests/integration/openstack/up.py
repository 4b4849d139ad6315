"""Bring up real OpenStack Nova (fake hypervisor) + Placement on loopback for the contract tests.

Runs with any Python 3.11 (stdlib only)::

    python tests/integration/openstack/up.py [--dir DIR] [--computes 4]

What it starts, all on 127.0.0.1 and recorded by PID in ``DIR/pids`` for ``down.py``:

* a virtualenv with ``nova`` 34 and ``openstack-placement`` from PyPI (cached in
  ``$NFVO_OPENSTACK_VENV``, default ``<tmp>/nfvo-openstack-venv``; installed when absent);
* Placement under gunicorn (PostgreSQL: SQLite locks under concurrent computes;
  ``auth_strategy = noauth2``);
* Nova API under gunicorn (PostgreSQL ``nova_api``/``nova``/``nova_cell0`` databases, a token
  paste filter in place of keystonemiddleware), conductor, scheduler and N nova-compute
  services with Nova's fake hypervisor (``nfvo_fake_driver.py``: 4 vCPU / 12 GiB / 200 GiB each,
  CPU ratio 1.0, RAM ratio 1.5),
  half of them in zone ``zone-a``, half in ``zone-b`` (host aggregates);
* a Neutron + Glance stand-in (``standin.py``) with one image, ``cirros``;
* flavors ``nfvo.tiny`` (1 vCPU, 512 MiB, 1 GiB) ... ``nfvo.xlarge`` (4 vCPU, 8 GiB, 40 GiB)
  and ``nfvo.huge`` (64 vCPU, for "no valid host");
* Nova's versioned notifications on the vhost's ``nova`` exchange.

RabbitMQ gets a private vhost. On success it writes ``DIR/env`` (``export`` lines, among them
``NFVO_TEST_OPENSTACK_URL``) and prints it. PostgreSQL and RabbitMQ must already run locally.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TOKEN = "admin"  # Placement's noauth2 grants admin to tokens naming user "admin"
PG = os.environ.get("NFVO_OPENSTACK_PG", "postgresql+psycopg2://postgres@127.0.0.1:5432")
RABBIT = os.environ.get("NFVO_OPENSTACK_RABBIT", "rabbit://guest:guest@127.0.0.1:5672")
PACKAGES = ["nova==34.*", "openstack-placement", "gunicorn", "psycopg2-binary"]
FLAVORS = [
    ("nfvo.tiny", 1, 512, 1),
    ("nfvo.small", 1, 1024, 2),
    ("nfvo.medium", 2, 2048, 4),
    ("nfvo.large", 2, 4096, 20),  # fits the sample web VDU (2 vCPU, 2 GiB, 10 GiB)
    ("nfvo.xlarge", 4, 8192, 40),  # fits the sample db VDU (4 vCPU, 8 GiB, 20 GiB)
    ("nfvo.huge", 64, 1024, 1),
]


def log(msg: str) -> None:
    print(f"[up {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(cmd: list[str], **kw: Any) -> str:
    out = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if out.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed ({out.returncode}):\n{out.stdout}{out.stderr}")
    return out.stdout


def ensure_venv() -> Path:
    venv = Path(
        os.environ.get("NFVO_OPENSTACK_VENV", Path(tempfile.gettempdir()) / "nfvo-openstack-venv")
    )
    if (venv / "bin" / "nova-compute").exists():
        return venv
    log(f"installing Nova + Placement into {venv}")
    run([sys.executable, "-m", "venv", str(venv)])
    run([str(venv / "bin" / "pip"), "install", "-q", *PACKAGES])
    return venv


def ini(sections: dict[str, dict[str, Any]]) -> str:
    out = []
    for name, values in sections.items():
        out.append(f"[{name}]")
        out += [f"{k} = {v}" for k, v in values.items()]
        out.append("")
    return "\n".join(out)


class BringUp:
    """One bring-up: its directory, ports, databases, vhost and processes."""

    def __init__(self, root: Path, venv: Path, computes: int) -> None:
        self.root, self.venv, self.computes = root, venv, computes
        self.suffix = secrets.token_hex(4)
        self.ports = {k: free_port() for k in ("placement", "api", "standin")}
        self.pids: dict[str, int] = {}
        self.state: dict[str, Any] = {"suffix": self.suffix, "ports": self.ports}
        (root / "logs").mkdir(parents=True, exist_ok=True)

    # ------------------------------------------------------------------ processes

    def bin(self, name: str) -> str:
        return str(self.venv / "bin" / name)

    def spawn(self, name: str, cmd: list[str], env: dict[str, str] | None = None) -> None:
        logf = open(self.root / "logs" / f"{name}.log", "ab")  # noqa: SIM115 - child keeps it
        proc = subprocess.Popen(
            cmd,
            stdout=logf,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            start_new_session=True,
            cwd=self.root,
        )
        self.pids[name] = proc.pid
        self.save()

    def spawn_wsgi(self, name: str, port: int, app: str, env: dict[str, str]) -> None:
        """A WSGI API under gunicorn on loopback: one worker, eight threads."""
        cmd = [self.bin("gunicorn"), "-w", "1", "--threads", "8", "-b", f"127.0.0.1:{port}", app]
        self.spawn(name, cmd, env)

    def save(self) -> None:
        self.state["pids"] = self.pids
        (self.root / "state.json").write_text(json.dumps(self.state, indent=1))

    # ------------------------------------------------------------------ config

    def db(self, name: str) -> str:
        return f"{PG}/{name}_{self.suffix}"

    def nova_conf(self, host: str, with_db: bool) -> str:
        standin = f"http://127.0.0.1:{self.ports['standin']}"
        placement = f"http://127.0.0.1:{self.ports['placement']}"
        state = self.root / host
        sections: dict[str, dict[str, Any]] = {
            "DEFAULT": {
                "host": host,
                "state_path": state,
                "instances_path": state / "instances",
                "transport_url": f"{RABBIT}/nfvo_os_{self.suffix}",
                "compute_driver": "nfvo_fake.NfvoFakeDriver",
                "my_ip": "127.0.0.1",
                "report_interval": 2,
                "service_down_time": 20,
                "cpu_allocation_ratio": 1.0,
                "ram_allocation_ratio": 1.5,
                "disk_allocation_ratio": 1.0,
                "reserved_host_memory_mb": 512,
                "vif_plugging_timeout": 0,
                "vif_plugging_is_fatal": False,
                "use_rootwrap_daemon": False,
                "debug": False,
            },
            "api": {"auth_strategy": "keystone"},
            "wsgi": {"api_paste_config": self.root / "api-paste.ini"},
            "conductor": {"workers": 1},
            "scheduler": {"workers": 1, "max_attempts": 1, "discover_hosts_in_cells_interval": 2},
            "quota": {"instances": -1, "cores": -1, "ram": -1},
            "placement": {
                "auth_type": "admin_token",
                "token": TOKEN,
                "endpoint": placement,
                "endpoint_override": placement,
            },
            "neutron": {
                "auth_type": "admin_token",
                "token": TOKEN,
                "endpoint": f"{standin}/network",
                "endpoint_override": f"{standin}/network",
            },
            "glance": {"endpoint_override": f"{standin}/image"},
            "keystone": {"endpoint_override": f"{standin}/identity/v3"},
            "oslo_concurrency": {"lock_path": self.root / "locks"},
            "oslo_messaging_notifications": {"driver": "messagingv2"},
            # Nova's versioned notifications (instance.*, service.*) on the "nova" exchange
            "notifications": {
                "notification_format": "versioned",
                "notify_on_state_change": "vm_and_task_state",
            },
            "oslo_policy": {"enforce_scope": False, "enforce_new_defaults": False},
            "os_vif_ovs": {"isolate_vif": False},
        }
        if with_db:
            sections["api_database"] = {"connection": self.db("nova_api")}
            sections["database"] = {"connection": self.db("nova")}
        return ini(sections)

    def paste(self) -> str:
        filters = {
            "compute_req_id": "nova.api.compute_req_id:ComputeReqIdMiddleware.factory",
            "faultwrap": "nova.api.openstack:FaultWrapper.factory",
            "request_log": "nova.api.openstack.requestlog:RequestLog.factory",
            "sizelimit": "oslo_middleware:RequestBodySizeLimiter.factory",
            "keystonecontext": "nova.api.auth:NovaKeystoneContext.factory",
        }
        text = (
            "[composite:osapi_compute]\nuse = call:nova.api.openstack.urlmap:urlmap_factory\n"
            "/: oscomputeversions\n/v2.1: openstack_compute_api_v21\n\n"
            "[pipeline:oscomputeversions]\npipeline = faultwrap request_log oscomputeversionapp\n\n"
            "[app:oscomputeversionapp]\n"
            "paste.app_factory = nova.api.openstack.compute.versions:Versions.factory\n\n"
            "[pipeline:openstack_compute_api_v21]\npipeline = compute_req_id faultwrap "
            "request_log sizelimit tokenshim keystonecontext osapi_compute_app_v21\n\n"
            "[app:osapi_compute_app_v21]\n"
            "paste.app_factory = nova.api.openstack.compute:APIRouterV21.factory\n\n"
            f"[filter:tokenshim]\npaste.filter_factory = nfvo_token_shim:filter_factory\n"
            f"token = {TOKEN}\n\n"
        )
        for name, factory in filters.items():
            text += f"[filter:{name}]\npaste.filter_factory = {factory}\n\n"
        return text

    def write_configs(self) -> None:
        (self.root / "locks").mkdir(exist_ok=True)
        (self.root / "api-paste.ini").write_text(self.paste())
        ctl = self.root / "controller"
        ctl.mkdir(exist_ok=True)
        (ctl / "nova.conf").write_text(self.nova_conf("controller", with_db=True))
        (ctl / "api-paste.ini").write_text(self.paste())
        for host in self.compute_hosts():
            (self.root / host / "instances").mkdir(parents=True, exist_ok=True)
            node = uuid.uuid5(uuid.NAMESPACE_DNS, host)
            (self.root / host / "compute_id").write_text(str(node))
            (self.root / host / "nova.conf").write_text(self.nova_conf(host, with_db=False))
        pl = self.root / "placement"
        pl.mkdir(exist_ok=True)
        (pl / "placement.conf").write_text(
            ini(
                {
                    "DEFAULT": {"debug": False},
                    "api": {"auth_strategy": "noauth2"},
                    "placement_database": {"connection": self.db("placement")},
                }
            )
        )

    def compute_hosts(self) -> list[str]:
        return [f"cmp{i + 1}" for i in range(self.computes)]

    # ------------------------------------------------------------------ steps

    def prepare_backends(self) -> None:
        for name in ("placement", "nova_api", "nova", "nova_cell0"):
            run(
                [
                    "psql",
                    "-h",
                    "127.0.0.1",
                    "-U",
                    "postgres",
                    "-qc",
                    f"CREATE DATABASE {name}_{self.suffix}",
                ]
            )
        vhost = f"nfvo_os_{self.suffix}"
        run(["rabbitmqctl", "-q", "add_vhost", vhost])
        run(["rabbitmqctl", "-q", "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"])

    def start_placement(self) -> None:
        env = {"OS_PLACEMENT_CONFIG_DIR": str(self.root / "placement")}
        run(
            [
                self.bin("placement-manage"),
                "--config-file",
                env["OS_PLACEMENT_CONFIG_DIR"] + "/placement.conf",
                "db",
                "sync",
            ]
        )
        self.spawn_wsgi("placement", self.ports["placement"], "placement.wsgi.api:application", env)

    def sync_nova(self) -> None:
        conf = ["--config-file", str(self.root / "controller" / "nova.conf")]
        manage = self.bin("nova-manage")
        run([manage, *conf, "api_db", "sync"])
        run([manage, *conf, "cell_v2", "map_cell0", "--database_connection", self.db("nova_cell0")])
        run(
            [
                manage,
                *conf,
                "cell_v2",
                "create_cell",
                "--name",
                "cell1",
                "--database_connection",
                self.db("nova"),
                "--transport-url",
                f"{RABBIT}/nfvo_os_{self.suffix}",
            ]
        )
        run([manage, *conf, "db", "sync"])

    def start_nova(self) -> None:
        conf = str(self.root / "controller" / "nova.conf")
        self.spawn(
            "standin",
            [
                sys.executable,
                str(HERE / "standin.py"),
                "--port",
                str(self.ports["standin"]),
                "--token",
                TOKEN,
            ],
        )
        env = {
            "OS_NOVA_CONFIG_DIR": str(self.root / "controller"),
            "PYTHONPATH": str(HERE),
        }
        self.spawn_wsgi("nova-api", self.ports["api"], "nfvo_nova_api:application", env)
        self.spawn("conductor", [self.bin("nova-conductor"), "--config-file", conf])
        self.spawn("scheduler", [self.bin("nova-scheduler"), "--config-file", conf])
        for host in self.compute_hosts():
            cconf = str(self.root / host / "nova.conf")
            driver = str(HERE / "nfvo_fake_driver.py")  # nova-compute with a sized fake driver
            self.spawn(host, [self.bin("python"), driver, "--config-file", cconf])

    # ------------------------------------------------------------------ API calls

    def call(self, url: str, method: str = "GET", body: Any = None) -> Any:
        req = urllib.request.Request(url, method=method)
        req.add_header("X-Auth-Token", TOKEN)
        req.add_header("OpenStack-API-Version", "compute 2.74")
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, data=data, timeout=30) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else None

    def nova(self, path: str, method: str = "GET", body: Any = None) -> Any:
        return self.call(f"http://127.0.0.1:{self.ports['api']}/v2.1{path}", method, body)

    def wait(self, what: str, probe: Any, timeout: float = 120.0) -> Any:
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            for name, pid in self.pids.items():
                if not Path(f"/proc/{pid}").exists():
                    raise SystemExit(f"{name} (pid {pid}) died; see {self.root}/logs/{name}.log")
            try:
                value = probe()
                if value:
                    return value
            except (urllib.error.URLError, OSError, ValueError, KeyError) as exc:
                last = exc
            time.sleep(0.5)
        raise SystemExit(f"timed out waiting for {what} (last error: {last})")

    def configure_cloud(self) -> None:
        placement = f"http://127.0.0.1:{self.ports['placement']}"
        hosts = self.compute_hosts()
        self.wait(
            "compute resource providers",
            lambda: (
                len(self.call(placement + "/resource_providers")["resource_providers"])
                >= len(hosts)
            ),
        )
        conf = ["--config-file", str(self.root / "controller" / "nova.conf")]
        run([self.bin("nova-manage"), *conf, "cell_v2", "discover_hosts"])
        self.wait("Nova API", lambda: self.nova("/os-services?binary=nova-compute"))
        half = (len(hosts) + 1) // 2
        for zone, members in (("zone-a", hosts[:half]), ("zone-b", hosts[half:])):
            agg = self.nova(
                "/os-aggregates", "POST", {"aggregate": {"name": zone, "availability_zone": zone}}
            )
            for host in members:
                self.nova(
                    f"/os-aggregates/{agg['aggregate']['id']}/action",
                    "POST",
                    {"add_host": {"host": host}},
                )
        for name, vcpus, ram, disk in FLAVORS:
            body = {"flavor": {"name": name, "vcpus": vcpus, "ram": ram, "disk": disk}}
            self.nova("/flavors", "POST", body)

        def computes_up() -> bool:
            services = self.nova("/os-services?binary=nova-compute")["services"]
            return sum(s["state"] == "up" for s in services) >= len(hosts)

        self.wait("nova-compute services up", computes_up)

    def env(self) -> dict[str, str]:
        standin = f"http://127.0.0.1:{self.ports['standin']}"
        return {
            "NFVO_TEST_OPENSTACK_URL": f"http://127.0.0.1:{self.ports['api']}/v2.1",
            "NFVO_TEST_OPENSTACK_TOKEN": TOKEN,
            "NFVO_TEST_OPENSTACK_NETWORK_URL": f"{standin}/network",
            "NFVO_TEST_OPENSTACK_IMAGE_URL": f"{standin}/image",
            "NFVO_TEST_OPENSTACK_PLACEMENT_URL": f"http://127.0.0.1:{self.ports['placement']}",
            "NFVO_TEST_OPENSTACK_DIR": str(self.root),
            # Nova publishes its notifications (messagingv2) on this vhost's "nova" exchange.
            "NFVO_TEST_OPENSTACK_AMQP_URL": RABBIT.replace("rabbit://", "amqp://", 1)
            + f"/nfvo_os_{self.suffix}",
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--computes", type=int, default=4)
    args = parser.parse_args()
    t0 = time.monotonic()
    venv = ensure_venv()
    t1 = time.monotonic()
    root = args.dir or Path(tempfile.mkdtemp(prefix="nfvo-openstack-"))
    up = BringUp(root.resolve(), venv, args.computes)
    log(f"bringing up in {up.root}")
    up.write_configs()
    up.prepare_backends()
    up.save()
    up.start_placement()
    up.sync_nova()
    up.start_nova()
    up.configure_cloud()
    env = up.env()
    text = "".join(f"export {k}={v}\n" for k, v in env.items())
    (up.root / "env").write_text(text)
    log(f"ready: install {t1 - t0:.1f}s, bring-up {time.monotonic() - t1:.1f}s")
    print(text, end="")


if __name__ == "__main__":
    main()
