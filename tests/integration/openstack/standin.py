"""Loopback stand-ins for Neutron and Glance (and Keystone's project check): the subset that
Nova and nfvo's driver call.

Real Nova (with its fake hypervisor) needs an image service to show the image a server boots
from and a network service to bind the ports a server is given; nfvo's driver needs networks,
subnets, ports with tags, security groups and an image list. This one stdlib-only process
serves them under ``/network``, ``/image`` and ``/identity``, with an in-memory state::

    python standin.py --port 9999 --token admin

Requests without the token (or ``<token>:<project>``) are refused with 401 like
keystonemiddleware would.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import sys
import threading
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

IMAGE_ID = "5c0c9a2e-6f4e-4a57-9a8a-2b1e0c1f0a01"
_NOW = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
IMAGES = [
    {
        "id": IMAGE_ID,
        "name": "cirros",
        "status": "active",
        "visibility": "public",
        "disk_format": "qcow2",
        "container_format": "bare",
        "size": 21430272,
        "min_disk": 0,
        "min_ram": 0,
        "checksum": "c4110030e5f9a7a6e0fe4b8ee5f3a3b1",
        "os_hash_algo": "sha512",
        "os_hash_value": "0" * 128,
        "protected": False,
        "tags": [],
        "created_at": _NOW,
        "updated_at": _NOW,
        "owner": "nfvo",
    }
]
# Nova keeps only the attributes the schema names as base properties.
IMAGE_SCHEMA = {
    "name": "image",
    "properties": {k: {} for k in [*IMAGES[0], "virtual_size", "os_hidden", "self", "file"]},
    "additionalProperties": {"type": "string"},
}
# Query parameters that are not attribute filters.
_NOT_FILTERS = {"fields", "limit", "marker", "sort_key", "sort_dir", "tags", "page_reverse"}


def _mac() -> str:
    raw = uuid.uuid4().hex
    return "fa:16:3e:" + ":".join(raw[i : i + 2] for i in (0, 2, 4))


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class NeutronError(Exception):
    """An error answer in Neutron's shape."""

    def __init__(self, status: int, kind: str, message: str) -> None:
        super().__init__(message)
        self.status, self.kind, self.message = status, kind, message


class Neutron:
    """In-memory networks, subnets, ports, security groups and their rules."""

    COLLECTIONS = {
        "networks": "network",
        "subnets": "subnet",
        "ports": "port",
        "security-groups": "security_group",
        "security-group-rules": "security_group_rule",
    }

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.items: dict[str, dict[str, dict[str, Any]]] = {c: {} for c in self.COLLECTIONS}

    # ------------------------------------------------------------------ internals

    def _get(self, coll: str, rid: str) -> dict[str, Any]:
        item = self.items[coll].get(rid)
        if item is None:
            kind = self.COLLECTIONS[coll].title().replace("_", "") + "NotFound"
            raise NeutronError(404, kind, f"{self.COLLECTIONS[coll]} {rid} could not be found.")
        return item

    def _base(self, body: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": str(uuid.uuid4()),
            "name": body.get("name", ""),
            "description": body.get("description", ""),
            "tags": list(body.get("tags") or []),
            "tenant_id": "nfvo",
            "project_id": "nfvo",
            "created_at": now(),
            "updated_at": now(),
            "revision_number": 1,
        }

    def _allocate(self, net: dict[str, Any], wanted: list[dict[str, Any]]) -> list[dict[str, Any]]:
        used = {ip["ip_address"] for p in self.items["ports"].values() for ip in p["fixed_ips"]}
        out = []
        subnets = [self.items["subnets"][s] for s in net["subnets"]]
        if wanted:
            for want in wanted:
                addr = ipaddress.ip_address(want["ip_address"])
                sub = next((s for s in subnets if addr in ipaddress.ip_network(s["cidr"])), None)
                if sub is None:
                    raise NeutronError(400, "InvalidIpForNetwork", f"{addr} is in no subnet")
                if str(addr) in used:
                    raise NeutronError(409, "IpAddressInUse", f"{addr} is already allocated")
                out.append({"subnet_id": sub["id"], "ip_address": str(addr)})
            return out
        for sub in subnets[:1]:
            for host in ipaddress.ip_network(sub["cidr"]).hosts():
                if str(host) not in used and str(host) != sub["gateway_ip"]:
                    out.append({"subnet_id": sub["id"], "ip_address": str(host)})
                    break
        return out

    # ------------------------------------------------------------------ create

    def create(self, coll: str, body: dict[str, Any]) -> dict[str, Any]:
        item = self._base(body)
        if coll == "networks":
            item.update(
                status="ACTIVE",
                subnets=[],
                admin_state_up=True,
                shared=False,
                mtu=body.get("mtu", 1450),
                port_security_enabled=True,
                **{"router:external": bool(body.get("router:external"))},
            )
        elif coll == "subnets":
            net = self._get("networks", body.get("network_id", ""))
            try:
                cidr = ipaddress.ip_network(body["cidr"], strict=False)
            except (KeyError, ValueError) as exc:
                raise NeutronError(400, "InvalidInput", f"Invalid input: cidr {exc}") from exc
            gateway = body.get("gateway_ip") or str(next(cidr.hosts()))
            item.update(
                network_id=net["id"],
                cidr=str(cidr),
                ip_version=cidr.version,
                gateway_ip=gateway,
                enable_dhcp=body.get("enable_dhcp", True),
                allocation_pools=[],
                dns_nameservers=[],
                host_routes=[],
            )
            net["subnets"].append(item["id"])
        elif coll == "ports":
            net = self._get("networks", body.get("network_id", ""))
            item.update(
                network_id=net["id"],
                status="DOWN",
                admin_state_up=True,
                mac_address=_mac(),
                fixed_ips=self._allocate(net, body.get("fixed_ips") or []),
                device_id=body.get("device_id", ""),
                device_owner=body.get("device_owner", ""),
                security_groups=list(body.get("security_groups") or []),
                port_security_enabled=True,
                allowed_address_pairs=[],
                extra_dhcp_opts=[],
                **{
                    "binding:host_id": "",
                    "binding:vif_type": "unbound",
                    "binding:vnic_type": "normal",
                    "binding:vif_details": {},
                    "binding:profile": {},
                },
            )
        elif coll == "security-groups":
            item["security_group_rules"] = []
        elif coll == "security-group-rules":
            group = self._get("security-groups", body.get("security_group_id", ""))
            keys = (
                "security_group_id",
                "direction",
                "ethertype",
                "protocol",
                "port_range_min",
                "port_range_max",
                "remote_ip_prefix",
            )
            item.update({k: body.get(k) for k in keys})
            group["security_group_rules"].append(item)
        self.items[coll][item["id"]] = item
        return item

    # ------------------------------------------------------------------ update / delete

    def update(self, coll: str, rid: str, body: dict[str, Any]) -> dict[str, Any]:
        item = self._get(coll, rid)
        item.update({k: v for k, v in body.items() if k not in ("id", "fixed_ips")})
        if coll == "ports":
            bound = bool(item.get("device_id")) and bool(item.get("binding:host_id"))
            item["status"] = "ACTIVE" if bound else "DOWN"
            item["binding:vif_type"] = "ovs" if item.get("binding:host_id") else "unbound"
            if not item.get("device_id"):
                item["device_owner"] = ""
        item["updated_at"] = now()
        item["revision_number"] += 1
        return item

    def delete(self, coll: str, rid: str) -> None:
        item = self._get(coll, rid)
        if coll == "networks" and any(p["network_id"] == rid for p in self.items["ports"].values()):
            msg = f"Unable to complete operation on network {rid}: ports still use it."
            raise NeutronError(409, "NetworkInUse", msg)
        if coll == "subnets":
            if any(
                ip["subnet_id"] == rid
                for p in self.items["ports"].values()
                for ip in p["fixed_ips"]
            ):
                msg = f"Unable to complete operation on subnet {rid}: ports have IPs from it."
                raise NeutronError(409, "SubnetInUse", msg)
            self.items["networks"][item["network_id"]]["subnets"].remove(rid)
        if coll == "networks":
            for sid in list(item["subnets"]):
                self.items["subnets"].pop(sid, None)
        if coll == "security-group-rules":
            group = self.items["security-groups"].get(item["security_group_id"])
            if group:
                group["security_group_rules"] = [
                    r for r in group["security_group_rules"] if r["id"] != rid
                ]
        del self.items[coll][rid]

    def listing(self, coll: str, query: dict[str, list[str]]) -> list[dict[str, Any]]:
        wanted_tags = {t for v in query.get("tags", []) for t in v.split(",") if t}
        out = []
        for item in self.items[coll].values():
            if not wanted_tags <= set(item.get("tags") or []):
                continue
            if all(
                str(item[k]) in v for k, v in query.items() if k not in _NOT_FILTERS and k in item
            ):
                out.append(item)
        return out


class Handler(BaseHTTPRequestHandler):
    """Routes ``/network/...`` to Neutron and ``/image/...`` to the Glance images."""

    server: Any
    protocol_version = "HTTP/1.1"

    def _send(self, status: int, body: Any) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Openstack-Request-Id", "req-" + str(uuid.uuid4()))
        self.end_headers()
        self.wfile.write(data)

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if str(self.headers.get("X-Auth-Token") or "").partition(":")[0] != self.server.token:
            self._send(401, {"error": {"code": 401, "message": "Authentication required"}})
            return
        try:
            body = json.loads(raw) if raw else {}
            path = parts.path.rstrip("/")
            query = parse_qs(parts.query)
            if path.startswith("/identity"):
                status, out = self.identity(path[len("/identity") :])
            elif path.startswith("/image"):
                status, out = self.image(path[len("/image") :], query)
            elif path.startswith("/network"):
                with self.server.neutron.lock:
                    status, out = self.network(path[len("/network") :], query, body)
            else:
                status, out = 404, {"error": {"message": f"no route {path}"}}
        except NeutronError as exc:
            status = exc.status
            out = {"NeutronError": {"type": exc.kind, "message": exc.message, "detail": ""}}
        if self.server.verbose:
            print(self.command, self.path, status, file=sys.stderr, flush=True)
        self._send(status, out)

    do_GET = do_POST = do_PUT = do_DELETE = _handle

    def log_message(self, *args: Any) -> None:
        pass

    def _base(self) -> str:
        return f"http://{self.headers.get('Host')}"

    def identity(self, path: str) -> tuple[int, Any]:
        """Keystone's version document and project show: Nova checks a project exists before
        it sets the project's quotas."""
        if path in ("", "/v3"):
            link = {"href": self._base() + "/identity/v3/", "rel": "self"}
            return 200, {"version": {"id": "v3.14", "status": "stable", "links": [link]}}
        if path.startswith("/v3/projects/"):
            pid = path.rsplit("/", 1)[1]
            return 200, {"project": {"id": pid, "name": pid, "domain_id": "default"}}
        return 404, {"error": {"code": 404, "message": f"no route {path}"}}

    def image(self, path: str, query: dict[str, list[str]]) -> tuple[int, Any]:
        if path == "":
            link = {"href": self._base() + "/image/v2/", "rel": "self"}
            return 300, {"versions": [{"id": "v2.16", "status": "CURRENT", "links": [link]}]}
        if path == "/v2/schemas/image":
            return 200, IMAGE_SCHEMA
        if path == "/v2/images":
            names = query.get("name")
            return 200, {"images": [i for i in IMAGES if not names or i["name"] in names]}
        for image in IMAGES:
            if path == f"/v2/images/{image['id']}":
                return 200, image
        return 404, {"message": "image not found", "code": "404 Not Found"}

    def network(self, path: str, query: dict[str, list[str]], body: Any) -> tuple[int, Any]:
        neutron: Neutron = self.server.neutron
        if path == "":
            link = {"href": self._base() + "/network/v2.0/", "rel": "self"}
            return 200, {"versions": [{"id": "v2.0", "status": "CURRENT", "links": [link]}]}
        segs = path.split("/")[1:]  # ["v2.0", coll, id?, "tags"?]
        if segs[:1] != ["v2.0"] or len(segs) < 2:
            return 404, {"NeutronError": {"type": "HTTPNotFound", "message": path}}
        coll = segs[1].removesuffix(".json")
        if coll == "extensions":
            return 200, {"extensions": []}
        if coll == "quotas":
            return 200, {"quota": {"network": -1, "subnet": -1, "port": -1}}
        if coll not in neutron.COLLECTIONS:
            return (200, {coll.replace("-", "_"): []}) if len(segs) == 2 else (404, None)
        single = neutron.COLLECTIONS[coll]
        if len(segs) == 2 and self.command == "GET":
            return 200, {coll.replace("-", "_"): neutron.listing(coll, query)}
        if len(segs) == 2 and self.command == "POST":
            return 201, {single: neutron.create(coll, body.get(single) or {})}
        rid = segs[2]
        if self.command == "GET":
            return 200, {single: neutron._get(coll, rid)}
        if self.command == "PUT":
            return 200, {single: neutron.update(coll, rid, body.get(single) or {})}
        if self.command == "DELETE":
            neutron.delete(coll, rid)
            return 204, None
        return 405, None


def serve(port: int, token: str, verbose: bool = False) -> ThreadingHTTPServer:
    """Start the stand-in on 127.0.0.1:``port`` (0: a free port) in a background thread."""
    httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    httpd.daemon_threads = True
    httpd.neutron = Neutron()  # type: ignore[attr-defined]
    httpd.token = token  # type: ignore[attr-defined]
    httpd.verbose = verbose  # type: ignore[attr-defined]
    threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True).start()
    return httpd


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    httpd = serve(args.port, args.token, args.verbose)
    print(f"stand-in on http://127.0.0.1:{httpd.server_address[1]}", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
