"""NS deployment planning over the sample packages (ns-webapp with vnf-web and vnf-db)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nfvo.catalog.builder import read_package_dir
from nfvo.catalog.csar import open_csar
from nfvo.catalog.descriptors import Nsd, NsDependency, Vnfd, build_descriptor
from nfvo.catalog.descriptors import PlacementRule as NsPlacementRule
from nfvo.lcm.plan import (
    NsPlan,
    PlanError,
    apply_placement,
    placement_demands,
    placement_inputs,
    plan_instantiation,
    scale_vnf_counts,
    vdu_initial_counts,
    vnf_instance_id_for,
)
from nfvo.optimizer import Demand, HostCapacity, place
from nfvo.samples import VNF_DB_ID, VNF_WEB_ID, build_sample, sample_dir


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
def nsd(descriptors) -> Nsd:
    return descriptors["ns-webapp"]


@pytest.fixture(scope="module")
def web(descriptors) -> Vnfd:
    return descriptors["vnf-web"]


@pytest.fixture(scope="module")
def vnfds(descriptors) -> dict[str, Vnfd]:
    return {VNF_WEB_ID: descriptors["vnf-web"], VNF_DB_ID: descriptors["vnf-db"]}


def plan(nsd, vnfds, default_vim="vim-0", **request) -> NsPlan:
    request.setdefault("nsFlavourId", "default")
    return plan_instantiation("ns-1", nsd, vnfds, request, default_vim=default_vim)


def vnf_params(**by_profile) -> list[dict]:
    return [{"vnfProfileId": p, "additionalParams": a} for p, a in by_profile.items()]


def by_profile(p: NsPlan) -> dict[str, list]:
    out: dict[str, list] = {}
    for v in p.vnfs:
        out.setdefault(v.spec.vnf_profile_id, []).append(v.spec)
    return out


# --------------------------------------------------------------------------------- instantiate
def test_default_flavour_default_level(nsd, vnfds):
    p = plan(nsd, vnfds)
    assert (p.nsd_id, p.flavour_id, p.instantiation_level_id) == (nsd.nsd_id, "default", "default")
    assert p.layers == [["vnf_db"], ["vnf_web"]]
    assert [v.spec.vnf_profile_id for v in p.vnfs] == ["vnf_db", "vnf_web"]
    assert [v.depends_on for v in p.vnfs] == [[], ["vnf_db"]]
    (db,), (web,) = by_profile(p)["vnf_db"], by_profile(p)["vnf_web"]
    assert (web.flavour_id, db.flavour_id) == ("small", "standard")
    assert {v.vdu_id: v.count for v in web.vdus} == {"web": 1, "cache": 1}
    assert {v.vdu_id: v.count for v in db.vdus} == {"db": 1}
    w = web.vdus[0]
    assert (w.vcpus, w.ram_mib, w.disk_gib, w.image) == (2, 2048, 10, "web-img")
    # both ext CPs of vnf-web re-expose internal VLs: those become the NS VLs
    assert web.internal_vls == []
    assert {cp.cp_id: cp.network for v in web.vdus for cp in v.cps} == {
        "web_mgmt_cp": "mgmt_vl",
        "web_data_cp": "data_vl",
        "cache_mgmt_cp": "mgmt_vl",
        "cache_data_cp": "data_vl",
    }
    http = [cp for cp in w.cps if cp.cp_id == "web_data_cp"][0].security_rules
    assert [(r.protocol, r.port_range_min) for r in http] == [("tcp", 80)]
    assert [(cp.cp_id, cp.network) for cp in db.vdus[0].cps] == [
        ("db_mgmt_cp", "mgmt_vl"),
        ("db_data_cp", "data_vl"),
        ("db_repl_cp", "db_repl_vl"),
    ]
    assert [(v.vl_id, v.cidr, v.ip_version) for v in db.internal_vls] == [
        ("db_repl_vl", "10.30.0.0/24", 4)
    ]
    assert web.ext_networks.keys() == db.ext_networks.keys() == {"mgmt_vl", "data_vl"}
    assert [(v.vl_id, v.cidr, v.vim_account_id) for v in p.virtual_links] == [
        ("mgmt_vl", "172.16.0.0/24", "vim-0"),
        ("data_vl", "172.16.1.0/24", "vim-0"),
    ]


def test_vdu_image_artifact_comes_from_the_package_and_round_trips(nsd, vnfds):
    from dataclasses import asdict

    from nfvo.lcm import codec
    from nfvo.vnfm.base import ImageArtifact

    p = plan(nsd, vnfds)
    (web,) = by_profile(p)["vnf_web"]
    vdus = {v.vdu_id: v for v in web.vdus}
    assert vdus["web"].image_artifact == ImageArtifact(
        file="Files/images/web-img.qcow2",
        disk_format="qcow2",
        container_format="bare",
        min_disk_gib=1,
        min_ram_mib=512,
        checksum_algorithm="sha-256",
        checksum_hash="5a3b6e7bb0e90ee91896577f53d51abaa68a63904d30b20e8a76aab955c2e981",
        size_bytes=1024,
    )
    assert vdus["cache"].image is None and vdus["cache"].image_artifact is None
    stored = codec.to_json(web)  # as the plan is kept in the database
    assert codec.spec_from_json(stored) == web
    for vdu in stored["vdus"]:  # a plan stored before image uploads existed still loads
        del vdu["image_artifact"]
    old = codec.spec_from_json(stored)
    assert [v.image_artifact for v in old.vdus] == [None, None]
    assert [asdict(v) | {"image_artifact": None} for v in old.vdus] == [
        asdict(v) | {"image_artifact": None} for v in web.vdus
    ]


def test_default_flavour_high_level_counts_and_ids(nsd, vnfds):
    p = plan(nsd, vnfds, nsInstantiationLevelId="high")
    groups = by_profile(p)
    assert (len(groups["vnf_web"]), len(groups["vnf_db"])) == (3, 2)
    ids = [v.spec.vnf_instance_id for v in p.vnfs]
    assert len(set(ids)) == 5
    assert ids == [
        v.spec.vnf_instance_id for v in plan(nsd, vnfds, nsInstantiationLevelId="high").vnfs
    ]
    assert groups["vnf_web"][2].vnf_instance_id == vnf_instance_id_for("ns-1", "vnf_web", 2)
    other = plan_instantiation("ns-2", nsd, vnfds, {"nsFlavourId": "default"}, default_vim="v")
    assert not set(ids) & {v.spec.vnf_instance_id for v in other.vnfs}


def test_given_vnf_instance_ids(nsd, vnfds):
    given = {"vnf_db": "db-0", "vnf_web-1": "web-1"}
    p = plan_instantiation(
        "ns-1",
        nsd,
        vnfds,
        {"nsFlavourId": "default", "nsInstantiationLevelId": "high"},
        default_vim="v",
        vnf_instance_ids=given,
    )
    ids = {(s.vnf_profile_id, s.vnf_instance_id) for s in (v.spec for v in p.vnfs)}
    assert ("vnf_db", "db-0") in ids and ("vnf_web", "web-1") in ids


def test_minimal_flavour(nsd, vnfds):
    p = plan(nsd, vnfds, nsFlavourId="minimal")
    assert p.instantiation_level_id == "default"
    assert [(v.vl_id, v.cidr) for v in p.virtual_links] == [("data_vl", "172.16.0.0/24")]
    groups = by_profile(p)
    web, db = groups["vnf_web"][0], groups["vnf_db"][0]
    # mgmt ext CP is not connected in this flavour: the internal VL stays internal
    assert [vl.vl_id for vl in web.internal_vls] == ["mgmt_int_vl"]
    assert {cp.cp_id: cp.network for v in web.vdus for cp in v.cps}["web_mgmt_cp"] == "mgmt_int_vl"
    # a directly exposed VDU CP left unconnected gets no port
    assert [cp.cp_id for cp in db.vdus[0].cps] == ["db_data_cp", "db_repl_cp"]
    assert web.ext_networks.keys() == {"data_vl"}


def test_vim_selection_precedence(nsd, vnfds):
    p = plan(nsd, vnfds)
    assert {v.spec.vim_account_id for v in p.vnfs} == {"vim-0"}
    p = plan(nsd, vnfds, additionalParamsForNs={"vimAccountId": "vim-ns"})
    assert {v.spec.vim_account_id for v in p.vnfs} == {"vim-ns"}
    p = plan(
        nsd,
        vnfds,
        additionalParamsForNs={"vimAccountId": "vim-ns"},
        additionalParamsForVnf=vnf_params(vnf_web={"vimAccountId": "vim-web", "x": 1}),
    )
    vims = {v.spec.vnf_profile_id: v.spec.vim_account_id for v in p.vnfs}
    assert vims == {"vnf_web": "vim-web", "vnf_db": "vim-ns"}
    assert by_profile(p)["vnf_web"][0].params == {
        "x": 1,
        "placement_rules": [{"kind": "anti_affinity", "scope": "nfvi_node", "targets": ["web"]}],
    }
    # one VIM network per NS VL per VIM that uses it
    assert sorted((v.vl_id, v.vim_account_id) for v in p.virtual_links) == [
        ("data_vl", "vim-ns"),
        ("data_vl", "vim-web"),
        ("mgmt_vl", "vim-ns"),
        ("mgmt_vl", "vim-web"),
    ]


def test_missing_vim(nsd, vnfds):
    with pytest.raises(PlanError) as err:
        plan(nsd, vnfds, default_vim=None)
    assert err.value.field == "vimAccountId"
    # a VNF-level VIM for only one profile is not enough
    with pytest.raises(PlanError, match="vnf_db"):
        plan(
            nsd,
            vnfds,
            default_vim=None,
            additionalParamsForVnf=vnf_params(vnf_web={"vimAccountId": "v"}),
        )


@pytest.mark.parametrize(
    ("request_fields", "field", "text"),
    [
        ({"nsFlavourId": "gold"}, "nsFlavourId", "'gold'; valid: default, minimal"),
        ({"nsFlavourId": None}, "nsFlavourId", "is required"),
        ({"nsInstantiationLevelId": "huge"}, "nsInstantiationLevelId", "valid: default, high"),
        ({"additionalParamsForVnf": vnf_params(nope={})}, "additionalParamsForVnf", "'nope'"),
        ({"locationConstraints": [{"vnfProfileId": "x"}]}, "locationConstraints", "'x'"),
    ],
)
def test_request_errors(nsd, vnfds, request_fields, field, text):
    with pytest.raises(PlanError) as err:
        plan(nsd, vnfds, **request_fields)
    assert err.value.field == field
    assert text in err.value.message
    assert isinstance(err.value, ValueError)


def test_missing_vnfd(nsd, vnfds):
    with pytest.raises(PlanError) as err:
        plan(nsd, {VNF_WEB_ID: vnfds[VNF_WEB_ID]})
    assert err.value.field == "vnfdId" and VNF_DB_ID in err.value.message


def test_location_constraints_set_zones(nsd, vnfds):
    p = plan(
        nsd,
        vnfds,
        locationConstraints=[
            {"vnfProfileId": "vnf_web", "locationConstraints": {"availabilityZone": "az2"}},
            {"vnfProfileId": "vnf_db", "locationConstraints": {"countryCode": "FR"}},
        ],
    )
    groups = by_profile(p)
    assert {v.zone for v in groups["vnf_web"][0].vdus} == {"az2"}
    assert {v.zone for v in groups["vnf_db"][0].vdus} == {None}


def test_dependency_cycle(nsd, vnfds):
    flavour = nsd.flavours[0]
    cyclic = flavour.model_copy(
        update={
            "dependencies": [
                *flavour.dependencies,
                NsDependency(primary=["vnf_web"], secondary=["vnf_db"]),
            ]
        }
    )
    bad = nsd.model_copy(update={"flavours": [cyclic]})
    with pytest.raises(PlanError) as err:
        plan(bad, vnfds)
    assert err.value.field == "dependencies" and "cycle" in err.value.message


def test_no_dependencies_one_layer(nsd, vnfds):
    flat = nsd.model_copy(
        update={"flavours": [nsd.flavours[0].model_copy(update={"dependencies": []})]}
    )
    assert plan(flat, vnfds).layers == [["vnf_web", "vnf_db"]]


def test_internal_vl_cidr_allocation(nsd, vnfds, web):
    small = web.flavour("small")
    vls = [vl.model_copy(update={"cidr": None}) for vl in small.virtual_links]
    vls[1] = vls[1].model_copy(update={"cidr": "10.1.0.0/16"})
    changed = web.model_copy(update={"flavours": [small.model_copy(update={"virtual_links": vls})]})
    p = plan(nsd, {**vnfds, VNF_WEB_ID: changed}, nsFlavourId="minimal")
    web_spec = by_profile(p)["vnf_web"][0]
    # mgmt_int_vl has no CIDR; 10.1.0.0/24 overlaps data_int_vl's 10.1.0.0/16, so 10.2.0.0/24
    assert [(v.vl_id, v.cidr) for v in web_spec.internal_vls] == [("mgmt_int_vl", "10.2.0.0/24")]


# ------------------------------------------------------------------------------------- day-0
def test_day0_from_artifact_with_defaults_and_params(nsd, vnfds):
    files = read_package_dir(sample_dir("vnf-web"))
    p = plan_instantiation(
        "ns-1",
        nsd,
        vnfds,
        {"nsFlavourId": "default"},
        default_vim="v",
        artifacts={VNF_WEB_ID: files},
    )
    web_vdu = by_profile(p)["vnf_web"][0].vdus[0]
    assert "<h1>Welcome to the nfvo sample web application</h1>" in web_vdu.user_data
    assert "{{" not in web_vdu.user_data
    p = plan_instantiation(
        "ns-1",
        nsd,
        vnfds,
        {
            "nsFlavourId": "default",
            "additionalParamsForVnf": vnf_params(vnf_web={"web_banner": "Hi there"}),
        },
        default_vim="v",
        artifacts={VNF_WEB_ID: files},
    )
    assert "<h1>Hi there</h1>" in by_profile(p)["vnf_web"][0].vdus[0].user_data
    # without artifacts no user data; cache VDU has no boot data at all
    p = plan(nsd, vnfds)
    assert [v.user_data for v in by_profile(p)["vnf_web"][0].vdus] == [None, None]


def test_day0_placeholders_and_missing(nsd, vnfds):
    tpl = b"a={{ banner }} b=$port c=${port} d=$HOME e={{ port }}"
    files = {"Files/cloud-init/web.yaml": tpl}
    req = {"nsFlavourId": "default", "additionalParamsForVnf": vnf_params(vnf_web={"port": 8080})}
    p = plan_instantiation("n", nsd, vnfds, req, default_vim="v", artifacts={VNF_WEB_ID: files})
    assert by_profile(p)["vnf_web"][0].vdus[0].user_data == (
        "a=Welcome to the nfvo sample web application b=8080 c=8080 d=$HOME e=8080"
    )
    files = {"Files/cloud-init/web.yaml": b"x={{ secret }}"}
    with pytest.raises(PlanError, match="'secret'") as err:
        plan_instantiation("n", nsd, vnfds, req, default_vim="v", artifacts={VNF_WEB_ID: files})
    assert err.value.field == "additionalParamsForVnf"
    with pytest.raises(PlanError) as err:
        plan_instantiation("n", nsd, vnfds, req, default_vim="v", artifacts={VNF_WEB_ID: {}})
    assert err.value.field == "artifacts"


# ------------------------------------------------------------------------------ VNF counts
def test_vdu_initial_counts(web):
    assert vdu_initial_counts(web, "small", None) == {"web": 1, "cache": 1}
    assert vdu_initial_counts(web, "small", "high") == {"web": 2, "cache": 1}
    assert vdu_initial_counts(web, "large", "high") == {"web": 5, "cache": 2}
    with pytest.raises(PlanError) as err:
        vdu_initial_counts(web, "small", "max")
    assert err.value.field == "instantiationLevelId" and "default, high" in err.value.message
    with pytest.raises(PlanError) as err:
        vdu_initial_counts(web, "tiny", None)
    assert err.value.field == "flavourId" and "small, large" in err.value.message
    bare = web.model_copy(
        update={
            "flavours": [
                web.flavour("large").model_copy(
                    update={"instantiation_levels": [], "default_instantiation_level": None}
                )
            ]
        }
    )
    assert vdu_initial_counts(bare, "large", None) == {"web": 2, "cache": 2}


def test_scale_deltas_and_limits(web):
    start = {"web": 1, "cache": 1}
    assert scale_vnf_counts(web, "small", start, "web_scale", 1, "SCALE_OUT", 0) == (
        {"web": 2, "cache": 1},
        1,
    )
    assert scale_vnf_counts(web, "small", start, "web_scale", 2, "SCALE_OUT", 0) == (
        {"web": 3, "cache": 1},
        2,
    )
    assert scale_vnf_counts(
        web, "small", {"web": 3, "cache": 1}, "web_scale", 1, "SCALE_IN", 2
    ) == ({"web": 2, "cache": 1}, 1)
    assert start == {"web": 1, "cache": 1}  # not mutated
    with pytest.raises(PlanError) as err:
        scale_vnf_counts(web, "small", start, "web_scale", 3, "SCALE_OUT", 0)
    assert err.value.field == "numberOfSteps" and "allowed 0..2" in err.value.message
    with pytest.raises(PlanError, match="level -1"):
        scale_vnf_counts(web, "small", start, "web_scale", 1, "SCALE_IN", 0)
    with pytest.raises(PlanError) as err:
        scale_vnf_counts(web, "small", start, "cpu", 1, "SCALE_OUT", 0)
    assert err.value.field == "aspectId" and "web_scale" in err.value.message
    with pytest.raises(PlanError) as err:
        scale_vnf_counts(web, "small", start, "web_scale", 0, "SCALE_OUT", 0)
    assert err.value.field == "numberOfSteps"
    with pytest.raises(PlanError) as err:
        scale_vnf_counts(web, "small", start, "web_scale", 1, "SIDEWAYS", 0)
    assert err.value.field == "type"
    # VDU max_number_of_instances is enforced too (web small: max 3)
    with pytest.raises(PlanError, match="allowed 1..3"):
        scale_vnf_counts(web, "small", {"web": 3, "cache": 1}, "web_scale", 1, "SCALE_OUT", 0)


def test_scale_non_uniform_step_deltas(web):
    large = web.flavour("large")
    aspect = large.scaling_aspects[0].model_copy(
        update={"step_deltas": ["d1", "d2"], "vdu_deltas": {"web": {"d1": 1, "d2": 2}}}
    )
    f = large.model_copy(update={"scaling_aspects": [aspect]})
    vnfd = web.model_copy(update={"flavours": [f]})
    # 0->1 uses d1 (+1), 1->2 and beyond reuse the last delta d2 (+2 each)
    assert scale_vnf_counts(vnfd, "large", {"web": 2}, "web_scale", 3, "SCALE_OUT", 0) == (
        {"web": 7},
        3,
    )
    assert scale_vnf_counts(vnfd, "large", {"web": 7}, "web_scale", 3, "SCALE_IN", 3) == (
        {"web": 2},
        0,
    )


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 3), st.booleans()), max_size=8))
def test_scale_sequences_keep_counts_tied_to_level(web, ops):
    counts, level = {"web": 2, "cache": 2}, 0
    for steps, out in ops:
        direction = "SCALE_OUT" if out else "SCALE_IN"
        target = level + (steps if out else -steps)
        if 0 <= target <= 5:
            counts, level = scale_vnf_counts(
                web, "large", counts, "web_scale", steps, direction, level
            )
            assert level == target
        else:
            with pytest.raises(PlanError):
                scale_vnf_counts(web, "large", counts, "web_scale", steps, direction, level)
        assert counts == {"web": 2 + level, "cache": 2}


# ------------------------------------------------------------------------------- properties
@settings(max_examples=60, deadline=None)
@given(
    flavour=st.sampled_from([("default", "default"), ("default", "high"), ("minimal", None)]),
    web_vim=st.sampled_from([None, "a", "b"]),
    db_vim=st.sampled_from([None, "a", "b"]),
    ns_vim=st.sampled_from([None, "c"]),
)
def test_plans_are_consistent(nsd, vnfds, flavour, web_vim, db_vim, ns_vim):
    request = {
        "nsFlavourId": flavour[0],
        "nsInstantiationLevelId": flavour[1],
        "additionalParamsForNs": {"vimAccountId": ns_vim} if ns_vim else {},
        "additionalParamsForVnf": vnf_params(
            vnf_web={"vimAccountId": web_vim} if web_vim else {},
            vnf_db={"vimAccountId": db_vim} if db_vim else {},
        ),
    }
    p = plan_instantiation("ns", nsd, vnfds, request, default_vim="d")
    ns_vls = {(v.vl_id, v.vim_account_id) for v in p.virtual_links}
    assert len(ns_vls) == len(p.virtual_links)
    order = [pid for layer in p.layers for pid in layer]
    assert [v.spec.vnf_profile_id for v in p.vnfs] == sorted(
        (v.spec.vnf_profile_id for v in p.vnfs), key=order.index
    )
    for v in p.vnfs:
        spec = v.spec
        internal = {vl.vl_id for vl in spec.internal_vls}
        for vdu in spec.vdus:
            assert vdu.count >= 1
            for cp in vdu.cps:
                assert cp.network in internal or cp.network in spec.ext_networks
        for vl in spec.ext_networks:
            assert (vl, spec.vim_account_id) in ns_vls
        for dep in v.depends_on:
            assert order.index(dep) < order.index(spec.vnf_profile_id)


# -------------------------------------------------------------------------------- placement
def test_placement_bridge(nsd, vnfds):
    p = plan(
        nsd,
        vnfds,
        nsInstantiationLevelId="high",
        additionalParamsForVnf=vnf_params(vnf_db={"vimAccountId": "vim-db"}),
    )
    inputs = placement_demands(p, vnfds)
    assert set(inputs) == {"vim-0", "vim-db"}
    web_demands, web_rules = inputs["vim-0"]
    assert len(web_demands) == 6  # 3 VNFs x (1 web + 1 cache)
    assert [(r.kind, r.scope) for r in web_rules] == [("anti_affinity", "host")] * 3
    db_demands, db_rules = inputs["vim-db"]
    assert len(db_demands) == 2 and {(r.kind, r.scope) for r in db_rules} == {("affinity", "zone")}
    first = p.vnfs[0].spec
    assert db_demands[0] == Demand(
        f"{first.vnf_instance_id}/db-0",
        4,
        8192,
        20,
        group=f"{first.vnf_instance_id}/db",
        vnf_id=first.vnf_instance_id,
        ns_id=p.ns_instance_id,
    )
    # each rule is labelled with its descriptor policy name (explanations name it so)
    assert {r.label for r in web_rules} == {"web_anti_affinity"}
    hosts = [HostCapacity(f"h{i}", "az1", 8, 16384, 100) for i in range(4)]
    for demands, rules in inputs.values():
        assert apply_placement(p, place(hosts, demands, rules)) == []
    web_spec = by_profile(p)["vnf_web"][0]
    assert set(web_spec.hosts) == {"web-0", "cache-0"}
    assert set(first.hosts) == {"db-0"}


def test_placement_bridge_ns_rules(nsd, vnfds):
    flavour = nsd.flavours[0].model_copy(
        update={
            "placement_rules": [
                NsPlacementRule(
                    id="spread", kind="anti_affinity", scope="zone", targets=["vnf_web"]
                )
            ]
        }
    )
    ns = nsd.model_copy(update={"flavours": [flavour]})
    p = plan(ns, vnfds, nsInstantiationLevelId="high")
    demands, rules = placement_demands(p, vnfds, ns)["vim-0"]
    (spread,) = [r for r in rules if r.scope == "zone" and r.kind == "anti_affinity"]
    assert len(spread.members) == 6 and spread.label == "spread"
    inp = placement_inputs(p, vnfds, ns)["vim-0"]
    assert inp.labels[inp.rules.index(spread)].startswith("NsAntiAffinityRule 'spread'")
    hosts = [HostCapacity(f"h{i}", f"az{i % 2}", 64, 1e6, 1e4) for i in range(4)]
    result = place(hosts, demands, rules)
    assert len(result.unplaced) == 4 and "excluded by anti_affinity (zone)" in next(
        iter(result.unplaced.values())
    )
    assert apply_placement(p, result) == sorted(result.unplaced)
