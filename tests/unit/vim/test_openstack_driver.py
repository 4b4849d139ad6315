"""OpenStack driver against a loopback HTTP stand-in that answers canned JSON.

Covers what needs no real cloud: Keystone password auth and the catalog, admin-token auth,
the mapping of every error status onto the typed tree with the VIM's request id, flavor
matching, the Nova request body (tags, metadata, host hint, user data) and idempotent lookups.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from nfvo.vim.base import (
    TAG_KEY,
    Flavor,
    NetworkSpec,
    ServerSpec,
    VimAuthError,
    VimBadRequest,
    VimCapacityExceeded,
    VimConfigError,
    VimConflict,
    VimError,
    VimNotFound,
    VimQuotaExceeded,
    VimTimeout,
    VimUnavailable,
)
from nfvo.vim.os.driver import OpenStackVim, pick_flavor
from nfvo.vim.registry import create_driver, validate_config

Handler = Callable[[str, str, dict[str, list[str]], Any], tuple[int, Any, dict[str, str]]]


class Canned:
    """A loopback server: routes ``(method, path)`` to a handler; records every request."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Handler] = {}
        self.requests: list[tuple[str, str, dict[str, str], Any]] = []
        canned = self

        class H(BaseHTTPRequestHandler):
            def _do(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                canned.requests.append((self.command, parts.path, dict(self.headers), body))
                handler = canned.routes.get((self.command, parts.path))
                if handler is None:
                    status, out, headers = 404, {"itemNotFound": {"message": "no route"}}, {}
                else:
                    status, out, headers = handler(
                        self.command, parts.path, parse_qs(parts.query), body
                    )
                data = json.dumps(out).encode() if out is not None else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _do

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True).start()

    def on(self, method: str, path: str, status: int = 200, body: Any = None, **headers: str):
        self.routes[(method, path)] = lambda *_: (status, body, dict(headers))

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def cloud() -> Iterator[Canned]:
    server = Canned()
    yield server
    server.close()


def token_driver(cloud: Canned, **config: Any) -> OpenStackVim:
    cfg = {
        "auth_type": "admin_token",
        "endpoint_override": {
            "compute": cloud.url + "/compute/v2.1",
            "network": cloud.url + "/network",
            "image": cloud.url + "/image",
            "placement": cloud.url + "/placement",
        },
        "request_timeout": 2,
        "build_timeout": 2,
        **config,
    }
    return create_driver(  # type: ignore[return-value]
        "openstack",
        vim_id="os-1",
        vim_url=cloud.url + "/compute/v2.1",
        vim_user=None,
        vim_password="secret-token",
        vim_tenant_name=None,
        config=validate_config("openstack", cfg),
        data_dir=None,  # type: ignore[arg-type]
    )


FLAVORS = [
    {"id": "1", "name": "m1.tiny", "vcpus": 1, "ram": 512, "disk": 1},
    {"id": "2", "name": "m1.small", "vcpus": 1, "ram": 2048, "disk": 20},
    {"id": "3", "name": "m1.medium", "vcpus": 2, "ram": 4096, "disk": 40},
    {"id": "4", "name": "m1.large", "vcpus": 4, "ram": 8192, "disk": 80},
]


# ------------------------------------------------------------------ config / registry


def test_config_is_validated_naming_the_field() -> None:
    out = validate_config("openstack", {"region_name": "r1", "verify": False})
    assert out["region_name"] == "r1" and out["verify"] is False
    assert out["auth_type"] == "password" and out["user_domain_name"] == "Default"
    cases = [
        ({"interface": "private"}, "config.interface"),
        ({"verify": "yes"}, "config.verify"),
        ({"region": "r1"}, "config.region"),
        ({"endpoint_override": {"dns": "http://x"}}, "config.endpoint_override.dns"),
        ({"endpoint_override": {"compute": "ftp://x"}}, "config.endpoint_override.compute"),
        ({"application_credential_id": "a"}, "config.application_credential_secret"),
        ({"auth_type": "admin_token"}, "config.endpoint_override"),
        ({"request_timeout": 0}, "config.request_timeout"),
    ]
    for config, field in cases:
        with pytest.raises(VimConfigError) as info:
            validate_config("openstack", config)
        assert info.value.field == field, (config, info.value)


def test_application_credential_selects_its_auth_type() -> None:
    cfg = {"application_credential_id": "id", "application_credential_secret": "s"}
    assert validate_config("openstack", cfg)["auth_type"] == "v3applicationcredential"


def test_notifications_settings_pass_through() -> None:
    cfg = {"notifications": {"amqp_url": "amqp://guest@127.0.0.1//"}}
    assert validate_config("openstack", cfg)["notifications"] == cfg["notifications"]


# ------------------------------------------------------------------ flavors


def test_pick_flavor_is_the_smallest_that_fits() -> None:
    flavors = [Flavor(f["id"], f["name"], f["vcpus"], f["ram"], f["disk"]) for f in FLAVORS]
    assert pick_flavor(flavors, 1, 512, 1).name == "m1.tiny"  # type: ignore[union-attr]
    assert pick_flavor(flavors, 1, 1024, 0).name == "m1.small"  # type: ignore[union-attr]
    assert pick_flavor(flavors, 2, 512, 50).name == "m1.large"  # type: ignore[union-attr]
    assert pick_flavor(flavors, 8, 512, 1) is None


# ------------------------------------------------------------------ auth


def keystone(cloud: Canned, password: str) -> None:
    catalog = [
        {
            "type": t,
            "name": t,
            "endpoints": [{"interface": "public", "region": "r1", "url": cloud.url + path}],
        }
        for t, path in (("compute", "/compute/v2.1"), ("network", "/network"))
    ]

    def tokens(_m: str, _p: str, _q: Any, body: Any) -> tuple[int, Any, dict[str, str]]:
        given = body["auth"]["identity"]["password"]["user"]["password"]
        if given != password:
            refusal = {"error": {"code": 401, "message": "requires authentication"}}
            return 401, refusal, {"x-openstack-request-id": "req-ks-1"}
        token = {
            "expires_at": "2099-01-01T00:00:00.000000Z",
            "project": {"id": "p1", "name": "demo", "domain": {"id": "default"}},
            "user": {"id": "u1", "name": "nfvo", "domain": {"id": "default"}},
            "catalog": catalog,
            "roles": [{"id": "r", "name": "member"}],
        }
        return 201, {"token": token}, {"X-Subject-Token": "tok-1"}

    cloud.routes[("POST", "/identity/v3/auth/tokens")] = tokens
    version = {
        "id": "v3.14",
        "status": "stable",
        "links": [{"rel": "self", "href": cloud.url + "/identity/v3/"}],
        "media-types": [
            {"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}
        ],
    }
    cloud.on("GET", "/identity/v3", body={"version": version})
    cloud.on("GET", "/identity/v3/", body={"version": version})
    cloud.on("GET", "/compute/v2.1/", body={"version": {"id": "v2.1", "version": "2.96"}})


def password_driver(cloud: Canned, password: str) -> OpenStackVim:
    return OpenStackVim(
        vim_id="os-2",
        config={"region_name": "r1", "request_timeout": 2},
        vim_url=cloud.url + "/identity/v3",
        vim_user="nfvo",
        vim_password=password,
        vim_tenant_name="demo",
    )


def test_password_auth_uses_the_catalog_and_sends_the_token(cloud: Canned) -> None:
    keystone(cloud, "right")
    facts = password_driver(cloud, "right").check()
    assert facts["compute_max_microversion"] == "2.96"
    assert facts["compute_endpoint"] == cloud.url + "/compute/v2.1"
    method, path, headers, _ = cloud.requests[-1]
    assert (method, path) == ("GET", "/compute/v2.1/")
    assert headers["X-Auth-Token"] == "tok-1"
    assert headers["OpenStack-API-Version"] == "compute 2.74"


def test_wrong_password_is_an_auth_error(cloud: Canned) -> None:
    keystone(cloud, "right")
    with pytest.raises(VimAuthError) as info:
        password_driver(cloud, "wrong").check()
    assert not info.value.retryable


def test_admin_token_auth_sends_the_token(cloud: Canned) -> None:
    cloud.on("GET", "/compute/v2.1/", body={"version": {"id": "v2.1", "version": "2.96"}})
    assert token_driver(cloud).check()["compute_version"] == "v2.1"
    assert cloud.requests[-1][2]["X-Auth-Token"] == "secret-token"
    assert cloud.requests[-1][2]["X-OpenStack-Request-ID"].startswith("req-")


# ------------------------------------------------------------------ error mapping

ERRORS = [
    (400, {"badRequest": {"message": "Invalid input", "code": 400}}, VimBadRequest),
    (401, {"error": {"message": "Unauthorized"}}, VimAuthError),
    (403, {"forbidden": {"message": "Policy does not allow"}}, VimAuthError),
    (403, {"forbidden": {"message": "Quota exceeded for instances"}}, VimQuotaExceeded),
    (404, {"itemNotFound": {"message": "Server x could not be found."}}, VimNotFound),
    (409, {"NeutronError": {"type": "NetworkInUse", "message": "Network in use"}}, VimConflict),
    (409, {"NeutronError": {"type": "OverQuota", "message": "Quota exceeded"}}, VimQuotaExceeded),
    (413, {"overLimit": {"message": "too many"}}, VimQuotaExceeded),
    (500, {"computeFault": {"message": "Unexpected API Error"}}, VimUnavailable),
    (503, {"errors": [{"detail": "placement down"}]}, VimUnavailable),
    (504, None, VimTimeout),
]


@pytest.mark.parametrize(("status", "body", "cls"), ERRORS)
def test_error_status_maps_onto_the_typed_tree(
    cloud: Canned, status: int, body: Any, cls: type[VimError]
) -> None:
    cloud.on("GET", "/compute/v2.1/servers/s1", status, body, **{"x-compute-request-id": "req-n1"})
    with pytest.raises(VimError) as info:
        token_driver(cloud).get_server("s1")
    err = info.value
    assert type(err) is cls
    assert err.request_id == "req-n1"
    assert err.to_dict()["vimRequestId"] == "req-n1"
    if body:
        words = json.dumps(body)
        assert err.vim_message and err.vim_message in words
    assert err.retryable is (cls in (VimUnavailable, VimTimeout))


def test_unreachable_vim_is_unavailable_with_our_request_id() -> None:
    driver = OpenStackVim(
        vim_id="x",
        config={
            "auth_type": "admin_token",
            "endpoint_override": {"compute": "http://127.0.0.1:9", "network": "http://127.0.0.1:9"},
        },
        vim_url="http://127.0.0.1:9",
        vim_user=None,
        vim_password="t",
        vim_tenant_name=None,
    )
    with pytest.raises(VimUnavailable) as info:
        driver.list_zones()
    assert info.value.retryable and str(info.value.request_id).startswith("req-")


def test_slow_vim_is_a_timeout(cloud: Canned) -> None:
    import time

    def slow(*_: Any) -> tuple[int, Any, dict[str, str]]:
        time.sleep(1.5)
        return 200, {"availabilityZoneInfo": []}, {}

    cloud.routes[("GET", "/compute/v2.1/os-availability-zone")] = slow
    with pytest.raises(VimTimeout) as info:
        token_driver(cloud, request_timeout=0.3).list_zones()
    assert info.value.request_id


# ------------------------------------------------------------------ servers


def server_body(**changes: Any) -> dict[str, Any]:
    body = {
        "id": "s1",
        "name": "vdu",
        "status": "ACTIVE",
        "OS-EXT-SRV-ATTR:host": "cmp1",
        "OS-EXT-AZ:availability_zone": "az1",
        "flavor": {"vcpus": 1, "ram": 2048, "disk": 20, "original_name": "m1.small"},
        "metadata": {TAG_KEY: "k1", "nfvo.ns": "ns1"},
        "tags": [f"{TAG_KEY}=k1", "nfvo.ns=ns1"],
        "addresses": {"net": [{"addr": "10.0.0.5"}]},
    }
    return {**body, **changes}


def test_create_server_body_and_flavor_matching(cloud: Canned) -> None:
    cloud.on("GET", "/compute/v2.1/servers/detail", body={"servers": []})
    cloud.on("GET", "/compute/v2.1/flavors/detail", body={"flavors": FLAVORS})
    cloud.on("GET", "/image/v2/images", body={"images": [{"id": "img-1", "name": "cirros"}]})
    cloud.on("POST", "/compute/v2.1/servers", 202, {"server": {"id": "s1"}})
    cloud.on("GET", "/compute/v2.1/servers/s1", body={"server": server_body()})
    spec = ServerSpec(
        key="k1", name="vdu", image="cirros", vcpus=1, ram_mib=1024, disk_gib=10,
        user_data="#cloud-config\n", zone="az1", host="cmp1", tags={"nfvo.ns": "ns1"},
    )  # fmt: skip
    server = token_driver(cloud).create_server(spec)
    assert (server.id, server.host, server.zone, server.flavor) == ("s1", "cmp1", "az1", "m1.small")
    assert server.tags == {TAG_KEY: "k1", "nfvo.ns": "ns1"} and server.addresses == ["10.0.0.5"]
    posted = next(b for m, p, _, b in cloud.requests if m == "POST")["server"]
    assert posted["flavorRef"] == "2" and posted["imageRef"] == "img-1"
    assert posted["host"] == "cmp1" and posted["availability_zone"] == "az1"
    assert posted["user_data"] == "I2Nsb3VkLWNvbmZpZwo="
    assert posted["metadata"][TAG_KEY] == "k1" and f"{TAG_KEY}=k1" in posted["tags"]
    assert posted["networks"] == "none"


def test_zone_host_hint_form(cloud: Canned) -> None:
    cloud.on("GET", "/compute/v2.1/servers/detail", body={"servers": []})
    cloud.on("GET", "/compute/v2.1/flavors/detail", body={"flavors": FLAVORS})
    cloud.on("POST", "/compute/v2.1/servers", 202, {"server": {"id": "s1"}})
    cloud.on("GET", "/compute/v2.1/servers/s1", body={"server": server_body()})
    cloud.on("GET", "/image/v2/images", body={"images": [{"id": "img-1", "name": "cirros"}]})
    driver = token_driver(cloud, host_hint="zone")
    spec = ServerSpec(key="k1", name="v", image="cirros", flavor="m1.tiny", zone="az1", host="cmp1")
    driver.create_server(spec)
    posted = next(b for m, p, _, b in cloud.requests if m == "POST")["server"]
    assert posted["availability_zone"] == "az1:cmp1" and "host" not in posted


def test_a_server_without_image_boots_the_default_image_or_is_refused(cloud: Canned) -> None:
    cloud.on("GET", "/compute/v2.1/servers/detail", body={"servers": []})
    cloud.on("GET", "/compute/v2.1/flavors/detail", body={"flavors": FLAVORS})
    cloud.on("GET", "/image/v2/images", body={"images": [{"id": "img-1", "name": "cirros"}]})
    cloud.on("POST", "/compute/v2.1/servers", 202, {"server": {"id": "s1"}})
    cloud.on("GET", "/compute/v2.1/servers/s1", body={"server": server_body()})
    spec = ServerSpec(key="k1", name="v", flavor="m1.tiny")
    with pytest.raises(VimBadRequest, match="default_image"):
        token_driver(cloud).create_server(spec)
    assert not [r for r in cloud.requests if r[0] == "POST"]
    token_driver(cloud, default_image="cirros").create_server(spec)
    posted = next(b for m, p, _, b in cloud.requests if m == "POST")["server"]
    assert posted["imageRef"] == "img-1"


def test_create_server_is_idempotent_on_the_key(cloud: Canned) -> None:
    cloud.on("GET", "/compute/v2.1/servers/detail", body={"servers": [server_body()]})
    server = token_driver(cloud).create_server(ServerSpec(key="k1", name="vdu", flavor="m1.tiny"))
    assert server.id == "s1"
    assert not [r for r in cloud.requests if r[0] == "POST"]
    query = [r for r in cloud.requests if r[1].endswith("/servers/detail")]
    assert query


def test_unknown_flavor_or_image_is_bad_request(cloud: Canned) -> None:
    cloud.on("GET", "/compute/v2.1/servers/detail", body={"servers": []})
    cloud.on("GET", "/compute/v2.1/flavors/detail", body={"flavors": FLAVORS})
    cloud.on("GET", "/image/v2/images", body={"images": []})
    driver = token_driver(cloud)
    with pytest.raises(VimBadRequest, match="flavor 'xl'"):
        driver.create_server(ServerSpec(key="k", name="v", flavor="xl"))
    with pytest.raises(VimBadRequest, match="no flavor has 16 vCPU"):
        driver.create_server(ServerSpec(key="k", name="v", vcpus=16, ram_mib=1, disk_gib=1))
    with pytest.raises(VimBadRequest, match="image 'nope'"):
        driver.create_server(ServerSpec(key="k", name="v", flavor="m1.tiny", image="nope"))


def test_no_valid_host_is_capacity_and_the_server_is_deleted(cloud: Canned) -> None:
    cloud.on("GET", "/compute/v2.1/servers/detail", body={"servers": []})
    cloud.on("GET", "/compute/v2.1/flavors/detail", body={"flavors": FLAVORS})
    cloud.on("POST", "/compute/v2.1/servers", 202, {"server": {"id": "s1"}})
    fault = {"message": "No valid host was found. There are not enough hosts available."}
    failed = server_body(status="ERROR", fault=fault, **{"OS-EXT-SRV-ATTR:host": None})
    deletable(cloud, "s1", failed)
    cloud.on("GET", "/image/v2/images", body={"images": [{"id": "img-1", "name": "cirros"}]})
    spec = ServerSpec(key="k", name="v", image="cirros", flavor="m1.tiny")
    with pytest.raises(VimCapacityExceeded, match="No valid host"):
        token_driver(cloud).create_server(spec)
    assert ("DELETE", "/compute/v2.1/servers/s1") in [(r[0], r[1]) for r in cloud.requests]


def deletable(cloud: Canned, server_id: str, body: dict[str, Any], reads_after: int = 0) -> None:
    """Nova's asynchronous delete: GET shows the server ``reads_after`` more times after the
    DELETE (task_state deleting), then 404."""
    path = f"/compute/v2.1/servers/{server_id}"
    left = [reads_after]

    def show(*_: Any) -> tuple[int, Any, dict[str, str]]:
        if not any(r[0] == "DELETE" and r[1] == path for r in cloud.requests):
            return 200, {"server": body}, {}
        if left[0] > 0:
            left[0] -= 1
            return 200, {"server": {**body, "OS-EXT-STS:task_state": "deleting"}}, {}
        return 404, {"itemNotFound": {"message": f"Instance {server_id} could not be found."}}, {}

    cloud.routes[("GET", path)] = show
    cloud.on("DELETE", path, 204)


def test_delete_server_waits_until_nova_has_deleted_it(cloud: Canned) -> None:
    deletable(cloud, "s1", server_body(), reads_after=3)
    token_driver(cloud).delete_server("s1")
    gets = [r for r in cloud.requests if r[0] == "GET" and r[1].endswith("/servers/s1")]
    assert len(gets) == 4  # three still "deleting", then 404
    cloud.on("GET", "/compute/v2.1/servers/s2", body={"server": server_body(id="s2")})
    cloud.on("DELETE", "/compute/v2.1/servers/s2", 204)
    with pytest.raises(VimTimeout, match="s2 ACTIVE: still there"):
        token_driver(cloud, build_timeout=0.3).delete_server("s2")
    cloud.on("DELETE", "/compute/v2.1/servers/s3", 404, {"itemNotFound": {"message": "no"}})
    token_driver(cloud).delete_server("s3")  # absent is fine


def test_delete_servers_starts_every_delete_before_waiting(cloud: Canned) -> None:
    for sid in ("a", "b", "c"):
        deletable(cloud, sid, server_body(id=sid), reads_after=2)
    token_driver(cloud).delete_servers(["a", "b", "c", "a"])
    calls = [(m, p.rsplit("/", 1)[1]) for m, p, _, _ in cloud.requests if "/servers/" in p]
    deletes = [i for i, (m, _) in enumerate(calls) if m == "DELETE"]
    assert [calls[i][1] for i in deletes] == ["a", "b", "c"]  # each once, all first
    assert deletes == [0, 1, 2]
    gets = [s for m, s in calls if m == "GET"]
    assert sorted(set(gets)) == ["a", "b", "c"] and len(gets) == 9  # 2 x deleting + 404 each


def test_error_before_nova_recorded_the_fault_still_reports_the_fault(cloud: Canned) -> None:
    """Nova sets vm_state ERROR before it writes the fault: the driver re-reads for it."""
    cloud.on("GET", "/compute/v2.1/servers/detail", body={"servers": []})
    cloud.on("GET", "/compute/v2.1/flavors/detail", body={"flavors": FLAVORS})
    cloud.on("GET", "/image/v2/images", body={"images": [{"id": "img-1", "name": "cirros"}]})
    cloud.on("POST", "/compute/v2.1/servers", 202, {"server": {"id": "s1"}})
    cloud.on("DELETE", "/compute/v2.1/servers/s1", 204)
    reads = []
    fault = {"message": "No valid host was found. "}

    def show(*_: Any) -> tuple[int, Any, dict[str, str]]:
        if any(r[0] == "DELETE" for r in cloud.requests):
            return 404, {"itemNotFound": {"message": "gone"}}, {}
        reads.append(1)
        extra = {"fault": fault} if len(reads) > 2 else {}
        body = server_body(status="ERROR", **{"OS-EXT-SRV-ATTR:host": None}, **extra)
        return 200, {"server": body}, {}

    cloud.routes[("GET", "/compute/v2.1/servers/s1")] = show
    spec = ServerSpec(key="k", name="v", image="cirros", flavor="m1.tiny")
    with pytest.raises(VimCapacityExceeded, match="No valid host"):
        token_driver(cloud).create_server(spec)
    assert len(reads) == 3


# ------------------------------------------------------------------ inventory / networks


def test_hosts_come_from_placement_and_zones(cloud: Canned) -> None:
    azs = {"availabilityZoneInfo": [
        {"zoneName": "internal", "zoneState": {"available": True},
         "hosts": {"ctl": {"nova-conductor": {"available": True, "active": True}}}},
        {"zoneName": "az1", "zoneState": {"available": True},
         "hosts": {"cmp1": {"nova-compute": {"available": True, "active": True}},
                   "cmp2": {"nova-compute": {"available": False, "active": True}}}},
    ]}  # fmt: skip
    cloud.on("GET", "/compute/v2.1/os-availability-zone/detail", body=azs)
    cloud.on("GET", "/compute/v2.1/os-availability-zone", body=azs)
    rps = [{"uuid": "u1", "name": "cmp1"}, {"uuid": "u2", "name": "cmp2"}]
    cloud.on("GET", "/placement/resource_providers", body={"resource_providers": rps})
    inv = {
        "VCPU": {"total": 8, "reserved": 0, "allocation_ratio": 4.0},
        "MEMORY_MB": {"total": 16384, "reserved": 512, "allocation_ratio": 1.5},
        "DISK_GB": {"total": 100, "reserved": 0, "allocation_ratio": 1.0},
    }
    for u in ("u1", "u2"):
        base = f"/placement/resource_providers/{u}"
        cloud.on("GET", base + "/inventories", body={"inventories": inv})
        cloud.on("GET", base + "/usages", body={"usages": {"VCPU": 2, "MEMORY_MB": 1024}})
        cloud.on("GET", base + "/allocations", body={"allocations": {"c1": {}, "c2": {}}})
    driver = token_driver(cloud)
    assert [z.name for z in driver.list_zones()] == ["az1"]
    h1, h2 = driver.list_hosts()
    assert (h1.name, h1.zone, h1.state, h2.state) == ("cmp1", "az1", "up", "down")
    assert (h1.vcpus, h1.cpu_allocation_ratio, h1.ram_mib, h1.ram_allocation_ratio) == (
        8, 4.0, 15872, 1.5,
    )  # fmt: skip
    assert (h1.vcpus_used, h1.ram_mib_used, h1.disk_gib_used, h1.servers) == (2, 1024, 0, 2)


def test_a_sleeping_host_disables_its_nova_compute_service(cloud: Canned) -> None:
    def services(_m: str, _p: str, q: Any, _b: Any) -> tuple[int, Any, dict[str, str]]:
        found = [{"id": "svc-1", "host": "cmp1"}] if q.get("host") == ["cmp1"] else []
        return 200, {"services": found}, {}

    cloud.routes[("GET", "/compute/v2.1/os-services")] = services
    cloud.on("PUT", "/compute/v2.1/os-services/svc-1", body={"service": {}})
    driver = token_driver(cloud)
    assert driver.set_host_schedulable("cmp1.example.org", False, "availability window w-1")
    method, path, headers, body = cloud.requests[-1]
    assert (method, path) == ("PUT", "/compute/v2.1/os-services/svc-1")
    assert body == {"status": "disabled", "disabled_reason": "availability window w-1"}
    assert "2.74" in headers["OpenStack-API-Version"]
    assert driver.set_host_schedulable("cmp1", True)
    assert cloud.requests[-1][3] == {"status": "enabled"}
    with pytest.raises(VimNotFound):
        driver.set_host_schedulable("cmp9", False)


def test_network_create_tags_and_idempotency(cloud: Canned) -> None:
    made = {"id": "n1", "name": "net", "tags": [f"{TAG_KEY}=nk", "nfvo.ns=ns1"], "subnets": []}
    lookups: list[dict[str, list[str]]] = []

    def listing(_m: str, _p: str, query: Any, _b: Any) -> tuple[int, Any, dict[str, str]]:
        lookups.append(query)
        return 200, {"networks": [made] if len(lookups) > 1 else []}, {}

    cloud.routes[("GET", "/network/v2.0/networks")] = listing
    cloud.on("POST", "/network/v2.0/networks", 201, {"network": made})
    driver = token_driver(cloud)
    net = driver.create_network(NetworkSpec("nk", "net", tags={"nfvo.ns": "ns1"}))
    assert net.tags == {TAG_KEY: "nk", "nfvo.ns": "ns1"}
    posted = next(b for m, p, _, b in cloud.requests if m == "POST")["network"]
    assert posted["tags"] == [f"{TAG_KEY}=nk", "nfvo.ns=ns1"]
    assert driver.create_network(NetworkSpec("nk", "net")).id == "n1"
    assert len([r for r in cloud.requests if r[0] == "POST"]) == 1
    assert lookups[0]["tags"] == [f"{TAG_KEY}=nk"]
    cloud.on("DELETE", "/network/v2.0/networks/n1", 409,
             {"NeutronError": {"type": "NetworkInUse", "message": "in use"}})  # fmt: skip
    with pytest.raises(VimConflict):
        driver.delete_network("n1")
    driver.delete_network("absent")  # 404 is fine


def test_a_deleted_server_nova_still_shows_is_not_found(cloud: Canned) -> None:
    cloud.on("GET", "/compute/v2.1/servers/s1", body={"server": server_body(status="DELETED")})
    cloud.on(
        "GET", "/compute/v2.1/servers/detail", body={"servers": [server_body(status="DELETED")]}
    )
    driver = token_driver(cloud)
    with pytest.raises(VimNotFound):
        driver.get_server("s1")
    assert driver.list_servers() == []
