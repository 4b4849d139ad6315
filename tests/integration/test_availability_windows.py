"""Availability windows end to end (issue 15, acceptance item 5): real API on loopback, sim
VIM, SQLite and PostgreSQL, the windows' timers driven by an injectable clock.

"compute-1 is available for 30 days, then sleeps": the notice at 30 d - 60 min raises one
WARNING alarm per NS with a VNFC on compute-1; at 30 d the host drains through LCM (an
evacuation plan's UPDATE op occurrences move every VDU off it) and sleeps: nothing new is
placed there, a VIM sync keeps it asleep. A restart in the middle (new timers over the same
database) fires on time, once; timers that were down past the end fire the overdue events
at once, once, even with two processes polling. A weekday window ``0 8 * * 1-5`` for 10 h
in Europe/Berlin follows the 2026 DST changes. A window whose drain cannot fit is refused
with 422 naming the short dimension.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, update
from tests.support.cli import Cli
from tests.support.live import ADMIN_PASSWORD, LiveApi, sim_vim, start_live, wait_op

from nfvo.inventory.models import VimHost
from nfvo.inventory.policy_repo import PolicyDecisionRow
from nfvo.policy import windows as windows_mod
from nfvo.policy.window_timer import WindowScheduler
from nfvo.samples import NSD_WEBAPP_ID, build_sample
from nfvo.vim.base import TAG_NS

NS = "/nslcm/v2/ns_instances"
WINDOWS = "/admin/v1/availability_windows"
ALARMS = "/nsfm/v1/alarms"
DAY = 86400.0
IMAGES = [{"name": n} for n in ("cirros", "web-img", "db-img")]


class Clock:
    """The windows' clock: stands still until a test moves it."""

    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def live(db_url: str, tmp_path: Path) -> Iterator[LiveApi]:
    api = start_live(tmp_path / "data", db_url, sync_interval_seconds=0)
    try:
        yield api
    finally:
        api.close()


def _fake_time(live: LiveApi, t: float) -> Clock:
    """The runtime's own timers stop (they run on the wall clock); the service and the
    timers the test builds share a fake clock."""
    assert live.services.window_timers is not None
    live.services.window_timers.stop()
    clock = Clock(t)
    assert live.services.windows is not None
    live.services.windows.clock = clock
    return clock


def _timers(live: LiveApi, clock: Clock) -> WindowScheduler:
    """A scheduler as a (re)started process builds it: new owner, same database."""
    svc = live.services
    assert svc.windows is not None
    return WindowScheduler(
        svc.db, svc.windows.drainer, clock=clock, notify=svc.fault, drain_poll_s=1.0
    )


def _vim(c: httpx.Client, name: str, hosts: list[dict]) -> str:
    return sim_vim(c, name, zones=[{"name": "zone-1"}], hosts=hosts, images=IMAGES)


def _onboard(live: LiveApi) -> None:
    for name in ("vnf-web", "vnf-db", "ns-webapp"):
        live.onboard("nsd" if name.startswith("ns") else "vnf", build_sample(name))


def _instantiate(c: httpx.Client, vim_id: str, name: str) -> str:
    ns_id = c.post(NS, json={"nsdId": NSD_WEBAPP_ID, "nsName": name}).json()["id"]
    body = {"nsFlavourId": "default", "additionalParamsForNs": {"vimAccountId": vim_id}}
    r = c.post(f"{NS}/{ns_id}/instantiate", json=body)
    assert r.status_code == 202, r.text
    assert wait_op(c, r.headers["location"])["operationState"] == "COMPLETED"
    return ns_id


def _vnfc_hosts(c: httpx.Client, ns_id: str) -> list[str]:
    ns = c.get(f"{NS}/{ns_id}").json()
    return [
        v["metadata"]["host"]
        for vnf in ns["vnfInstance"]
        for v in vnf["instantiatedVnfInfo"]["vnfcResourceInfo"]
    ]


def _host_states(c: httpx.Client, vim_id: str) -> dict[str, str]:
    hosts = c.get(f"/admin/v1/vim_accounts/{vim_id}/resources").json()["hosts"]
    return {h["name"]: h["state"] for h in hosts}


def _decisions(live: LiveApi, window_id: str) -> list[str]:
    with live.services.db.session() as s:
        q = select(PolicyDecisionRow).where(PolicyDecisionRow.policy_id == window_id)
        rows = s.execute(q.order_by(PolicyDecisionRow.created_at)).scalars().all()
        return [r.action for r in rows]


def _alarms(c: httpx.Client, wanted: int, timeout: float = 10) -> list[dict]:
    """The active maintenance alarms, once there are ``wanted`` of them (the hub delivers
    fault events on its own thread)."""
    deadline = time.monotonic() + timeout
    while True:
        alarms = [
            a
            for a in c.get(ALARMS).json()
            if a["faultType"] == "MAINTENANCE_NOTICE" and a.get("alarmClearedTime") is None
        ]
        if len(alarms) >= wanted or time.monotonic() > deadline:
            return alarms
        time.sleep(0.05)


def _until_state(
    c: httpx.Client, timers: WindowScheduler, clock: Clock, window_id: str, state: str
) -> dict:
    """Tick (the fake clock moving a second per tick) until the window is in ``state``."""
    deadline = time.monotonic() + 120
    while True:
        timers.tick()
        w = c.get(f"{WINDOWS}/{window_id}").json()
        if w["state"] == state:
            return w
        assert w["state"] not in ("ERROR", "CANCELLED"), (w["detail"], w)
        assert time.monotonic() < deadline, w
        clock.t += 1.0
        time.sleep(0.1)


def test_compute_1_available_for_30_days_then_sleeps(live: LiveApi) -> None:
    c = live.client
    _onboard(live)
    hosts = [
        {"name": f"compute-{i}", "vcpus": 16, "ram_mib": 32768, "disk_gib": 500}
        for i in range(1, 5)
    ]
    vim_id = _vim(c, "dc-windows", hosts)
    ns_ids = [_instantiate(c, vim_id, f"app-{i}") for i in range(3)]
    on_c1 = {ns for ns in ns_ids if "compute-1" in _vnfc_hosts(c, ns)}
    assert on_c1, {ns: _vnfc_hosts(c, ns) for ns in ns_ids}
    clock = _fake_time(live, time.time())
    t0 = clock.t

    r = c.post(WINDOWS, json={"vimAccountId": vim_id, "hostName": "compute-1", "duration": "P30D"})
    assert r.status_code == 201, r.text
    w = r.json()
    assert r.headers["location"].endswith(f"{WINDOWS}/{w['id']}")
    assert w["state"] == "SCHEDULED" and w["noticeSeconds"] == 3600
    assert w["nextEvent"]["event"] == "start"
    timers = _timers(live, clock)
    assert timers.tick() == 1
    w = c.get(f"{WINDOWS}/{w['id']}").json()
    notice_at = datetime.fromtimestamp(t0 + 30 * DAY - 3600, UTC).isoformat()
    assert w["state"] == "ACTIVE" and w["nextEvent"] == {"event": "notice", "at": notice_at}

    clock.t = t0 + 15 * DAY  # nothing due in the middle of the window
    assert timers.tick() == 0
    # a restart in the middle: the new process's timers fire on time, once
    timers = _timers(live, clock)
    other = _timers(live, clock)  # and a second process polling the same database
    clock.t = t0 + 30 * DAY - 3601
    assert timers.tick() == 0 and other.tick() == 0
    assert _alarms(c, 1, timeout=0.2) == []
    clock.t = t0 + 30 * DAY - 3600
    assert timers.tick() + other.tick() == 1
    alarms = _alarms(c, len(on_c1))
    assert {a["managedObjectId"] for a in alarms} == on_c1  # one per NS on compute-1
    assert all(a["perceivedSeverity"] == "WARNING" for a in alarms)
    assert c.get(f"{WINDOWS}/{w['id']}").json()["nextEvent"]["event"] == "end"

    clock.t = t0 + 30 * DAY - 1
    assert timers.tick() == 0 and c.get(f"{WINDOWS}/{w['id']}").json()["state"] == "ACTIVE"
    assert _host_states(c, vim_id)["compute-1"] == "up"
    clock.t = t0 + 30 * DAY
    timers.tick()
    assert c.get(f"{WINDOWS}/{w['id']}").json()["state"] in ("DRAINING", "SLEEPING")
    w = _until_state(c, timers, clock, w["id"], "SLEEPING")
    assert w["nextEvent"] is None  # a one-shot window sleeps until cancelled

    # every VDU moved off compute-1, on the VIM and in the NS records
    driver = live.services.resources.driver(vim_id)
    assert all(s.host != "compute-1" for s in driver.list_servers())
    for ns in ns_ids:
        assert "compute-1" not in _vnfc_hosts(c, ns)
    for ns in ns_ids:  # none lost or duplicated
        names = Counter(s.name for s in driver.list_servers({TAG_NS: ns}))
        assert len(names) == len(_vnfc_hosts(c, ns)) and max(names.values()) == 1
    assert _host_states(c, vim_id)["compute-1"] == "sleeping"
    sim_state = {h.name: h.state for h in driver.list_hosts()}
    assert sim_state["compute-1"] == "disabled"  # disabled at the VIM too
    live.services.resources.check_and_sync(vim_id)  # the VIM knows no windows: still asleep
    assert _host_states(c, vim_id)["compute-1"] == "sleeping"
    # 0 new placements on it
    for i in range(2):
        assert "compute-1" not in _vnfc_hosts(c, _instantiate(c, vim_id, f"after-{i}"))
    actions = _decisions(live, w["id"])
    assert actions.count("NOTICE") == 1 and actions.count("START") == 1
    assert actions[0] == "CREATE" and actions[-2:] == ["SLEEP", "VIM_DISABLE"]
    assert "DRAIN" in actions

    # cancelled: awake again, the notice alarm cleared
    r = c.delete(f"{WINDOWS}/{w['id']}")
    assert r.status_code == 200 and r.json()["state"] == "CANCELLED"
    assert _host_states(c, vim_id)["compute-1"] == "up"
    assert {h.name: h.state for h in driver.list_hosts()}["compute-1"] == "up"
    deadline = time.monotonic() + 10
    while _alarms(c, 0, timeout=0) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _alarms(c, 0, timeout=0) == []
    assert c.delete(f"{WINDOWS}/{w['id']}").status_code == 409


def test_overdue_events_fire_at_once_once_after_a_restart(live: LiveApi) -> None:
    c = live.client
    hosts = [{"name": f"compute-{i}", "vcpus": 8} for i in range(1, 3)]
    vim_id = _vim(c, "dc-restart", hosts)
    clock = _fake_time(live, time.time())
    t0 = clock.t
    body = {"vimAccountId": vim_id, "hostName": "compute-2", "duration": "P30D", "notice": "2 h"}
    w = c.post(WINDOWS, json=body).json()
    assert _timers(live, clock).tick() == 1  # started; then every process stops
    clock.t = t0 + 31 * DAY  # back a day after the end: notice, end, drain are overdue
    a, b = _timers(live, clock), _timers(live, clock)
    fired: list[int] = []
    threads = [threading.Thread(target=lambda t=t: fired.append(t.tick())) for t in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    w = c.get(f"{WINDOWS}/{w['id']}").json()
    assert w["state"] == "SLEEPING", w  # nothing ran there: it sleeps at once
    actions = _decisions(live, w["id"])
    assert Counter(actions) == Counter(
        ["CREATE", "START", "NOTICE", "DRAIN", "SLEEP", "VIM_DISABLE"]
    )
    assert _host_states(c, vim_id) == {"compute-1": "up", "compute-2": "sleeping"}
    assert a.tick() == 0 and b.tick() == 0
    with live.services.db.session() as s:  # white box: something wrote "up" over it
        s.execute(update(VimHost).where(VimHost.name == "compute-2").values(state="up"))
    clock.t += 31  # the timers check held hosts every 30 s
    a.tick()
    assert _host_states(c, vim_id)["compute-2"] == "sleeping"


def _at(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def test_weekday_window_in_berlin_across_the_2026_dst_changes(live: LiveApi) -> None:
    c = live.client
    vim_id = _vim(c, "dc-berlin", [{"name": "compute-1"}, {"name": "compute-2"}])
    clock = _fake_time(live, _at("2026-03-27T12:00:00+00:00"))  # Friday, CET (UTC+1)
    body = {
        "vimAccountId": vim_id,
        "hostName": "compute-1",
        "recurrence": {"cron": "0 8 * * 1-5", "duration": "PT10H", "timeZone": "Europe/Berlin"},
        "notice": "30 min",
    }
    r = c.post(WINDOWS, json=body)
    assert r.status_code == 201, r.text
    wid = r.json()["id"]
    timers = _timers(live, clock)

    def step(at: str, state: str, event: str, when: str) -> None:
        clock.t = _at(at)
        timers.tick()
        w = c.get(f"{WINDOWS}/{wid}").json()
        assert (w["state"], w["nextEvent"]) == (state, {"event": event, "at": when}), w

    # Friday 27 March: 08:00-18:00 CET is 07:00-17:00 UTC
    step("2026-03-27T12:00:00+00:00", "ACTIVE", "notice", "2026-03-27T16:30:00+00:00")
    step("2026-03-27T16:30:00+00:00", "ACTIVE", "end", "2026-03-27T17:00:00+00:00")
    # asleep over the weekend of the spring change (29 March); Monday 08:00 CEST = 06:00 UTC
    step("2026-03-27T17:00:00+00:00", "SLEEPING", "wake", "2026-03-30T06:00:00+00:00")
    assert _host_states(c, vim_id)["compute-1"] == "sleeping"
    step("2026-03-30T06:00:00+00:00", "ACTIVE", "notice", "2026-03-30T15:30:00+00:00")
    assert _host_states(c, vim_id)["compute-1"] == "up"
    step("2026-03-30T15:30:00+00:00", "ACTIVE", "end", "2026-03-30T16:00:00+00:00")
    step("2026-03-30T16:00:00+00:00", "SLEEPING", "wake", "2026-03-31T06:00:00+00:00")
    # autumn: Friday 23 October 08:00-18:00 CEST = 06:00-16:00 UTC; after the change on
    # 25 October, Monday 26 October 08:00-18:00 CET = 07:00-17:00 UTC
    step("2026-10-23T06:00:00+00:00", "ACTIVE", "notice", "2026-10-23T15:30:00+00:00")
    step("2026-10-23T15:30:00+00:00", "ACTIVE", "end", "2026-10-23T16:00:00+00:00")
    step("2026-10-23T16:00:00+00:00", "SLEEPING", "wake", "2026-10-26T07:00:00+00:00")
    step("2026-10-26T06:59:59+00:00", "SLEEPING", "wake", "2026-10-26T07:00:00+00:00")
    step("2026-10-26T07:00:00+00:00", "ACTIVE", "notice", "2026-10-26T16:30:00+00:00")


def test_window_whose_drain_cannot_fit_is_refused_naming_the_dimension(live: LiveApi) -> None:
    c = live.client
    _onboard(live)
    hosts = [
        {"name": "compute-1", "vcpus": 16, "ram_mib": 32768, "disk_gib": 500},
        {"name": "compute-2", "vcpus": 1, "ram_mib": 65536, "disk_gib": 500},
    ]
    vim_id = _vim(c, "dc-tight", hosts)
    ns_id = _instantiate(c, vim_id, "big")
    assert "compute-1" in _vnfc_hosts(c, ns_id)
    r = c.post(WINDOWS, json={"vimAccountId": vim_id, "hostName": "compute-1", "duration": "P1D"})
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["shortDimension"] == "vcpus" and "vcpus" in problem["detail"]
    assert c.get(WINDOWS).json() == []  # nothing stored
    # the whole VIM account cannot sleep either: nowhere to move its VDUs
    r = c.post(WINDOWS, json={"vimAccountId": vim_id, "duration": "P1D"})
    assert r.status_code == 422 and r.json()["shortDimension"] == "vcpus"
    # bad requests name their field
    for body, field in (
        ({"vimAccountId": vim_id, "hostName": "nope", "duration": "P1D"}, "hostName"),
        ({"vimAccountId": vim_id, "hostName": "compute-2", "duration": "P1Y"}, "duration"),
        ({"vimAccountId": vim_id, "hostName": "compute-2"}, "end"),
        (
            {
                "vimAccountId": vim_id,
                "hostName": "compute-2",
                "recurrence": {"cron": "0 8 * *", "duration": "PT1H"},
            },
            "recurrence.cron",
        ),
        (
            {
                "vimAccountId": vim_id,
                "hostName": "compute-2",
                "recurrence": {"cron": "0 8 * * *", "duration": "PT1H", "timeZone": "Mars/Base"},
            },
            "recurrence.timeZone",
        ),
    ):
        r = c.post(WINDOWS, json=body)
        assert r.status_code in (400, 422), r.text
        assert r.json().get("field") == field, r.json()


def test_open_windows_of_a_vim_are_bounded(live: LiveApi, monkeypatch: pytest.MonkeyPatch) -> None:
    c = live.client
    vim_id = _vim(c, "dc-many", [{"name": f"compute-{i}"} for i in range(1, 4)])
    monkeypatch.setattr(windows_mod, "MAX_OPEN_PER_VIM", 2)
    made = []
    for host in ("compute-1", "compute-2"):
        r = c.post(WINDOWS, json={"vimAccountId": vim_id, "hostName": host, "duration": "P1D"})
        assert r.status_code == 201, r.text
        made.append(r.json()["id"])
    body = {"vimAccountId": vim_id, "hostName": "compute-3", "duration": "P1D"}
    r = c.post(WINDOWS, json=body)
    assert r.status_code == 422 and r.json()["field"] == "vimAccountId", r.text
    assert len(c.get(WINDOWS).json()) == 2  # nothing stored
    assert c.delete(f"{WINDOWS}/{made[0]}").is_success  # a cancelled one no longer counts
    assert c.post(WINDOWS, json=body).status_code == 201


def test_cli_create_list_show_cancel(live: LiveApi, tmp_path: Path) -> None:
    vim_id = _vim(live.client, "dc-cli", [{"name": "compute-1"}, {"name": "compute-2"}])
    cli = Cli(
        tmp_path / "home", NFVO_URL=live.base_url, NFVO_USER="admin", NFVO_PASSWORD=ADMIN_PASSWORD
    )
    made = cli.json(
        "window", "create", "--vim", "dc-cli", "--host", "compute-2", "--duration", "P30D"
    )
    assert made["vimAccountId"] == vim_id and made["hostName"] == "compute-2"
    assert made["state"] in ("SCHEDULED", "ACTIVE")  # the runtime's timers may have started it
    assert [w["id"] for w in cli.json("window", "list")] == [made["id"]]
    assert "compute-2" in cli.run("window", "list").stdout
    assert cli.json("window", "show", made["id"])["id"] == made["id"]
    assert cli.json("window", "cancel", made["id"])["state"] == "CANCELLED"
    r = cli.run("window", "create", "--vim", "dc-cli", "--cron", "0 8 * * *", rc=None)
    assert r.returncode != 0 and "--for" in r.stderr
