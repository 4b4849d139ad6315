"""Auto-scaling policies, the decision log and availability windows: created through their
forms with the API's own checks (a refusal shows its problem next to the form and creates
nothing), listed as the API lists them, deleted / cancelled; readers get no write buttons."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from tests.gui.conftest import api_json, login
from tests.gui.ns_support import ensure_samples
from tests.support.live import LiveApi, sim_vim

from nfvo.samples import NSD_WEBAPP_ID
from nfvo.ui.routes import policy as policy_routes


@pytest.fixture(scope="module")
def ns(gui_server: LiveApi) -> dict:
    """An NS instance of this module (a policy may name one not instantiated yet)."""
    ensure_samples(gui_server.client)
    r = gui_server.client.post(
        "/nslcm/v2/ns_instances",
        json={"nsdId": NSD_WEBAPP_ID, "nsName": f"gui-policy-{uuid.uuid4().hex[:6]}"},
    )
    assert r.status_code == 201, r.text
    return r.json()


def _policies_of(live: LiveApi, ns_id: str) -> list[dict]:
    return api_json(live, "/admin/v1/policies", filter=f"(eq,nsInstanceId,{ns_id})")


def test_create_and_delete_a_policy(
    page: Page, gui_server: LiveApi, ns: dict, artifacts: Path
) -> None:
    name = f"cpu-{uuid.uuid4().hex[:6]}"
    page.goto("/ui/policies")
    form = page.get_by_test_id("policy-form")
    form.get_by_label("NS instance").select_option(ns["id"])
    form.get_by_label("Scaling aspect").fill("web-aspect")
    form.get_by_label("Name (optional)").fill(name)
    form.get_by_label("Metric").fill("VCpuUsageMeanVnf")
    form.get_by_label("Scale-out threshold").fill("80")
    form.get_by_label("Scale-in threshold (below scale-out)").fill("90")
    form.get_by_label("Cooldown, both directions").fill("PT2M")
    form.get_by_role("button", name="Create policy").click()
    # scale-in at or above scale-out: the store's 422, by the form, which keeps the values
    problem = page.get_by_test_id("form-problem")
    expect(problem).to_have_attribute("data-status", "422")
    expect(problem).to_contain_text("scaleInThreshold")
    expect(problem).to_contain_text("must be below scaleOutThreshold 80")
    expect(page.get_by_label("Scale-in threshold (below scale-out)")).to_have_value("90")
    assert _policies_of(gui_server, ns["id"]) == []

    page.get_by_label("Scale-in threshold (below scale-out)").fill("20")
    page.get_by_role("button", name="Create policy").click()
    expect(page.get_by_test_id("message")).to_contain_text(f"Policy {name} created")
    expect(page.get_by_test_id("form-problem")).to_have_count(0)
    (made,) = _policies_of(gui_server, ns["id"])
    assert (made["name"], made["aspectId"], made["metric"]) == (
        name,
        "web-aspect",
        "v_cpu_usage_mean_vnf",
    )
    assert (made["scaleOutThreshold"], made["scaleInThreshold"]) == (80.0, 20.0)
    assert made["scaleOutCooldown"] == made["scaleInCooldown"] == 120.0
    row = page.locator(f'tr[data-policy-id="{made["id"]}"]')
    expect(row).to_contain_text(name)
    expect(row).to_contain_text("GE 80")
    expect(row).to_contain_text("LE 20")
    expect(row).to_contain_text(ns["nsInstanceName"])
    page.screenshot(path=artifacts / "policies.png", full_page=True)

    row.get_by_role("button", name="Disable").click()
    expect(page.get_by_test_id("message")).to_contain_text(f"Policy {name} disabled")
    expect(row.locator("td").nth(9)).to_have_text("no")
    assert api_json(gui_server, f"/admin/v1/policies/{made['id']}")["enabled"] is False
    expect(row.get_by_role("button", name="Enable")).to_be_visible()

    page.once("dialog", lambda d: d.accept())
    row.get_by_role("button", name="Delete").click()
    expect(page.get_by_test_id("message")).to_contain_text("deleted")
    expect(row).to_have_count(0)
    assert _policies_of(gui_server, ns["id"]) == []


def test_availability_window_and_its_decisions(
    page: Page, gui_server: LiveApi, artifacts: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    vim_name = f"gui-win-{uuid.uuid4().hex[:6]}"
    vim_id = sim_vim(gui_server.client, vim_name)
    name = f"maint-{uuid.uuid4().hex[:6]}"
    page.goto("/ui/windows")
    form = page.get_by_test_id("window-form")
    form.get_by_label("VIM account", exact=True).select_option(label=vim_name)
    form.get_by_label("Target kind").select_option("host")
    form.get_by_label("Host or zone name").fill("no-such-host")
    form.get_by_label("Name (optional)").fill(name)
    form.get_by_label("Or duration").fill("P30D")
    form.get_by_role("button", name="Create window").click()
    problem = page.get_by_test_id("form-problem")
    expect(problem).to_have_attribute("data-status", "422")
    expect(problem).to_contain_text("has no host named 'no-such-host'")
    windows = api_json(
        gui_server, "/admin/v1/availability_windows", filter=f"(eq,vimAccountId,{vim_id})"
    )
    assert windows == []

    page.get_by_label("Host or zone name").fill("host-0002")
    page.get_by_label("Notice before each end").fill("30")
    page.get_by_role("button", name="Create window").click()
    expect(page.get_by_test_id("message")).to_contain_text(f"Availability window {name} created")
    (made,) = api_json(
        gui_server, "/admin/v1/availability_windows", filter=f"(eq,vimAccountId,{vim_id})"
    )
    assert (made["name"], made["scope"], made["hostName"]) == (name, "host", "host-0002")
    assert made["noticeSeconds"] == 1800.0
    row = page.locator(f'tr[data-window-id="{made["id"]}"]')
    # a window starting now: SCHEDULED until its timer fires, then ACTIVE
    expect(row.get_by_test_id("window-state")).to_have_text(re.compile("^(SCHEDULED|ACTIVE)$"))
    page.screenshot(path=artifacts / "windows.png", full_page=True)

    page.once("dialog", lambda d: d.accept())
    row.get_by_role("button", name="Cancel").click()
    expect(row.get_by_test_id("window-state")).to_have_text("CANCELLED")
    expect(row.get_by_role("button", name="Cancel")).to_have_count(0)
    assert (
        api_json(gui_server, f"/admin/v1/availability_windows/{made['id']}")["state"] == "CANCELLED"
    )

    # a recurring window: a cron, the length of each occurrence and a time zone
    page.get_by_label("VIM account", exact=True).select_option(label=vim_name)
    page.get_by_label("Host or zone name").fill("host-0003")
    page.get_by_label("Name (optional)").fill(f"{name}-daily")
    page.get_by_label("Recurrence (5-field cron").fill("0 0 * * *")
    page.get_by_label("Length of each occurrence").fill("PT23H59M")
    page.get_by_label("Time zone (IANA)").fill("Europe/Berlin")
    page.get_by_role("button", name="Create window").click()
    expect(page.get_by_test_id("message")).to_contain_text(f"{name}-daily created")
    daily = next(
        w
        for w in api_json(
            gui_server, "/admin/v1/availability_windows", filter=f"(eq,vimAccountId,{vim_id})"
        )
        if w["name"] == f"{name}-daily"
    )
    assert daily["recurrence"] == {
        "cron": "0 0 * * *",
        "duration": 86340.0,
        "timeZone": "Europe/Berlin",
    }
    assert (daily["hostName"], daily["end"]) == ("host-0003", None)
    assert gui_server.client.delete(f"/admin/v1/availability_windows/{daily['id']}").is_success

    # the decision log, filtered by the window's id: its creation and its cancellation
    page.goto("/ui/policies/decisions")
    page.get_by_label("Policy or window id").fill(made["id"])
    page.get_by_label("Kind").select_option("WINDOW")
    page.get_by_role("button", name="Filter").click()
    rows = page.get_by_test_id("decision-row")
    expect(rows.first).to_contain_text("CREATE")
    expect(rows.last).to_contain_text("CANCEL")
    actions = [a.strip() for a in rows.locator("td:nth-child(3)").all_inner_texts()]
    assert actions[0] == "CREATE" and actions[-1] == "CANCEL", actions
    assert set(actions) <= {"CREATE", "START", "CANCEL"}, actions
    # one decision a page: the next page starts after the first, in order
    monkeypatch.setattr(policy_routes, "DECISIONS_PAGE", 1)
    page.reload()
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("CREATE")
    page.get_by_test_id("next-page").click()
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text(actions[1])
    expect(page.get_by_label("Policy or window id")).to_have_value(made["id"])
    resp = page.goto("/ui/policies/decisions?after=not-a-marker")
    assert resp is not None and resp.status == 400
    expect(page.get_by_test_id("problem")).to_contain_text("first page")
    monkeypatch.undo()
    page.goto(f"/ui/policies/decisions?policy={made['id']}")
    page.get_by_label("Reason").select_option("COOLDOWN")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(0)


def test_reader_sees_no_write_buttons(
    context: BrowserContext, gui_server: LiveApi, ns: dict
) -> None:
    r = gui_server.client.post(
        "/admin/v1/policies",
        json={
            "nsInstanceId": ns["id"],
            "aspectId": "db-aspect",
            "metric": "v_memory_usage_mean_vnf",
            "scaleOutThreshold": 70,
            "name": f"mem-{uuid.uuid4().hex[:6]}",
        },
    )
    assert r.status_code == 201, r.text
    reader = context.new_page()
    login(reader, "reader")
    reader.goto("/ui/policies")
    expect(reader.locator(f'tr[data-policy-id="{r.json()["id"]}"]')).to_be_visible()
    expect(reader.get_by_test_id("policy-form")).to_have_count(0)
    expect(reader.get_by_role("button", name="Delete")).to_have_count(0)
    expect(reader.get_by_role("button", name="Disable")).to_have_count(0)
    # windows are the administrators' (as in the API): no link, and 403
    expect(reader.get_by_role("link", name="Availability windows")).to_have_count(0)
    resp = reader.goto("/ui/windows")
    assert resp is not None and resp.status == 403
    expect(reader.get_by_test_id("problem")).to_contain_text("reader")
    # and the write routes refuse a reader whatever the page showed
    token = reader.evaluate("JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRF-Token']")
    refused = reader.request.delete(
        f"/ui/policies/{r.json()['id']}", headers={"X-CSRF-Token": token}
    )
    assert refused.status == 403
    assert api_json(gui_server, f"/admin/v1/policies/{r.json()['id']}")["name"] == r.json()["name"]
    gui_server.client.delete(f"/admin/v1/policies/{r.json()['id']}")
