"""The generic VNFM deploying and terminating a VNF on the Kubernetes driver (fake API server)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.support.fake_kube import FakeKube

from nfvo.vim.base import TAG_NS, TAG_VNF, NetworkSpec, SecurityRule, SubnetSpec
from nfvo.vim.kubernetes import KubernetesVim
from nfvo.vim.registry import create_driver, validate_config
from nfvo.vnfm.base import CpSpec, VduSpec, VirtualLinkSpec, VnfDeploymentSpec
from nfvo.vnfm.generic import GenericVnfm

NS, VNF, TOKEN = "ns-7", "vnf-7", "t"
HTTP = SecurityRule(protocol="tcp", port_range_min=80, port_range_max=80)


@pytest.fixture
def setup() -> Iterator[tuple[FakeKube, KubernetesVim]]:
    with FakeKube(token=TOKEN, ready_delay=0.01) as fake:
        driver = create_driver(
            "kubernetes",
            vim_id="k",
            vim_url=fake.url,
            vim_user=None,
            vim_password=TOKEN,
            vim_tenant_name=None,
            config=validate_config("kubernetes", {"images": ["web:1"]}),
            data_dir=None,  # type: ignore[arg-type]
        )
        assert isinstance(driver, KubernetesVim)
        yield fake, driver
        driver.close()


def _spec(ext_id: str) -> VnfDeploymentSpec:
    vdu = VduSpec(
        vdu_id="web",
        name="web",
        count=2,
        vcpus=1,
        ram_mib=1024,
        disk_gib=2,
        image="web:1",
        user_data="#cloud-config\n",
        cps=[CpSpec("web-mgmt", "mgmt", order=0, security_rules=[HTTP]), CpSpec("web-int", "int")],
        zone="zone-b",
    )
    return VnfDeploymentSpec(
        ns_instance_id=NS,
        vnf_instance_id=VNF,
        vnf_profile_id="vnfp",
        vnfd_id="vnfd",
        flavour_id="simple",
        vim_account_id="k",
        internal_vls=[VirtualLinkSpec("int", "10.20.0.0/24")],
        vdus=[vdu],
        ext_networks={"mgmt": ext_id},
        hosts={},
    )


def test_vnf_lifecycle_on_kubernetes(setup: tuple[FakeKube, KubernetesVim]) -> None:
    fake, driver = setup
    ext = driver.create_network(NetworkSpec(f"{NS}/vl/mgmt", "mgmt", tags={TAG_NS: NS}))
    driver.create_subnet(SubnetSpec(f"{NS}/vl/mgmt/s", "mgmt", ext.id, "192.168.7.0/24"))
    vnfm = GenericVnfm(poll_first_s=0.005, poll_max_s=0.02)
    record = vnfm.instantiate(_spec(ext.id), driver)

    assert [v.status for v in record.vnfcs] == ["ACTIVE", "ACTIVE"]
    assert {v.zone for v in record.vnfcs} == {"zone-b"}
    deployments = fake.objects("deployments", f"nfvo-{NS}")
    assert len(deployments) == 2
    # only the ports on the NS-level network (mgmt) are exposed by Services
    services = fake.objects("services", f"nfvo-{NS}")
    assert len(services) == 2 and all(s["spec"]["ports"][0]["port"] == 80 for s in services)

    vnfm.terminate(record, driver)
    assert driver.list_servers({TAG_VNF: VNF}) == [] and driver.list_ports({TAG_VNF: VNF}) == []
    assert fake.objects("services") == [] and fake.objects("pods") == []
    driver.delete_network(ext.id)
    assert [n["metadata"]["name"] for n in fake.objects("namespaces")] == [f"nfvo-{NS}"]
    driver.delete_namespace_for(NS)
    assert fake.objects("namespaces") == []
