"""The values the parts of the policy engine hand each other.

A :class:`ScalingPolicy` is what the auto-scaler evaluates, whatever wrote it (a descriptor's
``ScalingAspects`` / monitoring / ``triggers``, or ``/admin/v1/policies``): one scaling aspect
of one VNF or NS instance, one aggregated metric, thresholds and cooldowns in seconds.

A :class:`RootCause` is what root-cause analysis tells the auto-healer and anything else
that acts on faults: a root fault raised or cleared, and the VNFCs it takes down per NS.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from nfvo.monitoring.model import FaultKind, Resource


class Target(enum.StrEnum):
    """What a scaling aspect belongs to."""

    VNF = "VNF"  # a VNF's aspect: SCALE_NS with scaleType SCALE_VNF
    NS = "NS"  # an NS's aspect: SCALE_NS with scaleType SCALE_NS


class Aggregation(enum.StrEnum):
    """How the aspect's VDUs' values become one value (never evaluated per VDU)."""

    MEAN = "MEAN"
    MAX = "MAX"


class Relation(enum.StrEnum):
    """OSM's relational-operation of a threshold."""

    GE = "GE"
    GT = "GT"
    LE = "LE"
    LT = "LT"


@dataclass(frozen=True)
class ScalingPolicy:
    """One auto-scaling policy bound to one NS instance.

    ``target``/``vnf_instance_id``: a VNF's aspect (its VNF instance) or the NS's own.
    ``metric`` is a canonical monitoring metric name (``nfvo.monitoring.metrics``), read on
    the VNF (or NS) resource with ``aggregation`` over the last ``window_s`` seconds.
    Scale out when the value satisfies ``out_relation`` against ``out_threshold``; scale in
    when it satisfies ``in_relation`` against ``in_threshold`` (either may be None: that
    direction is never taken). Cooldowns count from the completion of the NS's last
    operation. ``source`` is ``api`` or ``descriptor``.
    """

    id: str
    name: str
    ns_instance_id: str
    tenant_id: str | None
    aspect_id: str
    metric: str
    target: Target = Target.VNF
    vnf_instance_id: str | None = None
    aggregation: Aggregation = Aggregation.MEAN
    window_s: float = 60.0
    out_threshold: float | None = None
    out_relation: Relation = Relation.GE
    in_threshold: float | None = None
    in_relation: Relation = Relation.LE
    cooldown_out_s: float = 300.0
    cooldown_in_s: float = 300.0
    steps: int = 1
    max_scale_level: int | None = None  # None: the descriptor's (read at evaluation)
    enabled: bool = True
    source: str = "api"


@dataclass(frozen=True)
class DownVnfc:
    """A VNFC a root fault takes down: its NS, VNF instance, VNFC (VDU instance) and the
    VIM server it runs as."""

    ns_instance_id: str
    vnf_instance_id: str
    vnfc_id: str
    vdu_id: str
    server: Resource


@dataclass(frozen=True)
class RootCause:
    """A root fault raised (``raised``) or cleared, on ``resource``.

    ``fault_key`` is the FaultEvent's key; ``alarm_ids`` the nsfm alarm of each affected NS
    (root-cause alarms, ``isRootCause: true``); ``vnfcs`` every VNFC it takes down (empty
    for a fault that takes none down, e.g. a VNF alarm from the VNFM). ``at`` is the time of
    the event (seconds since the epoch)."""

    fault_key: str
    resource: Resource
    kind: FaultKind
    raised: bool
    at: float
    vnfcs: tuple[DownVnfc, ...] = ()
    alarm_ids: dict[str, str] = field(default_factory=dict)

    @property
    def ns_ids(self) -> frozenset[str]:
        """The NS instances this root fault affects."""
        return frozenset(self.alarm_ids) | {v.ns_instance_id for v in self.vnfcs}
