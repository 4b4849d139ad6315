"""The typed records the LCM steps hand each other and keep in the database: the NS-level
plan of an instantiated NS (``NsInstance.plan``) and the change set of a SCALE, HEAL or
UPDATE operation (``NsLcmOpOcc.changes``).

They are stored as JSON through ``codec.to_json`` / ``codec.from_json`` only, and travel
between DBOS steps as they are (DBOS pickles step results and arguments): plain
dataclasses of module-level classes, so both ways round-trip.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from nfvo.lcm.plan import NsVlPlan
from nfvo.vnfm.base import VnfDeploymentSpec

__all__ = [
    "ChangeSet",
    "HealChange",
    "NsLevelPlan",
    "NsScaleChange",
    "NsVlPlan",
    "PlacementBounds",
    "ReplaceChange",
    "ScaleChange",
    "VnfOperateState",
]

VnfOperateState = Literal["STARTED", "STOPPED"]


@dataclass
class PlacementBounds:
    """What the optimizer reported for the VDU instances placed on one VIM (its bound, kept
    with the plan so a placement can be judged later)."""

    algorithm: str
    objective: float
    lower_bound: float
    gap: float
    solve_time_s: float


@dataclass
class NsLevelPlan:
    """The NS-level part of an instantiated NS's plan: the NS virtual links to create, the
    VNF instances in dependency layers (each layer may deploy at once, in this order), and
    the placement bounds per VIM. Each VNF's own spec is a row of its own."""

    virtual_links: list[NsVlPlan] = field(default_factory=list)
    vnf_layers: list[list[str]] = field(default_factory=list)
    placement: dict[str, PlacementBounds] = field(default_factory=dict)

    def with_layer(self, vnf_ids: list[str]) -> NsLevelPlan:
        """This plan with ``vnf_ids`` as a new last layer."""
        return NsLevelPlan(
            list(self.virtual_links), [*self.vnf_layers, list(vnf_ids)], dict(self.placement)
        )

    def without(self, gone: set[str]) -> NsLevelPlan:
        """This plan without the VNF instances ``gone`` (layers left empty disappear)."""
        layers = [
            kept for layer in self.vnf_layers if (kept := [v for v in layer if v not in gone])
        ]
        return NsLevelPlan(list(self.virtual_links), layers, dict(self.placement))


@dataclass
class ScaleChange:
    """SCALE_VNF of one VNF instance: its VDU counts and the aspect's level, before/after."""

    aspect: str
    before: dict[str, int]
    after: dict[str, int]
    level_before: int
    level_after: int
    hosts: dict[str, str] = field(default_factory=dict)  # "<vdu_id>-<index>" -> host (added)


@dataclass
class HealChange:
    """HEAL of one VNF instance: the VNFC keys to heal; recreate them, or only restart."""

    keys: list[str]
    recreate: bool
    hosts: dict[str, str] = field(default_factory=dict)  # "<vdu_id>-<index>" -> host (recreated)


@dataclass
class ReplaceChange:
    """CHANGE_VNF_DF of one VNF instance: its spec before and after (the way back is kept)."""

    before: VnfDeploymentSpec
    after: VnfDeploymentSpec


@dataclass
class NsScaleChange:
    """SCALE_NS: the level of one NS scaling aspect, before and after."""

    before: int
    after: int


@dataclass
class ChangeSet:
    """What a SCALE, HEAL or UPDATE operation changes, keyed by VNF instance id (or NS
    aspect id for ``ns_scale``). Computed and validated when the operation is requested
    (``changes.compute``), stored with the op occurrence, applied by the workflow."""

    scale: dict[str, ScaleChange] = field(default_factory=dict)
    add: dict[str, VnfDeploymentSpec] = field(default_factory=dict)  # SCALE_NS out, ADD_VNF
    remove: list[str] = field(default_factory=list)  # SCALE_NS in, REMOVE_VNF
    heal: dict[str, HealChange] = field(default_factory=dict)
    operate: dict[str, VnfOperateState] = field(default_factory=dict)
    replace: dict[str, ReplaceChange] = field(default_factory=dict)  # CHANGE_VNF_DF
    ns_scale: dict[str, NsScaleChange] = field(default_factory=dict)
    # scale level per aspect that each added or replaced VNF instance starts at
    levels: dict[str, dict[str, int]] = field(default_factory=dict)

    def vnf_operations(self) -> Iterator[tuple[str, str]]:
        """(VNF instance id, the SOL005 name of the VNF operation it undergoes), in the
        order add, remove, scale, heal, operate, replace."""
        for vnf_id in self.add:
            yield vnf_id, "VNF_INSTANTIATE"
        for vnf_id in self.remove:
            yield vnf_id, "VNF_TERMINATE"
        for vnf_id in self.scale:
            yield vnf_id, "VNF_SCALE"
        for vnf_id in self.heal:
            yield vnf_id, "VNF_HEAL"
        for vnf_id in self.operate:
            yield vnf_id, "VNF_OPERATE"
        for vnf_id in self.replace:
            yield vnf_id, "VNF_CHANGE_FLAVOUR"
