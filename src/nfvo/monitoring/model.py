"""The one normalised model every monitoring source produces and every consumer reads.

A source (sim VIM, OpenStack, Kubernetes, Alertmanager) turns what its system says into
:class:`Sample` (a measured value of one metric of one resource at one time) and
:class:`FaultEvent` (something went wrong with a resource, or stopped being wrong), and hands
them to a :class:`Sink` (the monitoring hub). Nothing downstream (windows, PM jobs and
thresholds, FM alarms, the policy engine) sees a source's own shapes.

Resources are named by kind and id, with the VIM account for the kinds whose ids are only
unique within one VIM (hosts, zones, servers, ports, networks).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Protocol


class ResourceKind(enum.StrEnum):
    """The kinds of resource a sample or a fault event is about."""

    VIM = "vim"  # id: the VIM account id
    ZONE = "zone"  # id: zone name, with vim_id
    HOST = "host"  # id: host name as the VIM names it, with vim_id
    SERVER = "server"  # id: the VIM's server (or pod) id, with vim_id: a VNFC
    PORT = "port"  # id: the VIM's port id, with vim_id
    NETWORK = "network"  # id: the VIM's network id, with vim_id: a virtual link
    VNF = "vnf"  # id: the VNF instance id
    NS = "ns"  # id: the NS instance id


VIM_SCOPED = frozenset(
    {ResourceKind.ZONE, ResourceKind.HOST, ResourceKind.SERVER, ResourceKind.PORT}
    | {ResourceKind.NETWORK}
)


@dataclass(frozen=True, slots=True)
class Resource:
    """A resource known to the inventory, by kind and id (and VIM account where ids are
    only unique within a VIM)."""

    kind: ResourceKind
    id: str
    vim_id: str | None = None

    def __post_init__(self) -> None:
        if self.kind in VIM_SCOPED and not self.vim_id:
            raise ValueError(f"a {self.kind.value} resource needs its VIM account id")

    @property
    def key(self) -> str:
        """A stable text key: ``kind:id`` or ``kind:vim_id:id``."""
        if self.vim_id and self.kind in VIM_SCOPED:
            return f"{self.kind.value}:{self.vim_id}:{self.id}"
        return f"{self.kind.value}:{self.id}"

    @classmethod
    def parse(cls, key: str) -> Resource:
        """The resource a :attr:`key` names (``ValueError`` naming what is wrong)."""
        kind_text, _, rest = key.partition(":")
        try:
            kind = ResourceKind(kind_text)
        except ValueError:
            kinds = ", ".join(k.value for k in ResourceKind)
            raise ValueError(f"resource kind {kind_text!r} is not one of {kinds}") from None
        if not rest:
            raise ValueError(f"resource {key!r} names no id")
        if kind in VIM_SCOPED:
            vim_id, sep, rid = rest.partition(":")
            if not sep or not vim_id or not rid:
                raise ValueError(f"a {kind.value} resource is named {kind.value}:<vimId>:<id>")
            return cls(kind, rid, vim_id)
        return cls(kind, rest)


@dataclass(frozen=True, slots=True)
class Sample:
    """One measured value: ``metric`` (a canonical name, see ``nfvo.monitoring.metrics``)
    of ``resource`` at ``timestamp`` (seconds since the epoch, UTC)."""

    resource: Resource
    metric: str
    value: float
    timestamp: float


class Severity(enum.StrEnum):
    """Perceived severity, as SOL005 nsfm's PerceivedSeverityType (ITU-T X.733)."""

    CRITICAL = "CRITICAL"
    MAJOR = "MAJOR"
    MINOR = "MINOR"
    WARNING = "WARNING"
    INDETERMINATE = "INDETERMINATE"
    CLEARED = "CLEARED"


class FaultKind(enum.StrEnum):
    """What happened. A fault and the event that clears it share the resource; the clearing
    event has severity CLEARED (and its own kind, for the log)."""

    HOST_DOWN = "HOST_DOWN"
    HOST_UP = "HOST_UP"
    SERVER_CRASHED = "SERVER_CRASHED"  # the server is in error / the pod failed
    SERVER_GONE = "SERVER_GONE"  # deleted behind nfvo's back
    SERVER_RECOVERED = "SERVER_RECOVERED"
    NETWORK_DOWN = "NETWORK_DOWN"
    NETWORK_UP = "NETWORK_UP"
    VIM_UNREACHABLE = "VIM_UNREACHABLE"
    VIM_REACHABLE = "VIM_REACHABLE"
    ALERT = "ALERT"  # an external alert (Alertmanager); raw carries its labels
    # an availability window ends soon (WARNING; cleared when the resource wakes up)
    MAINTENANCE_NOTICE = "MAINTENANCE_NOTICE"
    VNF_ALARM = "VNF_ALARM"  # a VNFM's VNF alarm (SOL003 VNF FM); raw carries the alarm


@dataclass(frozen=True, slots=True)
class FaultEvent:
    """A fault on ``resource`` raised or cleared (``severity`` CLEARED) at ``timestamp``.

    ``fault_id`` identifies the fault across its raise and its clear (and across repeats of
    one alert): by default ``kind-family:resource``; an Alertmanager alert uses its
    fingerprint. ``source`` names the adapter (``sim``, ``openstack``, ``kubernetes``,
    ``alertmanager``); ``raw`` keeps what the source said, for the alarm's details."""

    resource: Resource
    kind: FaultKind
    severity: Severity
    timestamp: float
    source: str
    raw: dict[str, Any] = field(default_factory=dict, compare=False)
    fault_id: str = ""
    probable_cause: str = ""

    @property
    def cleared(self) -> bool:
        """Whether this event clears the fault rather than raising it."""
        return self.severity is Severity.CLEARED

    @property
    def key(self) -> str:
        """The fault this event raises or clears."""
        return self.fault_id or f"{_FAMILY.get(self.kind, self.kind.value)}:{self.resource.key}"


# a raising kind and its clearing kind share one fault key
_FAMILY: dict[FaultKind, str] = {
    FaultKind.HOST_DOWN: "host",
    FaultKind.HOST_UP: "host",
    FaultKind.SERVER_CRASHED: "server",
    FaultKind.SERVER_GONE: "server",
    FaultKind.SERVER_RECOVERED: "server",
    FaultKind.NETWORK_DOWN: "network",
    FaultKind.NETWORK_UP: "network",
    FaultKind.VIM_UNREACHABLE: "vim",
    FaultKind.VIM_REACHABLE: "vim",
}


class Sink(Protocol):
    """Where a source hands what it observed (the monitoring hub). Both calls are cheap and
    thread-safe; a source calls them from its own thread."""

    def samples(self, batch: list[Sample]) -> None:
        """Take a batch of samples."""

    def fault(self, event: FaultEvent) -> None:
        """Take one fault event (raised or cleared)."""
