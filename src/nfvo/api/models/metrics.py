"""``/admin/v1`` current metrics: NS (per VNF, per VNFC), VIM (per zone, per host), one
resource."""

from __future__ import annotations

from nfvo.api.models.common import Open


class MetricValue(Open):
    """One metric over the window: null values and ``noData: true`` when no sample arrived
    in it (missing data is never shown as 0)."""

    last: float | None = None
    mean: float | None = None
    peak: float | None = None
    low: float | None = None
    count: int
    timestamp: str | None = None  # of the last sample, ISO 8601
    noData: bool


class _Windowed(Open):
    window: float | None = None  # seconds; null: the hub's default window
    at: str  # when the view was made, ISO 8601
    metrics: dict[str, MetricValue]


class VnfcMetrics(Open):
    """A VNFC (its VIM server) and where it runs."""

    vnfcInstanceId: str
    vduId: str
    serverId: str | None = None
    resource: str
    status: str | None = None
    host: str | None = None
    zone: str | None = None
    metrics: dict[str, MetricValue]


class VnfMetrics(Open):
    """A VNF instance: its own (aggregated) metrics and its VNFCs'."""

    vnfInstanceId: str
    vnfProfileId: str
    vimAccountId: str
    metrics: dict[str, MetricValue]
    vnfcs: list[VnfcMetrics]


class NsMetrics(_Windowed):
    """The current metrics of an NS instance, its VNFs and VNFCs."""

    nsInstanceId: str
    vnfs: list[VnfMetrics]


class ZoneMetrics(Open):
    """A zone of a VIM."""

    zone: str
    metrics: dict[str, MetricValue]


class HostMetrics(Open):
    """A compute host of a VIM (as last synced)."""

    host: str
    zone: str | None = None
    state: str | None = None
    resource: str
    metrics: dict[str, MetricValue]


class VimMetrics(_Windowed):
    """The current metrics of a VIM account, per zone and per host."""

    vimAccountId: str
    zones: list[ZoneMetrics]
    hosts: list[HostMetrics]


class ResourceMetrics(_Windowed):
    """The current metrics of one resource."""

    resource: str
