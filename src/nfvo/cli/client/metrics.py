"""Current-metrics tables of ``nfvo ns show`` and ``nfvo vim show`` (``/admin/v1/.../metrics``).

A metric without samples in its window shows as ``no data``, never as 0. The tables are
shown in table output only; ``-o json|yaml`` keeps the NS / VIM document unchanged.
"""

from __future__ import annotations

from typing import Any

from rich.console import RenderableType

from nfvo.cli.client.errors import ApiError
from nfvo.cli.client.output import Column, table
from nfvo.cli.client.session import ApiSession

NO_DATA = "no data"
VNFC_METRICS = [
    ("vCPU %", "cpu_utilization"),
    ("MEM %", "memory_utilization"),
    ("DISK %", "disk_utilization"),
]
# a VNF's metrics are shown as their window's figure: the peak of a *_peak_* metric, the
# mean of the others (as PM reports and thresholds read them)
VNF_METRICS = [
    ("vCPU MEAN %", "v_cpu_usage_mean_vnf", "mean"),
    ("vCPU PEAK %", "v_cpu_usage_peak_vnf", "peak"),
    ("MEM MEAN %", "v_memory_usage_mean_vnf", "mean"),
    ("BYTES IN/s", "byte_incoming_vnf_ext_cp", "mean"),
    ("BYTES OUT/s", "byte_outgoing_vnf_ext_cp", "mean"),
]


def value_text(metrics: dict[str, Any] | None, name: str, field: str = "last") -> str:
    """A metric's ``field`` (last, mean, peak), or ``no data`` (also when the server does
    not report the metric)."""
    m = (metrics or {}).get(name)
    if not m or m.get("noData") or m.get(field) is None:
        return NO_DATA
    value = float(m[field])
    return f"{value:.1f}" if abs(value) < 1e6 else f"{value:.3g}"


def _metric_columns(specs: list[tuple[str, str]] | list[tuple[str, str, str]]) -> list[Column]:
    out: list[Column] = []
    for header, name, *field in specs:
        f = field[0] if field else "last"
        out.append((header, lambda row, n=name, f=f: value_text(row.get("metrics"), n, f)))
    return out


def fetch(s: ApiSession, path: str) -> dict[str, Any] | None:
    """The metrics document at ``path``; None when the server has none to give (an older
    server, or monitoring not readable): ``show`` then prints what it printed before."""
    try:
        return s.get(path)
    except ApiError as exc:
        if exc.status in (404, 405, 501):
            return None
        raise


def ns_tables(doc: dict[str, Any] | None) -> list[RenderableType | None]:
    """The VNF and VNFC metrics tables of an NS."""
    if not doc or not doc.get("vnfs"):
        return []
    vnfs = doc["vnfs"]
    vnfcs = [c | {"vnf": v.get("vnfProfileId")} for v in vnfs for c in v.get("vnfcs") or []]
    window = f"window {doc['window']:g} s" if doc.get("window") else "default window"
    vnf_table = table(
        vnfs,
        [("VNF", "vnfProfileId"), *_metric_columns(VNF_METRICS)],
        title=f"Metrics of the VNFs ({window})",
    )
    vnfc_table = table(
        vnfcs,
        [
            ("VNF", "vnf"),
            ("VDU", "vduId"),
            ("SERVER", "serverId"),
            ("HOST", "host"),
            *_metric_columns(VNFC_METRICS),
        ],
        title=f"Metrics of the VNFCs (last value, {window})",
        empty="no VNFCs",
    )
    return [vnf_table, vnfc_table]


def vim_tables(doc: dict[str, Any] | None) -> list[RenderableType | None]:
    """The per-host metrics table of a VIM."""
    if not doc:
        return []
    return [
        table(
            doc.get("hosts") or [],
            [
                ("HOST", "host"),
                ("ZONE", "zone"),
                ("STATE", "state"),
                *_metric_columns(VNFC_METRICS),
            ],
            title="Metrics of the hosts (last value)",
            empty="no hosts synced yet",
        )
    ]
