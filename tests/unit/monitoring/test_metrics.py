"""The metric name table: every standard and source name resolves, unknown names are named."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from nfvo.monitoring import metrics
from nfvo.monitoring.metrics import Aggregation, Level
from nfvo.monitoring.windows import Stat

SOL001_VNF = (
    "v_cpu_usage_mean_vnf",
    "v_cpu_usage_peak_vnf",
    "v_memory_usage_mean_vnf",
    "v_memory_usage_peak_vnf",
    "v_disk_usage_mean_vnf",
    "v_disk_usage_peak_vnf",
    "byte_incoming_vnf_ext_cp",
    "byte_outgoing_vnf_ext_cp",
    "packet_incoming_vnf_ext_cp",
    "packet_outgoing_vnf_ext_cp",
)
SOL001_NS = (
    "byte_incoming_sap",
    "byte_outgoing_sap",
    "packet_incoming_sap",
    "packet_outgoing_sap",
    "byte_incoming",
    "byte_outgoing",
    "packet_incoming",
    "packet_outgoing",
)
IFA027 = {
    "VCpuUsageMeanVnf": "v_cpu_usage_mean_vnf",
    "VCpuUsagePeakVnf": "v_cpu_usage_peak_vnf",
    "VMemoryUsageMeanVnf": "v_memory_usage_mean_vnf",
    "VMemoryUsagePeakVnf": "v_memory_usage_peak_vnf",
    "VDiskUsageMeanVnf": "v_disk_usage_mean_vnf",
    "VDiskUsagePeakVnf": "v_disk_usage_peak_vnf",
    "ByteIncomingVnfExtCp": "byte_incoming_vnf_ext_cp",
    "ByteOutgoingVnfExtCp": "byte_outgoing_vnf_ext_cp",
    "PacketIncomingVnfExtCp": "packet_incoming_vnf_ext_cp",
    "PacketOutgoingVnfExtCp": "packet_outgoing_vnf_ext_cp",
    "ByteIncoming": "byte_incoming",
    "ByteOutgoing": "byte_outgoing",
    "PacketIncoming": "packet_incoming",
    "PacketOutgoing": "packet_outgoing",
    "ByteIncomingSap": "byte_incoming_sap",
    "ByteOutgoingSap": "byte_outgoing_sap",
    "PacketIncomingSap": "packet_incoming_sap",
    "PacketOutgoingSap": "packet_outgoing_sap",
}


@pytest.mark.parametrize("name", SOL001_VNF + SOL001_NS)
def test_every_sol001_name_is_canonical_and_has_its_ifa027_name(name: str) -> None:
    assert metrics.canonical(name) == name
    assert metrics.canonical(metrics.ifa027(name)) == name


@pytest.mark.parametrize(("ifa", "sol001"), sorted(IFA027.items()))
def test_every_ifa027_name_resolves(ifa: str, sol001: str) -> None:
    assert metrics.canonical(ifa) == sol001
    assert metrics.ifa027(sol001) == ifa
    assert metrics.ifa027(ifa) == ifa


def test_the_table_holds_exactly_the_sol001_valid_values() -> None:
    assert set(metrics.sol001_names()) == set(SOL001_VNF + SOL001_NS)
    assert set(metrics.ifa027_names()) == set(IFA027)


def _spec_valid_values(datatype: str) -> set[str] | None:
    root = Path(__file__).resolve().parents[3].parent / "shared/etsi/sol001/definitions/v4.2.1"
    files = list(root.glob("*.yaml")) if root.is_dir() else []
    for f in files:
        text = f.read_text()
        at = text.find(f"{datatype}:")
        if at < 0:
            continue
        m = re.search(r"valid_values:\s*\[([^\]]*)\]", text[at:])
        if m:
            return {v.strip() for v in m.group(1).split(",")}
    return None


@pytest.mark.parametrize(
    ("datatype", "expected"),
    [
        ("tosca.datatypes.nfv.VnfMonitoringParameter", SOL001_VNF),
        ("tosca.datatypes.nfv.NsMonitoringParameter", SOL001_NS),
    ],
)
def test_lists_match_the_sol001_definitions_when_present(
    datatype: str, expected: tuple[str, ...]
) -> None:
    values = _spec_valid_values(datatype)
    if values is None:
        pytest.skip("SOL001 definitions not available next to the repository")
    assert values == set(expected)


@pytest.mark.parametrize("row", metrics.SOURCE_NAMES, ids=lambda r: r.name)
def test_every_source_name_resolves_to_a_per_resource_metric(row: metrics.SourceName) -> None:
    name = metrics.canonical(row.name)
    assert name == row.canonical
    assert metrics.metric(name).aggregation is Aggregation.SAMPLED
    assert metrics.source_name(row.name) == row


@pytest.mark.parametrize("name", ["VCpuUsage", "v_cpu_usage_mean", "", "CPU_UTIL"])
def test_unknown_names_raise_naming_the_name(name: str) -> None:
    with pytest.raises(KeyError, match=re.escape(repr(name))):
        metrics.canonical(name)
    with pytest.raises(KeyError, match=re.escape(repr(name))):
        metrics.ifa027(name)
    with pytest.raises(KeyError, match=re.escape(repr(name))):
        metrics.source_name(name)


def test_per_resource_metrics_have_no_ifa027_name() -> None:
    with pytest.raises(KeyError, match="'cpu_utilization' has no IFA 027"):
        metrics.ifa027("cpu_utilization")
    with pytest.raises(KeyError, match="'cpu_util' has no IFA 027"):
        metrics.ifa027("cpu_util")


def test_aggregated_rows_name_a_per_resource_metric_of_servers_or_ports() -> None:
    server, port = set(metrics.for_level(Level.SERVER)), set(metrics.for_level(Level.PORT))
    for row in metrics.METRICS:
        if row.aggregation is Aggregation.SAMPLED:
            assert row.of is None
            continue
        assert row.of in (server if row.aggregation is not Aggregation.SUM else port), row
        assert row.unit == metrics.metric(row.of).unit


def test_levels() -> None:
    assert metrics.for_level("server") == (
        "cpu_utilization",
        "memory_utilization",
        "disk_utilization",
    )
    assert metrics.for_level(Level.HOST) == metrics.for_level(Level.SERVER)
    assert set(metrics.for_level(Level.VNF)) == set(SOL001_VNF)
    assert set(SOL001_NS) <= set(metrics.for_level(Level.NS))


def test_reading_takes_the_peak_of_peak_metrics_and_the_mean_otherwise() -> None:
    st = Stat(3, 50.0, 90.0, 10.0, 20.0, 5.0, 0.0, 10.0)
    assert metrics.reading("VCpuUsagePeakVnf", st) == 90.0
    assert metrics.reading("v_cpu_usage_mean_vnf", st) == 50.0
    assert metrics.reading("byte_incoming", Stat.empty(0.0, 1.0)) is None
