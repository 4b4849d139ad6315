"""The typed NS-level plan and change set: the JSON already stored in databases decodes, the
codec writes the same shapes back, and DBOS carries the records between steps unchanged."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from dbos._serialization import DefaultSerializer, deserialize_value, serialize_value

from nfvo.lcm import codec, engine
from nfvo.lcm.model import (
    ChangeSet,
    HealChange,
    NsLevelPlan,
    NsScaleChange,
    NsVlPlan,
    PlacementBounds,
    ReplaceChange,
    ScaleChange,
)
from nfvo.vnfm.base import ImageArtifact, VnfDeploymentSpec


def spec_json(vnf_id: str = "vnf-a", flavour: str = "small") -> dict[str, Any]:
    """A VNF's spec as an NsVnf row stores it (the shape written by ``codec.to_json``)."""
    return {
        "ns_instance_id": "ns-1",
        "vnf_instance_id": vnf_id,
        "vnf_profile_id": "vnf_web",
        "vnfd_id": "web-vnfd",
        "flavour_id": flavour,
        "vim_account_id": "vim-0",
        "internal_vls": [
            {
                "vl_id": "int_vl",
                "cidr": "10.1.0.0/24",
                "ip_version": 4,
                "gateway_ip": None,
                "dhcp": True,
            }
        ],
        "vdus": [
            {
                "vdu_id": "web",
                "name": "web",
                "count": 2,
                "vcpus": 1,
                "ram_mib": 512,
                "disk_gib": 1,
                "image": "web-img",
                "flavor": None,
                "user_data": "#cloud-config\n",
                "cps": [
                    {
                        "cp_id": "web_cp",
                        "network": "int_vl",
                        "order": 0,
                        "security_rules": [
                            {
                                "direction": "ingress",
                                "ether_type": "IPv4",
                                "protocol": "tcp",
                                "port_range_min": 80,
                                "port_range_max": 80,
                                "remote_cidr": None,
                            }
                        ],
                    }
                ],
                "zone": None,
                "boot_timeout_s": 300.0,
                "image_artifact": {
                    "disk_format": "qcow2",
                    "container_format": "bare",
                    "min_disk_gib": 1,
                    "min_ram_mib": 512,
                    "checksum_algorithm": "sha-256",
                    "checksum_hash": "ab" * 32,
                    "size_bytes": 1024,
                    "file": "Files/images/web-img.qcow2",
                },
            }
        ],
        "ext_networks": {},
        "hosts": {"web-0": "host-1", "web-1": "host-2"},
        "params": {"placement_rules": [{"kind": "anti_affinity", "scope": "host"}]},
    }


PLAN_JSON: dict[str, Any] = {
    "virtual_links": [
        {"vl_id": "mgmt_vl", "cidr": "172.16.0.0/24", "ip_version": 4, "vim_account_id": "vim-0"},
        {"vl_id": "v6_vl", "cidr": "fd00:1::/64", "ip_version": 6, "vim_account_id": "vim-1"},
    ],
    "vnf_layers": [["vnf-a", "vnf-b"], ["vnf-c"]],
    "placement": {
        "vim-0": {
            "algorithm": "ffd",
            "objective": 2,
            "lowerBound": 2,
            "gap": 0.0,
            "solveTimeS": 0.0012,
        }
    },
}

# One op occurrence's ``changes`` per kind of operation, as stored by the API so far.
CHANGES_JSON: dict[str, dict[str, Any]] = {
    "SCALE_VNF": {
        "scale": {
            "vnf-a": {
                "aspect": "web_aspect",
                "before": {"web": 2},
                "after": {"web": 4},
                "level_before": 0,
                "level_after": 2,
            }
        }
    },
    "SCALE_NS_OUT": {
        "add": {"vnf-d": spec_json("vnf-d")},
        "remove": [],
        "ns_scale": {"ns_aspect": {"before": 0, "after": 1}},
    },
    "SCALE_NS_IN": {
        "add": {},
        "remove": ["vnf-b"],
        "ns_scale": {"ns_aspect": {"before": 1, "after": 0}},
    },
    "HEAL": {"heal": {"vnf-a": {"keys": ["vnf-a/web/0", "vnf-a/web/1~1"], "recreate": True}}},
    "OPERATE_VNF": {"operate": {"vnf-a": "STOPPED", "vnf-b": "STARTED"}},
    "REMOVE_VNF": {"remove": ["vnf-c"]},
    "ADD_VNF": {"add": {"vnf-e": spec_json("vnf-e")}},
    "CHANGE_VNF_DF": {
        "replace": {"vnf-a": {"before": spec_json(), "after": spec_json(flavour="large")}}
    },
    "none": {},
}


def without_empty(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v}


# -- the NS-level plan ---------------------------------------------------------------------
def test_stored_plan_decodes_to_typed_records_and_encodes_back_the_same() -> None:
    plan = codec.from_json(NsLevelPlan, copy.deepcopy(PLAN_JSON))
    assert plan.virtual_links == [
        NsVlPlan("mgmt_vl", "172.16.0.0/24", 4, "vim-0"),
        NsVlPlan("v6_vl", "fd00:1::/64", 6, "vim-1"),
    ]
    assert plan.vnf_layers == [["vnf-a", "vnf-b"], ["vnf-c"]]
    assert plan.placement == {"vim-0": PlacementBounds("ffd", 2, 2, 0.0, 0.0012)}
    assert codec.to_json(plan) == PLAN_JSON


def test_older_plans_decode_without_ip_version_with_vnfs_or_without_plan() -> None:
    old = copy.deepcopy(PLAN_JSON)
    del old["virtual_links"][0]["ip_version"]  # written before IPv6 NS VLs
    old["vnfs"] = {"vnf-a": spec_json()}  # written before VNF rows (now ignored)
    plan = codec.from_json(NsLevelPlan, old)
    assert plan.virtual_links[0].ip_version == 4
    assert plan.vnf_layers == PLAN_JSON["vnf_layers"]
    assert "vnfs" not in codec.to_json(plan)
    assert codec.from_json(NsLevelPlan, None) == NsLevelPlan()
    assert codec.from_json(NsLevelPlan, {"vnf_layers": [["x"]]}).vnf_layers == [["x"]]


def test_plan_layers_grow_and_shrink_without_touching_the_rest() -> None:
    plan = codec.from_json(NsLevelPlan, PLAN_JSON)
    grown = plan.with_layer(["vnf-d"])
    assert grown.vnf_layers == [["vnf-a", "vnf-b"], ["vnf-c"], ["vnf-d"]]
    assert plan.vnf_layers == [["vnf-a", "vnf-b"], ["vnf-c"]]  # not changed in place
    shrunk = grown.without({"vnf-b", "vnf-c"})
    assert shrunk.vnf_layers == [["vnf-a"], ["vnf-d"]]
    assert (shrunk.virtual_links, shrunk.placement) == (plan.virtual_links, plan.placement)


# -- change sets ---------------------------------------------------------------------------
@pytest.mark.parametrize("kind", sorted(CHANGES_JSON))
def test_stored_change_sets_decode_and_encode_back(kind: str) -> None:
    stored = copy.deepcopy(CHANGES_JSON[kind])
    changes = codec.from_json(ChangeSet, stored)
    assert isinstance(changes, ChangeSet)
    assert codec.to_json(changes) == without_empty(CHANGES_JSON[kind])
    again = codec.from_json(ChangeSet, codec.to_json(changes))
    assert again == changes


def test_change_set_entries_are_typed() -> None:
    scale = codec.from_json(ChangeSet, CHANGES_JSON["SCALE_VNF"]).scale
    assert scale == {"vnf-a": ScaleChange("web_aspect", {"web": 2}, {"web": 4}, 0, 2)}
    out = codec.from_json(ChangeSet, CHANGES_JSON["SCALE_NS_OUT"])
    assert out.ns_scale == {"ns_aspect": NsScaleChange(0, 1)}
    (added,) = out.add.values()
    assert isinstance(added, VnfDeploymentSpec) and added.vnf_instance_id == "vnf-d"
    assert added.vdus[0].cps[0].security_rules[0].port_range_min == 80
    assert isinstance(added.vdus[0].image_artifact, ImageArtifact)
    heal = codec.from_json(ChangeSet, CHANGES_JSON["HEAL"]).heal
    assert heal == {"vnf-a": HealChange(["vnf-a/web/0", "vnf-a/web/1~1"], True)}
    replace = codec.from_json(ChangeSet, CHANGES_JSON["CHANGE_VNF_DF"]).replace["vnf-a"]
    assert isinstance(replace, ReplaceChange)
    assert (replace.before.flavour_id, replace.after.flavour_id) == ("small", "large")
    assert codec.from_json(ChangeSet, None) == ChangeSet()


def test_spec_stored_before_image_uploads_decodes_in_a_change_set() -> None:
    spec = spec_json("vnf-d")
    del spec["vdus"][0]["image_artifact"]
    changes = codec.from_json(ChangeSet, {"add": {"vnf-d": spec}})
    assert changes.add["vnf-d"].vdus[0].image_artifact is None


def test_vnf_operations_name_each_changed_vnf_in_order() -> None:
    changes = ChangeSet(
        scale={"s": ScaleChange("a", {}, {}, 0, 1)},
        add={"n": codec.spec_from_json(spec_json("n"))},
        remove=["r"],
        heal={"h": HealChange([], False)},
        operate={"o": "STOPPED"},
        replace={"c": ReplaceChange(*[codec.spec_from_json(spec_json("c"))] * 2)},
        ns_scale={"aspect": NsScaleChange(0, 1)},
    )
    assert list(changes.vnf_operations()) == [
        ("n", "VNF_INSTANTIATE"),
        ("r", "VNF_TERMINATE"),
        ("s", "VNF_SCALE"),
        ("h", "VNF_HEAL"),
        ("o", "VNF_OPERATE"),
        ("c", "VNF_CHANGE_FLAVOUR"),
    ]


def test_codec_refuses_a_type_it_has_no_decoder_for() -> None:
    with pytest.raises(TypeError, match="PlacementBounds"):
        codec.from_json(PlacementBounds, {})


# -- DBOS ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "value",
    [
        codec.from_json(NsLevelPlan, PLAN_JSON),
        NsVlPlan("v6_vl", "fd00:1::/64", 6, "vim-1"),
        *[codec.from_json(ChangeSet, c) for c in CHANGES_JSON.values()],
    ],
    ids=lambda v: type(v).__name__,
)
def test_records_round_trip_through_the_dbos_serializer(value: Any) -> None:
    """Step results and arguments are recorded with DBOS's serializer (the default one, as
    the engine configures none) and read back when a workflow resumes."""
    serializer = DefaultSerializer()
    text, name = serialize_value(value, None, serializer)
    back = deserialize_value(text, name, serializer)
    assert type(back) is type(value) and back == value


def test_engine_reads_step_results_recorded_as_json() -> None:
    """A workflow that recorded ``plan`` or ``begin_modify`` as JSON, then resumed by this
    version, gets the typed records."""
    plan = codec.from_json(NsLevelPlan, PLAN_JSON)
    assert engine._typed(NsLevelPlan, PLAN_JSON) == plan
    assert engine._typed(NsLevelPlan, plan) is plan
    changes = engine._typed(ChangeSet, CHANGES_JSON["SCALE_VNF"])
    assert changes.scale["vnf-a"].after == {"web": 4}
