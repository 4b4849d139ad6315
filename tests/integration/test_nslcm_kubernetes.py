"""The sample NS as a CNF on a Kubernetes VIM (the loopback fake API server): instantiate
creates Deployments in a namespace per NS with the VDUs' resources; terminate deletes the
namespace."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.support.fake_kube import FakeKube
from tests.support.live import LiveApi, wait_for, wait_op

from nfvo.samples import NSD_WEBAPP_ID, build_sample

NS = "/nslcm/v2/ns_instances"


@pytest.fixture
def kube() -> Iterator[FakeKube]:
    fake = FakeKube().start()
    try:
        yield fake
    finally:
        fake.stop()


def test_cnf_on_kubernetes(live: LiveApi, kube: FakeKube) -> None:
    c = live.client
    for name in ("vnf-web", "vnf-db", "ns-webapp"):
        live.onboard("nsd" if name.startswith("ns") else "vnf", build_sample(name))
    r = c.post(
        "/admin/v1/vim_accounts",
        json={
            "name": "k8s",
            "vim_type": "kubernetes",
            "vim_url": kube.url,
            "vim_password": kube.token,
            "config": {"images": ["web-img", "db-img", "busybox"], "default_image": "busybox"},
        },
    )
    assert r.status_code == 201, r.text
    vim = wait_for(
        c, f"/admin/v1/vim_accounts/{r.json()['id']}", "operationalState", ("PROCESSING",)
    )
    assert vim["_admin"]["operationalState"] == "ENABLED", vim
    res = c.get(f"/admin/v1/vim_accounts/{vim['id']}/resources").json()
    assert res["hosts"] and all(h["capacity"]["vcpus"] > 0 for h in res["hosts"])
    ns = c.post(NS, json={"nsdId": NSD_WEBAPP_ID, "nsName": "cnf"}).json()
    r = c.post(
        f"{NS}/{ns['id']}/instantiate",
        json={"nsFlavourId": "default", "additionalParamsForNs": {"vimAccountId": vim["id"]}},
    )
    op = wait_op(c, r.headers["location"])
    assert op["operationState"] == "COMPLETED", op
    namespace = f"nfvo-{ns['id']}"
    deployments = kube.objects("deployments", namespace)
    vnfcs = [
        v
        for vnf in c.get(f"{NS}/{ns['id']}").json()["vnfInstance"]
        for v in vnf["instantiatedVnfInfo"]["vnfcResourceInfo"]
    ]
    assert len(deployments) == len(vnfcs) >= 3
    # SOL005 names the Kubernetes resources, not OpenStack's
    assert {v["computeResource"]["vimLevelResourceType"] for v in vnfcs} == {"Deployment"}
    containers = [d["spec"]["template"]["spec"]["containers"][0] for d in deployments]
    assert {ct["image"] for ct in containers} == {"web-img", "db-img", "busybox"}
    db = next(ct for ct in containers if ct["image"] == "db-img")
    assert db["resources"]["requests"]["cpu"] == "4" and db["resources"]["limits"]["memory"]
    assert kube.objects("services", namespace), "ports on NS virtual links get Services"
    r = c.post(f"{NS}/{ns['id']}/terminate", json={})
    op = wait_op(c, r.headers["location"])
    assert op["operationState"] == "COMPLETED", op
    assert kube.objects("deployments", namespace) == []
    assert namespace not in {n["metadata"]["name"] for n in kube.objects("namespaces")}
