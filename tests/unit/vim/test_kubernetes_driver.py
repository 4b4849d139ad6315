"""The Kubernetes driver against the loopback fake API server: the manifests it sends, its
error mapping, idempotency after a lost answer and the namespace of an NS."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from tests.support.fake_kube import FakeKube

from nfvo.vim.base import (
    TAG_KEY,
    TAG_NS,
    TAG_VNF,
    NetworkSpec,
    PortSpec,
    SecurityRule,
    ServerSpec,
    SubnetSpec,
    VimAuthError,
    VimBadRequest,
    VimCapacityExceeded,
    VimConflict,
    VimError,
    VimNotFound,
    VimQuotaExceeded,
    VimTimeout,
    VimUnavailable,
)
from nfvo.vim.kubernetes import KubernetesVim
from nfvo.vim.registry import create_driver, validate_config

TOKEN = "unit-token"
NS = "ns-0001"


def make(fake: FakeKube, **config: Any) -> KubernetesVim:
    driver = create_driver(
        "kubernetes",
        vim_id="k8s-unit",
        vim_url=fake.url,
        vim_user=None,
        vim_password=config.pop("token", TOKEN),
        vim_tenant_name=None,
        config=validate_config("kubernetes", {"images": ["cirros", "vnf/app:1.0"], **config}),
        data_dir=None,  # type: ignore[arg-type]
    )
    assert isinstance(driver, KubernetesVim)
    return driver


@pytest.fixture
def fake() -> Iterator[FakeKube]:
    with FakeKube(token=TOKEN, ready_delay=0.01) as f:
        yield f


@pytest.fixture
def driver(fake: FakeKube) -> Iterator[KubernetesVim]:
    d = make(fake)
    yield d
    d.close()


def posted(fake: FakeKube, pattern: str) -> list[dict[str, Any]]:
    return [r.body for r in fake.sent("POST", pattern)]


def wait_status(d: KubernetesVim, server_id: str, status: str) -> Any:
    deadline = time.monotonic() + 5
    while (s := d.get_server(server_id)).status != status:
        assert time.monotonic() < deadline, f"{server_id} still {s.status}"
        time.sleep(0.01)
    return s


def spec(key: str = "vnfc-1", **changes: Any) -> ServerSpec:
    s = ServerSpec(key=key, name="vdu1-0", image="cirros", flavor="k8s.tiny")
    s.tags = {TAG_NS: NS, TAG_VNF: "vnf-1"}
    for k, v in changes.items():
        setattr(s, k, v)
    return s


# ---------------------------------------------------------------------- manifests


def test_server_manifest_carries_sizes_hints_labels_and_namespace(
    fake: FakeKube, driver: KubernetesVim
) -> None:
    server = driver.create_server(
        spec(flavor=None, vcpus=2, ram_mib=2048, disk_gib=5, zone="zone-b", host="b2")
    )
    assert fake.sent("POST", r"^/api/v1/namespaces$")[0].body["metadata"]["name"] == f"nfvo-{NS}"
    [body] = posted(fake, rf"^/apis/apps/v1/namespaces/nfvo-{NS}/deployments$")
    assert body["kind"] == "Deployment" and body["spec"]["replicas"] == 1
    assert body["spec"]["strategy"] == {"type": "Recreate"}
    pod = body["spec"]["template"]["spec"]
    amounts = {"cpu": "2", "memory": "2048Mi", "ephemeral-storage": "5Gi"}
    assert pod["containers"][0]["resources"] == {"requests": amounts, "limits": amounts}
    assert pod["containers"][0]["image"] == "cirros"
    assert pod["nodeSelector"] == {
        "topology.kubernetes.io/zone": "zone-b",
        "kubernetes.io/hostname": "b2",
    }
    labels = body["metadata"]["labels"]
    assert labels["tag.nfvo.io/nfvo.ns"] == NS and labels["tag.nfvo.io/nfvo.vnf"] == "vnf-1"
    tags = json.loads(body["metadata"]["annotations"]["nfvo.io/tags"])
    assert tags == {TAG_NS: NS, TAG_VNF: "vnf-1", TAG_KEY: "vnfc-1"}
    assert server.id == f"nfvo-{NS}.{body['metadata']['name']}"
    active = wait_status(driver, server.id, "ACTIVE")
    assert (active.host, active.zone, active.vcpus, active.ram_mib) == ("b2", "zone-b", 2, 2048)


def test_unsafe_tag_values_are_hashed_in_labels_and_kept_in_annotations(
    fake: FakeKube, driver: KubernetesVim
) -> None:
    odd = "Ünïcode value with spaces / and a slash that is certainly longer than 63 characters"
    net = driver.create_network(NetworkSpec("k-net", "n", tags={TAG_NS: NS, "owner": odd}))
    [body] = posted(fake, r"/configmaps$")
    label = body["metadata"]["labels"]["tag.nfvo.io/owner"]
    assert label.startswith("h-") and len(label) <= 63
    assert json.loads(body["metadata"]["annotations"]["nfvo.io/tags"])["owner"] == odd
    assert [n.id for n in driver.list_networks({"owner": odd})] == [net.id]
    assert driver.list_networks({"owner": odd + "!"}) == []


def test_user_data_is_a_mounted_configmap(fake: FakeKube, driver: KubernetesVim) -> None:
    driver.create_server(spec(user_data="#cloud-config\nhostname: vdu1\n"))
    [ud] = [b for b in posted(fake, r"/configmaps$") if b["metadata"]["name"].endswith("-ud")]
    assert ud["data"] == {"user-data": "#cloud-config\nhostname: vdu1\n"}
    [body] = posted(fake, r"/deployments$")
    pod = body["spec"]["template"]["spec"]
    assert pod["volumes"] == [{"name": "user-data", "configMap": {"name": ud["metadata"]["name"]}}]
    assert pod["containers"][0]["volumeMounts"][0]["name"] == "user-data"


def test_stateful_tag_makes_a_statefulset(fake: FakeKube, driver: KubernetesVim) -> None:
    s = spec()
    s.tags["nfvo.stateful"] = "true"
    server = driver.create_server(s)
    [body] = posted(fake, r"/statefulsets$")
    assert body["kind"] == "StatefulSet" and not posted(fake, r"/deployments$")
    assert wait_status(driver, server.id, "ACTIVE").host
    driver.stop_server(server.id)
    assert fake.sent("PATCH", r"/statefulsets/.+/scale$")[-1].body == {"spec": {"replicas": 0}}
    driver.delete_server(server.id)
    with pytest.raises(VimNotFound):
        driver.get_server(server.id)


def test_power_and_migration_calls(fake: FakeKube, driver: KubernetesVim) -> None:
    server = wait_status(driver, driver.create_server(spec(zone="zone-a")).id, "ACTIVE")
    assert driver.stop_server(server.id).status == "SHUTOFF"
    assert fake.sent("PATCH", r"/deployments/.+/scale$")[-1].body == {"spec": {"replicas": 0}}
    assert fake.objects("pods", f"nfvo-{NS}") == []
    assert driver.get_server(server.id).host == server.host  # remembered while scaled to 0
    driver.start_server(server.id)
    wait_status(driver, server.id, "ACTIVE")
    assert driver.reboot_server(server.id).status == "REBOOT"
    patch = fake.sent("PATCH", r"/deployments/[^/]+$")[-1].body
    assert (
        "kubectl.kubernetes.io/restartedAt" in patch["spec"]["template"]["metadata"]["annotations"]
    )
    wait_status(driver, server.id, "ACTIVE")
    target = "a2" if server.host == "a1" else "a1"
    assert driver.migrate_server(server.id).status == "MIGRATING"
    patch = fake.sent("PATCH", r"/deployments/[^/]+$")[-1].body
    assert patch["spec"]["template"]["spec"]["nodeSelector"] == {"kubernetes.io/hostname": target}
    assert wait_status(driver, server.id, "ACTIVE").host == target


def test_multus_nad_when_the_crd_is_served() -> None:
    with FakeKube(token=TOKEN, ready_delay=0.01, multus=True) as fake:
        d = make(fake)
        assert d.check()["multus"] is True
        net = d.create_network(NetworkSpec("k-net", "n", tags={TAG_NS: NS}, mtu=1400))
        d.create_subnet(SubnetSpec("k-sub", "s", net.id, "10.7.0.0/24"))
        [nad] = posted(fake, r"/network-attachment-definitions$")
        assert nad["kind"] == "NetworkAttachmentDefinition"
        assert json.loads(nad["spec"]["config"])["mtu"] == 1400
        assert not posted(fake, r"/configmaps$")
        port = d.create_port(PortSpec("k-port", "p", net.id, tags={TAG_NS: NS}))
        d.create_server(spec(ports=[port.id]))
        [body] = posted(fake, r"/deployments$")
        ann = body["spec"]["template"]["metadata"]["annotations"]
        [attach] = json.loads(ann["k8s.v1.cni.cncf.io/networks"])
        assert attach["name"] == net.id.split(".")[1] and attach["namespace"] == f"nfvo-{NS}"
        assert attach["ips"] == [f"{port.ip_addresses[0]}/24"]
        d.close()


def test_configmap_network_without_the_crd(fake: FakeKube, driver: KubernetesVim) -> None:
    assert driver.check()["multus"] is False
    driver.create_network(NetworkSpec("k-net", "n", tags={TAG_NS: NS}))
    [cm] = posted(fake, r"/configmaps$")
    assert cm["kind"] == "ConfigMap" and cm["metadata"]["labels"]["nfvo.io/kind"] == "network"
    assert not fake.sent("POST", r"network-attachment-definitions")


def test_ports_on_ns_level_networks_get_a_service(fake: FakeKube, driver: KubernetesVim) -> None:
    ns_net = driver.create_network(NetworkSpec("k-nsvl", "nsvl", tags={TAG_NS: NS}))
    vnf_net = driver.create_network(NetworkSpec("k-vl", "vl", tags={TAG_NS: NS, TAG_VNF: "v"}))
    for net in (ns_net, vnf_net):
        driver.create_subnet(SubnetSpec(f"s-{net.name}", "s", net.id, "10.9.0.0/24"))
    rule = SecurityRule(protocol="tcp", port_range_min=8080, port_range_max=8080)
    p1 = driver.create_port(PortSpec("p1", "p1", ns_net.id, [rule], tags={TAG_NS: NS}))
    p2 = driver.create_port(PortSpec("p2", "p2", vnf_net.id, tags={TAG_NS: NS}))
    server = driver.create_server(spec(ports=[p1.id, p2.id]))
    [svc] = posted(fake, r"/services$")
    assert svc["spec"]["ports"] == [{"name": "tcp-8080", "protocol": "TCP", "port": 8080}]
    assert svc["spec"]["selector"] == {"nfvo.io/server": server.id.split(".")[1]}
    assert driver.get_port(p1.id).server_id == server.id
    driver.delete_server(server.id)
    assert fake.objects("services") == []
    assert driver.get_port(p1.id).server_id is None


def test_image_pull_failure_is_error_with_the_kubelet_words() -> None:
    with FakeKube(token=TOKEN, ready_delay=0.01, bad_images=("vnf/app:1.0",)) as fake:
        d = make(fake)
        server = d.create_server(spec(image="vnf/app:1.0"))
        failed = wait_status(d, server.id, "ERROR")
        assert failed.fault and "ErrImagePull" in failed.fault


def test_host_usage_counts_pod_requests(fake: FakeKube, driver: KubernetesVim) -> None:
    server = driver.create_server(spec(flavor="k8s.medium", host="a1"))
    a1 = {h.name: h for h in driver.list_hosts()}["a1"]
    assert (a1.vcpus, a1.ram_mib, a1.disk_gib) == (4, 8192, 80)
    assert (a1.vcpus_used, a1.ram_mib_used, a1.disk_gib_used, a1.servers) == (2, 4096, 20, 1)
    assert server.host == "a1"
    with pytest.raises(VimCapacityExceeded):
        driver.create_server(spec("other", flavor="k8s.large", host="a1"))
    with pytest.raises(VimBadRequest):
        driver.create_server(spec("ghost", host="nowhere"))


# ---------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("status", "message", "error"),
    [
        (401, "Unauthorized", VimAuthError),
        (403, 'namespaces is forbidden: User "nfvo" cannot list', VimAuthError),
        (
            403,
            "exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2",
            VimQuotaExceeded,
        ),
        (404, 'deployments.apps "x" not found', VimNotFound),
        (409, "Operation cannot be fulfilled", VimConflict),
        (400, "the body of the request was in an unknown format", VimBadRequest),
        (422, 'Deployment "x" is invalid: spec.replicas', VimBadRequest),
        (500, "etcdserver: leader changed", VimUnavailable),
        (503, "the server is currently unable to handle the request", VimUnavailable),
        (504, "the server was unable to return a response in the time allotted", VimTimeout),
    ],
)
def test_api_status_maps_to_typed_error_with_message_and_audit_id(
    fake: FakeKube, driver: KubernetesVim, status: int, message: str, error: type[VimError]
) -> None:
    fake.fail("GET", r"^/version$", status, message=message)
    with pytest.raises(VimError) as info:
        driver.check()
    err = info.value
    assert type(err) is error
    assert err.vim_message == message and message in str(err)
    assert err.request_id == fake.sent("GET", r"^/version$")[-1].audit_id
    assert err.retryable is (error in (VimUnavailable, VimTimeout))
    assert driver.check()["version"]  # the fault was for one request only


def test_wrong_token_is_auth_error(fake: FakeKube) -> None:
    d = make(fake, token="not-the-token")
    with pytest.raises(VimAuthError) as info:
        d.list_servers()
    assert info.value.vim_message == "Unauthorized" and info.value.request_id
    assert fake.requests[-1].headers["authorization"] == "Bearer not-the-token"


def test_connection_refused_is_unavailable_and_slowness_is_timeout(fake: FakeKube) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    closed = create_driver(
        "kubernetes",
        vim_id="x",
        vim_url=f"http://127.0.0.1:{port}",
        vim_user=None,
        vim_password=TOKEN,
        vim_tenant_name=None,
        config={},
        data_dir=None,  # type: ignore[arg-type]
    )
    with pytest.raises(VimUnavailable) as info:
        closed.check()
    assert info.value.request_id and info.value.retryable
    fake.fail("GET", r"^/version$", delay=0.6)
    with pytest.raises(VimTimeout) as timeout:
        make(fake, request_timeout=0.2).check()
    assert timeout.value.request_id.startswith("nfvo-")
    assert fake.sent("GET", "/version")[-1].headers["x-request-id"] == timeout.value.request_id


def test_quota_refusal_from_admission(fake: FakeKube, driver: KubernetesVim) -> None:
    fake.fail_quota("POST", r"/deployments$")
    with pytest.raises(VimQuotaExceeded) as info:
        driver.create_server(spec())
    assert "exceeded quota" in info.value.vim_message
    assert driver.list_servers() == []
    assert [c for c in fake.objects("configmaps") if c["metadata"]["name"].endswith("-ud")] == []


# ---------------------------------------------------------------------- idempotency


def test_create_retried_after_a_lost_answer_finds_the_first(fake: FakeKube) -> None:
    fake.fail("POST", r"/deployments$", delay=0.6)  # the create happens; its answer is lost
    d = make(fake, request_timeout=0.3)
    with pytest.raises(VimTimeout):
        d.create_server(spec())
    time.sleep(0.4)
    again = d.create_server(spec())
    assert [s.id for s in d.list_servers()] == [again.id]
    assert len(fake.objects("deployments")) == 1


def test_already_exists_answer_reads_the_object_back(fake: FakeKube, driver: KubernetesVim) -> None:
    first = driver.create_server(spec())
    net = driver.create_network(NetworkSpec("k-net", "n", tags={TAG_NS: NS}))
    # the existence probes miss (a stale cache, say), so the POSTs meet AlreadyExists
    fake.fail("GET", r"/deployments/srv-[0-9a-f]+$", 404)
    fake.fail("GET", r"/configmaps/net-[0-9a-f]+$", 404)
    assert driver.create_server(spec()).id == first.id
    assert driver.create_network(NetworkSpec("k-net", "n", tags={TAG_NS: NS})).id == net.id
    assert fake.sent("POST", r"/deployments$")[-1].audit_id
    assert len(fake.objects("deployments")) == 1


def test_a_second_driver_finds_keyed_objects(fake: FakeKube, driver: KubernetesVim) -> None:
    net = driver.create_network(NetworkSpec("k-net", "n", tags={TAG_NS: NS}))
    sub = driver.create_subnet(SubnetSpec("k-sub", "s", net.id, "10.1.0.0/24"))
    port = driver.create_port(PortSpec("k-port", "p", net.id, tags={TAG_NS: NS}))
    other = make(fake)
    assert other.create_network(NetworkSpec("k-net", "n", tags={TAG_NS: NS})).id == net.id
    assert other.create_subnet(SubnetSpec("k-sub", "s", net.id, "10.1.0.0/24")).id == sub.id
    assert other.create_port(PortSpec("k-port", "p", net.id, tags={TAG_NS: NS})).id == port.id
    assert other.get_network(net.id).subnets == [sub.id]


# ---------------------------------------------------------------------- NS namespace


def test_terminate_deletes_the_ns_namespace(fake: FakeKube, driver: KubernetesVim) -> None:
    net = driver.create_network(NetworkSpec("k-net", "n", tags={TAG_NS: NS}))
    sub = driver.create_subnet(SubnetSpec("k-sub", "s", net.id, "10.2.0.0/24"))
    port = driver.create_port(PortSpec("k-port", "p", net.id, tags={TAG_NS: NS}))
    server = driver.create_server(spec(ports=[port.id]))
    with pytest.raises(VimConflict):
        driver.delete_namespace_for(NS)
    for delete, rid in (
        (driver.delete_server, server.id),
        (driver.delete_port, port.id),
        (driver.delete_subnet, sub.id),
        (driver.delete_network, net.id),
    ):
        delete(rid)
    names = [n["metadata"]["name"] for n in fake.objects("namespaces")]
    assert f"nfvo-{NS}" in names  # the last network's delete leaves the namespace
    driver.delete_namespace_for(NS)
    assert fake.sent("DELETE", rf"^/api/v1/namespaces/nfvo-{NS}$")
    assert fake.objects("namespaces") == []
    driver.delete_namespace_for(NS)  # absent is fine
    # and a new NS on the same driver gets its namespace again
    driver.create_network(NetworkSpec("k-net2", "n", tags={TAG_NS: NS}))
    assert [n["metadata"]["name"] for n in fake.objects("namespaces")] == [f"nfvo-{NS}"]


def test_destroy_ns_removes_everything_at_once(fake: FakeKube, driver: KubernetesVim) -> None:
    net = driver.create_network(NetworkSpec("k-net", "n", tags={TAG_NS: NS}))
    driver.create_server(spec())
    driver.create_server(spec("other-ns", tags={TAG_NS: "ns-2"}))
    driver.destroy_ns(NS)
    assert driver.list_servers({TAG_NS: NS}) == [] and driver.list_networks({TAG_NS: NS}) == []
    with pytest.raises(VimNotFound):
        driver.get_network(net.id)
    assert len(driver.list_servers({TAG_NS: "ns-2"})) == 1


def test_a_sleeping_host_is_cordoned_and_uncordoned(fake: FakeKube, driver: KubernetesVim) -> None:
    assert driver.set_host_schedulable("a1", False, "availability window w-1")
    with fake.lock:
        assert fake.store["nodes"][("", "a1")]["spec"]["unschedulable"] is True
    assert driver.set_host_schedulable("a1", True)
    with fake.lock:
        assert fake.store["nodes"][("", "a1")]["spec"]["unschedulable"] is False
    with pytest.raises(VimNotFound):
        driver.set_host_schedulable("nowhere", False)


def test_host_going_down_makes_a_pinned_restart_unschedulable(
    fake: FakeKube, driver: KubernetesVim
) -> None:
    server = wait_status(driver, driver.create_server(spec(host="a1")).id, "ACTIVE")
    driver.stop_server(server.id)
    with fake.lock:
        fake.store["nodes"][("", "a1")]["status"]["conditions"][0]["status"] = "False"
    assert {h.name: h.state for h in driver.list_hosts()}["a1"] == "down"
    assert {z.name: z.available for z in driver.list_zones()} == {"zone-a": True, "zone-b": True}
    driver.start_server(server.id)
    failed = driver.get_server(server.id)
    assert failed.status == "ERROR" and failed.fault and "Unschedulable" in failed.fault
