"""The NS page: its topology graph and table agree with the API, a node's side panel shows
where it runs, and a scale-out started from the page shows up live."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from tests.gui.conftest import api_json
from tests.gui.ns_support import NS, deployed_webapp, vnfcs_of
from tests.support.live import LiveApi

from nfvo.samples import VNF_WEB_ID

NODE_IDS = "rows => rows.map(r => r.dataset.nodeId)"
GRAPH_IDS = "window.nfvoGraphs.topology.nodes().map(n => n.id())"


@pytest.fixture(scope="module")
def webapp(gui_server: LiveApi) -> tuple[str, str]:
    """(NS id, VIM id) of an ns-webapp instantiated on a two-zone sim VIM."""
    return deployed_webapp(gui_server)


def _open(page: Page, ns_id: str) -> None:
    page.goto(f"/ui/ns/{ns_id}")
    page.wait_for_function("() => window.nfvoGraphs && window.nfvoGraphs.topology")


def _table_ids(page: Page) -> set[str]:
    rows = page.locator('[data-testid="topology-table"] tr[data-node-id]')
    return set(rows.evaluate_all(NODE_IDS))


def test_topology_matches_api_and_panel_shows_placement(
    page: Page, gui_server: LiveApi, webapp: tuple[str, str], artifacts
) -> None:
    ns_id, vim_id = webapp
    ns = api_json(gui_server, f"{NS}/{ns_id}")
    vnfcs = vnfcs_of(ns)
    assert vnfcs
    _open(page, ns_id)
    expect(page.get_by_test_id("ns-state")).to_have_text("INSTANTIATED")
    graph = set(page.evaluate(GRAPH_IDS))
    assert graph == _table_ids(page)
    assert {i.removeprefix("vnf:") for i in graph if i.startswith("vnf:")} == {
        v["id"] for v in ns["vnfInstance"]
    }
    assert {i.removeprefix("vnfc:") for i in graph if i.startswith("vnfc:")} == {
        c["id"] for c in vnfcs
    }
    hosts = {f"host:{vim_id}:{c['metadata']['host']}" for c in vnfcs}
    zones = {f"zone:{vim_id}:{c['metadata']['zone']}" for c in vnfcs}
    assert hosts | zones | {f"ns:{ns_id}", f"vim:{vim_id}"} <= graph
    assert any(i.startswith("cp:") for i in graph) and any(i.startswith("nsvl:") for i in graph)
    # every VNFC is linked to the host it runs on
    edges = page.evaluate(
        "window.nfvoGraphs.topology.edges().map(e => [e.source().id(), e.target().id()])"
    )
    for c in vnfcs:
        assert [f"vnfc:{c['id']}", f"host:{vim_id}:{c['metadata']['host']}"] in edges
    # the inventory knows those hosts, in those zones
    inventory = api_json(gui_server, f"/admin/v1/vim_accounts/{vim_id}/resources")
    zone_of = {h["name"]: h["zone"] for h in inventory["hosts"]}
    target = vnfcs[-1]
    host = target["metadata"]["host"]
    assert zone_of[host] == target["metadata"]["zone"]
    page.locator('.graph[data-graph="topology"]').screenshot(path=artifacts / "topology.png")
    # (a function returning nothing: Playwright would serialise the returned collection)
    page.evaluate(
        "id => { window.nfvoGraphs.topology.$id(id).emit('tap'); }", f"vnfc:{target['id']}"
    )
    panel = page.get_by_test_id("node-panel")
    expect(panel).to_have_attribute("data-node-id", f"vnfc:{target['id']}")
    expect(panel.locator('tr[data-field="Host"] td')).to_have_text(host)
    expect(panel.locator('tr[data-field="Zone"] td')).to_have_text(zone_of[host])
    expect(panel.locator('tr[data-field="VIM id"] td')).to_have_text(vim_id)
    expect(panel.locator('tr[data-field="Server id"] td')).to_have_text(
        target["computeResource"]["resourceId"]
    )


def test_scale_out_from_the_page_appears_live(
    page: Page, context: BrowserContext, gui_server: LiveApi, webapp: tuple[str, str]
) -> None:
    ns_id, _ = webapp
    ns = api_json(gui_server, f"{NS}/{ns_id}")
    [web] = [v for v in ns["vnfInstance"] if v["vnfdId"] == VNF_WEB_ID]
    before = {c["id"] for c in vnfcs_of(ns)}
    # one tab watches the NS page; another scales from the same page
    _open(page, ns_id)
    page.evaluate("window.__marker = 42")
    actor = context.new_page()
    _open(actor, ns_id)
    actor.locator("summary", has_text="Scale").click()
    actor.locator("#scale-aspect").select_option(f"vnf:{web['id']}:web_scale")
    actor.locator("#scale-direction").select_option("SCALE_OUT")
    actor.get_by_test_id("scale-form").get_by_role("button", name="Scale").click()
    actor.wait_for_url(re.compile(r"/ui/ops/[0-9a-f-]{36}$"))
    expect(actor.get_by_test_id("op-state")).to_have_text("COMPLETED", timeout=20_000)
    after = {c["id"] for c in vnfcs_of(api_json(gui_server, f"{NS}/{ns_id}"))}
    [new] = after - before
    row = page.locator(f'[data-testid="topology-table"] tr[data-node-id="vnfc:{new}"]')
    expect(row).to_have_count(1)
    page.wait_for_function(
        "id => window.nfvoGraphs.topology.$id(id).length === 1", arg=f"vnfc:{new}"
    )
    assert page.evaluate("window.__marker") == 42
    assert set(page.evaluate(GRAPH_IDS)) == _table_ids(page)
    # an update from the page: the stopped VNF's VNFCs turn SHUTOFF on the watching page
    [db] = [v for v in ns["vnfInstance"] if v["vnfdId"] != VNF_WEB_ID]
    _open(actor, ns_id)
    actor.locator("summary", has_text="Update").click()
    actor.locator("#update-vnf").select_option(db["id"])
    actor.locator("#update-state").select_option("STOPPED")
    actor.get_by_test_id("update-form").get_by_role("button", name="Update").click()
    actor.wait_for_url(re.compile(r"/ui/ops/[0-9a-f-]{36}$"))
    expect(actor.get_by_test_id("op-state")).to_have_text("COMPLETED", timeout=20_000)
    for c in db["instantiatedVnfInfo"]["vnfcResourceInfo"]:
        row = page.locator(f'[data-testid="topology-table"] tr[data-node-id="vnfc:{c["id"]}"]')
        expect(row).to_contain_text("SHUTOFF")
    # a request the LCM refuses: its problem shows where the form was, nothing starts
    page.locator("summary", has_text="Scale").click()
    page.locator("#scale-aspect").select_option(f"vnf:{web['id']}:web_scale")
    page.locator("#scale-direction").select_option("SCALE_IN")
    page.locator("#scale-steps").fill("5")
    page.get_by_test_id("scale-form").get_by_role("button", name="Scale").click()
    problem = page.locator("#action-result").get_by_test_id("problem")
    expect(problem).to_have_attribute("data-status", "400")
    expect(problem).to_contain_text("numberOfSteps")
    assert page.url.endswith(f"/ui/ns/{ns_id}")
    assert page.evaluate("window.__marker") == 42
    # the operations list, newest first
    page.goto(f"/ui/ops?ns={ns_id}")
    cells = page.locator('[data-testid="ops-table"] tr[data-op-id] td:nth-child(2)')
    expect(cells).to_have_text(["UPDATE", "SCALE", "INSTANTIATE"])
