"""Loopback stand-ins for Neutron and Glance (and Keystone's project check): the subset that
Nova and nfvo's driver call.

Real Nova (with its fake hypervisor) needs an image service to show the image a server boots
from and a network service to bind the ports a server is given; nfvo's driver needs networks,
subnets, ports with tags, security groups and an image list. This one stdlib-only process
serves them under ``/network``, ``/image`` and ``/identity``, with an in-memory state (images
are created and uploaded as in Glance v2: ``POST`` a ``queued`` record, ``PUT`` its ``file``,
after which size, md5 ``checksum`` and sha512 ``os_hash_value`` are set and it is ``active``)::

    python standin.py --port 9999 --token admin

Requests without the token (or ``<token>:<project>``) are refused with 401 like
keystonemiddleware would.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
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


class Glance:
    """In-memory images with their bytes; starts with ``IMAGES`` (``cirros``)."""

    # what a client may set at create time (Glance refuses other base properties)
    SETTABLE = ("name", "disk_format", "container_format", "min_disk", "min_ram", "visibility",
                "tags", "protected")  # fmt: skip
    DISK_FORMATS = ("ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso",
                    "ploop")  # fmt: skip
    CONTAINER_FORMATS = ("ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.images: dict[str, dict[str, Any]] = {i["id"]: copy.deepcopy(i) for i in IMAGES}
        self.data: dict[str, bytes] = {}

    @staticmethod
    def error(status: int, message: str) -> tuple[int, Any]:
        title = {400: "Bad Request", 403: "Forbidden", 404: "Not Found", 409: "Conflict"}
        return status, {"message": message, "code": f"{status} {title.get(status, '')}"}

    def get(self, image_id: str) -> dict[str, Any] | None:
        return self.images.get(image_id)

    def listing(self, query: dict[str, list[str]]) -> list[dict[str, Any]]:
        names, status = query.get("name"), query.get("status")
        return [
            i
            for i in self.images.values()
            if (not names or i["name"] in names) and (not status or i["status"] in status)
        ]

    def create(self, body: dict[str, Any]) -> tuple[int, Any]:
        unknown = sorted(k for k in body if k in IMAGE_SCHEMA["properties"] and k not in
                         self.SETTABLE)  # fmt: skip
        if unknown:
            return self.error(403, f"Attribute '{unknown[0]}' is read-only.")
        for key, allowed in (
            ("disk_format", self.DISK_FORMATS),
            ("container_format", self.CONTAINER_FORMATS),
        ):
            if body.get(key) is not None and body[key] not in allowed:
                return self.error(400, f"Invalid value '{body[key]}' for {key}")
        stamp = now()
        image = {
            "id": str(uuid.uuid4()),
            "name": body.get("name"),
            "status": "queued",
            "visibility": body.get("visibility", "shared"),
            "disk_format": body.get("disk_format"),
            "container_format": body.get("container_format"),
            "size": None,
            "virtual_size": None,
            "min_disk": int(body.get("min_disk") or 0),
            "min_ram": int(body.get("min_ram") or 0),
            "checksum": None,
            "os_hash_algo": None,
            "os_hash_value": None,
            "protected": bool(body.get("protected", False)),
            "os_hidden": False,
            "tags": list(body.get("tags") or []),
            "created_at": stamp,
            "updated_at": stamp,
            "owner": "nfvo",
        }
        image["self"] = f"/v2/images/{image['id']}"
        image["file"] = f"/v2/images/{image['id']}/file"
        self.images[image["id"]] = image
        return 201, image

    def upload(self, image_id: str, data: bytes) -> tuple[int, Any]:
        image = self.images.get(image_id)
        if image is None:
            return self.error(404, f"No image found with ID {image_id}")
        if image["status"] != "queued":
            return self.error(
                409, f"Image status transition from {image['status']} to saving is not allowed"
            )
        if not image["disk_format"] or not image["container_format"]:
            return self.error(
                400, "Properties disk_format, container_format must be set prior to saving data."
            )
        self.data[image_id] = data
        image.update(
            status="active",
            size=len(data),
            virtual_size=len(data),
            checksum=hashlib.md5(data, usedforsecurity=False).hexdigest(),
            os_hash_algo="sha512",
            os_hash_value=hashlib.sha512(data).hexdigest(),
            updated_at=now(),
        )
        return 204, None

    def delete(self, image_id: str) -> tuple[int, Any]:
        image = self.images.get(image_id)
        if image is None:
            return self.error(404, f"No image found with ID {image_id}")
        if image["protected"]:
            return self.error(403, f"Image {image_id} is protected and cannot be deleted.")
        del self.images[image_id]
        self.data.pop(image_id, None)
        return 204, None


class Handler(BaseHTTPRequestHandler):
    """Routes ``/network/...`` to Neutron and ``/image/...`` to Glance."""

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

    def _body(self) -> bytes:
        """The request body, of a Content-Length or in chunked transfer encoding."""
        if "chunked" in str(self.headers.get("Transfer-Encoding") or "").lower():
            parts = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()  # the CRLF after each chunk
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        raw = self._body()
        if str(self.headers.get("X-Auth-Token") or "").partition(":")[0] != self.server.token:
            self._send(401, {"error": {"code": 401, "message": "Authentication required"}})
            return
        try:
            path = parts.path.rstrip("/")
            query = parse_qs(parts.query)
            if path.startswith("/image"):
                with self.server.glance.lock:
                    status, out = self.image(path[len("/image") :], query, raw)
                if isinstance(out, bytes):
                    self._send_bytes(status, out)
                    return
                self._log(status)
                self._send(status, out)
                return
            body = json.loads(raw) if raw else {}
            if path.startswith("/identity"):
                status, out = self.identity(path[len("/identity") :])
            elif path.startswith("/network"):
                with self.server.neutron.lock:
                    status, out = self.network(path[len("/network") :], query, body)
            else:
                status, out = 404, {"error": {"message": f"no route {path}"}}
        except NeutronError as exc:
            status = exc.status
            out = {"NeutronError": {"type": exc.kind, "message": exc.message, "detail": ""}}
        self._log(status)
        self._send(status, out)

    def _log(self, status: int) -> None:
        if self.server.verbose:
            print(self.command, self.path, status, file=sys.stderr, flush=True)

    def _send_bytes(self, status: int, data: bytes) -> None:
        self._log(status)
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Openstack-Request-Id", "req-" + str(uuid.uuid4()))
        self.end_headers()
        self.wfile.write(data)

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

    def image(self, path: str, query: dict[str, list[str]], raw: bytes) -> tuple[int, Any]:
        """Glance v2: versions, the image schema, list (``?name=``, ``?status=``), create,
        show, delete, and upload / download of an image's ``file``."""
        glance: Glance = self.server.glance
        if path == "":
            link = {"href": self._base() + "/image/v2/", "rel": "self"}
            return 300, {"versions": [{"id": "v2.16", "status": "CURRENT", "links": [link]}]}
        if path == "/v2/schemas/image":
            return 200, IMAGE_SCHEMA
        if path == "/v2/images":
            if self.command == "POST":
                try:
                    body = json.loads(raw) if raw else {}
                except ValueError:
                    return glance.error(400, "Malformed JSON in request body.")
                return glance.create(body if isinstance(body, dict) else {})
            return 200, {"images": glance.listing(query), "schema": "/v2/schemas/images"}
        segs = path.split("/")[1:]  # ["v2", "images", id, "file"?]
        if segs[:2] != ["v2", "images"] or len(segs) not in (3, 4):
            return glance.error(404, f"no route {path}")
        image_id = segs[2]
        if len(segs) == 4 and segs[3] == "file":
            if self.command == "PUT":
                return glance.upload(image_id, raw)
            if self.command == "GET" and image_id in glance.data:
                return 200, glance.data[image_id]
            return glance.error(404 if self.command == "GET" else 405, f"no data for {image_id}")
        if len(segs) == 4:
            return glance.error(404, f"no route {path}")
        if self.command == "DELETE":
            return glance.delete(image_id)
        image = glance.get(image_id)
        if image is None:
            return glance.error(404, f"No image found with ID {image_id}")
        return 200, image

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
    httpd.glance = Glance()  # type: ignore[attr-defined]
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
