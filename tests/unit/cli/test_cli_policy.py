"""``nfvo policy decisions`` / ``decision`` and ``nfvo quota`` against a fake API: the
filters the options build, names resolved to ids, the table shown."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from tests.support.fake_nfvo import FakeApi
from typer.testing import CliRunner, Result

from nfvo.cli.main import app

RUNNER = CliRunner()
NS = "/nslcm/v2/ns_instances"
DECISIONS = "/admin/v1/policy_decisions"
ROW = {
    "id": "d1",
    "kind": "AUTO_SCALE",
    "decision": "DECLINED",
    "reason": "COOLDOWN",
    "action": "SCALE_OUT",
    "policyId": "p1",
    "nsInstanceId": "ns1",
    "tenantId": None,
    "nsLcmOpOccId": None,
    "detail": "last operation completed 30 s ago; cooldown 120 s",
    "inputs": {"mean": 85.0},
    "createdAt": "2026-03-01T00:00:00+00:00",
    "_links": {"self": {"href": f"{DECISIONS}/d1"}},
}


def run(*args: str) -> Result:
    return RUNNER.invoke(app, list(args), env={"COLUMNS": "200"})


def _filters(api: FakeApi) -> list[str | None]:
    return [
        r.url.params.get("filter")
        for r in api.requests
        if r.method == "GET" and r.url.path == DECISIONS
    ]


def test_decisions_filter_by_ns_name_and_reason(api: FakeApi, env: Path) -> None:
    api.on("GET", DECISIONS, [ROW])
    api.on("GET", f"{NS}/shop", lambda r: httpx.Response(404, json={"status": 404}))
    api.on("GET", NS, [{"id": "ns1", "nsInstanceName": "shop"}])
    api.on("GET", f"{NS}/ns1", {"id": "ns1", "nsInstanceName": "shop"})
    r = run("policy", "decisions", "--ns", "shop", "--reason", "cooldown")
    assert r.exit_code == 0, r.output
    assert _filters(api) == ["(eq,reason,COOLDOWN);(eq,nsInstanceId,ns1)"]
    assert "COOLDOWN" in r.output and "SCALE_OUT" in r.output and "DECLINED" in r.output
    r = run("policy", "decisions", "--kind", "auto_heal", "-o", "json")
    assert r.exit_code == 0, r.output
    assert _filters(api)[-1] == "(eq,kind,AUTO_HEAL)"
    assert json.loads(r.output) == [ROW]


def test_one_decision_and_none(api: FakeApi, env: Path) -> None:
    api.on("GET", f"{DECISIONS}/d1", ROW)
    r = run("policy", "decision", "d1")
    assert r.exit_code == 0, r.output
    assert "cooldown 120 s" in r.output and "d1" in r.output
    api.on("GET", DECISIONS, [])
    r = run("policy", "decisions")
    assert r.exit_code == 0 and "no decisions" in r.output
    assert _filters(api) == [None]


def test_quota_set_and_show(api: FakeApi, env: Path) -> None:
    tenant = {"id": "t1", "name": "acme"}
    view: dict[str, Any] = {
        "scope": "TENANT",
        "tenantId": "t1",
        "maxVcpus": 8,
        "maxRamMib": None,
        "maxInstances": 4,
        "usage": {"vcpus": 5, "ramMib": 3072, "instances": 3},
    }
    api.on("GET", "/admin/v1/tenants/acme", lambda r: httpx.Response(404, json={"status": 404}))
    api.on("GET", "/admin/v1/tenants", [tenant])
    api.on("GET", "/admin/v1/tenants/t1", tenant)
    api.on("PUT", "/admin/v1/quotas/tenants/t1", view)
    api.on("GET", "/admin/v1/quotas/tenants/t1", view)
    r = run("quota", "set", "--tenant", "acme", "--vcpus", "8", "--instances", "4")
    assert r.exit_code == 0, r.output
    assert api.bodies("PUT", "/admin/v1/quotas/tenants/t1") == [
        {"maxVcpus": 8, "maxRamMib": None, "maxInstances": 4}
    ]
    assert "5 / 8" in r.output and "3072 / -" in r.output
    r = run("quota", "show", "--tenant", "t1")
    assert r.exit_code == 0 and "3 / 4" in r.output
    r = run("quota", "show")
    assert r.exit_code != 0 and "exactly one of --tenant and --ns" in r.output
