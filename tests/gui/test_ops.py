"""The operation pages: the list, and one operation followed live (state, VNFs done, the
error's cause and the task buttons its state allows) without reloading."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from tests.gui.conftest import api_json, login, login_with_form
from tests.gui.ns_support import (
    NS,
    deployed_webapp,
    ensure_samples,
    new_ns,
    new_vim,
    start_instantiate,
    unique,
)
from tests.support.live import LiveApi

OPS = "/nslcm/v2/ns_lcm_op_occs"
FAILED_TEMP_TASKS = ["retry", "rollback", "continue", "fail"]


@pytest.fixture(scope="module")
def samples(gui_server: LiveApi) -> None:
    ensure_samples(gui_server.client)


def _tasks(page: Page) -> list[str]:
    return page.locator('[data-testid="op-tasks"] button[data-task]').evaluate_all(
        "bs => bs.map(b => b.dataset.task)"
    )


def test_instantiate_reaches_completed_live(page: Page, gui_server: LiveApi, samples: None) -> None:
    c = gui_server.client
    # each server takes 0.6 s to create: the page opens on a running operation
    vim_id = new_vim(c, "gui-ops-ok", latency_ms={"server_create": 600})
    ns_id = new_ns(c, "gui-ops-ok")
    op_id = start_instantiate(c, ns_id, vim_id)
    page.goto(f"/ui/ops/{op_id}")
    live = page.get_by_test_id("op-live")
    assert live.get_attribute("data-state") in ("STARTING", "PROCESSING")
    page.evaluate("window.__marker = 42")
    assert "retry" not in _tasks(page) and "rollback" not in _tasks(page)
    expect(page.get_by_test_id("op-state")).to_have_text("COMPLETED", timeout=20_000)
    n = len(api_json(gui_server, f"{NS}/{ns_id}")["vnfInstance"])
    expect(page.get_by_test_id("op-vnfs")).to_have_text(f"{n}/{n}")
    expect(page.get_by_test_id("op-timeline")).to_contain_text("NS instantiated")
    expect(page.locator('[data-testid="op-tasks"] button')).to_have_count(0)
    assert page.evaluate("window.__marker") == 42
    # the list has it, filtered on its NS, linking to this page
    page.goto(f"/ui/ops?ns={ns_id}")
    row = page.locator(f'[data-testid="ops-table"] tr[data-op-id="{op_id}"]')
    expect(row).to_contain_text("INSTANTIATE")
    expect(row).to_contain_text("COMPLETED")
    page.goto(f"/ui/ops?ns={ns_id}&state=FAILED")
    expect(page.locator('[data-testid="ops-table"] tr[data-op-id]')).to_have_count(0)


def test_failed_temp_offers_tasks_and_rolls_back_live(
    page: Page, gui_server: LiveApi, samples: None, artifacts: Path
) -> None:
    c = gui_server.client
    # every server create fails on this VIM, after 0.6 s of work
    fault = {"server_create": {"error_rate": 1.0, "error": "VimQuotaExceeded"}}
    vim_id = new_vim(c, "gui-ops-fail", latency_ms={"server_create": 600}, faults=fault)
    ns_id = new_ns(c, "gui-ops-fail")
    op_id = start_instantiate(c, ns_id, vim_id)
    page.goto(f"/ui/ops/{op_id}")
    page.evaluate("window.__marker = 42")
    state = page.get_by_test_id("op-live").get_attribute("data-state")
    assert state in ("STARTING", "PROCESSING"), state
    assert not set(FAILED_TEMP_TASKS) & set(_tasks(page))
    expect(page.get_by_test_id("op-state")).to_have_text("FAILED_TEMP", timeout=20_000)
    expect(page.locator('[data-testid="op-tasks"] button[data-task]')).to_have_count(4)
    assert _tasks(page) == FAILED_TEMP_TASKS
    # the error and its cause, as the API holds them
    error = api_json(gui_server, f"{OPS}/{op_id}")["error"]
    expect(page.get_by_test_id("op-error")).to_contain_text(error["title"])
    expect(page.get_by_test_id("op-cause")).to_contain_text("VimQuotaExceeded")
    page.screenshot(path=artifacts / "op-failed-temp.png", full_page=True)
    page.get_by_role("button", name="Rollback").click()
    expect(page.get_by_test_id("op-state")).to_have_text("ROLLED_BACK", timeout=20_000)
    expect(page.locator('[data-testid="op-tasks"] button')).to_have_count(0)
    assert page.evaluate("window.__marker") == 42
    assert api_json(gui_server, f"{OPS}/{op_id}")["operationState"] == "ROLLED_BACK"
    # a task the state no longer allows (a stale page): refused, and said so
    stale = page.evaluate(
        """async id => {
            const token = JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRF-Token"];
            const r = await fetch(`/ui/ops/${id}/retry`,
                {method: "POST", headers: {"X-CSRF-Token": token, "HX-Request": "true"}});
            return [r.status, await r.text()];
        }""",
        op_id,
    )
    assert stale[0] == 200 and 'data-testid="op-notice"' in stale[1], stale
    assert "ROLLED_BACK" in stale[1] and "data-task" not in stale[1]
    assert re.search(r"/ui/ops/[0-9a-f-]{36}$", page.url)
    # the NS is back to NOT_INSTANTIATED: instantiating it again is what it offers
    page.goto(f"/ui/ns/{ns_id}")
    expect(page.get_by_test_id("ns-state")).to_have_text("NOT_INSTANTIATED")
    expect(page.get_by_test_id("ns-actions").get_by_role("link")).to_have_text(["Instantiate"])
    expect(page.get_by_test_id("ns-ops").locator(f'a[href="/ui/ops/{op_id}"]')).to_have_count(1)
    page.once("dialog", lambda d: d.accept())
    page.get_by_test_id("ns-delete").click()
    expect(page.locator("#action-result").get_by_test_id("ns-deleted")).to_be_visible()
    assert c.get(f"{NS}/{ns_id}").status_code == 404


def test_reader_sees_no_task_buttons_and_no_actions(
    context: BrowserContext, gui_server: LiveApi, samples: None
) -> None:
    c = gui_server.client
    fault = {"server_create": {"error_rate": 1.0, "error": "VimQuotaExceeded"}}
    vim_id = new_vim(c, "gui-ops-reader", faults=fault)
    ns_id = new_ns(c, "gui-ops-reader")
    op_id = start_instantiate(c, ns_id, vim_id)
    page = context.new_page()
    login(page, "reader")
    page.goto(f"/ui/ops/{op_id}")
    expect(page.get_by_test_id("op-state")).to_have_text("FAILED_TEMP", timeout=20_000)
    expect(page.locator('[data-testid="op-tasks"] button')).to_have_count(0)
    # a forged task request is refused (operator role and CSRF token needed)
    assert page.request.post(f"/ui/ops/{op_id}/fail").status == 403
    # its NS is held by the open operation, which the NS page links to
    page.goto(f"/ui/ns/{ns_id}")
    expect(page.get_by_test_id("ns-open-op")).to_have_attribute("href", f"/ui/ops/{op_id}")
    # an idle INSTANTIATED NS: its topology, and no action for a reader
    idle_ns, _ = deployed_webapp(gui_server)
    page.goto(f"/ui/ns/{idle_ns}")
    expect(page.get_by_test_id("ns-state")).to_have_text("INSTANTIATED")
    expect(page.locator('[data-testid="topology-table"] tr[data-node-id]').first).to_be_attached()
    expect(page.get_by_test_id("ns-actions").locator("form")).to_have_count(0)
    assert page.request.post(f"/ui/ns/{idle_ns}/terminate").status == 403


def test_another_tenants_ns_and_ops_are_not_found(
    context: BrowserContext, gui_server: LiveApi, samples: None
) -> None:
    c = gui_server.client
    r = c.post("/admin/v1/tenants", json={"name": unique("gui-tenant")})
    assert r.status_code == 201, r.text
    user = unique("gui-op")
    body = {"clientId": user, "clientSecret": f"{user}-secret", "role": "operator"}
    r = c.post("/admin/v1/users", json=body | {"tenantId": r.json()["id"]})
    assert r.status_code == 201, r.text
    ns_id, _ = deployed_webapp(gui_server)  # a global NS
    [op] = api_json(gui_server, OPS, filter=f"(eq,nsInstanceId,{ns_id})", all_fields="")[:1]
    page = context.new_page()
    login_with_form(page, user, f"{user}-secret")
    for path in (
        f"/ui/ns/{ns_id}",
        f"/ui/ns/{ns_id}/topology",
        f"/ui/ns/{ns_id}/events",
        f"/ui/ns/{ns_id}/node/ns:{ns_id}",
        f"/ui/ops/{op['id']}",
        f"/ui/ops/{op['id']}/events",
    ):
        resp = page.goto(path)
        assert resp is not None and resp.status == 404, path
    page.goto(f"/ui/ops?ns={ns_id}")
    expect(page.locator('[data-testid="ops-table"] tr[data-op-id]')).to_have_count(0)
    # writes too, with a valid CSRF token
    status = page.evaluate(
        """async ns => {
            const token = JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRF-Token"];
            const r = await fetch(`/ui/ns/${ns}/terminate`,
                {method: "POST", headers: {"X-CSRF-Token": token, "HX-Request": "true"}});
            return r.status;
        }""",
        ns_id,
    )
    assert status == 404
    assert api_json(gui_server, f"{NS}/{ns_id}")["nsState"] == "INSTANTIATED"
