"""The alarm list: a fault on an NS appears without a reload, Acknowledge changes the alarm
as the nsfm API's PATCH does, the filters narrow the list, and only operators may
acknowledge."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from tests.gui.conftest import api_json, login
from tests.gui.ns_support import ensure_samples
from tests.support.live import LiveApi

from nfvo.monitoring.model import FaultEvent, FaultKind, Resource, ResourceKind, Severity
from nfvo.samples import NSD_WEBAPP_ID


@pytest.fixture(scope="module")
def ns_id(gui_server: LiveApi) -> str:
    """An NS instance of this module (NOT_INSTANTIATED: an NS-level fault still alarms it)."""
    ensure_samples(gui_server.client)
    r = gui_server.client.post(
        "/nslcm/v2/ns_instances",
        json={"nsdId": NSD_WEBAPP_ID, "nsName": f"gui-alarms-{uuid.uuid4().hex[:6]}"},
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _raise(live: LiveApi, ns: str, severity: Severity, name: str) -> str:
    """Hand the monitoring hub a fault on the NS (as an Alertmanager alert would); the id
    of the nsfm alarm it raises."""
    fault_id = f"gui-test:{name}:{uuid.uuid4().hex}"
    live.services.fault(
        FaultEvent(
            Resource(ResourceKind.NS, ns),
            FaultKind.ALERT,
            severity,
            time.time(),
            "gui-test",
            raw={"alertname": name},
            fault_id=fault_id,
        )
    )
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        for alarm in api_json(live, "/nsfm/v1/alarms", filter=f"(eq,managedObjectId,{ns})"):
            if f"faultKey={fault_id}" in alarm["faultDetails"]:
                return alarm["id"]
        time.sleep(0.05)
    raise AssertionError(f"no alarm for fault {fault_id}")


def test_alarm_appears_live_and_is_acknowledged(
    page: Page, gui_server: LiveApi, ns_id: str, artifacts: Path
) -> None:
    page.goto("/ui/alarms")
    page.evaluate("window.__marker = 42")
    alarm_id = _raise(gui_server, ns_id, Severity.CRITICAL, "DiskFull")
    row = page.locator(f'tr[data-alarm-id="{alarm_id}"]')
    expect(row).to_be_visible(timeout=5000)  # pushed by the server: no reload
    expect(row.get_by_test_id("severity")).to_have_text("CRITICAL")
    expect(row.get_by_test_id("ack-state")).to_have_text("UNACKNOWLEDGED")
    expect(row.get_by_test_id("root-cause")).to_have_text("root cause")
    expect(row).to_contain_text(ns_id)
    expect(row).to_contain_text("external alert")

    page.screenshot(path=artifacts / "alarms.png")
    row.get_by_role("button", name="Acknowledge").click()
    expect(row.get_by_test_id("ack-state")).to_have_text("ACKNOWLEDGED")
    expect(row.get_by_role("button", name="Acknowledge")).to_have_count(0)
    alarm = api_json(gui_server, f"/nsfm/v1/alarms/{alarm_id}")
    assert alarm["ackState"] == "ACKNOWLEDGED"
    assert "alarmAcknowledgedTime" in alarm

    # filters: an acknowledged alarm is not among the unacknowledged ones
    page.get_by_label("Acknowledgement").select_option("UNACKNOWLEDGED")
    expect(page.get_by_test_id("alarm-count")).to_contain_text("matching the filters")
    expect(row).to_have_count(0)
    page.get_by_label("Acknowledgement").select_option("ACKNOWLEDGED")
    page.get_by_label("Severity").select_option("CRITICAL")
    expect(row).to_be_visible()
    page.get_by_label("Severity").select_option("MINOR")
    expect(row).to_have_count(0)
    # the filtered list is live too: a new MINOR alarm that is acknowledged appears
    page.get_by_label("Acknowledgement").select_option("")
    other = _raise(gui_server, ns_id, Severity.MINOR, "LinkFlap")
    expect(page.locator(f'tr[data-alarm-id="{other}"]')).to_be_visible(timeout=5000)
    assert page.evaluate("window.__marker") == 42
    assert "severity=MINOR" in page.url


def test_only_operators_acknowledge(
    context: BrowserContext, gui_server: LiveApi, ns_id: str
) -> None:
    alarm_id = _raise(gui_server, ns_id, Severity.MAJOR, "HighLatency")
    reader = context.new_page()
    login(reader, "reader")
    reader.goto("/ui/alarms")
    row = reader.locator(f'tr[data-alarm-id="{alarm_id}"]')
    expect(row.get_by_test_id("ack-state")).to_have_text("UNACKNOWLEDGED")
    expect(reader.get_by_role("button", name="Acknowledge")).to_have_count(0)
    # the server refuses a reader's acknowledgement even with the session's CSRF token
    token = reader.evaluate("JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRF-Token']")
    refused = reader.request.post(f"/ui/alarms/{alarm_id}/ack", headers={"X-CSRF-Token": token})
    assert refused.status == 403
    assert api_json(gui_server, f"/nsfm/v1/alarms/{alarm_id}")["ackState"] == "UNACKNOWLEDGED"

    operator = context.new_page()
    login(operator, "operator")
    operator.goto("/ui/alarms")
    row = operator.locator(f'tr[data-alarm-id="{alarm_id}"]')
    row.get_by_role("button", name="Acknowledge").click()
    expect(row.get_by_test_id("ack-state")).to_have_text("ACKNOWLEDGED")
    # acknowledging again is the API's 409, shown in the row
    again = operator.request.post(
        f"/ui/alarms/{alarm_id}/ack",
        headers={
            "X-CSRF-Token": operator.evaluate(
                "JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRF-Token']"
            ),
            "HX-Request": "true",
        },
    )
    assert again.status == 409
    assert "already ACKNOWLEDGED" in again.text()
