"""The current value of every metric of an NS (and its VNFs and VNFCs), of a VIM's hosts and
zones, or of one resource: what ``/admin/v1/.../metrics`` shows.

Values come from the hub's windows; which NS, VNF, VNFC, host and zone exist (and who may
see them) from the inventory. A metric without samples in its window is shown with
``noData: true`` and null values, never as 0. Every metric of the resource's kind
(``nfvo.monitoring.metrics``) is listed, with ``noData`` until a source reports it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import select

from nfvo.errors import BadRequest, NotFound
from nfvo.inventory.db import Database
from nfvo.inventory.lcm_repo import NsRecordsRepository, NsRepository
from nfvo.inventory.models import NsInstance, NsVnf, NsVnfc
from nfvo.inventory.resources_repo import VimRepository
from nfvo.monitoring.metrics import Level, for_level
from nfvo.monitoring.model import Resource, ResourceKind
from nfvo.resources.service import Scope

MIN_WINDOW_S = 1.0
MAX_WINDOW_S = 3600.0
MAX_RESOURCE_KEY = 600
_LEVELS = {lvl.value for lvl in Level}


class StatLike(Protocol):
    """What the hub's ``Stat`` offers (``nfvo.monitoring.windows.Stat``)."""

    count: int
    mean: float | None
    peak: float | None
    low: float | None
    last: float | None
    last_at: float | None


class Reader(Protocol):
    """The reads of the hub (``nfvo.monitoring.hub.Monitor``) the views use."""

    def metrics_of(self, resource: Resource, window_s: float | None = None) -> dict[str, Any]:
        """The window's statistics of every metric the hub holds for a resource."""


def iso(epoch: float | None) -> str | None:
    """Epoch seconds as ISO 8601 UTC (None stays None)."""
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC).isoformat()


def stat_view(stat: StatLike | None) -> dict[str, Any]:
    """One metric as the API shows it: ``noData`` and nulls when the window is empty."""
    if stat is None or not stat.count:
        return {
            "last": None,
            "mean": None,
            "peak": None,
            "low": None,
            "count": 0,
            "timestamp": None,
            "noData": True,
        }
    return {
        "last": stat.last,
        "mean": stat.mean,
        "peak": stat.peak,
        "low": stat.low,
        "count": stat.count,
        "timestamp": iso(stat.last_at),
        "noData": False,
    }


def parse_window(value: str | None) -> float | None:
    """The ``window`` query parameter: seconds in [MIN_WINDOW_S, MAX_WINDOW_S] (None: the
    hub's default window); BadRequest naming it otherwise."""
    if value is None:
        return None
    try:
        window = float(value)
    except ValueError:
        raise BadRequest(
            f"window must be a number of seconds, got {value[:40]!r}", field="window"
        ) from None
    if not MIN_WINDOW_S <= window <= MAX_WINDOW_S:  # also refuses NaN
        raise BadRequest(
            f"window must be between {MIN_WINDOW_S:g} and {MAX_WINDOW_S:g} seconds",
            field="window",
        )
    return window


def parse_resource(value: str | None) -> Resource:
    """The ``resource`` query parameter (a ``Resource.key``); BadRequest naming it."""
    if not value:
        raise BadRequest("resource is required (e.g. server:<vimAccountId>:<id>)", field="resource")
    if len(value) > MAX_RESOURCE_KEY:
        raise BadRequest(f"resource is longer than {MAX_RESOURCE_KEY} characters", field="resource")
    try:
        return Resource.parse(value)
    except ValueError as exc:
        raise BadRequest(f"resource: {exc}", field="resource") from None


class CurrentMetrics:
    """Composes the metrics views of the admin API from the hub and the inventory.

    ``monitor`` returns the running hub, or None where monitoring does not run (every metric
    then has no data). ``clock`` stamps the views.
    """

    def __init__(
        self,
        db: Database,
        monitor: Callable[[], Reader | None],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.monitor = monitor
        self.clock = clock

    def metrics(self, resource: Resource, window_s: float | None) -> dict[str, dict[str, Any]]:
        """Every metric of ``resource``'s kind, in the table's order."""
        hub = self.monitor()
        if hub is None:
            names = for_level(resource.kind.value) if resource.kind.value in _LEVELS else ()
            return {m: stat_view(None) for m in names}
        return {m: stat_view(st) for m, st in hub.metrics_of(resource, window_s).items()}

    def _envelope(self, window_s: float | None, **ids: Any) -> dict[str, Any]:
        return {**ids, "window": window_s, "at": iso(self.clock())}

    # -- an NS ---------------------------------------------------------------------------
    def of_ns(self, ns_id: str, tenant: str | None, window_s: float | None) -> dict[str, Any]:
        """The NS's metrics, per VNF and per VNFC (with its host)."""
        with self.db.session() as s:
            ns = NsRepository(s).get(ns_id)
            if ns is None or not Scope(tenant).owns(ns.tenant_id):
                raise NotFound(f"NS instance {ns_id} does not exist")
            records = NsRecordsRepository(s)
            vnfs = records.vnfs_of([ns_id]).get(ns_id, [])
            vnfcs = records.vnfcs_of([ns_id])
        out = self._envelope(window_s, nsInstanceId=ns_id)
        out["metrics"] = self.metrics(Resource(ResourceKind.NS, ns_id), window_s)
        out["vnfs"] = [self._vnf(v, vnfcs.get(v.id, []), window_s) for v in vnfs]
        return out

    def _vnf(self, vnf: NsVnf, vnfcs: Iterable[NsVnfc], window_s: float | None) -> dict[str, Any]:
        return {
            "vnfInstanceId": vnf.id,
            "vnfProfileId": vnf.vnf_profile_id,
            "vimAccountId": vnf.vim_account_id,
            "metrics": self.metrics(Resource(ResourceKind.VNF, vnf.id), window_s),
            "vnfcs": [self._vnfc(c, window_s) for c in vnfcs if c.server_id],
        }

    def _vnfc(self, c: NsVnfc, window_s: float | None) -> dict[str, Any]:
        server = Resource(ResourceKind.SERVER, str(c.server_id), c.vim_account_id)
        return {
            "vnfcInstanceId": c.key.replace("/", "-"),
            "vduId": c.vdu_id,
            "serverId": c.server_id,
            "resource": server.key,
            "status": c.status,
            "host": c.host,
            "zone": c.zone,
            "metrics": self.metrics(server, window_s),
        }

    # -- a VIM ---------------------------------------------------------------------------
    def of_vim(self, vim_id: str, tenant: str | None, window_s: float | None) -> dict[str, Any]:
        """The VIM's own metrics, per zone and per host (as last synced)."""
        with self.db.session() as s:
            repo = VimRepository(s)
            vim = repo.get(vim_id)
            if vim is None or not Scope(tenant).sees(vim.tenant_id):
                raise NotFound(f"VIM account {vim_id} does not exist")
            zones = [z.name for z in repo.zones(vim_id)]
            hosts = [(h.name, h.zone, h.state) for h in repo.hosts(vim_id)]
        out = self._envelope(window_s, vimAccountId=vim_id)
        out["metrics"] = self.metrics(Resource(ResourceKind.VIM, vim_id), window_s)
        out["zones"] = [
            {"zone": z, "metrics": self.metrics(Resource(ResourceKind.ZONE, z, vim_id), window_s)}
            for z in zones
        ]
        out["hosts"] = [
            {
                "host": name,
                "zone": zone,
                "state": state,
                "resource": Resource(ResourceKind.HOST, name, vim_id).key,
                "metrics": self.metrics(Resource(ResourceKind.HOST, name, vim_id), window_s),
            }
            for name, zone, state in hosts
        ]
        return out

    # -- one resource --------------------------------------------------------------------
    def of_resource(
        self, resource: Resource, tenant: str | None, window_s: float | None
    ) -> dict[str, Any]:
        """One resource's metrics, when the caller may see the resource (404 otherwise)."""
        self._check_visible(resource, tenant)
        out = self._envelope(window_s, resource=resource.key)
        out["metrics"] = self.metrics(resource, window_s)
        return out

    def _check_visible(self, r: Resource, tenant: str | None) -> None:
        scope = Scope(tenant)
        gone = NotFound(f"resource {r.key} does not exist")
        with self.db.session() as s:
            if r.kind is ResourceKind.NS:
                ns = NsRepository(s).get(r.id)
                if ns is None or not scope.owns(ns.tenant_id):
                    raise gone
                return
            if r.kind is ResourceKind.VNF:
                vnf = NsRecordsRepository(s).vnf(r.id)
                ns = NsRepository(s).get(vnf.ns_instance_id) if vnf is not None else None
                if ns is None or not scope.owns(ns.tenant_id):
                    raise gone
                return
            vim_id = r.id if r.kind is ResourceKind.VIM else r.vim_id
            vim = VimRepository(s).get(str(vim_id))
            if vim is None or not scope.sees(vim.tenant_id):
                raise gone
            if scope.is_global or r.kind not in (ResourceKind.SERVER, ResourceKind.PORT):
                return
            # a server or port on a shared VIM: only when it is one of the caller's VNFCs
            q = (
                select(NsVnfc)
                .join(NsInstance, NsInstance.id == NsVnfc.ns_instance_id)
                .where(NsVnfc.vim_account_id == vim.id, NsInstance.tenant_id == tenant)
            )
            if r.kind is ResourceKind.SERVER:
                q = q.where(NsVnfc.server_id == r.id)
                if s.execute(q.limit(1)).first() is None:
                    raise gone
                return
            if not any(r.id in (c.port_ids or {}).values() for c in s.execute(q).scalars()):
                raise gone
