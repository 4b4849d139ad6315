"""Issue acceptance 4 end to end, through the API of a live nfvo with everything the runtime
wires (monitoring -> root-cause analysis -> nsfm alarms and auto-heal -> LCM), on the sim VIM,
SQLite and PostgreSQL.

A sim host carrying 6 VNFCs of 3 VNFs in 2 NS goes down (a fault injected through the API):
within 5 s one root-cause alarm with 6 causal links, 2 NS alarms (``isRootCause: true``), 2
AlarmNotifications and exactly one automatic HEAL per NS; the VNFCs come back on other hosts
and nothing on other hosts is touched. The host recovers: both alarms cleared (notified)
within 5 s, the deduced alarms and causal links gone, and no further heal."""

from __future__ import annotations

import time
from collections import Counter

import httpx
from sqlalchemy import select
from tests.integration.test_notifications import Subscriber
from tests.integration.test_nsfm import subscriber  # noqa: F401
from tests.support.live import LiveApi, sim_vim, wait_op

from nfvo.inventory.models import NsLcmOpOcc, NsVnfc
from nfvo.samples import NSD_WEBAPP_ID, VNF_DB_ID, build_sample

NS = "/nslcm/v2/ns_instances"
FM = "/nsfm/v1"
IMAGES = [{"name": n} for n in ("cirros", "web-img", "db-img")]


def _ns(c: httpx.Client, name: str, vim_id: str, db_vim: str) -> str:
    r = c.post(NS, json={"nsdId": NSD_WEBAPP_ID, "nsName": name})
    assert r.status_code == 201, r.text
    body: dict = {"nsFlavourId": "default", "additionalParamsForNs": {"vimAccountId": vim_id}}
    body["additionalParamsForVnf"] = [
        {"vnfProfileId": "vnf_db", "additionalParams": {"vimAccountId": db_vim}}
    ]
    go = c.post(f"{NS}/{r.json()['id']}/instantiate", json=body)
    assert go.status_code == 202, go.text
    assert wait_op(c, go.headers["location"])["operationState"] == "COMPLETED"
    return r.json()["id"]


def _vnfcs(live: LiveApi, ns_ids: list[str]) -> list[NsVnfc]:
    with live.services.db.session() as s:
        return list(s.scalars(select(NsVnfc).where(NsVnfc.ns_instance_id.in_(ns_ids))))


def _heals(live: LiveApi, ns_ids: list[str]) -> list[NsLcmOpOcc]:
    with live.services.db.session() as s:
        q = select(NsLcmOpOcc).where(
            NsLcmOpOcc.ns_instance_id.in_(ns_ids), NsLcmOpOcc.operation == "HEAL"
        )
        return list(s.scalars(q))


def _until(what: str, check: object, timeout: float) -> float:
    """Poll ``check`` until truthy; the seconds it took (fails naming ``what``)."""
    started = time.monotonic()
    while not check():  # type: ignore[operator]
        assert time.monotonic() - started < timeout, f"{what}: not within {timeout} s"
        time.sleep(0.05)
    return time.monotonic() - started


def test_host_down_one_root_two_ns_alarms_one_heal_per_ns_then_clear(
    live: LiveApi,
    subscriber: Subscriber,  # noqa: F811
) -> None:
    policy = live.services.notifications.policy  # type: ignore[union-attr]
    policy.poll_interval, policy.base_delay, policy.timeout = 0.05, 0.05, 2.0
    for name in ("vnf-web", "vnf-db", "ns-webapp"):
        live.onboard("nsd" if name.startswith("ns") else "vnf", build_sample(name))
    c = live.client
    lab = sim_vim(c, "rca-lab", hosts=3, zones=1, images=IMAGES, placement_strategy="pack")
    other = sim_vim(c, "rca-other", hosts=1, zones=1, images=IMAGES)
    # NS a: web and db on the lab VIM, db scaled out once; NS b: web on the lab VIM, db
    # elsewhere. Packing puts every lab VNFC on the first host: 6 VNFCs of 3 VNFs in 2 NS.
    ns_ids = [_ns(c, "rca-a", lab, lab), _ns(c, "rca-b", lab, other)]
    [db_a] = [
        v["id"]
        for v in c.get(f"{NS}/{ns_ids[0]}").json()["vnfInstance"]
        if v["vnfdId"] == VNF_DB_ID
    ]
    step = {"aspectId": "db_scale", "numberOfSteps": 1}
    scale = {
        "scaleType": "SCALE_VNF",
        "scaleVnfData": [
            {"vnfInstanceId": db_a, "scaleVnfType": "SCALE_OUT", "scaleByStepData": step}
        ],
    }
    go = c.post(f"{NS}/{ns_ids[0]}/scale", json=scale)
    assert go.status_code == 202, go.text
    assert wait_op(c, go.headers["location"])["operationState"] == "COMPLETED"
    before = _vnfcs(live, ns_ids)
    hosts = {r.host for r in before if r.vim_account_id == lab}
    assert len(hosts) == 1, hosts
    host = hosts.pop()
    on_host = [r for r in before if r.vim_account_id == lab and r.host == host]
    elsewhere = {r.key: r.server_id for r in before if r not in on_host}
    assert len(on_host) == 6 and len({r.vnf_instance_id for r in on_host}) == 3
    assert elsewhere and all(elsewhere.values())
    sub = c.post(f"{FM}/subscriptions", json={"callbackUri": f"{subscriber.url}/fm"})
    assert sub.status_code == 201, sub.text

    started = time.monotonic()
    faults = f"/admin/v1/vim_accounts/{lab}/sim/faults"
    fault = c.post(faults, json={"kind": "HOST_DOWN", "host": host})
    assert fault.status_code == 201, fault.text
    notes = subscriber.wait_for("/fm", 2, timeout=5)
    assert [n["body"]["notificationType"] for n in notes] == ["AlarmNotification"] * 2
    took_heals = _until("one heal per NS", lambda: len(_heals(live, ns_ids)) >= 2, 5)
    took = time.monotonic() - started
    assert took <= 5, f"alarms and heals {took:.2f} s after the host went down"
    print(f"host down -> 2 notifications and 2 heals in {took:.2f} s ({took_heals:.2f})")  # noqa: T201

    alarms = c.get(f"{FM}/alarms", params={"filter": "(eq,perceivedSeverity,CRITICAL)"}).json()
    roots = [a for a in alarms if a["isRootCause"]]
    assert sorted(a["managedObjectId"] for a in roots) == sorted(ns_ids)
    rca = c.get("/admin/v1/rca", params={"alarmId": roots[0]["id"]})
    assert rca.status_code == 200, rca.text
    graph = rca.json()
    root_alarms = [n for n in graph["nodes"] if not n.get("deduced", False)]
    assert len(root_alarms) >= 1
    causes = [lk for lk in graph["links"] if lk["relationshipType"] == "causes"]
    assert len(causes) == 6, graph

    heals = _heals(live, ns_ids)
    assert sorted(h.ns_instance_id for h in heals) == sorted(ns_ids)  # exactly one per NS
    assert all(h.is_automatic_invocation for h in heals)
    for h in heals:
        op = wait_op(c, f"/nslcm/v2/ns_lcm_op_occs/{h.id}", timeout=30)
        assert op["operationState"] == "COMPLETED", op
    after = _vnfcs(live, ns_ids)
    assert [r for r in after if r.vim_account_id == lab and r.host == host] == []
    per_vnf = Counter(r.vnf_instance_id for r in before)
    assert Counter(r.vnf_instance_id for r in after) == per_vnf  # all recreated, elsewhere
    now = {r.key: r.server_id for r in after}
    assert {k: now.get(k) for k in elsewhere} == elsewhere  # the others untouched

    cleared_at = time.monotonic()
    gone = c.delete(f"{faults}/{fault.json()['id']}")
    assert gone.status_code == 200, gone.text
    notes = subscriber.wait_for("/fm", 4, timeout=5)
    took = time.monotonic() - cleared_at
    assert [n["body"]["notificationType"] for n in notes[2:]] == ["AlarmClearedNotification"] * 2
    assert took <= 5, f"cleared {took:.2f} s after the host came back"
    rca = c.get("/admin/v1/rca", params={"alarmId": roots[0]["id"]}).json()
    assert [lk for lk in rca["links"] if lk["relationshipType"] == "causes"] == []
    time.sleep(1.5)  # longer than the heal batch's quiet second: nothing more happens
    assert len(_heals(live, ns_ids)) == 2
    assert len(subscriber.received("/fm")) == 4
