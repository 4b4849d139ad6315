"""``/admin/v1/policy_decisions`` on SQLite and PostgreSQL: filters (policyId, nsInstanceId,
reason, kind) evaluated in SQL with keyset paging in creation order, a tenant sees only its
own decisions, one decision by id (404 for another tenant's)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from tests.support.live import LiveApi

from nfvo.policy import decisions
from nfvo.policy.decisions import Kind, Reason

D = "/admin/v1/policy_decisions"
T0 = datetime(2026, 3, 1, tzinfo=UTC)


def walk(c: httpx.Client, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Every decision of a filtered list, following the Link headers."""
    r = c.get(D, params=params)
    out = []
    while True:
        assert r.status_code == 200, r.text
        out += r.json()
        nxt = r.links.get("next", {}).get("url")
        if not nxt:
            return out
        r = c.get(nxt)


def test_filters_paging_and_tenants(live: LiveApi) -> None:
    g = live.client
    tenant = g.post("/admin/v1/tenants", json={"name": "t-dec"}).json()["id"]
    user = {"clientId": "dec", "clientSecret": "dec-secret-1", "role": "reader", "tenantId": tenant}
    assert g.post("/admin/v1/users", json=user).status_code == 201
    mine = live.client_for("dec", "dec-secret-1")
    reasons = [Reason.ACTED, Reason.COOLDOWN, Reason.QUOTA, Reason.MAX_LEVEL, Reason.COOLDOWN]
    ids = []
    for i in range(25):
        ids.append(
            decisions.record(
                live.services.db,
                kind=Kind.AUTO_HEAL if i % 5 == 4 else Kind.AUTO_SCALE,
                reason=reasons[i % 5],
                action="SCALE_OUT",
                policy_id=f"p-{i % 2}",
                ns_instance_id=f"ns-{i % 3}",
                tenant_id=tenant if i % 2 == 0 else None,
                inputs={"value": float(i)},
                op_occ_id=f"op-{i}" if i % 5 == 0 else None,
                detail=f"decision {i}",
                at=T0 + timedelta(seconds=i),
            )
        )
    live.services.settings.page_size = 4
    every = walk(g)
    assert [d["id"] for d in every] == ids  # creation order, across 7 pages
    cooldown = walk(g, {"filter": "(eq,reason,COOLDOWN);(eq,nsInstanceId,ns-1)"})
    assert [d["detail"] for d in cooldown] == [
        "decision 1",
        "decision 4",
        "decision 16",
        "decision 19",
    ]
    assert all(d["decision"] == "DECLINED" for d in cooldown)
    heal = walk(g, {"filter": "(eq,kind,AUTO_HEAL);(eq,policyId,p-0)"})
    assert [d["detail"] for d in heal] == ["decision 4", "decision 14", "decision 24"]
    acted = walk(g, {"filter": "(eq,decision,ACTED)"})
    assert [d["nsLcmOpOccId"] for d in acted] == [f"op-{i}" for i in range(0, 25, 5)]
    # the tenant sees its own (even) decisions only, filters and paging alike
    own = walk(mine)
    assert [d["id"] for d in own] == ids[::2]
    assert {d["tenantId"] for d in own} == {tenant}
    assert walk(mine, {"filter": "(eq,reason,QUOTA)"}) == [d for d in own if d["reason"] == "QUOTA"]
    one = mine.get(f"{D}/{ids[0]}")
    assert one.status_code == 200 and one.json()["inputs"] == {"value": 0.0}
    assert one.json()["_links"]["self"]["href"].endswith(f"{D}/{ids[0]}")
    assert mine.get(f"{D}/{ids[1]}").status_code == 404  # a global decision
    assert g.get(f"{D}/{ids[1]}").status_code == 200
    assert g.get(f"{D}/no-such").status_code == 404
    assert walk(g, {"filter": "(eq,nosuch,1)"}) == []  # an attribute no decision has
    assert g.get(D, params={"filter": "(eq,reason"}).status_code == 400
