"""The dashboard: NS counts equal to the API's, operations in progress polled live, alarms by
severity as the nsfm API lists them."""

from __future__ import annotations

import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from tests.gui.ns_support import ensure_samples
from tests.support.live import LiveApi, sim_vim, wait_op

from nfvo.samples import NSD_WEBAPP_ID

NS = "/nslcm/v2/ns_instances"


def _all(live: LiveApi, path: str, **params: Any) -> list[dict[str, Any]]:
    """Every item of an API list, following its ``next`` links."""
    out: list[dict[str, Any]] = []
    r = live.client.get(path, params=params)
    while True:
        assert r.status_code == 200, r.text
        out += r.json()
        nxt = r.links.get("next")
        if not nxt:
            return out
        r = live.client.get(nxt["url"])


@pytest.fixture(scope="module")
def nsd(gui_server: LiveApi) -> str:
    """The sample NSD, onboarded once (other modules may have done it already)."""
    ensure_samples(gui_server.client)
    return NSD_WEBAPP_ID


def _alert(c: Any, vim_id: str, server: str, status: str) -> None:
    """An Alertmanager webhook call about one server of the VIM (firing or resolved)."""
    labels = {"alertname": "InstanceDown", "severity": "critical"}
    alert = {
        "status": status,
        "labels": {**labels, "server_id": server, "vim_account_id": vim_id},
        "annotations": {"summary": "instance down"},
        "startsAt": "2026-12-03T18:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z" if status == "firing" else "2026-12-03T18:20:00Z",
        "fingerprint": f"gui{server[:12]}",
    }
    body = {
        "version": "4",
        "groupKey": '{}:{alertname="InstanceDown"}',
        "status": status,
        "receiver": "nfvo",
        "groupLabels": {"alertname": "InstanceDown"},
        "commonLabels": labels,
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example:9093",
        "alerts": [alert],
    }
    r = c.post("/monitoring/v1/alertmanager", json=body)
    assert r.status_code == 200, r.text


def _api_counts(live: LiveApi) -> tuple[Counter[str], Counter[str]]:
    """NS instances per state and active alarms per severity, as the API lists them."""
    ns = Counter(n["nsState"] for n in _all(live, NS, fields="nsState"))
    alarms = Counter(
        a["perceivedSeverity"]
        for a in _all(live, "/nsfm/v1/alarms")
        if a["perceivedSeverity"] != "CLEARED"
    )
    return ns, alarms


def _expect_counts(page: Page, live: LiveApi) -> None:
    """The dashboard's counts become the API's (the polled fragment, no reload)."""
    ns, alarms = _api_counts(live)
    for state in ("NOT_INSTANTIATED", "INSTANTIATED"):
        expect(page.get_by_test_id(f"ns-count-{state}")).to_have_text(str(ns[state]))
    expect(page.get_by_test_id("ns-count-total")).to_have_text(str(sum(ns.values())))
    for severity in ("CRITICAL", "MAJOR", "MINOR", "WARNING", "INDETERMINATE"):
        expect(page.get_by_test_id(f"alarm-count-{severity}")).to_have_text(str(alarms[severity]))
    expect(page.get_by_test_id("alarm-count-total")).to_have_text(str(sum(alarms.values())))


def test_counts_equal_the_apis_and_operations_are_live(
    page: Page, gui_server: LiveApi, nsd: str, artifacts: Path
) -> None:
    c = gui_server.client
    tag = uuid.uuid4().hex[:6]
    vim_name = f"gui-dash-{tag}"
    # server creation takes 0.6 s on this VIM: long enough to see the operation running
    images = [{"name": n} for n in ("cirros", "web-img", "db-img")]
    vim_id = sim_vim(c, vim_name, hosts=2, images=images, latency_ms={"server_create": 600})
    ids = []
    for i in range(3):
        r = c.post(NS, json={"nsdId": nsd, "nsName": f"{vim_name}-{i}"})
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])

    page.goto("/ui/")
    page.evaluate("window.__marker = 42")
    _expect_counts(page, gui_server)
    r = c.post(
        f"{NS}/{ids[0]}/instantiate",
        json={"nsFlavourId": "default", "additionalParamsForNs": {"vimAccountId": vim_id}},
    )
    assert r.status_code == 202, r.text
    op_id = r.headers["location"].rsplit("/", 1)[1]
    row = page.get_by_test_id("ops-running").locator(f'tr[data-op-id="{op_id}"]')
    # the polled fragment shows the operation while it runs, then drops it
    expect(row).to_contain_text("INSTANTIATE")
    expect(row).to_contain_text(f"{vim_name}-0")
    assert wait_op(c, r.headers["location"])["operationState"] == "COMPLETED"
    expect(row).to_have_count(0)
    _expect_counts(page, gui_server)

    # an alarm on one of its servers: counted by severity as nsfm lists it
    vnf = c.get(f"{NS}/{ids[0]}").json()["vnfInstance"][0]
    server = vnf["instantiatedVnfInfo"]["vnfcResourceInfo"][0]["computeResource"]["resourceId"]
    _alert(c, vim_id, server, "firing")
    _expect_counts(page, gui_server)
    assert page.evaluate("window.__marker") == 42

    # the VIM's capacity shows what the instance took
    page.reload()
    used = page.get_by_test_id(f"cap-{vim_name}").locator('tr[data-zone=""] [data-testid="vcpus"]')
    expect(used).not_to_have_text("0 / 128")
    expect(used).to_contain_text("/ 128")  # 2 hosts x 64 vCPU
    page.screenshot(path=str(artifacts / "dashboard.png"), full_page=True)

    _alert(c, vim_id, server, "resolved")
    r = c.post(f"{NS}/{ids[0]}/terminate", json={})
    assert r.status_code == 202, r.text
    assert wait_op(c, r.headers["location"])["operationState"] == "COMPLETED"
    for ns_id in ids:
        assert c.delete(f"{NS}/{ns_id}").status_code == 204
    _expect_counts(page, gui_server)
    assert c.delete(f"/admin/v1/vim_accounts/{vim_id}").status_code == 204
