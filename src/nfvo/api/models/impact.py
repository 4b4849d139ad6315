"""``/admin/v1/impact``: the NS instances, VNF instances and servers a resource takes down."""

from __future__ import annotations

from nfvo.api.models.common import Open


class ImpactedNs(Open):
    """An NS instance affected, with its VNF instances affected (none when only one of its
    virtual links is on an affected network)."""

    nsInstanceId: str
    vnfInstanceIds: list[str]


class ImpactedServer(Open):
    """A server (VNFC) affected: where it runs and whose it is."""

    resource: str  # its resource key, server:<vimAccountId>:<serverId>
    serverId: str
    vimAccountId: str
    host: str | None = None
    nsInstanceId: str | None = None
    vnfInstanceId: str | None = None
    vnfcInstanceId: str | None = None
    vduId: str | None = None


class ImpactCounts(Open):
    """How many of each there are (the lists stop at 10,000 entries)."""

    nsInstances: int
    vnfInstances: int
    servers: int


class Impact(Open):
    """What a fault on ``resource`` takes down, as the caller may see it."""

    resource: str
    resourceType: str  # vim, zone, host, server, port, network, vnf, ns
    at: str  # when the answer was made, ISO 8601
    counts: ImpactCounts
    truncated: bool  # a list was cut at 10,000 entries
    nsInstances: list[ImpactedNs]
    vnfInstanceIds: list[str]
    servers: list[ImpactedServer]
