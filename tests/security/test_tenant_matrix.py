"""The generated RBAC and tenant matrix: every route of the application x caller (reader,
operator, admin; in tenant A or global) x the owner of the resource the path names (tenant
A, tenant B, global/shared), with the status each must answer; and every id-carrying field of
every request body given another tenant's id: refused as an unknown id, nothing written.

The routes come from the application itself: a route added without an entry in ``MATRIX``
fails ``test_every_route_is_in_the_matrix``. One server and one set of resources per database
(module scope), on SQLite and PostgreSQL.

A case is chosen so that an *allowed* call changes nothing (a state the resource is in makes
it answer 409: deleting an instantiated NS or an enabled package, uploading an onboarded one,
retrying a completed operation); calls that cannot be made harmless (deleting an SDN
controller, a subscription, a user, a PNFD) get a fresh resource per case.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.routing import iter_route_contexts
from sqlalchemy import func, select
from tests.conftest import PG_ENV, PG_SKIP
from tests.support.live import LiveApi, sim_vim, start_live, wait_op
from tests.support.pgschema import pg_schema_url

from nfvo.api.app import create_app
from nfvo.inventory.models import LccnSubscriptionRow, NsLcmOpOcc
from nfvo.monitoring.fm import FaultManager
from nfvo.monitoring.model import FaultEvent, FaultKind, Resource, ResourceKind, Severity
from nfvo.policy import decisions
from nfvo.policy.decisions import Kind, Reason
from nfvo.samples.synthetic import nsd_package, vnf_package

# --------------------------------------------------------------------------- the matrix

PUBLIC, READER, OPERATOR, ADMIN, GLOBAL_ADMIN = 0, 1, 2, 3, 4
ROLE_RANK = {"reader": READER, "operator": OPERATOR, "admin": ADMIN}
# what a tenant caller sees of each kind of resource: its own only, or its own and shared
OWN_ONLY = {"ns", "op", "ns_idle", "sub_nslcm", "sub_vnfpkgm", "sub_nsd", "tenant", "user"}
OWN_ONLY |= {"action_plan", "alarm", "sub_nsfm", "pm_job", "threshold", "decision"}
OWN_AND_SHARED = {"vim", "sdn", "vnf", "nsd", "pnfd", "window"}


@dataclass(frozen=True)
class Entry:
    """What one route needs and answers.

    ``kind``: the resource its path id names (None: a collection or a public route);
    ``role``: the least role (GLOBAL_ADMIN: an admin without a tenant; PUBLIC: anyone);
    ``write``: a tenant may not change shared resources of ``kind`` (403);
    ``ok``: the status of an allowed call; ``body``/``content``: what is sent;
    ``fresh``: an allowed call consumes the resource, so each case gets a new one."""

    kind: str | None
    role: int
    ok: int
    write: bool = False
    body: Any = None
    content: bytes | None = None
    fresh: bool = False
    headers: dict[str, str] = field(default_factory=dict)


def _pkg_routes(coll: str, kind: str, content: str, descriptor: str) -> dict[str, Entry]:
    item = f"/{coll}/{{pkg_id}}"
    # a fresh PNFD is CREATED, not onboarded: reading its content is a 409 once visible
    onboarded = 200 if kind != "pnfd" else 409
    zip_ = {"Content-Type": "application/zip"}
    out = {
        f"POST /{coll}": Entry(None, OPERATOR, 400, body={"bogus": 1}),
        f"GET /{coll}": Entry(None, READER, 200),
        f"GET {item}": Entry(kind, READER, 200),
        f"PATCH {item}": Entry(kind, OPERATOR, 200, True, body={"userDefinedData": {"m": "1"}}),
        f"DELETE {item}": Entry(kind, OPERATOR, 409 if kind != "pnfd" else 204, True),
        f"PUT {item}/{content}": Entry(kind, OPERATOR, 409, True, content=b"", headers=zip_),
        f"GET {item}/{content}": Entry(
            kind, READER, onboarded, headers={"Accept": "application/zip"}
        ),
        f"GET {item}/{descriptor}": Entry(kind, READER, onboarded),
        f"GET {item}/manifest": Entry(kind, READER, onboarded),
        f"GET {item}/artifacts/{{artifact_path:path}}": Entry(kind, READER, onboarded),
    }
    if kind == "pnfd":  # deleting or uploading a CREATED PNFD goes through: a new one each
        out[f"DELETE {item}"] = Entry(kind, OPERATOR, 204, True, fresh=True)
        out[f"PUT {item}/{content}"] = Entry(  # an empty archive: the upload fails (ERROR)
            kind, OPERATOR, 400, True, content=b"", headers=zip_, fresh=True
        )
    if kind == "vnf":
        out[f"GET {item}/artifacts"] = Entry(kind, READER, 200)
        out[f"POST {item}/{content}/upload_from_uri"] = Entry(
            kind, OPERATOR, 409, True, body={"addressInformation": "http://pkg.example/x.zip"}
        )
    return out


def _sub_routes(api: str, major: str = "v2") -> dict[str, Entry]:
    kind = f"sub_{api}"
    return {
        f"POST /{api}/{major}/subscriptions": Entry(None, OPERATOR, 400, body={}),
        f"GET /{api}/{major}/subscriptions": Entry(None, READER, 200),
        f"GET /{api}/{major}/subscriptions/{{subscription_id}}": Entry(kind, READER, 200),
        f"DELETE /{api}/{major}/subscriptions/{{subscription_id}}": Entry(
            kind, OPERATOR, 204, fresh=True
        ),
    }


NS_ITEM = "/nslcm/v2/ns_instances/{ns_id}"
OP_ITEM = "/nslcm/v2/ns_lcm_op_occs/{op_id}"
VIM_ITEM = "/admin/v1/vim_accounts/{vim_id}"
SDN_ITEM = "/admin/v1/sdn_controllers/{sdn_id}"
PLAN_ITEM = "/admin/v1/action_plans/{plan_id}"
ALARM_ITEM = "/nsfm/v1/alarms/{alarm_id}"
PM_JOB = "/nspm/v2/pm_jobs/{pm_job_id}"
THRESHOLD = "/nspm/v2/thresholds/{threshold_id}"
WINDOW_ITEM = "/admin/v1/availability_windows/{window_id}"
POLICY_ITEM = "/admin/v1/policies/{policy_id}"
QUOTA_TENANT = "/admin/v1/quotas/tenants/{tenant_id}"
QUOTA_NS = "/admin/v1/quotas/ns_instances/{ns_id}"
MATRIX: dict[str, Entry] = {
    # public: no token needed, the same for every caller
    "GET /openapi.json": Entry(None, PUBLIC, 200),
    "GET /docs": Entry(None, PUBLIC, 200),
    "GET /docs/oauth2-redirect": Entry(None, PUBLIC, 200),
    "GET /redoc": Entry(None, PUBLIC, 200),
    "GET /healthz": Entry(None, PUBLIC, 200),
    "POST /oauth2/token": Entry(None, PUBLIC, 400),
    **{
        f"GET /{api}/api_versions": Entry(None, PUBLIC, 200)
        for api in ("vnfpkgm", "nsd", "nslcm", "nspm")
    },
    **{
        f"GET /{api}/v2/api_versions": Entry(None, PUBLIC, 200)
        for api in ("vnfpkgm", "nsd", "nslcm", "nspm")
    },
    # NS LCM: an NS is its tenant's alone (a global one is no tenant's)
    "POST /nslcm/v2/ns_instances": Entry(None, OPERATOR, 400, body={}),
    "GET /nslcm/v2/ns_instances": Entry(None, READER, 200),
    f"GET {NS_ITEM}": Entry("ns", READER, 200),
    f"DELETE {NS_ITEM}": Entry("ns", OPERATOR, 409),  # instantiated
    f"POST {NS_ITEM}/instantiate": Entry("ns", OPERATOR, 409, body={"nsFlavourId": "default"}),
    f"POST {NS_ITEM}/terminate": Entry("ns_idle", OPERATOR, 409, body={}),
    f"POST {NS_ITEM}/scale": Entry("ns_idle", OPERATOR, 409, body={"scaleType": "SCALE_NS"}),
    f"POST {NS_ITEM}/heal": Entry("ns_idle", OPERATOR, 409, body={}),
    f"POST {NS_ITEM}/update": Entry("ns_idle", OPERATOR, 409, body={"updateType": "ADD_VNF"}),
    "GET /nslcm/v2/ns_lcm_op_occs": Entry(None, READER, 200),
    f"GET {OP_ITEM}": Entry("op", READER, 200),
    # the placement decision of an op: scoped exactly like the op (its instantiate placed)
    "GET /admin/v1/ns_lcm_op_occs/{op_id}/placement": Entry("op", READER, 200),
    **{
        f"POST {OP_ITEM}/{task}": Entry("op", OPERATOR, 409, body={})  # the op is COMPLETED
        for task in ("retry", "rollback", "continue", "fail", "cancel")
    },
    **_sub_routes("nslcm"),
    # NS performance management: jobs and thresholds are their tenant's alone; a bad patch
    # (400) changes nothing; a report's id is its job's id in this world
    "POST /nspm/v2/pm_jobs": Entry(None, OPERATOR, 400, body={}),
    "GET /nspm/v2/pm_jobs": Entry(None, READER, 200),
    f"GET {PM_JOB}": Entry("pm_job", READER, 200),
    f"PATCH {PM_JOB}": Entry("pm_job", OPERATOR, 400, body={"criteria": {}}),
    f"DELETE {PM_JOB}": Entry("pm_job", OPERATOR, 204, fresh=True),
    f"GET {PM_JOB}/reports/{{report_id}}": Entry("pm_job", READER, 200),
    "POST /nspm/v2/thresholds": Entry(None, OPERATOR, 400, body={}),
    "GET /nspm/v2/thresholds": Entry(None, READER, 200),
    f"GET {THRESHOLD}": Entry("threshold", READER, 200),
    f"PATCH {THRESHOLD}": Entry("threshold", OPERATOR, 400, body={"criteria": {}}),
    f"DELETE {THRESHOLD}": Entry("threshold", OPERATOR, 204, fresh=True),
    **_sub_routes("vnfpkgm"),
    **_sub_routes("nsd"),
    # NS fault management (v1 only): an alarm is its NS's tenant's; acknowledging an
    # unacknowledged alarm as UNACKNOWLEDGED is a 409 that changes nothing
    "GET /nsfm/api_versions": Entry(None, PUBLIC, 200),
    "GET /nsfm/v1/api_versions": Entry(None, PUBLIC, 200),
    "GET /nsfm/v1/alarms": Entry(None, READER, 200),
    f"GET {ALARM_ITEM}": Entry("alarm", READER, 200),
    f"PATCH {ALARM_ITEM}": Entry("alarm", OPERATOR, 409, body={"ackState": "UNACKNOWLEDGED"}),
    **_sub_routes("nsfm", "v1"),
    **_pkg_routes("vnfpkgm/v2/vnf_packages", "vnf", "package_content", "vnfd"),
    **_pkg_routes("nsd/v2/ns_descriptors", "nsd", "nsd_content", "nsd"),
    **_pkg_routes("nsd/v2/pnf_descriptors", "pnfd", "pnfd_content", "pnfd"),
    # admin: tenants (global admins manage them), users, VIM accounts, SDN controllers
    "POST /admin/v1/tenants": Entry(None, GLOBAL_ADMIN, 400, body={}),
    "GET /admin/v1/tenants": Entry(None, READER, 200),
    "GET /admin/v1/tenants/{tenant_id}": Entry("tenant", READER, 200),
    "PATCH /admin/v1/tenants/{tenant_id}": Entry(
        "tenant", GLOBAL_ADMIN, 200, body={"description": "m"}
    ),
    "DELETE /admin/v1/tenants/{tenant_id}": Entry("tenant", GLOBAL_ADMIN, 409),  # owns things
    "POST /admin/v1/users": Entry(None, ADMIN, 400, body={}),
    "GET /admin/v1/users": Entry(None, ADMIN, 200),
    "DELETE /admin/v1/users/{client_id}": Entry("user", ADMIN, 204, fresh=True),
    "PATCH /admin/v1/users/{client_id}": Entry("user", ADMIN, 200, body={"disabled": False}),
    "POST /admin/v1/users/{client_id}/revoke_tokens": Entry("user", ADMIN, 204),
    "GET /admin/v1/signing_keys": Entry(None, GLOBAL_ADMIN, 200),
    # a real rotation would end every token of the matrix: an allowed caller gets the 400
    "POST /admin/v1/signing_keys/rotate": Entry(
        None, GLOBAL_ADMIN, 400, body={"gracePeriodSeconds": -1}
    ),
    "POST /admin/v1/vim_accounts": Entry(None, ADMIN, 400, body={}),
    "GET /admin/v1/vim_accounts": Entry(None, READER, 200),
    f"GET {VIM_ITEM}": Entry("vim", READER, 200),
    f"PATCH {VIM_ITEM}": Entry("vim", ADMIN, 200, True, body={"description": "m"}),
    f"DELETE {VIM_ITEM}": Entry("vim", ADMIN, 409, True),  # it holds an NS's servers
    f"POST {VIM_ITEM}/sync": Entry("vim", ADMIN, 200, True),
    f"GET {VIM_ITEM}/resources": Entry("vim", READER, 200),
    # current metrics (read-only): scoped as the NS and the VIM account they are about
    f"GET {VIM_ITEM}/metrics": Entry("vim", READER, 200),
    "GET /admin/v1/ns_instances/{ns_id}/metrics": Entry("ns", READER, 200),
    "GET /admin/v1/metrics": Entry(None, READER, 400),  # no resource: 400
    # what a resource takes down (RCA entity graph), scoped as the metrics of one resource
    "GET /admin/v1/impact": Entry(None, READER, 400),  # no resource: 400
    # sim fault injection and load curves: driven like the account itself, by operators
    f"POST {VIM_ITEM}/sim/faults": Entry(
        "vim", OPERATOR, 422, True, body={"kind": "HOST_DOWN", "host": "no-such-host"}
    ),
    f"GET {VIM_ITEM}/sim/faults": Entry("vim", READER, 200),
    f"DELETE {VIM_ITEM}/sim/faults/{{fault_id}}": Entry("vim", OPERATOR, 404, True),
    f"PUT {VIM_ITEM}/sim/load": Entry(
        "vim", OPERATOR, 422, True, body={"target": {"host": "no-such-host"}, "curve": None}
    ),
    f"GET {VIM_ITEM}/sim/load": Entry("vim", READER, 200),
    "POST /admin/v1/sdn_controllers": Entry(None, ADMIN, 400, body={}),
    "GET /admin/v1/sdn_controllers": Entry(None, READER, 200),
    f"GET {SDN_ITEM}": Entry("sdn", READER, 200),
    f"PATCH {SDN_ITEM}": Entry("sdn", ADMIN, 200, True, body={"description": "m"}),
    f"DELETE {SDN_ITEM}": Entry("sdn", ADMIN, 204, True, fresh=True),
    "POST /admin/v1/plans": Entry(None, READER, 400, body={}),  # read-only: docs/whatif.md
    "GET /admin/v1/capacity": Entry(None, READER, 400),  # no nsdId: 400
    # action plans: admins only, each its tenant's (a global one is no tenant's); the plan of
    # the world is CANCELLED, so applying or cancelling it again is a 409
    "POST /admin/v1/action_plans": Entry(
        None, ADMIN, 422, body={"vimAccountId": "none", "goal": "server_consolidation"}
    ),
    "GET /admin/v1/action_plans": Entry(None, ADMIN, 200),
    f"GET {PLAN_ITEM}": Entry("action_plan", ADMIN, 200),
    f"POST {PLAN_ITEM}/apply": Entry("action_plan", ADMIN, 409),
    f"DELETE {PLAN_ITEM}": Entry("action_plan", ADMIN, 409),
    # availability windows: admins only; a window is its VIM account's (a tenant sees the
    # windows of shared VIMs and changes none of them); the window of the world is
    # CANCELLED, so changing or cancelling it again is a 409
    "POST /admin/v1/availability_windows": Entry(
        None, ADMIN, 422, body={"vimAccountId": "none", "duration": "P1D"}
    ),
    "GET /admin/v1/availability_windows": Entry(None, ADMIN, 200),
    f"GET {WINDOW_ITEM}": Entry("window", ADMIN, 200),
    f"PATCH {WINDOW_ITEM}": Entry("window", ADMIN, 409, True, body={"notice": "1 h"}),
    f"DELETE {WINDOW_ITEM}": Entry("window", ADMIN, 409, True),
    # the Alertmanager webhook: operators raise faults on their own tenant's resources (an
    # unsupported payload version changes nothing; docs/monitoring-alertmanager.md)
    "POST /monitoring/v1/alertmanager": Entry(None, OPERATOR, 422, body={"version": "3"}),
    # VNF alarms from a VNFM (SOL003 VNF FM callback): an unknown notification type is a 400
    # that changes nothing; the callback test answers 204
    "POST /monitoring/v1/vnffm/notifications": Entry(
        None, OPERATOR, 400, body={"notificationType": "Bogus"}
    ),
    "GET /monitoring/v1/vnffm/notifications": Entry(None, OPERATOR, 204),
    # root-cause analysis: no alarmId is a 400 (the alarm's tenant scope is tested in
    # tests/integration/test_rca_api.py); templates are read by all, changed by global admins
    # only (an invalid one is a 422, an unknown name a 404: nothing changes)
    "GET /admin/v1/rca": Entry(None, READER, 400),
    "GET /admin/v1/rca_templates": Entry(None, READER, 200),
    "POST /admin/v1/rca_templates": Entry(None, GLOBAL_ADMIN, 422, body={}),
    "GET /admin/v1/rca_templates/{name}": Entry(None, READER, 404),
    "DELETE /admin/v1/rca_templates/{name}": Entry(None, GLOBAL_ADMIN, 404),
    # auto-scaling policies: each its NS's tenant's; operators write, readers read
    "POST /admin/v1/policies": Entry(None, OPERATOR, 400, body={}),
    "GET /admin/v1/policies": Entry(None, READER, 200),
    f"GET {POLICY_ITEM}": Entry("policy", READER, 200),
    f"PATCH {POLICY_ITEM}": Entry("policy", OPERATOR, 400, body={"numberOfSteps": 0}),
    f"DELETE {POLICY_ITEM}": Entry("policy", OPERATOR, 204, fresh=True),
    # quotas: a tenant's is set by global admins, an NS's by operators of its tenant; readers
    # read what they see (an all-unlimited quota written or removed changes no outcome)
    "GET /admin/v1/quotas": Entry(None, READER, 200),
    f"GET {QUOTA_TENANT}": Entry("tenant", READER, 200),
    f"PUT {QUOTA_TENANT}": Entry("tenant", GLOBAL_ADMIN, 200, body={}),
    f"DELETE {QUOTA_TENANT}": Entry("tenant", GLOBAL_ADMIN, 204),
    f"GET {QUOTA_NS}": Entry("ns", READER, 200),
    f"PUT {QUOTA_NS}": Entry("ns", OPERATOR, 200, body={}),
    f"DELETE {QUOTA_NS}": Entry("ns", OPERATOR, 204),
    # the policy engine's decision log: read-only, a decision is its NS's tenant's
    "GET /admin/v1/policy_decisions": Entry(None, READER, 200),
    "GET /admin/v1/policy_decisions/{decision_id}": Entry("decision", READER, 200),
}


def app_routes() -> list[str]:
    """``METHOD /path`` of every route the application serves (v1 paths as their v2
    twins: the same handlers), HEAD aside."""
    from nfvo.config import Settings
    from nfvo.runtime import Runtime

    with tempfile.TemporaryDirectory() as tmp:  # the runtime is built, never started
        app = create_app(Runtime(Settings(data_dir=Path(tmp))))
    out = set()
    for route in iter_route_contexts(app.routes):
        if route.path == "/ui" or route.path.startswith("/ui/"):
            continue  # the GUI signs in by session cookie: tests/gui and test_ui_tenancy
        for method in route.methods or ():
            if method != "HEAD":
                out.add(f"{method} {route.path}")
    return sorted(out)


def template(route: str) -> str:
    """The matrix key of a route (v1 paths share the v2 entries)."""
    method, path = route.split(" ", 1)
    for api in ("nslcm", "vnfpkgm", "nsd"):
        path = path.replace(f"/{api}/v1/", f"/{api}/v2/")
    return f"{method} {path}"


def test_every_route_is_in_the_matrix() -> None:
    served = {template(r) for r in app_routes()}
    missing = sorted(served - set(MATRIX))
    assert not missing, f"routes without an entry in the tenant matrix: {missing}"
    stale = sorted(set(MATRIX) - served)
    assert not stale, f"matrix entries for routes the application does not serve: {stale}"


# --------------------------------------------------------------------------- callers


@dataclass(frozen=True)
class Caller:
    """Who calls: a role, in tenant A or global."""

    role: str
    tenant: str | None  # "A" or None

    @property
    def label(self) -> str:
        return f"{self.role}@{self.tenant or 'global'}"


CALLERS = [Caller(r, t) for t in ("A", None) for r in ("reader", "operator", "admin")]
OWNERS = ("A", "B", "G")  # tenant A's, tenant B's, global (tenant-less: shared)


def expected(e: Entry, caller: Caller, owner: str | None) -> int:
    """The status the matrix demands."""
    if e.role == PUBLIC:
        return e.ok
    rank = ROLE_RANK[caller.role]
    if e.role == GLOBAL_ADMIN:
        if rank < ADMIN or caller.tenant is not None:
            return 403
    elif rank < e.role:
        return 403
    if e.kind is None or caller.tenant is None:
        return e.ok
    visible = owner == caller.tenant or (owner == "G" and e.kind in OWN_AND_SHARED)
    if not visible:
        return 404
    if e.write and owner == "G":
        return 403  # shared resources are changed by global admins only
    return e.ok


# --------------------------------------------------------------------------- the world


@dataclass
class World:
    """One server with tenants A and B, callers, and per owner one of each resource."""

    live: LiveApi
    tenants: dict[str, str]
    clients: dict[str, httpx.Client]  # Caller.label -> client; "owner:A" etc.
    ids: dict[tuple[str, str], str]  # (kind, owner) -> id
    artifacts: dict[tuple[str, str], str]  # (kind, owner) -> an artifact path
    extra: dict[str, Any] = field(default_factory=dict)

    def owner_client(self, owner: str) -> httpx.Client:
        return self.clients[f"owner:{owner}"]


def _wait(c: httpx.Client, url: str, key: str, done: tuple[str, ...]) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        body = c.get(url, params={"all_fields": ""}).json()
        if body.get(key) in done:
            return body
        assert time.monotonic() < deadline, body
        time.sleep(0.05)


def _onboard(c: httpx.Client, coll: str, content: str, state: str, data: bytes) -> dict:
    pkg = c.post(coll, json={}).json()
    r = c.put(
        f"{coll}/{pkg['id']}/{content}",
        content=data,
        headers={"Content-Type": "application/zip"},
    )
    assert r.status_code == 202, r.text
    info = _wait(c, f"{coll}/{pkg['id']}", state, ("ONBOARDED", "ERROR"))
    assert info[state] == "ONBOARDED", info
    return info


def _subscription(live: LiveApi, api: str, tenant: str | None) -> str:
    """A subscription stored as the API would (no callback test: nothing listens)."""
    sub_id = str(uuid.uuid4())
    with live.services.db.session() as s:
        s.add(
            LccnSubscriptionRow(
                id=sub_id,
                api=api,
                tenant_id=tenant,
                callback_uri=f"http://callback.example/{sub_id}",
                filter={},
                verbosity="FULL",
                fingerprint=sub_id,
            )
        )
    return sub_id


def _user(g: httpx.Client, tenant: str | None) -> str:
    cid = f"u-{uuid.uuid4().hex[:10]}"
    body = {"clientId": cid, "clientSecret": "user-secret-1", "role": "reader"}
    if tenant:
        body["tenantId"] = tenant
    assert g.post("/admin/v1/users", json=body).status_code == 201
    return cid


def _fresh(world: World, kind: str, owner: str) -> str:
    """A new resource of ``kind`` owned by ``owner`` (for calls that consume one)."""
    c, tenant = world.owner_client(owner), world.tenants.get(owner)
    if kind == "sdn":
        r = c.post("/admin/v1/sdn_controllers", json={"name": f"sdn-{uuid.uuid4()}", "type": "sim"})
        return r.json()["id"]
    if kind == "pnfd":
        return c.post("/nsd/v2/pnf_descriptors", json={}).json()["id"]
    if kind == "user":
        return _user(world.live.client, tenant)
    if kind.startswith("sub_"):
        return _subscription(world.live, kind[4:], tenant)
    if kind in ("pm_job", "threshold"):
        return _pm_row(world, kind, owner)
    if kind == "policy":
        return _policy_row(world, owner)
    raise AssertionError(kind)


def _policy_row(w: World, owner: str) -> str:
    """An auto-scaling policy of ``owner``'s NS, stored as the API would."""
    from nfvo.inventory.policies_repo import ScalingPolicyRow

    row_id = str(uuid.uuid4())
    with w.live.services.db.session() as s:
        s.add(
            ScalingPolicyRow(
                id=row_id,
                tenant_id=w.tenants.get(owner),
                name="p",
                ns_instance_id=w.ids[("ns", owner)],
                target="NS",
                aspect_id="a",
                metric="byte_incoming",
                aggregation="MEAN",
                window_s=60.0,
                out_threshold=1.0,
                out_relation="GE",
                in_relation="LE",
                cooldown_out_s=0.0,
                cooldown_in_s=0.0,
                steps=1,
                enabled=False,
            )
        )
    return row_id


def _pm_row(w: World, kind: str, owner: str) -> str:
    """A PM job (with one report of the same id) or a threshold on ``owner``'s NS, stored as
    the API would (no callback test: nothing listens)."""
    from datetime import UTC, datetime

    from nfvo.inventory.pm_repo import PmJobRow, PmReportRow, ThresholdRow

    tenant, ns = w.tenants.get(owner), w.ids[("ns", owner)]
    sub_id, row_id = _subscription(w.live, "nspm", tenant), str(uuid.uuid4())
    with w.live.services.db.session() as s:
        if kind == "pm_job":
            criteria = {"performanceMetric": ["ByteIncoming"], "collectionPeriod": 3600}
            criteria["reportingPeriod"] = 86400
            s.add(
                PmJobRow(
                    id=row_id,
                    tenant_id=tenant,
                    object_type="NsInstance",
                    object_instance_ids=[ns],
                    criteria=criteria,
                    callback_uri="http://callback.example/pm",
                    subscription_id=sub_id,
                    started_at=time.time(),
                    last_period=-1,
                    finished=False,
                )
            )
            s.flush()
            now = datetime.now(UTC)
            s.add(PmReportRow(id=row_id, pm_job_id=row_id, period=0, entries=[], ready_at=now))
        else:
            criteria = {"performanceMetric": "ByteIncoming", "thresholdType": "SIMPLE"}
            criteria["simpleThresholdDetails"] = {"thresholdValue": 80, "hysteresis": 5}
            s.add(
                ThresholdRow(
                    id=row_id,
                    tenant_id=tenant,
                    object_type="NsInstance",
                    object_instance_id=ns,
                    criteria=criteria,
                    callback_uri="http://callback.example/th",
                    subscription_id=sub_id,
                )
            )
    return row_id


def _owner_resources(w: World, owner: str) -> None:
    c, tag = w.owner_client(owner), owner.lower()
    vim = sim_vim(c, f"vim-{tag}", hosts=2, images=[{"name": "cirros"}])
    vnfd_id, nsd_id = str(uuid.uuid4()), str(uuid.uuid4())
    vnf = _onboard(
        c, "/vnfpkgm/v2/vnf_packages", "package_content", "onboardingState", vnf_package(vnfd_id)
    )
    nsd = _onboard(
        c,
        "/nsd/v2/ns_descriptors",
        "nsd_content",
        "nsdOnboardingState",
        nsd_package(nsd_id, vnfd_id),
    )
    w.ids |= {("vim", owner): vim, ("vnf", owner): vnf["id"], ("nsd", owner): nsd["id"]}
    w.extra[f"vnfd:{owner}"], w.extra[f"nsdId:{owner}"] = vnfd_id, nsd_id
    for kind, info in (("vnf", vnf), ("nsd", nsd)):
        w.artifacts[(kind, owner)] = _files(w, kind, info["id"])[0]
    w.ids[("pnfd", owner)] = c.post("/nsd/v2/pnf_descriptors", json={}).json()["id"]
    w.ids[("sdn", owner)] = _fresh(w, "sdn", owner)
    for api in ("nslcm", "vnfpkgm", "nsd", "nsfm"):
        w.ids[(f"sub_{api}", owner)] = _subscription(w.live, api, w.tenants.get(owner))
    for name, key in ((f"live-{tag}", "ns"), (f"idle-{tag}", "ns_idle")):
        r = c.post("/nslcm/v2/ns_instances", json={"nsdId": nsd_id, "nsName": name})
        assert r.status_code == 201, r.text
        w.ids[(key, owner)] = r.json()["id"]
    r = c.post(
        f"/nslcm/v2/ns_instances/{w.ids[('ns', owner)]}/instantiate",
        json={"nsFlavourId": "default", "additionalParamsForNs": {"vimAccountId": vim}},
    )
    assert r.status_code == 202, r.text
    op = wait_op(c, r.headers["location"])
    assert op["operationState"] == "COMPLETED", op
    w.ids[("op", owner)] = op["id"]
    for kind in ("pm_job", "threshold"):
        w.ids[(kind, owner)] = _pm_row(w, kind, owner)
    ns = c.get(f"/nslcm/v2/ns_instances/{w.ids[('ns', owner)]}").json()
    w.extra[f"vnfInstance:{owner}"] = ns["vnfInstance"][0]["id"]
    w.ids[("policy", owner)] = _policy_row(w, owner)
    w.ids[("alarm", owner)] = _alarm(w, w.ids[("ns", owner)])
    w.ids[("decision", owner)] = decisions.record(
        w.live.services.db,
        kind=Kind.AUTO_SCALE,
        reason=Reason.COOLDOWN,
        action="SCALE_OUT",
        ns_instance_id=w.ids[("ns", owner)],
        tenant_id=w.tenants.get(owner),
    )
    plan = c.post(
        "/admin/v1/action_plans", json={"vimAccountId": vim, "goal": "server_consolidation"}
    )
    assert plan.status_code == 201, plan.text
    assert c.delete(f"/admin/v1/action_plans/{plan.json()['id']}").status_code == 204
    w.ids[("action_plan", owner)] = plan.json()["id"]
    window = c.post(
        "/admin/v1/availability_windows",
        json={"vimAccountId": vim, "hostName": "host-0001", "duration": "P1D"},
    )
    assert window.status_code == 201, window.text
    assert c.delete(f"/admin/v1/availability_windows/{window.json()['id']}").status_code == 200
    w.ids[("window", owner)] = window.json()["id"]


def _alarm(w: World, ns_id: str) -> str:
    """An active alarm on the NS (a fault event on it, as the monitoring hub would hand)."""
    event = FaultEvent(Resource(ResourceKind.NS, ns_id), FaultKind.ALERT, Severity.MAJOR, 0.0, "t")
    (alarm_id,) = FaultManager(w.live.services.db).handle(event).raised
    return alarm_id


def _files(w: World, kind: str, pkg_id: str) -> list[str]:
    from nfvo.catalog.states import PackageKind

    pkg = w.live.services.catalog.get(PackageKind(kind), pkg_id)
    return list((pkg.info or {}).get("files", []))


def _build_world(live: LiveApi) -> World:
    g = live.client
    tenants = {}
    for owner in ("A", "B"):
        r = g.post("/admin/v1/tenants", json={"name": f"tenant-{owner.lower()}"})
        assert r.status_code == 201, r.text
        tenants[owner] = r.json()["id"]
    clients: dict[str, httpx.Client] = {"owner:G": g}
    for caller in CALLERS:
        if caller == Caller("admin", None):
            clients[caller.label] = g
            continue
        cid = f"{caller.role}-{caller.tenant or 'global'}".lower()
        body: dict[str, Any] = {
            "clientId": cid,
            "clientSecret": f"{cid}-secret",
            "role": caller.role,
        }
        if caller.tenant:
            body["tenantId"] = tenants[caller.tenant]
        assert g.post("/admin/v1/users", json=body).status_code == 201
        clients[caller.label] = live.client_for(cid, f"{cid}-secret")
    clients["owner:A"] = clients["admin@A"]
    body = {"clientId": "admin-b", "clientSecret": "admin-b-secret", "role": "admin"}
    assert g.post("/admin/v1/users", json=body | {"tenantId": tenants["B"]}).status_code == 201
    clients["owner:B"] = live.client_for("admin-b", "admin-b-secret")
    w = World(live, tenants, clients, {}, {})
    for owner in OWNERS:
        _owner_resources(w, owner)
        if owner != "G":
            w.ids[("tenant", owner)] = tenants[owner]
            w.ids[("user", owner)] = _user(g, tenants[owner])
    w.ids[("user", "G")] = _user(g, None)
    return w


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    """One server and one set of resources per database for the whole module."""
    tmp = tmp_path_factory.mktemp("matrix")
    schema: Iterator[str] | None = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp / 'nfvo.db'}"
    else:
        base = os.environ.get(PG_ENV)
        if not base:
            pytest.skip(PG_SKIP)
        schema = pg_schema_url(base)  # dropped when the generator is closed
        url = next(schema)
    live = start_live(tmp / "data", url)
    opened: list[httpx.Client] = []
    try:
        w = _build_world(live)
        opened = [c for c in w.clients.values() if c is not live.client]
        yield w
    finally:
        for c in {id(c): c for c in opened}.values():
            c.close()
        live.close()
        if schema is not None:
            schema.close()


# --------------------------------------------------------------------------- the run

ID_PARAMS = ("ns_id", "op_id", "subscription_id", "pkg_id", "tenant_id", "client_id")
ID_PARAMS += ("vim_id", "sdn_id", "plan_id", "alarm_id", "pm_job_id", "report_id", "threshold_id")
ID_PARAMS += ("window_id",)
ID_PARAMS += ("policy_id",)
ID_PARAMS += ("decision_id",)


def _url(world: World, route: str, kind: str | None, owner: str | None, fresh: bool) -> str:
    path = route.split(" ", 1)[1]
    if kind is None:
        return path
    base_kind = kind
    rid = _fresh(world, base_kind, owner or "G") if fresh else world.ids[(base_kind, owner or "G")]
    for name in ID_PARAMS:
        path = path.replace("{" + name + "}", rid)
    if "{artifact_path:path}" in path:
        art = world.artifacts.get((kind, owner or "G"), "Definitions/none.yaml")
        path = path.replace("{artifact_path:path}", art)
    return path


def _owners(e: Entry) -> tuple[str | None, ...]:
    if e.kind is None:
        return (None,)
    if e.kind == "tenant":
        return ("A", "B")
    return OWNERS


def _cases(world: World) -> Iterator[tuple[str, Caller, str | None]]:
    for route in app_routes():
        e = MATRIX[template(route)]
        for caller in CALLERS:
            for owner in _owners(e):
                yield route, caller, owner


def test_rbac_and_tenant_matrix(world: World) -> None:
    """Every route x caller x owner answers the status the matrix demands."""
    wrong = []
    count = 0
    for route, caller, owner in _cases(world):
        e = MATRIX[template(route)]
        want = expected(e, caller, owner)
        # a fresh resource only when the call would consume it
        url = _url(world, route, e.kind, owner, e.fresh and want == e.ok)
        method = route.split(" ", 1)[0]
        client = world.clients[caller.label]
        kw: dict[str, Any] = {"headers": e.headers}
        if e.content is not None:
            kw["content"] = e.content
        elif e.body is not None:
            kw["json"] = e.body
        if route == "POST /oauth2/token":
            kw["data"] = {"grant_type": "password"}
        r = client.request(method, url, **kw)
        count += 1
        if r.status_code != want:
            wrong.append(
                f"{caller.label:16} {owner or '-':2} {method} {url}: "
                f"{r.status_code} != {want} {r.text[:160]}"
            )
    assert not wrong, f"{len(wrong)} of {count} cases:\n" + "\n".join(wrong)


# --------------------------------------------------------------------------- ids in bodies

UNKNOWN = "00000000-0000-4000-8000-000000000000"
NS_COLL = "/nslcm/v2/ns_instances"


def _written(world: World) -> tuple[int, ...]:
    """(op occurrences, subscriptions, NS instances, servers nfvo owns on every VIM, VIM
    accounts, SDN controllers, API clients)."""
    live = world.live
    with live.services.db.session() as s:
        ops = s.execute(select(func.count()).select_from(NsLcmOpOcc)).scalar_one()
        subs = s.execute(select(func.count()).select_from(LccnSubscriptionRow)).scalar_one()
    ns = len(live.client.get(NS_COLL).json())
    servers = 0
    for owner in OWNERS:
        res = live.client.get(f"/admin/v1/vim_accounts/{world.ids[('vim', owner)]}/resources")
        servers += len(res.json()["servers"])
    g = live.client
    accounts = [len(g.get(f"/admin/v1/{k}").json()) for k in ("vim_accounts", "sdn_controllers")]
    return ops, subs, ns, servers, *accounts, len(g.get("/admin/v1/users").json())


@dataclass(frozen=True)
class BodyCase:
    """A request naming an id in its body: ``make(id)`` builds (method, path, body)."""

    name: str
    caller: str  # Caller.label
    make: Callable[[World, str], tuple[str, str, dict[str, Any]]]
    other: Callable[[World], str]  # an id of another tenant (or not the NS's)
    status: int
    field: str | None


def _instantiate_ns(vim: str) -> dict[str, Any]:
    return {"nsFlavourId": "default", "additionalParamsForNs": {"vimAccountId": vim}}


def _instantiate_vnf(vim: str) -> dict[str, Any]:
    return {
        "nsFlavourId": "default",
        "additionalParamsForVnf": [
            {"vnfProfileId": "vnf1", "additionalParams": {"vimAccountId": vim}}
        ],
    }


def _on(owner: str, key: str, verb: str) -> Callable[[World, str], tuple[str, str, dict]]:
    """POST ``verb`` on ``owner``'s NS ``key`` (ns: instantiated, ns_idle: not) with a body."""

    def build(body: Callable[[str], dict[str, Any]]) -> Callable[[World, str], tuple]:
        return lambda w, i: ("POST", f"{NS_COLL}/{w.ids[(key, owner)]}/{verb}", body(i))

    return build  # type: ignore[return-value]


def _sub(api: str, flt: Callable[[str], dict[str, Any]]) -> Callable[[World, str], tuple]:
    major = "v1" if api == "nsfm" else "v2"
    return lambda w, i: (
        "POST",
        f"/{api}/{major}/subscriptions",
        {"callbackUri": "http://callback.example/matrix", "filter": flt(i)},
    )


def _b(kind: str) -> Callable[[World], str]:
    return lambda w: w.ids[(kind, "B")]


def _x(key: str) -> Callable[[World], str]:
    return lambda w: w.extra[key]


BODY_CASES = [
    BodyCase(
        "sim load target.vnfInstanceId",
        "operator@A",
        lambda w, i: (
            "PUT",
            f"/admin/v1/vim_accounts/{w.ids[('vim', 'A')]}/sim/load",
            {"target": {"vnfInstanceId": i}, "curve": {"base": 5}},
        ),
        _x("vnfInstance:B"),
        422,
        "target.vnfInstanceId",
    ),
    BodyCase(
        "nsdId at NS create",
        "operator@A",
        lambda w, i: ("POST", NS_COLL, {"nsdId": i, "nsName": "x"}),
        _x("nsdId:B"),
        400,
        "nsdId",
    ),
    BodyCase(
        "additionalParamsForNs.vimAccountId",
        "operator@A",
        _on("A", "ns_idle", "instantiate")(_instantiate_ns),
        _b("vim"),
        422,
        "vimAccountId",
    ),
    BodyCase(
        "additionalParamsForVnf[].additionalParams.vimAccountId",
        "operator@A",
        _on("A", "ns_idle", "instantiate")(_instantiate_vnf),
        _b("vim"),
        422,
        "vimAccountId",
    ),
    BodyCase(
        "vimAccountId of an availability window",
        "admin@A",
        lambda w, i: (
            "POST",
            "/admin/v1/availability_windows",
            {"vimAccountId": i, "hostName": "host-0001", "duration": "P1D"},
        ),
        _b("vim"),
        422,
        "vimAccountId",
    ),
    BodyCase(  # a global admin acting on A's NS: the VIM must be one tenant A sees
        "vimAccountId of another tenant, global admin on a tenant's NS",
        "admin@global",
        _on("A", "ns_idle", "instantiate")(_instantiate_ns),
        _b("vim"),
        422,
        "vimAccountId",
    ),
    BodyCase(
        "scaleVnfData[].vnfInstanceId",
        "operator@A",
        _on("A", "ns", "scale")(
            lambda i: {
                "scaleType": "SCALE_VNF",
                "scaleVnfData": [
                    {
                        "vnfInstanceId": i,
                        "scaleVnfType": "SCALE_OUT",
                        "scaleByStepData": {"aspectId": "a", "numberOfSteps": 1},
                    }
                ],
            }
        ),
        _x("vnfInstance:B"),
        400,
        "scaleVnfData[0].vnfInstanceId",
    ),
    BodyCase(
        "healVnfData[].vnfInstanceId",
        "operator@A",
        _on("A", "ns", "heal")(lambda i: {"healVnfData": [{"vnfInstanceId": i}]}),
        _x("vnfInstance:B"),
        400,
        "healVnfData[0].vnfInstanceId",
    ),
    BodyCase(
        "operateVnfData[].vnfInstanceId",
        "operator@A",
        _on("A", "ns", "update")(
            lambda i: {
                "updateType": "OPERATE_VNF",
                "operateVnfData": [{"vnfInstanceId": i, "changeStateTo": "STOPPED"}],
            }
        ),
        _x("vnfInstance:B"),
        400,
        "operateVnfData[0].vnfInstanceId",
    ),
    BodyCase(
        "removeVnfInstanceId",
        "operator@A",
        _on("A", "ns", "update")(
            lambda i: {"updateType": "REMOVE_VNF", "removeVnfInstanceId": [i]}
        ),
        _x("vnfInstance:B"),
        400,
        "removeVnfInstanceId",
    ),
    BodyCase(
        "changeVnfFlavourData[].vnfInstanceId",
        "operator@A",
        _on("A", "ns", "update")(
            lambda i: {
                "updateType": "CHANGE_VNF_DF",
                "changeVnfFlavourData": [{"vnfInstanceId": i, "newFlavourId": "other"}],
            }
        ),
        _x("vnfInstance:B"),
        400,
        "changeVnfFlavourData[0].vnfInstanceId",
    ),
    BodyCase(
        "addVnfInstance[].vnfdId",
        "operator@A",
        _on("A", "ns", "update")(
            lambda i: {"updateType": "ADD_VNF", "addVnfInstance": [{"vnfdId": i}]}
        ),
        _x("vnfd:B"),
        400,
        "addVnfInstance[0].vnfdId",
    ),
    BodyCase(
        "nslcm filter nsInstanceIds",
        "operator@A",
        _sub("nslcm", lambda i: {"nsInstanceSubscriptionFilter": {"nsInstanceIds": [i]}}),
        _b("ns"),
        422,
        "filter.nsInstanceSubscriptionFilter.nsInstanceIds",
    ),
    BodyCase(
        "nsfm filter nsInstanceSubscriptionFilter.nsInstanceIds",
        "operator@A",
        _sub("nsfm", lambda i: {"nsInstanceSubscriptionFilter": {"nsInstanceIds": [i]}}),
        _b("ns"),
        422,
        "filter.nsInstanceSubscriptionFilter.nsInstanceIds",
    ),
    BodyCase(
        "nslcm filter affectedNsInstanceIds",
        "operator@A",
        _sub("nslcm", lambda i: {"affectedNsInstanceIds": [i]}),
        _b("ns"),
        422,
        "filter.affectedNsInstanceIds",
    ),
    BodyCase(
        "vnfpkgm filter vnfPkgId",
        "operator@A",
        _sub("vnfpkgm", lambda i: {"vnfPkgId": [i]}),
        _b("vnf"),
        422,
        "filter.vnfPkgId",
    ),
    BodyCase(
        "nsd filter nsdInfoId",
        "operator@A",
        _sub("nsd", lambda i: {"nsdInfoId": [i]}),
        _b("nsd"),
        422,
        "filter.nsdInfoId",
    ),
    BodyCase(
        "nsd filter vnfPkgIds",
        "operator@A",
        _sub("nsd", lambda i: {"vnfPkgIds": [i]}),
        _b("vnf"),
        422,
        "filter.vnfPkgIds",
    ),
    BodyCase(
        "nsd filter pnfdInfoIds",
        "operator@A",
        _sub("nsd", lambda i: {"pnfdInfoIds": [i]}),
        _b("pnfd"),
        422,
        "filter.pnfdInfoIds",
    ),
    BodyCase(
        "nsd filter nestedNsdInfoIds",
        "operator@A",
        _sub("nsd", lambda i: {"nestedNsdInfoIds": [i]}),
        _b("nsd"),
        422,
        "filter.nestedNsdInfoIds",
    ),
    BodyCase(
        "nspm PM job objectInstanceIds",
        "operator@A",
        lambda w, i: (
            "POST",
            "/nspm/v2/pm_jobs",
            {
                "objectType": "NsInstance",
                "objectInstanceIds": [i],
                "criteria": {
                    "performanceMetric": ["ByteIncoming"],
                    "collectionPeriod": 10,
                    "reportingPeriod": 60,
                },
                "callbackUri": "http://callback.example/pm",
            },
        ),
        _b("ns"),
        422,
        "objectInstanceIds",
    ),
    BodyCase(
        "nspm threshold objectInstanceId",
        "operator@A",
        lambda w, i: (
            "POST",
            "/nspm/v2/thresholds",
            {
                "objectType": "NsInstance",
                "objectInstanceId": i,
                "criteria": {
                    "performanceMetric": "ByteIncoming",
                    "thresholdType": "SIMPLE",
                    "simpleThresholdDetails": {"thresholdValue": 80, "hysteresis": 5},
                },
                "callbackUri": "http://callback.example/th",
            },
        ),
        _b("ns"),
        422,
        "objectInstanceId",
    ),
    BodyCase(
        "auto-scaling policy nsInstanceId",
        "operator@A",
        lambda w, i: (
            "POST",
            "/admin/v1/policies",
            {"nsInstanceId": i, "aspectId": "a", "metric": "byte_incoming", "scaleOutThreshold": 1},
        ),
        _b("ns"),
        400,
        "nsInstanceId",
    ),
    BodyCase(
        "tenant_id of a VIM account a tenant admin registers",
        "admin@A",
        lambda w, i: (
            "POST",
            "/admin/v1/vim_accounts",
            {"name": f"v-{uuid.uuid4()}", "vim_type": "sim", "tenant_id": i},
        ),
        lambda w: w.tenants["B"],
        400,
        "tenant_id",
    ),
    BodyCase(  # users are created in the caller's tenant only (403 for any other id)
        "tenantId of an API client a tenant admin creates",
        "admin@A",
        lambda w, i: (
            "POST",
            "/admin/v1/users",
            {"clientId": f"c-{uuid.uuid4().hex[:8]}", "role": "reader", "tenantId": i},
        ),
        lambda w: w.tenants["B"],
        403,
        None,
    ),
    BodyCase(
        "tenant_id of an SDN controller a tenant admin registers",
        "admin@A",
        lambda w, i: (
            "POST",
            "/admin/v1/sdn_controllers",
            {"name": f"s-{uuid.uuid4()}", "type": "sim", "tenant_id": i},
        ),
        lambda w: w.tenants["B"],
        400,
        "tenant_id",
    ),
]


def test_every_id_field_in_a_body_is_resolved_within_the_callers_view(world: World) -> None:
    """Another tenant's id in a body is refused exactly as an unknown id (same status, same
    field, same words), and nothing is written: no NS, no op occurrence, no subscription, no
    server on any VIM."""
    before = _written(world)
    wrong = []
    for case in BODY_CASES:
        client = world.clients[case.caller]
        answers = {}
        for label, value in (("other", case.other(world)), ("unknown", UNKNOWN)):
            method, path, body = case.make(world, value)
            r = client.request(method, path, json=body)
            got = r.json() if r.headers.get("content-type", "").endswith("json") else {}
            answers[label] = (
                r.status_code,
                got.get("field"),
                got.get("detail", "").replace(value, "<id>"),
            )
        if answers["other"][:2] != (case.status, case.field):
            wrong.append(f"{case.name}: {answers['other']}, expected {case.status} {case.field}")
        elif answers["other"] != answers["unknown"]:
            wrong.append(f"{case.name}: other {answers['other']} != unknown {answers['unknown']}")
    assert not wrong, "\n".join(wrong)
    assert _written(world) == before


def test_own_and_shared_ids_in_bodies_are_accepted(world: World) -> None:
    """The refusals above are about visibility: the caller's own (and shared) ids pass."""
    a = world.clients["operator@A"]
    for api, flt in (
        ("nslcm", {"nsInstanceSubscriptionFilter": {"nsInstanceIds": [world.ids[("ns", "A")]]}}),
        ("vnfpkgm", {"vnfPkgId": [world.ids[("vnf", "A")], world.ids[("vnf", "G")]]}),
        (
            "nsd",
            {"nsdInfoId": [world.ids[("nsd", "G")]], "pnfdInfoIds": [world.ids[("pnfd", "A")]]},
        ),
    ):
        svc = world.live.services.notifications
        svc.test_callback = lambda *a, **k: None  # type: ignore[method-assign] - nothing listens
        r = a.post(
            f"/{api}/v2/subscriptions",
            json={"callbackUri": f"http://callback.example/{api}", "filter": flt},
        )
        assert r.status_code == 201, r.text
    # a global admin may instantiate A's NS on a shared VIM: checked as far as the claim
    r = world.live.client.post(
        f"{NS_COLL}/{world.ids[('ns', 'A')]}/instantiate",
        json=_instantiate_ns(world.ids[("vim", "G")]),
    )
    assert r.status_code == 409  # valid, but the NS is already instantiated


def test_a_tenant_cannot_deploy_on_another_tenants_vim(world: World) -> None:
    """Issue 12 item 1 as reported: B's operator instantiates B's NS on A's VIM."""
    b = world.owner_client("B")
    vim_a = world.ids[("vim", "A")]
    servers = len(
        world.live.client.get(f"/admin/v1/vim_accounts/{vim_a}/resources").json()["servers"]
    )
    ns_b = world.ids[("ns_idle", "B")]
    r = b.post(f"{NS_COLL}/{ns_b}/instantiate", json=_instantiate_ns(vim_a))
    assert r.status_code == 422 and r.json()["field"] == "vimAccountId", r.text
    assert b.get(f"{NS_COLL}/{ns_b}").json()["nsState"] == "NOT_INSTANTIATED"
    ops = world.live.client.get("/nslcm/v2/ns_lcm_op_occs").json()
    assert not [o for o in ops if o["nsInstanceId"] == ns_b]
    res = world.live.client.get(f"/admin/v1/vim_accounts/{vim_a}/resources").json()
    assert len(res["servers"]) == servers


def test_an_alert_on_another_tenants_resource_is_skipped_as_an_unknown_one(world: World) -> None:
    """The Alertmanager webhook of tenant A's operator: an alert naming B's NS, B's VNF or a
    shared VIM's host is skipped exactly as one naming an unknown id (same reason), and
    nothing is raised."""
    a = world.clients["operator@A"]
    vim_g = world.ids[("vim", "G")]
    host = world.live.client.get(f"/admin/v1/vim_accounts/{vim_g}/resources").json()["hosts"][0]
    for labels in (
        {"ns_instance_id": world.ids[("ns", "B")]},
        {"vnf_instance_id": world.extra["vnfInstance:B"]},
        {"nodename": host["name"], "vim_account_id": vim_g},
    ):
        answers = []
        for value in (None, UNKNOWN):
            named = {k: (value or v) if k != "vim_account_id" else v for k, v in labels.items()}
            body = {
                "version": "4",
                "status": "firing",
                "alerts": [{"status": "firing", "labels": named, "fingerprint": "f"}],
            }
            r = a.post("/monitoring/v1/alertmanager", json=body)
            assert r.status_code == 200, r.text
            answers.append(r.json())
        assert answers[0] == answers[1], labels
        assert answers[0]["skipped"] == [{"fingerprint": "f", "reason": "unknown_resource"}]
        assert answers[0]["raised"] == 0


# --------------------------------------------------------------------------- names


def test_vim_and_sdn_names_are_unique_across_tenants(world: World) -> None:
    """Issue 12 item 11: a name means one account for every caller, the global admin
    included (who sees all tenants' accounts)."""
    a, b, g = world.owner_client("A"), world.owner_client("B"), world.live.client
    for client, name in ((b, "vim-a"), (a, "vim-g"), (g, "vim-b")):
        r = client.post("/admin/v1/vim_accounts", json={"name": name, "vim_type": "sim"})
        assert r.status_code == 409, r.text
        assert r.json()["field"] == "name" and repr(name) in r.json()["detail"]
    r = a.patch(f"/admin/v1/vim_accounts/{world.ids[('vim', 'A')]}", json={"name": "vim-b"})
    assert r.status_code == 409 and r.json()["field"] == "name", r.text
    sdn = a.post("/admin/v1/sdn_controllers", json={"name": "wan-1", "type": "sim"})
    assert sdn.status_code == 201, sdn.text
    r = b.post("/admin/v1/sdn_controllers", json={"name": "wan-1", "type": "sim"})
    assert r.status_code == 409 and r.json()["field"] == "name", r.text
    r = g.patch(f"/admin/v1/sdn_controllers/{world.ids[('sdn', 'B')]}", json={"name": "wan-1"})
    assert r.status_code == 409 and r.json()["field"] == "name", r.text
    # renaming to its own name is no conflict
    r = a.patch(f"/admin/v1/sdn_controllers/{sdn.json()['id']}", json={"name": "wan-1"})
    assert r.status_code == 200, r.text
    names = [v["name"] for v in g.get("/admin/v1/vim_accounts").json()]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("kind", ["vim_accounts", "sdn_controllers"])
def test_racing_creates_of_one_name_make_one_account(world: World, kind: str) -> None:
    """Eight tenants' admins register the same name at once: one 201, seven 409, no 5xx
    (the unique index decides; SQLite has no row locks to rely on)."""
    name = f"race-{uuid.uuid4().hex[:8]}"
    body = {"name": name, "vim_type": "sim"} if kind == "vim_accounts" else {"name": name}
    if kind == "sdn_controllers":
        body["type"] = "sim"
    owners = [world.owner_client(o) for o in ("A", "B", "G")]
    headers = [dict(c.headers) for c in owners]
    barrier = threading.Barrier(8)

    def create(i: int) -> int:
        with httpx.Client(base_url=world.live.base_url, headers=headers[i % 3]) as c:
            barrier.wait()
            return c.post(f"/admin/v1/{kind}", json=body).status_code

    with ThreadPoolExecutor(8) as pool:
        codes = sorted(pool.map(create, range(8)))
    assert codes == [201] + [409] * 7, codes
    listed = world.live.client.get(f"/admin/v1/{kind}").json()
    assert [x["name"] for x in listed].count(name) == 1


# --------------------------------------------------------------------------- packages


def test_an_nsd_cannot_deploy_another_tenants_vnf_package(world: World) -> None:
    """B's NSD naming A's VNFD is refused at onboarding exactly as a VNFD that is not
    onboarded; an NSD that references one anyway (stored before this check) cannot be
    instantiated from: NS create answers 422."""
    from nfvo.catalog.states import PackageKind
    from nfvo.inventory.models import CatalogPackage

    b = world.owner_client("B")
    coll = "/nsd/v2/ns_descriptors"
    pkg = b.post(coll, json={}).json()
    data = nsd_package(str(uuid.uuid4()), world.extra["vnfd:A"])
    r = b.put(
        f"{coll}/{pkg['id']}/nsd_content", content=data, headers={"Content-Type": "application/zip"}
    )
    assert r.status_code == 202, r.text
    info = _wait(b, f"{coll}/{pkg['id']}", "nsdOnboardingState", ("ONBOARDED", "ERROR"))
    assert info["nsdOnboardingState"] == "ERROR", info
    assert "VNFD_NOT_ONBOARDED" in json.dumps(info["onboardingFailureDetails"])
    # an NSD of B's stored before the check, referencing A's VNF package
    nsd_id = world.ids[("nsd", "B")]
    with world.live.services.db.session() as s:
        row = s.get(CatalogPackage, nsd_id)
        saved = dict(row.info)
        row.info = saved | {"vnfPkgIds": [world.ids[("vnf", "A")]]}
    try:
        r = b.post(NS_COLL, json={"nsdId": world.extra["nsdId:B"], "nsName": "x"})
        assert r.status_code == 422 and r.json()["field"] == "nsdId", r.text
    finally:
        with world.live.services.db.session() as s:
            s.get(CatalogPackage, nsd_id).info = saved
    assert world.live.services.catalog.get(PackageKind.nsd, nsd_id).info == saved


def test_the_default_vim_is_one_the_ns_tenant_sees(world: World) -> None:
    """An instantiation naming no VIM takes the first ENABLED account the NS's tenant sees:
    never another tenant's (A's account is the oldest of all, so a leak would pick it)."""
    lcm, vims = world.live.services.lcm, world.ids
    deadline = time.monotonic() + 30
    while True:  # the matrix's PATCHes leave accounts re-checking (PROCESSING) for a while
        chosen = lcm._default_vim(world.tenants["B"])
        if chosen == vims[("vim", "B")] or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert chosen == vims[("vim", "B")]
    assert lcm._default_vim(world.tenants["A"]) == vims[("vim", "A")]
    seen = {v.id for v in world.live.services.resources.list_vims(_scope(world.tenants["B"]))}
    assert vims[("vim", "A")] not in seen and vims[("vim", "G")] in seen


def _scope(tenant: str | None) -> Any:
    from nfvo.resources.service import Scope

    return Scope(tenant)
