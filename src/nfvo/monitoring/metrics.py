"""The one table of metric names: canonical names, SOL001 and IFA 027 names, sources' names.

Sources emit per-resource *canonical* names (``Sample.metric``): ``cpu_utilization``,
``memory_utilization``, ``disk_utilization`` of servers (VNFCs) and hosts, in percent, and
``bytes_in``, ``bytes_out``, ``packets_in``, ``packets_out`` of ports, per second. The hub
computes VNF and NS level metrics from them, named as SOL001 v4.2.1 names them
(``tosca.datatypes.nfv.VnfMonitoringParameter`` / ``NsMonitoringParameter``
``performance_metric`` valid values, which are the snake_case forms of the IFA 027
measurement names that SOL005 nspm's ``performanceMetric`` carries).

Every name a system may use (SOL001, IFA 027, OpenStack Ceilometer/Gnocchi meters, Nova
server diagnostics, the Kubernetes metrics API, Prometheus node_exporter, libvirt exporter
and cAdvisor series) resolves through :func:`canonical`. A source's own name often has
another unit (bytes rather than percent, a counter rather than a rate): the row's
``conversion`` says what the source computes before it emits the canonical sample.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from nfvo.monitoring.windows import Stat


class Level(enum.StrEnum):
    """The kind of resource a metric is about."""

    SERVER = "server"
    PORT = "port"
    HOST = "host"
    VNF = "vnf"
    NS = "ns"


class Aggregation(enum.StrEnum):
    """How a VNF/NS value is computed from per-server or per-port samples."""

    SAMPLED = "sampled"  # a per-resource metric, as the source measured it
    MEAN_OF_MEANS = "mean of the servers' means"
    PEAK = "peak over the servers"
    SUM = "sum over the ports"


@dataclass(frozen=True)
class Metric:
    """One row of the table: a canonical metric and how it is made."""

    name: str
    levels: tuple[Level, ...]
    unit: str
    aggregation: Aggregation
    of: str | None = None  # the per-resource metric aggregated (None: sampled)
    over: str = ""  # which resources are aggregated, in words
    ifa027: str | None = None
    description: str = ""

    @property
    def sol001(self) -> bool:
        """Whether the name is a SOL001 monitoring parameter name."""
        return self.ifa027 is not None


@dataclass(frozen=True)
class SourceName:
    """A source's own name for a canonical metric, and what the source does to its value."""

    name: str
    source: str
    canonical: str
    conversion: str


_SERVERS = "the VNF's servers (VNFCs) with data"
_NS_SERVERS = "all servers of the NS's VNFs with data"
_EXT = "the ports of the VNF's external CPs (CPs on NS virtual links)"
_NS_EXT = "the external-CP ports of every VNF of the NS"
_NS_SAP = "the external-CP ports of every VNF of the NS (SAPs approximated, see docs)"

METRICS: tuple[Metric, ...] = (
    # per-resource metrics the sources emit
    Metric("cpu_utilization", (Level.SERVER, Level.HOST), "%", Aggregation.SAMPLED),
    Metric("memory_utilization", (Level.SERVER, Level.HOST), "%", Aggregation.SAMPLED),
    Metric("disk_utilization", (Level.SERVER, Level.HOST), "%", Aggregation.SAMPLED),
    Metric("bytes_in", (Level.PORT,), "B/s", Aggregation.SAMPLED),
    Metric("bytes_out", (Level.PORT,), "B/s", Aggregation.SAMPLED),
    Metric("packets_in", (Level.PORT,), "packets/s", Aggregation.SAMPLED),
    Metric("packets_out", (Level.PORT,), "packets/s", Aggregation.SAMPLED),
    # VNF level (SOL001 VnfMonitoringParameter / IFA 027 VNF measurements)
    *(
        Metric(
            f"v_{res}_usage_{kind}_vnf",
            (Level.VNF, Level.NS),
            "%",
            Aggregation.MEAN_OF_MEANS if kind == "mean" else Aggregation.PEAK,
            f"{base}_utilization",
            _SERVERS,
            f"V{res.capitalize()}Usage{kind.capitalize()}Vnf",
            f"{kind} virtual {res} usage of the VNF",
        )
        for res, base in (("cpu", "cpu"), ("memory", "memory"), ("disk", "disk"))
        for kind in ("mean", "peak")
    ),
    *(
        Metric(
            f"{what}_{way}_vnf_ext_cp",
            (Level.VNF,),
            "B/s" if what == "byte" else "packets/s",
            Aggregation.SUM,
            f"{what}s_{'in' if way == 'incoming' else 'out'}",
            _EXT,
            f"{what.capitalize()}{way.capitalize()}VnfExtCp",
            f"{what}s {way} on the VNF's external CPs",
        )
        for what in ("byte", "packet")
        for way in ("incoming", "outgoing")
    ),
    # NS level (SOL001 NsMonitoringParameter)
    *(
        Metric(
            f"{what}_{way}{sap}",
            (Level.NS,),
            "B/s" if what == "byte" else "packets/s",
            Aggregation.SUM,
            f"{what}s_{'in' if way == 'incoming' else 'out'}",
            _NS_SAP if sap else _NS_EXT,
            f"{what.capitalize()}{way.capitalize()}{'Sap' if sap else ''}",
            f"{what}s {way} {'on the NS SAPs' if sap else 'of the NS'}",
        )
        for sap in ("", "_sap")
        for what in ("byte", "packet")
        for way in ("incoming", "outgoing")
    ),
)

_RATE = "rate of the counter over the poll interval"
SOURCE_NAMES: tuple[SourceName, ...] = (
    # OpenStack Ceilometer / Gnocchi meters
    SourceName("cpu_util", "openstack", "cpu_utilization", "as is (%)"),
    SourceName("memory.usage", "openstack", "memory_utilization", "MB used / flavor RAM x 100"),
    SourceName("disk.usage", "openstack", "disk_utilization", "bytes used / disk size x 100"),
    SourceName("network.incoming.bytes.rate", "openstack", "bytes_in", "as is (B/s)"),
    SourceName("network.outgoing.bytes.rate", "openstack", "bytes_out", "as is (B/s)"),
    SourceName("network.incoming.packets.rate", "openstack", "packets_in", "as is"),
    SourceName("network.outgoing.packets.rate", "openstack", "packets_out", "as is"),
    SourceName("network.incoming.bytes", "openstack", "bytes_in", _RATE),
    SourceName("network.outgoing.bytes", "openstack", "bytes_out", _RATE),
    SourceName("network.incoming.packets", "openstack", "packets_in", _RATE),
    SourceName("network.outgoing.packets", "openstack", "packets_out", _RATE),
    SourceName("compute.node.cpu.percent", "openstack", "cpu_utilization", "as is (host, %)"),
    # Nova server diagnostics (compute API microversion >= 2.48)
    SourceName("cpu_details.utilisation", "nova", "cpu_utilization", "mean over the vCPUs"),
    SourceName("memory_details.used", "nova", "memory_utilization", "used / maximum x 100"),
    SourceName("nic_details.rx_octets", "nova", "bytes_in", _RATE),
    SourceName("nic_details.tx_octets", "nova", "bytes_out", _RATE),
    SourceName("nic_details.rx_packets", "nova", "packets_in", _RATE),
    SourceName("nic_details.tx_packets", "nova", "packets_out", _RATE),
    # Kubernetes metrics API (metrics.k8s.io PodMetrics / NodeMetrics usage)
    SourceName("cpu", "kubernetes", "cpu_utilization", "cores used / limit (node: capacity)"),
    SourceName("memory", "kubernetes", "memory_utilization", "bytes / limit (node: capacity)"),
    # Prometheus: node_exporter (hosts)
    SourceName("node_cpu_seconds_total", "prometheus", "cpu_utilization", "1 - idle rate"),
    SourceName(
        "node_memory_MemAvailable_bytes", "prometheus", "memory_utilization", "1 - avail/total"
    ),
    SourceName("node_filesystem_avail_bytes", "prometheus", "disk_utilization", "1 - avail/size"),
    # Prometheus: libvirt exporter (servers, their interfaces)
    SourceName(
        "libvirt_domain_info_cpu_time_seconds_total", "prometheus", "cpu_utilization", _RATE
    ),
    SourceName(
        "libvirt_domain_info_memory_usage_bytes", "prometheus", "memory_utilization", "/ max"
    ),
    SourceName(
        "libvirt_domain_interface_stats_receive_bytes_total", "prometheus", "bytes_in", _RATE
    ),
    SourceName(
        "libvirt_domain_interface_stats_transmit_bytes_total", "prometheus", "bytes_out", _RATE
    ),
    SourceName(
        "libvirt_domain_interface_stats_receive_packets_total", "prometheus", "packets_in", _RATE
    ),
    SourceName(
        "libvirt_domain_interface_stats_transmit_packets_total", "prometheus", "packets_out", _RATE
    ),
    # Prometheus: cAdvisor container series (the facts Tacker's PromQL templates use)
    SourceName("container_cpu_usage_seconds_total", "prometheus", "cpu_utilization", _RATE),
    SourceName("container_memory_working_set_bytes", "prometheus", "memory_utilization", "/ limit"),
    SourceName("container_fs_usage_bytes", "prometheus", "disk_utilization", "/ fs limit"),
    SourceName("container_network_receive_bytes_total", "prometheus", "bytes_in", _RATE),
    SourceName("container_network_transmit_bytes_total", "prometheus", "bytes_out", _RATE),
    SourceName("container_network_receive_packets_total", "prometheus", "packets_in", _RATE),
    SourceName("container_network_transmit_packets_total", "prometheus", "packets_out", _RATE),
)

_BY_NAME: dict[str, Metric] = {m.name: m for m in METRICS}
_ALIASES: dict[str, str] = {
    **{m.ifa027: m.name for m in METRICS if m.ifa027},
    **{s.name: s.canonical for s in SOURCE_NAMES},
}
assert not set(_ALIASES) & set(_BY_NAME), "an alias shadows a canonical name"


def canonical(name: str) -> str:
    """The canonical name of any known metric name (canonical, SOL001, IFA 027, a source's
    name); ``KeyError`` naming it otherwise."""
    if name in _BY_NAME:
        return name
    try:
        return _ALIASES[name]
    except KeyError:
        raise KeyError(f"unknown metric name {name!r}") from None


def metric(name: str) -> Metric:
    """The table row of any known metric name (``KeyError`` naming it otherwise)."""
    return _BY_NAME[canonical(name)]


def ifa027(name: str) -> str:
    """The IFA 027 measurement name of a VNF/NS metric (any known name of it), for nspm
    reports; ``KeyError`` naming it when it has none (per-resource metrics)."""
    row = metric(name)
    if row.ifa027 is None:
        raise KeyError(f"metric {name!r} has no IFA 027 measurement name")
    return row.ifa027


def source_name(name: str) -> SourceName:
    """The row of a source's own metric name (``KeyError`` naming it otherwise)."""
    for s in SOURCE_NAMES:
        if s.name == name:
            return s
    raise KeyError(f"unknown source metric name {name!r}")


def for_level(level: Level | str) -> tuple[str, ...]:
    """The canonical names readable for a kind of resource, in table order."""
    lvl = Level(level)
    return tuple(m.name for m in METRICS if lvl in m.levels)


def sol001_names() -> tuple[str, ...]:
    """Every SOL001 monitoring parameter name (VNF and NS)."""
    return tuple(m.name for m in METRICS if m.sol001)


def ifa027_names() -> tuple[str, ...]:
    """Every IFA 027 measurement name in the table."""
    return tuple(m.ifa027 for m in METRICS if m.ifa027)


def reading(name: str, stat: Stat) -> float | None:
    """The one figure a report or threshold takes from a window: the peak for a ``*_peak_*``
    metric, the mean otherwise (None: no data)."""
    return stat.peak if metric(name).aggregation is Aggregation.PEAK else stat.mean
