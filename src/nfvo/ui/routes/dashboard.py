"""The dashboard: NS instances by state, operations in progress (polled), active alarms by
severity, and the capacity of every VIM account and zone the user sees. Every figure is
counted or summed by the database or from the synced hosts: nothing loads the NS instances
themselves, so the page costs the same with ten instances or ten thousand."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from nfvo.api.deps import Services, services
from nfvo.lcm.states import NsState, OpState
from nfvo.monitoring.fm import AlarmStore
from nfvo.optimizer.model import HostCapacity
from nfvo.query import ColumnTest, PageQuery
from nfvo.ui.render import fragment, page
from nfvo.ui.session import UiUser, viewer

router = APIRouter()

NS_STATES = [s.value for s in NsState]
RUNNING = (OpState.STARTING.value, OpState.PROCESSING.value, OpState.ROLLING_BACK.value)
WAITING = (OpState.FAILED_TEMP.value,)
SEVERITIES = ["CRITICAL", "MAJOR", "MINOR", "WARNING", "INDETERMINATE"]
OPS_SHOWN = 20  # operations listed per kind; beyond that the page says how many more exist
# op occurrence and NS columns the dashboard never shows (not read)
_OP_UNREAD = ("params", "error", "changes")
_NS_UNREAD = ("scale_status", "description", "instantiation_level_id")


@dataclass
class Usage:
    """Used and total room of one dimension (total = capacity x allocation ratio)."""

    used: float = 0.0
    total: float = 0.0

    @property
    def free(self) -> float:
        return max(self.total - self.used, 0.0)

    @property
    def percent(self) -> float:
        """How full, 0-100, for the bar's width."""
        if self.total <= 0:
            return 0.0
        return round(min(max(self.used / self.total, 0.0), 1.0) * 100, 1)

    def add(self, free: float, total: float) -> None:
        self.total += total
        self.used += total - free


@dataclass
class Capacity:
    """vCPU and RAM of a group of hosts (a VIM, a zone), and how many hosts are up."""

    name: str
    vcpus: Usage = field(default_factory=Usage)
    ram_mib: Usage = field(default_factory=Usage)
    hosts: int = 0
    hosts_up: int = 0

    def add(self, h: HostCapacity) -> None:
        total = h.total()
        self.vcpus.add(h.vcpus_free, total[0])
        self.ram_mib.add(h.ram_mib_free, total[1])
        self.hosts += 1
        self.hosts_up += 1 if h.schedulable else 0


@dataclass
class VimCapacity:
    """One VIM account's capacity, in all and per zone."""

    id: str
    name: str
    vim_type: str
    state: str
    all: Capacity
    zones: list[Capacity]


def capacity_of(vim: Any, hosts: Iterable[HostCapacity]) -> VimCapacity:
    """Sum a VIM account's synced hosts (as the optimizer reads them) per VIM and zone."""
    whole = Capacity(vim.name)
    zones: dict[str, Capacity] = {}
    for h in hosts:
        whole.add(h)
        zones.setdefault(h.zone, Capacity(h.zone)).add(h)
    return VimCapacity(
        vim.id,
        vim.name,
        vim.vim_type,
        vim.operational_state,
        whole,
        [zones[z] for z in sorted(zones)],
    )


def vim_capacities(svc: Services, user: UiUser) -> list[VimCapacity]:
    """The capacity of every VIM account the user sees, by name."""
    vims = sorted(svc.resources.list_vims(user.scope), key=lambda v: v.name)
    return [capacity_of(v, svc.resources.host_capacities(v.id)) for v in vims]


def _ops(svc: Services, tenant: str | None, states: tuple[str, ...]) -> list[Any]:
    query = PageQuery(None, (ColumnTest("state", "in", states),), OPS_SHOWN + 1)
    return svc.lcm.ops_page(tenant, query, without=_OP_UNREAD)


def _ns_names(svc: Services, tenant: str | None, ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    query = PageQuery(None, (ColumnTest("id", "in", tuple(sorted(ids))),), len(ids))
    return {ns.id: ns.name for ns in svc.lcm.page(tenant, query, without=_NS_UNREAD)}


def live_values(svc: Services, user: UiUser) -> dict[str, Any]:
    """What the polled part of the dashboard shows: NS counts, open operations, alarms."""
    tenant = user.tenant_id
    counts = svc.lcm.ns_counts(tenant)
    ns_by_state = {s: counts.get(s, (0, 0))[0] for s in NS_STATES}
    for state, (n, _) in counts.items():  # a state this release does not name: shown too
        ns_by_state.setdefault(state, n)
    running, waiting = _ops(svc, tenant, RUNNING), _ops(svc, tenant, WAITING)
    names = _ns_names(svc, tenant, {o.ns_instance_id for o in running[:OPS_SHOWN] + waiting})
    alarms = AlarmStore(svc.db).active_by_severity(tenant)
    return {
        "ns_by_state": ns_by_state,
        "ns_total": sum(n for n, _ in counts.values()),
        "ns_busy": sum(b for _, b in counts.values()),
        "running": running[:OPS_SHOWN],
        "running_more": len(running) > OPS_SHOWN,
        "waiting": waiting[:OPS_SHOWN],
        "waiting_more": len(waiting) > OPS_SHOWN,
        "ns_names": names,
        "alarms": {s: alarms.get(s, 0) for s in SEVERITIES}
        | {s: n for s, n in alarms.items() if s not in SEVERITIES},
        "alarms_total": sum(alarms.values()),
    }


@router.get("/ui/", response_class=HTMLResponse)
def dashboard(
    request: Request, user: UiUser = Depends(viewer), svc: Services = Depends(services)
) -> HTMLResponse:
    """The dashboard page."""
    return page(
        request,
        "dashboard.html",
        vims=vim_capacities(svc, user),
        **live_values(svc, user),
    )


@router.get("/ui/dashboard/live", response_class=HTMLResponse)
def dashboard_live(
    request: Request, user: UiUser = Depends(viewer), svc: Services = Depends(services)
) -> HTMLResponse:
    """The polled part of the dashboard (every second): NS counts, operations, alarms."""
    return fragment(request, "dashboard.html", "live", **live_values(svc, user))
