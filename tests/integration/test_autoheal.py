"""Auto-heal from root causes on a live nfvo with the sim VIM and the real LCM (SQLite and
PostgreSQL): the root causes are built from the NS instances' inventory rows, as root-cause
analysis hands them over; a fake clock drives the batch window.

A host carrying 6 VNFCs of 3 VNFs in 2 NS fails -> exactly one automatic HEAL per NS,
recreating only those VNFCs, elsewhere, and nothing on other hosts; repeated roots within
the window change nothing. The guards: a clear inside the window, a host in a sleep window,
auto-heal disabled, an NS busy with a scale (IN_FLIGHT, then one heal once it ends, or none
when the root cleared meanwhile), a quota, a refusal, an NS no longer instantiated, and the
bound on waiting for a busy NS."""

from __future__ import annotations

import time
from collections.abc import Iterable

import httpx
import pytest
from sqlalchemy import select, update
from tests.support.live import LiveApi, sim_vim, wait_op

from nfvo.errors import Conflict, QuotaExceeded
from nfvo.inventory.models import NsInstance, NsLcmOpOcc, NsVnfc, VimHost
from nfvo.inventory.policy_repo import PolicyDecisionRow
from nfvo.lcm.codec import vnfc_id
from nfvo.lcm.service import LcmService
from nfvo.lcm.states import OpType
from nfvo.monitoring.model import FaultKind, Resource, ResourceKind
from nfvo.policy.decisions import Reason
from nfvo.policy.heal import AutoHealer
from nfvo.policy.model import DownVnfc, RootCause
from nfvo.samples import NSD_WEBAPP_ID, VNF_DB_ID, VNF_WEB_ID, build_sample

NS = "/nslcm/v2/ns_instances"
OPS = "/nslcm/v2/ns_lcm_op_occs"
VIMS = "/admin/v1/vim_accounts"
IMAGES = [{"name": n} for n in ("cirros", "web-img", "db-img")]
T0 = 1_800_000_000.0


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


# -- set-up ------------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def _only_the_tests_healer(live: LiveApi) -> None:
    """The runtime's own healer would act on the sim faults too (through root-cause
    analysis); these tests drive their own on a fake clock, so the runtime's is stopped."""
    healer = live.services.healer
    if healer is not None:
        healer.stop()


def _onboard(live: LiveApi) -> None:
    for name in ("vnf-web", "vnf-db", "ns-webapp"):
        live.onboard("nsd" if name.startswith("ns") else "vnf", build_sample(name))


def _vim(c: httpx.Client, name: str, hosts: int, slow_ms: int = 0) -> str:
    """A sim VIM placing by packing; ``slow_ms``: server boots and deletes take that long
    (operations that stay open while the test looks)."""
    return sim_vim(
        c,
        name,
        hosts=hosts,
        zones=1,
        images=IMAGES,
        placement_strategy="pack",
        latency_ms={"server_boot": slow_ms or 5, "server_delete": slow_ms},
    )


def _run(c: httpx.Client, ns_id: str, what: str, body: dict) -> dict:
    r = c.post(f"{NS}/{ns_id}/{what}", json=body)
    assert r.status_code == 202, r.text
    op = wait_op(c, r.headers["location"])
    assert op["operationState"] == "COMPLETED", op
    return op


def _ns(c: httpx.Client, name: str, vim_id: str, db_vim: str | None = None) -> str:
    r = c.post(NS, json={"nsdId": NSD_WEBAPP_ID, "nsName": name})
    assert r.status_code == 201, r.text
    ns_id = r.json()["id"]
    _run(c, ns_id, "instantiate", _instantiation(vim_id, db_vim))
    return ns_id


def _instantiation(vim_id: str, db_vim: str | None = None) -> dict:
    body: dict = {"nsFlavourId": "default", "additionalParamsForNs": {"vimAccountId": vim_id}}
    if db_vim:
        body["additionalParamsForVnf"] = [
            {"vnfProfileId": "vnf_db", "additionalParams": {"vimAccountId": db_vim}}
        ]
    return body


def _tenant_ns(live: LiveApi, tenant: str, vim_id: str, db_vim: str) -> str:
    """An NS of ``tenant`` (on the admin's shared VIMs and packages)."""
    lcm = live.services.lcm
    ns = lcm.create({"nsdId": NSD_WEBAPP_ID, "nsName": "heal-b"}, tenant)
    occ = lcm.start(ns.id, OpType.INSTANTIATE, _instantiation(vim_id, db_vim), tenant)
    assert wait_op(live.client, f"{OPS}/{occ.id}")["operationState"] == "COMPLETED"
    return ns.id


def _scale_vnf(vnf_id: str, aspect: str, kind: str = "SCALE_OUT") -> dict:
    return {
        "scaleType": "SCALE_VNF",
        "scaleVnfData": [
            {
                "vnfInstanceId": vnf_id,
                "scaleVnfType": kind,
                "scaleByStepData": {"aspectId": aspect, "numberOfSteps": 1},
            }
        ],
    }


def _vnf_id(c: httpx.Client, ns_id: str, vnfd_id: str) -> str:
    [vnf] = [v for v in c.get(f"{NS}/{ns_id}").json()["vnfInstance"] if v["vnfdId"] == vnfd_id]
    return vnf["id"]


def _rows(live: LiveApi, ns_ids: Iterable[str]) -> list[NsVnfc]:
    with live.services.db.session() as s:
        q = select(NsVnfc).where(NsVnfc.ns_instance_id.in_(list(ns_ids)))
        return list(s.scalars(q))


def _down(rows: Iterable[NsVnfc]) -> tuple[DownVnfc, ...]:
    """The DownVnfc of each VNFC row, as root-cause analysis reports it."""
    return tuple(
        DownVnfc(
            r.ns_instance_id,
            r.vnf_instance_id,
            vnfc_id(r.key),
            r.vdu_id,
            Resource(ResourceKind.SERVER, r.server_id or "", r.vim_account_id),
        )
        for r in rows
    )


def _host_root(
    vim_id: str, host: str, vnfcs: tuple[DownVnfc, ...], *, raised: bool = True
) -> RootCause:
    resource = Resource(ResourceKind.HOST, host, vim_id)
    return RootCause(
        fault_key=f"host:{resource.key}",
        resource=resource,
        kind=FaultKind.HOST_DOWN if raised else FaultKind.HOST_UP,
        raised=raised,
        at=T0,
        vnfcs=vnfcs if raised else (),
    )


def _server_root(vnfc: DownVnfc, *, raised: bool = True) -> RootCause:
    return RootCause(
        fault_key=f"server:{vnfc.server.key}",
        resource=vnfc.server,
        kind=FaultKind.SERVER_CRASHED if raised else FaultKind.SERVER_RECOVERED,
        raised=raised,
        at=T0,
        vnfcs=(vnfc,) if raised else (),
    )


def _heals(live: LiveApi, ns_ids: Iterable[str]) -> list[NsLcmOpOcc]:
    with live.services.db.session() as s:
        q = (
            select(NsLcmOpOcc)
            .where(NsLcmOpOcc.ns_instance_id.in_(list(ns_ids)))
            .where(NsLcmOpOcc.operation == OpType.HEAL.value)
            .order_by(NsLcmOpOcc.start_time)
        )
        return list(s.scalars(q))


def _decisions(live: LiveApi) -> list[PolicyDecisionRow]:
    with live.services.db.session() as s:
        q = select(PolicyDecisionRow).order_by(PolicyDecisionRow.created_at)
        return [r for r in s.scalars(q) if r.kind == "AUTO_HEAL"]


def _fail_host(c: httpx.Client, vim_id: str, host: str) -> None:
    """The sim host fails (the inventory is not synced: the healer must see to it)."""
    r = c.post(f"{VIMS}/{vim_id}/sim/faults", json={"kind": "HOST_DOWN", "host": host})
    assert r.status_code == 201, r.text


def _host_state(live: LiveApi, vim_id: str, host: str) -> str:
    with live.services.db.session() as s:
        row = s.get(VimHost, (vim_id, host))
        assert row is not None
        return row.state


def _set_host_state(live: LiveApi, vim_id: str, host: str, state: str) -> None:
    """What the availability windows part does to a host entering or leaving a window."""
    with live.services.db.session() as s:
        s.execute(
            update(VimHost)
            .where(VimHost.vim_id == vim_id, VimHost.name == host)
            .values(state=state)
        )


def _wait_settled(c: httpx.Client, op_ids: Iterable[str]) -> list[dict]:
    return [wait_op(c, f"{OPS}/{op_id}") for op_id in op_ids]


# -- a host down -------------------------------------------------------------------------
def test_host_down_heals_each_ns_once_and_only_its_vnfcs(live: LiveApi) -> None:
    _onboard(live)
    c = live.client
    vim_id = _vim(c, "heal-lab", hosts=3)
    other_vim = _vim(c, "heal-other", hosts=1)
    ns_a = _ns(c, "heal-a", vim_id)
    db_a = _vnf_id(c, ns_a, VNF_DB_ID)
    _run(c, ns_a, "scale", _scale_vnf(db_a, "db_scale"))  # a 2nd db VNFC, packed beside
    _run(c, ns_a, "scale", _scale_vnf(_vnf_id(c, ns_a, VNF_WEB_ID), "web_scale"))  # apart
    tenant = live.services.resources.create_tenant("blue", None).id
    ns_b = _tenant_ns(live, tenant, vim_id, other_vim)
    before = _rows(live, [ns_a, ns_b])
    [failed] = {r.host for r in before if r.vdu_id == "cache"}  # pack: the first host
    on_host = [r for r in before if r.vim_account_id == vim_id and r.host == failed]
    elsewhere = [r for r in before if r not in on_host]
    # the acceptance layout: 6 VNFCs of 3 VNFs in 2 NS on the host, other servers elsewhere
    assert len(on_host) == 6, [(r.vnf_instance_id, r.vdu_id, r.host) for r in before]
    assert len({r.vnf_instance_id for r in on_host}) == 3
    assert {r.ns_instance_id for r in on_host} == {ns_a, ns_b}
    assert len(elsewhere) == 2 and all(r.server_id for r in elsewhere)

    _fail_host(c, vim_id, failed)
    clock = Clock()
    # quiet_s = batch_s: the window is the full 5 s, however the roots are spaced
    healer = AutoHealer(live.services.db, live.services.lcm, clock=clock, quiet_s=5.0)
    down = _down(on_host)
    healer.on_root(_host_root(vim_id, failed, down))
    clock.advance(2)
    healer.on_root(_host_root(vim_id, failed, down))  # RCA repeats itself
    healer.on_root(_server_root(down[0]))  # and one server's own root
    clock.advance(2.9)
    assert healer.run_due() == []  # the window (5 s from the first root) is still open
    assert _heals(live, [ns_a, ns_b]) == []
    clock.advance(0.2)
    assert _host_state(live, vim_id, failed) == "up"  # not synced since it failed
    outcomes = healer.run_due()
    assert sorted((o.ns_instance_id, o.reason) for o in outcomes) == sorted(
        [(ns_a, Reason.ACTED), (ns_b, Reason.ACTED)]
    )
    ops = _wait_settled(c, [o.op_occ_id for o in outcomes if o.op_occ_id])
    assert [op["operationState"] for op in ops] == ["COMPLETED", "COMPLETED"], ops

    heals = _heals(live, [ns_a, ns_b])
    assert sorted(h.ns_instance_id for h in heals) == sorted([ns_a, ns_b])  # one per NS
    for op in ops:
        assert op["isAutomaticInvocation"] is True
        assert op["lcmOperationType"] == "HEAL"
        ns_id = op["nsInstanceId"]
        mine = [r for r in on_host if r.ns_instance_id == ns_id]
        asked = {
            d["vnfInstanceId"]: sorted(d["additionalParams"]["vnfcInstanceIds"])
            for d in op["operationParams"]["healVnfData"]
        }
        want: dict[str, list[str]] = {}
        for r in mine:
            want.setdefault(r.vnf_instance_id, []).append(vnfc_id(r.key))
        assert asked == {v: sorted(ids) for v, ids in want.items()}
        assert all(
            d["additionalParams"]["healType"] == "RECREATE"
            for d in op["operationParams"]["healVnfData"]
        )

    after = {(r.vnf_instance_id, r.vdu_id, r.idx): r for r in _rows(live, [ns_a, ns_b])}
    for r in on_host:  # recreated: a new server, on another host
        now = after[(r.vnf_instance_id, r.vdu_id, r.idx)]
        assert now.server_id and now.server_id != r.server_id
        assert now.host != failed
    for r in elsewhere:  # untouched
        now = after[(r.vnf_instance_id, r.vdu_id, r.idx)]
        assert (now.server_id, now.host) == (r.server_id, r.host)
    assert {h.ns_instance_id: h.tenant_id for h in heals} == {ns_a: None, ns_b: tenant}
    acted = [d for d in _decisions(live) if d.reason == "ACTED"]
    assert sorted(d.op_occ_id for d in acted) == sorted(h.id for h in heals)
    assert {d.ns_instance_id: d.tenant_id for d in acted} == {ns_a: None, ns_b: tenant}
    assert all(d.inputs["vnfcCount"] == len(d.inputs["vnfcs"]) for d in acted)

    # RCA raises the same root again (e.g. after a resync): the old servers are gone
    healer.on_root(_host_root(vim_id, failed, down))
    clock.advance(6)
    outcomes = healer.run_due()
    assert {o.reason for o in outcomes} == {Reason.CLEARED}
    assert len(_heals(live, [ns_a, ns_b])) == 2
    assert healer.pending() == {}


# -- the guards --------------------------------------------------------------------------
def _reasons(outcomes: Iterable) -> list[tuple[Reason, int]]:
    return [(o.reason, len(o.vnfc_ids)) for o in outcomes]


def test_clear_window_disabled_and_busy_ns(live: LiveApi) -> None:
    _onboard(live)
    c = live.client
    vim_id = _vim(c, "guards", hosts=2, slow_ms=300)
    ns_id = _ns(c, "guarded", vim_id)
    web_id, db_id = _vnf_id(c, ns_id, VNF_WEB_ID), _vnf_id(c, ns_id, VNF_DB_ID)
    rows = _rows(live, [ns_id])
    [host] = {r.host for r in rows}
    assert host is not None
    clock = Clock()
    healer = AutoHealer(live.services.db, live.services.lcm, clock=clock)

    def root(raised: bool = True) -> RootCause:
        return _host_root(vim_id, host, _down(_rows(live, [ns_id])), raised=raised)

    # the root clears inside the window: no heal after the clear, the clear is recorded
    healer.on_root(root())
    clock.advance(3)
    healer.on_root(root(raised=False))
    assert healer.pending() == {}
    clock.advance(10)
    assert _reasons(healer.run_due()) == [(Reason.CLEARED, 3)]
    assert healer.run_due() == []

    # the host is inside a sleep window: WINDOW, no operation
    for state in ("draining", "sleeping"):
        _set_host_state(live, vim_id, host, state)
        healer.on_root(root())
        clock.advance(5)
        [window] = healer.run_due()
        assert (window.reason, len(window.vnfc_ids)) == (Reason.WINDOW, 3)
        assert state in window.detail
        healer.on_root(root(raised=False))
    _set_host_state(live, vim_id, host, "up")
    assert _heals(live, [ns_id]) == []

    # auto-heal disabled on the web VNF: only the db VNF's VNFC is healed
    partial = AutoHealer(
        live.services.db, live.services.lcm, clock=clock, heal_enabled=lambda v: v != web_id
    )
    partial.on_root(root())
    clock.advance(5)
    outcomes = partial.run_due()
    assert _reasons(outcomes) == [(Reason.DISABLED, 2), (Reason.ACTED, 1)]
    [op] = _wait_settled(c, [outcomes[1].op_occ_id])
    assert op["operationState"] == "COMPLETED", op
    assert [d["vnfInstanceId"] for d in op["operationParams"]["healVnfData"]] == [db_id]

    # a user's scale is running: IN_FLIGHT, then one heal once it has ended
    lcm = live.services.lcm
    scale = lcm.start(ns_id, OpType.SCALE, _scale_vnf(web_id, "web_scale"), None)
    healer.on_root(root())
    clock.advance(5)
    [busy] = healer.run_due()
    assert (busy.reason, busy.op_occ_id) == (Reason.IN_FLIGHT, scale.id)
    assert healer.pending() == {ns_id: 3}
    assert _wait_settled(c, [scale.id])[0]["operationState"] == "COMPLETED"
    [acted] = healer.run_due()
    assert acted.reason is Reason.ACTED and acted.op_occ_id != scale.id
    [op] = _wait_settled(c, [acted.op_occ_id])
    assert op["operationState"] == "COMPLETED" and op["isAutomaticInvocation"] is True
    assert healer.pending() == {}
    healer.on_root(root(raised=False))

    # busy again, and the root clears while the heal waits: no heal
    heals = len(_heals(live, [ns_id]))
    scale = lcm.start(ns_id, OpType.SCALE, _scale_vnf(web_id, "web_scale", "SCALE_IN"), None)
    healer.on_root(root())
    clock.advance(5)
    assert _reasons(healer.run_due()) == [(Reason.IN_FLIGHT, 4)]
    healer.on_root(root(raised=False))
    assert _reasons(healer.run_due()) == [(Reason.CLEARED, 4)]
    assert _wait_settled(c, [scale.id])[0]["operationState"] == "COMPLETED"
    clock.advance(5)
    assert healer.run_due() == []
    assert len(_heals(live, [ns_id])) == heals

    # one decision per evaluation (some share a timestamp of the fake clock)
    assert sorted(d.reason for d in _decisions(live)) == sorted(
        ["CLEARED", "WINDOW", "WINDOW", "DISABLED", "ACTED", "IN_FLIGHT", "ACTED"]
        + ["IN_FLIGHT", "CLEARED"]
    )


class _Refusing:
    """The LCM entry point refusing every operation with one error."""

    def __init__(self, real: LcmService, exc: Exception) -> None:
        self.resources = real.resources
        self.exc = exc
        self.calls = 0

    def start(self, *args: object, **kwargs: object) -> NsLcmOpOcc:
        self.calls += 1
        raise self.exc


def _set_current_op(live: LiveApi, ns_id: str, op_id: str | None) -> None:
    """Stand-in for an operation of the NS opening and ending."""
    with live.services.db.session() as s:
        s.execute(update(NsInstance).where(NsInstance.id == ns_id).values(current_op_id=op_id))


def test_quota_refusal_wait_bound_background_thread_and_not_ready(live: LiveApi) -> None:
    _onboard(live)
    c = live.client
    vim_id = _vim(c, "bounds", hosts=2)
    ns_id = _ns(c, "bounded", vim_id)
    [host] = {r.host for r in _rows(live, [ns_id])}
    assert host is not None
    db, clock = live.services.db, Clock()

    def root(raised: bool = True) -> RootCause:
        return _host_root(vim_id, host, _down(_rows(live, [ns_id])), raised=raised)

    def fire(healer: AutoHealer) -> list:
        healer.on_root(root())
        clock.advance(5)
        return healer.run_due()

    quota = QuotaExceeded("NS quota: vcpus", quota="ns", dimension="vcpus", limit=4, used=4)
    lcm = _Refusing(live.services.lcm, quota)
    [o] = fire(AutoHealer(db, lcm, clock=clock))  # type: ignore[arg-type]
    assert o.reason is Reason.QUOTA and lcm.calls == 1
    assert _decisions(live)[-1].inputs["problem"]["dimension"] == "vcpus"

    lcm = _Refusing(live.services.lcm, Conflict("HEAL is not available in this release"))
    [o] = fire(AutoHealer(db, lcm, clock=clock))  # type: ignore[arg-type]
    assert (o.reason, o.detail) == (Reason.REFUSED, "HEAL is not available in this release")

    # the NS stays busy with one operation after the other: 1 + 2 retries, then given up
    healer = AutoHealer(db, live.services.lcm, clock=clock, retries=2)
    _set_current_op(live, ns_id, "op-1")
    outcomes = fire(healer)
    for n in (2, 3, 4):
        assert healer.run_due() == []  # op-<n-1> still open: nothing to evaluate
        _set_current_op(live, ns_id, f"op-{n}")
        outcomes += healer.run_due()
    assert [o.reason for o in outcomes] == [Reason.IN_FLIGHT] * 4
    assert [o.op_occ_id for o in outcomes] == ["op-1", "op-2", "op-3", "op-4"]
    assert "gave up after 4" in outcomes[-1].detail and healer.pending() == {}
    # ... or busy longer than max_wait_s: given up
    healer = AutoHealer(db, live.services.lcm, clock=clock, max_wait_s=60)
    assert [o.reason for o in fire(healer)] == [Reason.IN_FLIGHT]
    clock.advance(61)
    [o] = healer.run_due()
    assert o.reason is Reason.IN_FLIGHT and "gave up" in o.detail
    _set_current_op(live, ns_id, None)
    assert _heals(live, [ns_id]) == []

    # the background thread, on the real clock
    healer = AutoHealer(db, live.services.lcm, batch_s=0.2, poll_s=0.05)
    healer.start()
    try:
        started = time.monotonic()
        healer.on_root(root())
        deadline = started + 10
        while not _heals(live, [ns_id]):
            assert time.monotonic() < deadline, "no heal started"
            time.sleep(0.02)
        took = time.monotonic() - started
    finally:
        healer.stop()
    assert 0.2 <= took < 5, took
    [heal] = _heals(live, [ns_id])
    assert heal.is_automatic_invocation
    assert _wait_settled(c, [heal.id])[0]["operationState"] == "COMPLETED"

    # an NS no longer instantiated: NOT_READY
    last = root()
    _run(c, ns_id, "terminate", {})
    healer = AutoHealer(db, live.services.lcm, clock=clock)
    healer.on_root(last)
    clock.advance(5)
    [o] = healer.run_due()
    assert o.reason is Reason.NOT_READY and "NOT_INSTANTIATED" in o.detail
    assert len(_heals(live, [ns_id])) == 1
