"""NS virtual-link subnets sized for the ports the NS can put on them (sample packages)."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nfvo.catalog.csar import open_csar
from nfvo.catalog.descriptors import NsFlavour, NsVirtualLink, Vnfd, build_descriptor
from nfvo.lcm.plan import (
    NS_VL_POOL,
    NS_VL_RESERVED,
    NsPlan,
    PlanError,
    ns_vl_cidrs,
    ns_vl_prefix,
    plan_instantiation,
    usable_addresses,
    vdu_max_counts,
)
from nfvo.samples import VNF_DB_ID, VNF_WEB_ID, build_sample

FIELD = "additionalParamsForNs.nsVirtualLinkCidrs"


@pytest.fixture(scope="module")
def descriptors(tmp_path_factory) -> dict:
    out = {}
    for name in ("vnf-web", "vnf-db", "ns-webapp"):
        path: Path = tmp_path_factory.mktemp("csar") / f"{name}.zip"
        path.write_bytes(build_sample(name))
        csar = open_csar(path)
        out[name] = build_descriptor(csar, csar.entry_definitions)
        csar.close()
    return out


@pytest.fixture(scope="module")
def vnfds(descriptors) -> dict[str, Vnfd]:
    return {VNF_WEB_ID: descriptors["vnf-web"], VNF_DB_ID: descriptors["vnf-db"]}


def plan(descriptors, vnfds, cidrs=None, **request) -> NsPlan:
    request.setdefault("nsFlavourId", "default")
    if cidrs is not None:
        request["additionalParamsForNs"] = {"nsVirtualLinkCidrs": cidrs}
    return plan_instantiation("ns-1", descriptors["ns-webapp"], vnfds, request, default_vim="v")


def cidrs_of(p: NsPlan) -> dict[str, str]:
    return {vl.vl_id: vl.cidr for vl in p.virtual_links}


def with_web_instances(web: Vnfd, count: int) -> Vnfd:
    """vnf-web whose flavour ``small`` starts ``count`` web VDUs (and allows that many)."""
    small = web.flavour("small")
    vdus = [
        v.model_copy(update={"max_number_of_instances": count}) if v.id == "web" else v
        for v in small.vdus
    ]
    levels = [
        lv.model_copy(update={"vdu_instances": {**lv.vdu_instances, "web": count}})
        for lv in small.instantiation_levels
    ]
    flavour = small.model_copy(update={"vdus": vdus, "instantiation_levels": levels})
    return web.model_copy(update={"flavours": [flavour]})


# ------------------------------------------------------------------------------- sizing
@pytest.mark.parametrize(
    ("ports", "prefix"),
    [(0, 24), (256 - NS_VL_RESERVED, 24), (257 - NS_VL_RESERVED, 23), (600, 22), (5000, 19)],
)
def test_prefix_fits_the_ports_and_is_at_least_a_slash_24(ports: int, prefix: int) -> None:
    assert ns_vl_prefix(ports) == prefix
    assert usable_addresses(ipaddress.ip_network(f"10.0.0.0/{prefix}")) >= ports


def test_vdu_max_counts_follow_the_scaling_aspects(descriptors) -> None:
    web = descriptors["vnf-web"]
    # small: web_scale max level 2, one web per step, web max 3 instances
    assert vdu_max_counts(web, "small", None) == {"web": 3, "cache": 1}
    assert vdu_max_counts(web, "small", "high") == {"web": 3, "cache": 1}
    # large: 2 web at level 0, + 5 steps, capped by max_number_of_instances 7
    assert vdu_max_counts(web, "large", None) == {"web": 7, "cache": 2}


def test_a_small_ns_keeps_one_slash_24_per_vl_in_flavour_order(descriptors, vnfds) -> None:
    assert cidrs_of(plan(descriptors, vnfds)) == {
        "mgmt_vl": "172.16.0.0/24",
        "data_vl": "172.16.1.0/24",
    }


def test_a_vl_with_hundreds_of_ports_gets_a_larger_subnet(descriptors, vnfds) -> None:
    big = {**vnfds, VNF_WEB_ID: with_web_instances(vnfds[VNF_WEB_ID], 300)}
    p = plan(descriptors, big)
    # per VL: (300 web + 1 cache) x 3 vnf_web instances (its max) + 2 db x 2 vnf_db = 907
    assert [v.count for v in p.vnfs[-1].spec.vdus] == [300, 1]
    assert cidrs_of(p) == {"mgmt_vl": "172.16.0.0/22", "data_vl": "172.16.4.0/22"}
    nets = [ipaddress.ip_network(c) for c in cidrs_of(p).values()]
    assert all(usable_addresses(n) >= 907 for n in nets)
    assert not nets[0].overlaps(nets[1])


def test_given_cidrs_are_honoured_and_the_others_avoid_them(descriptors, vnfds) -> None:
    p = plan(descriptors, vnfds, {"data_vl": "10.99.0.0/16"})
    assert cidrs_of(p) == {"mgmt_vl": "172.16.0.0/24", "data_vl": "10.99.0.0/16"}
    p = plan(descriptors, vnfds, {"data_vl": "172.16.0.0/23"})
    assert cidrs_of(p) == {"mgmt_vl": "172.16.2.0/24", "data_vl": "172.16.0.0/23"}


@pytest.mark.parametrize(
    ("cidrs", "field", "words"),
    [
        ("10.0.0.0/8", FIELD, "must be an object"),
        ({"data_vl": "10.0.0.0/33"}, f"{FIELD}.data_vl", "not a network in CIDR notation"),
        ({"data_vl": "10.0.0.1/24"}, f"{FIELD}.data_vl", "not a network in CIDR notation"),
        ({"data_vl": 42}, f"{FIELD}.data_vl", "not a network in CIDR notation"),
        ({"data_vl": "10.0.0.0/28"}, f"{FIELD}.data_vl", "room for 8 ports; the NS can put 16"),
        ({"data_vl": "fd00:9::/64"}, f"{FIELD}.data_vl", "is not IPv4"),
        ({"no_vl": "10.0.0.0/24"}, f"{FIELD}.no_vl", "no virtual link 'no_vl'"),
        (
            {"mgmt_vl": "10.0.0.0/16", "data_vl": "10.0.1.0/24"},
            f"{FIELD}.data_vl",
            "overlaps 10.0.0.0/16 given for 'mgmt_vl'",
        ),
    ],
)
def test_bad_given_cidrs_name_the_field(descriptors, vnfds, cidrs, field, words) -> None:
    with pytest.raises(PlanError) as err:
        plan(descriptors, vnfds, cidrs)
    assert err.value.field == field
    assert words in err.value.message


def test_an_ns_too_large_for_the_pool_is_refused_naming_the_parameter(descriptors, vnfds) -> None:
    huge = {**vnfds, VNF_WEB_ID: with_web_instances(vnfds[VNF_WEB_ID], 400_000)}
    with pytest.raises(PlanError) as err:
        plan(descriptors, huge)
    assert err.value.field == "virtualLinks"
    assert "172.16.0.0/12" in err.value.message and "nsVirtualLinkCidrs" in err.value.message


@settings(max_examples=80, deadline=None)
@given(
    vls=st.lists(st.tuples(st.integers(0, 20_000), st.booleans()), min_size=1, max_size=12),
    given_slot=st.integers(0, 11),
)
def test_allocated_subnets_fit_and_never_overlap(vls, given_slot) -> None:
    flavour = NsFlavour(
        flavour_id="f",
        virtual_links=[
            NsVirtualLink(id=f"vl{i}", layer_protocols=["ipv6"] if v6 else ["ipv4"])
            for i, (_, v6) in enumerate(vls)
        ],
    )
    ports = {f"vl{i}": n for i, (n, _) in enumerate(vls)}
    given_cidrs = {}
    if given_slot < len(vls) and not vls[given_slot][1]:
        # an explicit CIDR inside the pool, large enough, where the first VL would go
        given_cidrs[f"vl{given_slot}"] = ipaddress.ip_network(
            f"172.16.0.0/{ns_vl_prefix(ports[f'vl{given_slot}'])}"
        )
    out = ns_vl_cidrs(flavour, ports, given_cidrs)
    nets = {vl: ipaddress.ip_network(cidr) for vl, (cidr, _) in out.items()}
    assert set(nets) == set(ports)
    for vl, net in nets.items():
        assert usable_addresses(net) >= ports[vl]
        if net.version == 4:
            assert net.prefixlen <= 24
            assert vl in given_cidrs or net.subnet_of(NS_VL_POOL)
        else:
            assert net.prefixlen == 64
    names = sorted(nets)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert nets[a].version != nets[b].version or not nets[a].overlaps(nets[b])
