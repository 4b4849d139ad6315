"""Load drivers for two NS LCM guarantees, shared by the integration test and the benchmark.

Why it exists: ``tests/integration/test_lcm_races.py`` runs a few rounds of each check and
``benchmarks/lcm_races.py`` runs the full acceptance numbers; both must exercise exactly the
same thing. Everything here talks to nfvo through its public REST API only; the one
white-box read is the sim VIM's own state (what really exists on the VIM, through
``nfvo.vim.registry.create_driver``), which is the ground truth the API is compared with.

1. Exactness (:func:`exactness_run`): an NS of ``WIDE_VNFS`` VNF instances in one
   dependency layer (``wide_nsd_csar``) is instantiated on a zero-latency sim VIM; the
   servers, ports and networks the NS reports must be exactly those tagged with the NS on
   the VIM, and after terminate none may remain.
2. One open operation per NS (:func:`race_round`): a round starts a handful of requests
   against one NS at the same moment (threads released by a barrier) and checks that
   exactly one is accepted, the others refused with 409/404, never a 500, and that the NS
   never has more than one unfinished operation occurrence.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from nfvo.catalog.builder import build_csar_from_files, read_package_dir
from nfvo.samples import NSD_WEBAPP_ID, NSD_WEBAPP_INVARIANT_ID, build_sample, sample_dir
from nfvo.vim.base import TAG_NS
from nfvo.vim.registry import create_driver

NS = "/nslcm/v2/ns_instances"
OPS = "/nslcm/v2/ns_lcm_op_occs"
VIMS = "/admin/v1/vim_accounts"
OP_OPEN = ("STARTING", "PROCESSING", "ROLLING_BACK", "FAILED_TEMP")
OP_RUNNING = ("STARTING", "PROCESSING", "ROLLING_BACK")

# The wide NS: the sample "default" flavour with its vnf_web -> vnf_db dependency removed
# (one layer), WIDE_WEB web-frontend VNFs and one db-backend VNF at level "high".
WIDE_NSD_ID = "3b1f7d0e-51a5-4c6b-9e57-0f2d6a1c5e51"
WIDE_NSD_INVARIANT_ID = "7e4c2a19-0b6d-4f5e-8a3c-51d0b9e2f7a4"
WIDE_WEB = 50
WIDE_VNFS = WIDE_WEB + 1
WIDE_LEVEL = "high"
# servers per VNF instance at the VNF's default level: vnf-web "small" = web + cache, vnf-db
# "standard" = db
WIDE_SERVERS = WIDE_WEB * 2 + 1
_WIDE_DF = "Definitions/ns_webapp_df_default.yaml"
_WIDE_TYPES = "Definitions/ns_webapp_types.yaml"
_WIDE_META = "ns-webapp.mf"


# ------------------------------------------------------------------------ catalog and VIM


def _edit(files: dict[str, bytes], path: str, old: str, new: str, count: int = 1) -> None:
    text = files[path].decode()
    if text.count(old) != count:
        raise AssertionError(f"sample drift: {old!r} is not {count}x in {path}")
    files[path] = text.replace(old, new).encode()


def wide_nsd_csar(web: int = WIDE_WEB) -> bytes:
    """The sample NSD with ``web`` web-frontends and one database, all in one layer."""
    files = read_package_dir(sample_dir("ns-webapp"))
    _edit(files, _WIDE_DF, "        - dependency: vnf_db\n", "")
    _edit(files, _WIDE_DF, "max_number_of_instances: 3\n", f"max_number_of_instances: {web}\n")
    _edit(files, _WIDE_DF, "            high: 3\n", f"            high: {web}\n")
    _edit(files, _WIDE_DF, "            high: 2\n", "            high: 1\n")
    _edit(files, _WIDE_TYPES, NSD_WEBAPP_ID, WIDE_NSD_ID, count=2)
    _edit(files, _WIDE_TYPES, NSD_WEBAPP_INVARIANT_ID, WIDE_NSD_INVARIANT_ID, count=2)
    _edit(files, _WIDE_META, NSD_WEBAPP_INVARIANT_ID, WIDE_NSD_INVARIANT_ID)
    return build_csar_from_files(files)


def _settle(c: httpx.Client, url: str, key: str, pending: tuple[str, ...], timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        r = c.get(url)
        if r.status_code != 200:
            raise AssertionError(f"GET {url}: {r.status_code} {r.text[:300]}")
        body = r.json()
        value = body.get(key, body.get("_admin", {}).get(key))
        if value not in pending:
            return body
        if time.monotonic() > deadline:
            raise AssertionError(f"{url}: still {value} after {timeout} s")
        time.sleep(0.02)


def onboard_catalog(c: httpx.Client, *, wide: bool = True) -> None:
    """Onboard the sample VNF packages, the sample NSD and (``wide``) the wide NSD."""
    packages = [
        ("/vnfpkgm/v2/vnf_packages", "package_content", "onboardingState", build_sample("vnf-web")),
        ("/vnfpkgm/v2/vnf_packages", "package_content", "onboardingState", build_sample("vnf-db")),
        ("/nsd/v2/ns_descriptors", "nsd_content", "nsdOnboardingState", build_sample("ns-webapp")),
    ]
    if wide:
        packages.append(
            ("/nsd/v2/ns_descriptors", "nsd_content", "nsdOnboardingState", wide_nsd_csar())
        )
    for coll, content, state, data in packages:
        pkg = c.post(coll, json={}).json()
        r = c.put(
            f"{coll}/{pkg['id']}/{content}",
            content=data,
            headers={"Content-Type": "application/zip"},
        )
        assert r.status_code == 202, r.text
        info = _settle(c, f"{coll}/{pkg['id']}", state, ("CREATED", "UPLOADING", "PROCESSING"), 60)
        assert info[state] == "ONBOARDED", info


def register_sim_vim(c: httpx.Client, name: str = "races", hosts: int = 16) -> str:
    """A zero-latency sim VIM account with room for several wide NS; returns its id."""
    r = c.post(
        VIMS,
        json={
            "name": name,
            "vim_type": "sim",
            "config": {
                "zones": 2,
                "hosts": hosts,
                "images": [{"name": n} for n in ("cirros", "web-img", "db-img")],
            },
        },
    )
    assert r.status_code in (201, 202), r.text
    vim = _settle(c, f"{VIMS}/{r.json()['id']}", "operationalState", ("PROCESSING",), 30)
    assert vim["_admin"]["operationalState"] == "ENABLED", vim
    return str(vim["id"])


# ------------------------------------------------------------------------ resources


@dataclass(frozen=True)
class Resources:
    """VIM resource ids of one NS; ``listed``: how many ids the NS reported (with repeats)."""

    servers: frozenset[str]
    ports: frozenset[str]
    networks: frozenset[str]
    listed: tuple[int, int, int] = (0, 0, 0)

    def counts(self) -> dict[str, int]:
        """Sizes of the three sets."""
        return {
            "servers": len(self.servers),
            "ports": len(self.ports),
            "networks": len(self.networks),
        }


def ns_resources(ns: dict[str, Any]) -> Resources:
    """The servers, ports and networks an NsInstance (SOL005 §6.5.2.10) reports.

    Ports: ``vnfcCpInfo[].vnfLinkPortId``, resolved through the ``vnfLinkPorts`` of
    ``vnfVirtualLinkResourceInfo`` (and ``extLinkPorts`` of ``extVirtualLinkInfo``) when they
    carry a resource handle, else taken as the VIM port id itself.
    """
    servers: list[str] = []
    ports: list[str] = []
    networks: list[str] = []
    for vl in ns.get("virtualLinkInfo") or []:
        networks += [h["resourceId"] for h in vl.get("resourceHandle") or []]
    for vnf in ns.get("vnfInstance") or []:
        info = vnf.get("instantiatedVnfInfo") or {}
        link_ports: dict[str, str] = {}
        for vl in info.get("vnfVirtualLinkResourceInfo") or []:
            networks.append(vl["networkResource"]["resourceId"])
            for lp in vl.get("vnfLinkPorts") or []:
                if lp.get("resourceHandle"):
                    link_ports[lp["id"]] = lp["resourceHandle"]["resourceId"]
        for ext in info.get("extVirtualLinkInfo") or []:
            for lp in ext.get("extLinkPorts") or []:
                if lp.get("resourceHandle"):
                    link_ports[lp["id"]] = lp["resourceHandle"]["resourceId"]
        for vnfc in info.get("vnfcResourceInfo") or []:
            servers.append(vnfc["computeResource"]["resourceId"])
            for cp in vnfc.get("vnfcCpInfo") or []:
                if cp.get("vnfLinkPortId"):
                    ports.append(link_ports.get(cp["vnfLinkPortId"], cp["vnfLinkPortId"]))
    return Resources(
        frozenset(servers),
        frozenset(ports),
        frozenset(networks),
        (len(servers), len(ports), len(networks)),
    )


def vim_resources(data_dir: Path, vim_id: str, ns_id: str) -> Resources:
    """What exists on the sim VIM tagged with the NS (read from the VIM's own state)."""
    d = create_driver(
        "sim",
        vim_id=vim_id,
        vim_url=None,
        vim_user=None,
        vim_password=None,
        vim_tenant_name=None,
        config={},
        data_dir=data_dir,
    )
    try:
        tags = {TAG_NS: ns_id}
        return Resources(
            frozenset(s.id for s in d.list_servers(tags)),
            frozenset(p.id for p in d.list_ports(tags)),
            frozenset(n.id for n in d.list_networks(tags)),
        )
    finally:
        d.close()


# ------------------------------------------------------------------------ NS helpers


def create_ns(c: httpx.Client, nsd_id: str = NSD_WEBAPP_ID, name: str | None = None) -> str:
    """A new NOT_INSTANTIATED NS instance; returns its id."""
    r = c.post(NS, json={"nsdId": nsd_id, "nsName": name or f"races-{uuid.uuid4().hex[:8]}"})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def instantiate_body(vim_id: str, level: str | None = None) -> dict[str, Any]:
    """An InstantiateNsRequest for the sample flavour on ``vim_id``."""
    body: dict[str, Any] = {
        "nsFlavourId": "default",
        "additionalParamsForNs": {"vimAccountId": vim_id},
    }
    if level:
        body["nsInstantiationLevelId"] = level
    return body


def run_op(
    c: httpx.Client, ns_id: str, op: str, body: dict[str, Any], timeout: float = 120
) -> dict:
    """Start ``op`` on the NS and wait until it settles; the final NsLcmOpOcc."""
    r = c.post(f"{NS}/{ns_id}/{op}", json=body)
    assert r.status_code == 202, f"{op}: {r.status_code} {r.text}"
    return wait_op(c, r.headers["location"], timeout)


def wait_op(c: httpx.Client, location: str, timeout: float = 120) -> dict:
    """The op occurrence at ``location`` once it left STARTING/PROCESSING/ROLLING_BACK."""
    return _settle(c, location, "operationState", OP_RUNNING, timeout)


def ns_ops(c: httpx.Client, ns_id: str) -> list[dict[str, Any]]:
    """All op occurrences of one NS with every field (error included), oldest first."""
    r = c.get(OPS, params={"filter": f"(eq,nsInstanceId,{ns_id})", "all_fields": ""})
    assert r.status_code == 200, r.text
    return list(r.json())


# ------------------------------------------------------------------------ exactness


@dataclass
class ExactnessResult:
    """One wide-NS run: did the NS's report match the VIM, and did terminate leave nothing."""

    exact: bool
    instantiate_state: str
    terminate_state: str
    reported: dict[str, int]
    on_vim: dict[str, int]
    mismatch: dict[str, dict[str, int]]
    left_after_terminate: dict[str, int]
    duplicates_reported: bool
    seconds: float

    @property
    def ok(self) -> bool:
        """Exact after instantiate and nothing left after terminate."""
        return (
            self.exact
            and self.terminate_state == "COMPLETED"
            and not any(self.left_after_terminate.values())
        )


def _diff(reported: Resources, on_vim: Resources) -> dict[str, dict[str, int]]:
    out = {}
    for kind in ("servers", "ports", "networks"):
        a, b = getattr(reported, kind), getattr(on_vim, kind)
        if a != b:
            out[kind] = {"only_reported": len(a - b), "only_on_vim": len(b - a)}
    return out


def exactness_run(c: httpx.Client, data_dir: Path, vim_id: str) -> ExactnessResult:
    """Instantiate the wide NS, compare its report with the VIM, terminate, count leftovers."""
    t0 = time.perf_counter()
    ns_id = create_ns(c, WIDE_NSD_ID)
    op = run_op(c, ns_id, "instantiate", instantiate_body(vim_id, WIDE_LEVEL))
    ns = c.get(f"{NS}/{ns_id}").json()
    reported, on_vim = ns_resources(ns), vim_resources(data_dir, vim_id, ns_id)
    # a server or port listed twice is wrong; a network may be listed by the NS and a VNF
    dupes = reported.listed[:2] != (len(reported.servers), len(reported.ports))
    mismatch = _diff(reported, on_vim)
    exact = (
        op["operationState"] == "COMPLETED"
        and not mismatch
        and not dupes
        and len(ns.get("vnfInstance") or []) == WIDE_VNFS
        and len(reported.servers) == WIDE_SERVERS
    )
    if op["operationState"] == "FAILED_TEMP":
        c.post(f"{OPS}/{op['id']}/fail")
    term = run_op(c, ns_id, "terminate", {})
    if term["operationState"] == "FAILED_TEMP":
        c.post(f"{OPS}/{term['id']}/fail")
    left = vim_resources(data_dir, vim_id, ns_id).counts()
    if term["operationState"] == "COMPLETED":
        c.delete(f"{NS}/{ns_id}")
    return ExactnessResult(
        exact=exact,
        instantiate_state=op["operationState"],
        terminate_state=term["operationState"],
        reported=reported.counts(),
        on_vim=on_vim.counts(),
        mismatch=mismatch,
        left_after_terminate=left,
        duplicates_reported=dupes,
        seconds=round(time.perf_counter() - t0, 2),
    )


# ------------------------------------------------------------------------ races


@dataclass(frozen=True)
class Call:
    """One request of a round: ``label`` names it in results; path is relative to the NS."""

    label: str
    method: str
    path: str
    body: dict[str, Any] | None = None


@dataclass(frozen=True)
class RaceCase:
    """A round shape: the NS state it starts from, the requests, the allowed outcome."""

    name: str
    instantiated: bool
    calls: Callable[[dict[str, Any]], list[Call]]
    accepted: int  # the one status code that means "accepted" (202, 204)
    refused: tuple[int, ...]  # what the others must answer
    winner: str | None = None  # label that must be the accepted one (None: any)


def _scale_vnf(web_id: str, kind: str) -> dict[str, Any]:
    return {
        "scaleType": "SCALE_VNF",
        "scaleVnfData": [
            {
                "vnfInstanceId": web_id,
                "scaleVnfType": kind,
                "scaleByStepData": {"aspectId": "web_scale", "numberOfSteps": 1},
            }
        ],
    }


def _mixed_calls(ctx: dict[str, Any]) -> list[Call]:
    web = ctx["web_id"]
    ns_scale = {
        "scaleType": "SCALE_NS",
        "scaleNsData": {
            "scaleNsByStepsData": {
                "scalingDirection": "SCALE_OUT",
                "aspectId": "web_tier",
                "numberOfSteps": 1,
            }
        },
    }
    operate = {
        "updateType": "OPERATE_VNF",
        "operateVnfData": [{"vnfInstanceId": web, "changeStateTo": "STARTED"}],
    }
    restart = {"vnfInstanceId": web, "additionalParams": {"healType": "RESTART"}}
    return [
        Call("terminate", "POST", "terminate", {}),
        Call("scale_vnf", "POST", "scale", _scale_vnf(web, "SCALE_OUT")),
        Call("scale_ns", "POST", "scale", ns_scale),
        Call("heal", "POST", "heal", {"healNsData": {"degreeHealing": "HEAL_RESTORE"}}),
        Call("update", "POST", "update", operate),
        Call("heal_vnf", "POST", "heal", {"healVnfData": [restart]}),
    ]


def _changes_calls(ctx: dict[str, Any]) -> list[Call]:
    # terminate needs no change set, so it reaches the NS first most of the time; this
    # round races only the operations whose change set is computed before the NS is claimed
    return [c for c in _mixed_calls(ctx) if c.label != "terminate"]


def _mixed5_calls(ctx: dict[str, Any]) -> list[Call]:
    return [c for c in _mixed_calls(ctx) if c.label != "heal_vnf"]


CASES: dict[str, RaceCase] = {
    c.name: c
    for c in (
        RaceCase(
            "instantiate_x5",
            False,
            lambda ctx: [
                Call(f"instantiate{i}", "POST", "instantiate", instantiate_body(ctx["vim_id"]))
                for i in range(5)
            ],
            202,
            (409,),
        ),
        RaceCase("mixed_x5", True, _mixed5_calls, 202, (409,)),
        RaceCase("changes_x5", True, _changes_calls, 202, (409,)),
        RaceCase(
            "delete_x2",
            False,
            lambda ctx: [Call(f"delete{i}", "DELETE", "") for i in range(2)],
            204,
            (404, 409),
        ),
        RaceCase(
            "terminate_delete",
            True,
            lambda ctx: [Call("terminate", "POST", "terminate", {}), Call("delete", "DELETE", "")],
            202,
            (409,),
            winner="terminate",
        ),
    )
}


@dataclass
class RoundResult:
    """What one round answered and every rule it broke (``problems`` empty = a good round)."""

    case: str
    codes: dict[str, int]
    accepted: int  # accepted requests whose operations held the NS at the same time
    open_ops_max: int
    op_states: list[str]
    failed_without_error: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """The round kept every rule."""
        return not self.problems


class Racer:
    """Clients that fire one request each at the same instant (a barrier releases them)."""

    def __init__(self, base_url: str, headers: httpx.Headers, width: int = 5) -> None:
        self.clients = [
            httpx.Client(base_url=base_url, headers=headers, timeout=120) for _ in range(width)
        ]
        for cl in self.clients:  # open each connection now, so the race starts warm
            cl.get("/nslcm/v2/ns_instances", params={"filter": "(eq,id,none)"})

    def fire(self, ns_id: str, calls: list[Call]) -> list[httpx.Response | Exception]:
        """Send ``calls`` concurrently; each entry is the response or the transport error."""
        assert len(calls) <= len(self.clients)
        barrier = threading.Barrier(len(calls))
        out: list[httpx.Response | Exception] = [RuntimeError("not sent")] * len(calls)

        def one(i: int) -> None:
            call, cl = calls[i], self.clients[i]
            url = f"{NS}/{ns_id}" + (f"/{call.path}" if call.path else "")
            barrier.wait()
            try:
                out[i] = cl.request(call.method, url, json=call.body)
            except httpx.HTTPError as exc:
                out[i] = exc

        threads = [threading.Thread(target=one, args=(i,)) for i in range(len(calls))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return out

    def close(self) -> None:
        """Close every client."""
        for cl in self.clients:
            cl.close()


def _open_ops(c: httpx.Client, ns_id: str) -> list[dict[str, Any]]:
    return [o for o in ns_ops(c, ns_id) if o["operationState"] in OP_OPEN]


def _settle_ops(c: httpx.Client, ns_id: str, timeout: float = 120) -> tuple[list[dict], int]:
    """Wait until no op of the NS runs; the final ops and the most open ones seen at once
    (AssertionError after ``timeout``)."""
    deadline = time.monotonic() + timeout
    most = 0
    while True:
        ops = ns_ops(c, ns_id)
        most = max(most, sum(o["operationState"] in OP_OPEN for o in ops))
        if not any(o["operationState"] in OP_RUNNING for o in ops):
            return ops, most
        if time.monotonic() > deadline:
            raise AssertionError(f"operations of the NS still running after {timeout} s")
        time.sleep(0.02)


def _judge(
    case: RaceCase, calls: list[Call], answers: list[httpx.Response | Exception]
) -> tuple[dict[str, int], list[str]]:
    codes: dict[str, int] = {}
    problems: list[str] = []
    for call, a in zip(calls, answers, strict=True):
        if isinstance(a, Exception):
            codes[call.label] = 0
            problems.append(f"{call.label}: transport error {a!r}")
            continue
        codes[call.label] = a.status_code
        if a.status_code >= 500:
            problems.append(f"{call.label}: {a.status_code} {a.text[:300]}")
        elif a.status_code != case.accepted and a.status_code not in case.refused:
            problems.append(f"{call.label}: unexpected {a.status_code} {a.text[:300]}")
    accepted = [k for k, v in codes.items() if v == case.accepted]
    if len(accepted) == 1 and case.winner and accepted != [case.winner]:
        problems.append(f"{accepted[0]} accepted, want {case.winner}")
    return codes, problems


def _when(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def _accepted_at_once(
    case: RaceCase, answers: list[httpx.Response | Exception], ops: list[dict[str, Any]]
) -> int:
    """How many accepted requests held the NS at the same time. An operation accepted after
    the one before it had ended (COMPLETED; on a zero-latency VIM that takes tens of ms, and a
    request the loaded machine delayed that long may come after it) is a later operation,
    not a second one at once; one still FAILED_TEMP holds the NS until it is failed."""
    accepted = [
        a for a in answers if isinstance(a, httpx.Response) and a.status_code == case.accepted
    ]
    if case.accepted != 202 or len(accepted) < 2:
        return len(accepted)
    ids = {a.headers.get("location", "").rstrip("/").rsplit("/", 1)[-1] for a in accepted}
    spans = []
    for o in ops:
        if o["id"] in ids:
            done = o["operationState"] in ("COMPLETED", "FAILED", "ROLLED_BACK")
            end = _when(o["statusEnteredTime"]) if done else datetime.max.replace(tzinfo=UTC)
            spans.append((_when(o["startTime"]), end))
    if len(spans) != len(ids):
        return len(accepted)  # an accepted op that is not listed: count it as at once
    return max(sum(s <= start < e for s, e in spans) for start, _ in spans)


def _check_ops(ops: list[dict[str, Any]]) -> list[str]:
    """Every settled op is in a consistent state (a failed one says why)."""
    problems = []
    for o in ops:
        state = o["operationState"]
        if state in ("FAILED_TEMP", "FAILED") and not o.get("error"):
            problems.append(f"op {o['id']} ({o['lcmOperationType']}) is {state} with no error")
        elif state != "COMPLETED":
            detail = (o.get("error") or {}).get("detail", "")
            problems.append(f"op {o['id']} ({o['lcmOperationType']}) ended {state}: {detail[:200]}")
    return problems


def _cleanup(c: httpx.Client, ns_id: str) -> None:
    """Best effort: fail open ops, terminate, delete (a broken round must not block the next)."""
    for o in ns_ops(c, ns_id):
        if o["operationState"] == "FAILED_TEMP":
            c.post(f"{OPS}/{o['id']}/fail")
    r = c.get(f"{NS}/{ns_id}")
    if r.status_code == 404:
        return
    if r.json().get("nsState") == "INSTANTIATED":
        t = c.post(f"{NS}/{ns_id}/terminate", json={})
        if t.status_code == 202:
            op = wait_op(c, t.headers["location"])
            if op["operationState"] == "FAILED_TEMP":
                c.post(f"{OPS}/{op['id']}/fail")
    c.delete(f"{NS}/{ns_id}")


def race_round(
    c: httpx.Client,
    racer: Racer,
    case: RaceCase,
    vim_id: str,
    data_dir: Path | None = None,
) -> RoundResult:
    """One round of ``case`` on a fresh NS (brought to the case's start state first).

    Checks: the answers (one accepted, the others refused, no 5xx); at most one op of the NS
    unfinished right after the round and while it settles; every op ends COMPLETED or says
    why it failed; after cleanup (``data_dir`` given) nothing of the NS is left on the VIM.
    """
    ns_id = create_ns(c)
    ctx: dict[str, Any] = {"vim_id": vim_id}
    if case.instantiated:
        op = run_op(c, ns_id, "instantiate", instantiate_body(vim_id))
        assert op["operationState"] == "COMPLETED", op
        ns = c.get(f"{NS}/{ns_id}").json()
        ctx["web_id"] = next(v["id"] for v in ns["vnfInstance"] if v["vnfProfileId"] == "vnf_web")
    calls = case.calls(ctx)
    answers = racer.fire(ns_id, calls)
    codes, problems = _judge(case, calls, answers)
    most = len(_open_ops(c, ns_id))
    ops: list[dict[str, Any]] = []
    at_once = sum(v == case.accepted for v in codes.values())
    try:
        ops, seen = _settle_ops(c, ns_id)
        most = max(most, seen)
        problems += _check_ops(ops)
        at_once = _accepted_at_once(case, answers, ops)
        _cleanup(c, ns_id)
    except (AssertionError, httpx.HTTPError, ValueError) as exc:
        problems.append(f"could not settle or clean up the NS: {exc}")
    if at_once != 1:
        accepted = [k for k, v in codes.items() if v == case.accepted]
        problems.append(
            f"{at_once} accepted at once ({', '.join(accepted) or 'none'} accepted), want 1"
        )
    if most > 1:
        problems.append(f"{most} operations of the NS open at once")
    if data_dir is not None:
        left = vim_resources(data_dir, vim_id, ns_id).counts()
        if any(left.values()):
            problems.append(f"left on the VIM after cleanup: {left}")
    return RoundResult(
        case=case.name,
        codes=codes,
        accepted=at_once,
        open_ops_max=most,
        op_states=[o["operationState"] for o in ops],
        failed_without_error=sum(
            o["operationState"] in ("FAILED_TEMP", "FAILED") and not o.get("error") for o in ops
        ),
        problems=problems,
    )


def summarise_rounds(results: Iterable[RoundResult]) -> dict[str, Any]:
    """Per-case figures: rounds, good rounds, rounds with exactly one accepted, codes, 5xx."""
    results = list(results)
    codes = Counter(str(code) for r in results for code in r.codes.values())
    per_label: dict[str, Counter[str]] = {}
    for r in results:
        for label, code in r.codes.items():
            per_label.setdefault(label, Counter())[str(code)] += 1
    return {
        "rounds": len(results),
        "rounds_ok": sum(r.ok for r in results),
        "rounds_exactly_one_accepted": sum(r.accepted == 1 for r in results),
        "accepted_histogram": dict(sorted(Counter(str(r.accepted) for r in results).items())),
        "status_codes": dict(sorted(codes.items())),
        "status_codes_by_request": {k: dict(sorted(v.items())) for k, v in per_label.items()},
        "http_5xx": sum(int(k) >= 500 for k in codes.elements()),
        "rounds_with_2plus_open_ops": sum(r.open_ops_max > 1 for r in results),
        "op_end_states": dict(sorted(Counter(st for r in results for st in r.op_states).items())),
        "ops_failed_without_error": sum(r.failed_without_error for r in results),
        "first_problems": [p for r in results for p in r.problems][:5],
    }
