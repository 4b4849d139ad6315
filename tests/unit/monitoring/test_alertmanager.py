"""The Alertmanager webhook source: payload checks, the label map, tenant scoping and the
fingerprint de-duplication (with an injected clock), without a server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from nfvo.config import SettingsError
from nfvo.errors import BadRequest, NfvoError, UnprocessableEntity
from nfvo.monitoring.model import FaultEvent, FaultKind, Resource, ResourceKind, Sample, Severity
from nfvo.monitoring.sources import alertmanager as am

VIM = "vim-1"
NS_A, NS_B = "ns-a", "ns-b"
SERVER_A = "srv-a"


class Clock:
    """A settable clock."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Recorder:
    """A sink that keeps what it is handed."""

    def __init__(self) -> None:
        self.events: list[FaultEvent] = []

    def samples(self, batch: list[Sample]) -> None:
        raise AssertionError("the webhook sends no samples")

    def fault(self, event: FaultEvent) -> None:
        self.events.append(event)


class FakeInventory:
    """(kind, id, vim) -> owner; a lookup without a VIM returns every VIM's match."""

    def __init__(self) -> None:
        self.rows: dict[tuple[ResourceKind, str, str | None], str | None] = {
            (ResourceKind.NS, NS_A, None): "A",
            (ResourceKind.NS, NS_B, None): "B",
            (ResourceKind.VNF, "vnf-a", None): "A",
            (ResourceKind.SERVER, SERVER_A, VIM): "A",
            (ResourceKind.HOST, "node-1", VIM): "A",
            (ResourceKind.HOST, "node-2", VIM): "A",
            (ResourceKind.HOST, "node-2", "vim-2"): "A",
        }
        self.calls = 0

    def lookup(
        self, kind: ResourceKind, rid: str, vim_id: str | None
    ) -> list[tuple[Resource, str | None]]:
        self.calls += 1
        return [
            (Resource(k, i, v), owner)
            for (k, i, v), owner in self.rows.items()
            if k is kind and i == rid and (vim_id is None or v == vim_id)
        ]


def alert(status: str = "firing", fp: str | None = "fp1", **labels: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "status": status,
        "labels": {"alertname": "HighCpu", **(labels or {"ns_instance_id": NS_A})},
        "annotations": {"summary": "CPU above 90%"},
        "startsAt": "2026-12-03T10:00:00.123456789Z",
        "endsAt": "0001-01-01T00:00:00Z" if status == "firing" else "2026-12-03T10:30:00Z",
        "generatorURL": "http://prometheus.example/graph",
    }
    if fp is not None:
        out["fingerprint"] = fp
    return out


def payload(*alerts: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "version": "4",
        "groupKey": '{}:{alertname="HighCpu"}',
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "nfvo",
        "groupLabels": {"alertname": "HighCpu"},
        "commonLabels": {"alertname": "HighCpu"},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example:9093",
        "alerts": list(alerts),
        **fields,
    }


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sink() -> Recorder:
    return Recorder()


def _hook(clock: Clock, sink: Recorder, **config: Any) -> am.AlertmanagerWebhook:
    return am.AlertmanagerWebhook(
        FakeInventory(), lambda: sink, am.AlertmanagerConfig(**config), clock=clock
    )


@pytest.fixture
def hook(clock: Clock, sink: Recorder) -> am.AlertmanagerWebhook:
    return _hook(clock, sink, repeat_window_s=600.0)


def post(hook: am.AlertmanagerWebhook, *alerts: dict[str, Any], tenant: str | None = None):
    return hook.handle(am.parse_payload(payload(*alerts)), tenant)


# --------------------------------------------------------------------------- validation


def test_a_real_payload_parses() -> None:
    p = am.parse_payload(payload(alert()))
    a = p.alerts[0]
    assert p.version == "4" and p.receiver == "nfvo" and p.truncated_alerts == 0
    assert a.status == "firing" and a.fingerprint == "fp1" and a.ends_at is None
    assert a.starts_at == pytest.approx(1796292000.123456)
    assert a.raw()["startsAt"].startswith("2026-12-03T10:00:00.123")


@pytest.mark.parametrize(
    ("mutate", "status", "field"),
    [
        (lambda p: p.pop("version"), 400, "version"),
        (lambda p: p.update(version="3"), 422, "version"),
        (lambda p: p.update(version=4), 400, "version"),
        (lambda p: p.pop("alerts"), 400, "alerts"),
        (lambda p: p.update(alerts={}), 400, "alerts"),
        (lambda p: p.update(status="pending"), 422, "status"),
        (lambda p: p.update(truncatedAlerts=-1), 400, "truncatedAlerts"),
        (lambda p: p.update(truncatedAlerts=True), 400, "truncatedAlerts"),
        (lambda p: p.update(commonLabels=[]), 400, "commonLabels"),
        (lambda p: p.update(externalURL="x" * 3000), 400, "externalURL"),
        (lambda p: p["alerts"].append(7), 400, "alerts[2]"),
        (lambda p: p["alerts"][0].update(status="pending"), 422, "alerts[0].status"),
        (lambda p: p["alerts"][0].pop("status"), 400, "alerts[0].status"),
        (lambda p: p["alerts"][0].update(labels={}), 422, "alerts[0].labels"),
        (lambda p: p["alerts"][0].update(labels="a=b"), 400, "alerts[0].labels"),
        (lambda p: p["alerts"][0]["labels"].update(x=1), 400, "alerts[0].labels.x"),
        (lambda p: p["alerts"][0].update(startsAt="yesterday"), 422, "alerts[0].startsAt"),
        (lambda p: p["alerts"][0].update(endsAt="2026-12-03T10:00:00"), 422, "alerts[0].endsAt"),
        (lambda p: p["alerts"][0].update(fingerprint=["x"]), 400, "alerts[0].fingerprint"),
        (lambda p: p["alerts"][0].update(fingerprint="f" * 65), 400, "alerts[0].fingerprint"),
    ],
)
def test_a_bad_payload_is_refused_naming_the_field(mutate: Any, status: int, field: str) -> None:
    body = payload(alert(), alert(fp="fp2"))
    mutate(body)
    with pytest.raises(NfvoError) as err:
        am.parse_payload(body)
    assert (err.value.status, err.value.extra["field"]) == (status, field)
    assert field in err.value.detail


def test_a_body_that_is_not_an_object_is_a_400() -> None:
    with pytest.raises(BadRequest) as err:
        am.parse_payload([payload()])
    assert err.value.extra["field"] == "body"


def test_counts_and_lengths_are_bounded() -> None:
    many = payload(*[alert(fp=f"fp{i}") for i in range(am.MAX_ALERTS + 1)])
    with pytest.raises(BadRequest, match="limit is 1000") as err:
        am.parse_payload(many)
    assert err.value.extra["field"] == "alerts"
    labels = {f"l{i}": "v" for i in range(am.MAX_LABELS + 1)}
    with pytest.raises(BadRequest) as err:
        am.parse_payload(payload(alert(**labels)))
    assert err.value.extra["field"] == "alerts[0].labels"
    with pytest.raises(BadRequest) as err:
        am.parse_payload(payload(alert(ns_instance_id="x" * (am.MAX_LABEL_VALUE + 1))))
    assert err.value.extra["field"] == "alerts[0].labels.ns_instance_id"
    with pytest.raises(BadRequest):
        am.parse_payload(payload(alert(**{"n" * (am.MAX_LABEL_NAME + 1): "v"})))
    # at the bounds: taken
    at_bound = {f"l{i}": "v" * am.MAX_LABEL_VALUE for i in range(am.MAX_LABELS - 2)}
    assert am.parse_payload(payload(alert(ns_instance_id=NS_A, **at_bound))).alerts


def test_a_bad_alert_late_in_the_payload_applies_nothing(
    hook: am.AlertmanagerWebhook, sink: Recorder
) -> None:
    body = payload(alert(fp="ok"), alert(fp="bad"))
    body["alerts"][1]["status"] = "weird"
    with pytest.raises(UnprocessableEntity):
        hook.handle(am.parse_payload(body), None)
    assert sink.events == [] and hook.tracked == 0


def test_a_missing_fingerprint_is_computed_from_the_sorted_labels() -> None:
    one = am.parse_payload(payload(alert(fp=None, ns_instance_id=NS_A, job="x")))
    two = am.parse_payload(payload(alert(fp=None, job="x", ns_instance_id=NS_A)))
    other = am.parse_payload(payload(alert(fp=None, ns_instance_id=NS_B, job="x")))
    fp = one.alerts[0].fingerprint
    assert fp == two.alerts[0].fingerprint != other.alerts[0].fingerprint
    assert len(fp) == 16 and int(fp, 16) >= 0


# --------------------------------------------------------------------------- mapping


def test_the_event_carries_kind_severity_id_cause_and_raw(
    hook: am.AlertmanagerWebhook, sink: Recorder
) -> None:
    out = post(hook, alert(fp="abc", severity="critical", server_id=SERVER_A, vim_account_id=VIM))
    assert out.as_json() == {"accepted": 1, "raised": 1, "cleared": 0, "skipped": []}
    (e,) = sink.events
    assert e.resource == Resource(ResourceKind.SERVER, SERVER_A, VIM)
    assert (e.kind, e.severity, e.source) == (FaultKind.ALERT, Severity.CRITICAL, "alertmanager")
    assert e.fault_id == e.key == "alertmanager:abc"
    assert e.probable_cause == "HighCpu"
    assert e.raw["labels"]["server_id"] == SERVER_A and e.raw["fingerprint"] == "abc"
    assert e.timestamp == pytest.approx(1796292000.123456)


@pytest.mark.parametrize(
    ("labels", "resource"),
    [
        ({"nfvo_ns_instance_id": NS_A}, Resource(ResourceKind.NS, NS_A)),
        ({"ns_instance_id": NS_A}, Resource(ResourceKind.NS, NS_A)),
        ({"vnf_instance_id": "vnf-a"}, Resource(ResourceKind.VNF, "vnf-a")),
        (
            {"instance_uuid": SERVER_A, "vim_account_id": VIM},
            Resource(ResourceKind.SERVER, SERVER_A, VIM),
        ),
        ({"server_id": SERVER_A}, Resource(ResourceKind.SERVER, SERVER_A, VIM)),  # one VIM has it
        ({"nodename": "node-1", "vim_account_id": VIM}, Resource(ResourceKind.HOST, "node-1", VIM)),
        ({"hostname": "node-1"}, Resource(ResourceKind.HOST, "node-1", VIM)),
        # the most specific rule wins: a server of an NS is the server
        (
            {"ns_instance_id": NS_A, "server_id": SERVER_A, "vim_account_id": VIM},
            Resource(ResourceKind.SERVER, SERVER_A, VIM),
        ),
        # a rule whose resource is unknown gives way to the next
        ({"server_id": "gone", "ns_instance_id": NS_A}, Resource(ResourceKind.NS, NS_A)),
    ],
)
def test_default_label_map(labels: dict[str, str], resource: Resource) -> None:
    sink = Recorder()
    post(_hook(Clock(), sink), alert(**labels))
    assert [e.resource for e in sink.events] == [resource]


@pytest.mark.parametrize(
    ("labels", "reason"),
    [
        ({"job": "node"}, am.UNMAPPED),
        ({"ns_instance_id": "nope"}, am.UNKNOWN),
        ({"hostname": "node-2"}, am.AMBIGUOUS),  # two VIMs have it: name the VIM
        ({"server_id": SERVER_A, "vim_account_id": "vim-other"}, am.UNKNOWN),
    ],
)
def test_alerts_without_a_resource_are_skipped_not_refused(
    labels: dict[str, str], reason: str
) -> None:
    sink = Recorder()
    out = post(_hook(Clock(), sink), alert(fp="x", **labels), alert(fp="ok"))
    assert out.accepted == 1 and out.skipped == [{"fingerprint": "x", "reason": reason}]
    assert [e.fault_id for e in sink.events] == ["alertmanager:ok"]


def test_a_tenant_raises_faults_only_on_its_own_resources(
    hook: am.AlertmanagerWebhook, sink: Recorder
) -> None:
    mine, theirs = alert(fp="m", ns_instance_id=NS_A), alert(fp="t", ns_instance_id=NS_B)
    unknown = alert(fp="u", ns_instance_id="nope")
    out = post(hook, mine, theirs, unknown, tenant="A")
    # another tenant's NS is skipped exactly as an unknown one
    assert out.skipped == [
        {"fingerprint": "t", "reason": am.UNKNOWN},
        {"fingerprint": "u", "reason": am.UNKNOWN},
    ]
    assert [e.resource.id for e in sink.events] == [NS_A]
    # a global caller: any tenant's
    out = post(hook, theirs)
    assert out.raised == 1 and sink.events[-1].resource.id == NS_B
    # B's tenant sees A's NS as unknown too; a resolve from it clears nothing of A's
    out = post(hook, alert("resolved", fp="m", ns_instance_id=NS_A), tenant="B")
    assert out.skipped == [{"fingerprint": "m", "reason": am.UNKNOWN}] and len(sink.events) == 2


def test_lookups_are_made_once_per_resource_per_payload(clock: Clock, sink: Recorder) -> None:
    inv = FakeInventory()
    hook = am.AlertmanagerWebhook(inv, lambda: sink, clock=clock)
    hook.handle(am.parse_payload(payload(*[alert(fp=f"f{i}") for i in range(50)])), None)
    assert inv.calls == 1 and len(sink.events) == 50


@pytest.mark.parametrize(
    ("value", "severity"),
    [
        (None, Severity.WARNING),
        ("critical", Severity.CRITICAL),
        ("Critical ", Severity.CRITICAL),
        ("page", Severity.CRITICAL),
        ("major", Severity.MAJOR),
        ("error", Severity.MAJOR),
        ("minor", Severity.MINOR),
        ("warning", Severity.WARNING),
        ("info", Severity.WARNING),
        ("sev9", Severity.INDETERMINATE),
    ],
)
def test_severity_label(value: str | None, severity: Severity) -> None:
    labels = {} if value is None else {"severity": value}
    assert am.severity_of(labels) is severity


def test_probable_cause_falls_back_to_annotations() -> None:
    a = am.parse_payload(payload(alert(ns_instance_id=NS_A))).alerts[0]
    no_name = am.Alert(a.status, {"x": "y"}, {"summary": " disk full "}, None, None, "", "f")
    assert am.probable_cause_of(no_name) == "disk full"
    bare = am.Alert(a.status, {"x": "y"}, {}, None, None, "", "f")
    assert am.probable_cause_of(bare) == "alert"


# --------------------------------------------------------------------------- de-duplication


def test_firing_repeated_then_resolved_raises_once_and_clears_once(
    hook: am.AlertmanagerWebhook, sink: Recorder, clock: Clock
) -> None:
    firing = alert(fp="f1", server_id=SERVER_A, vim_account_id=VIM)
    outs = []
    for _ in range(4):  # first sight and 3 repeats, a repeat window apart
        outs.append(post(hook, firing))
        clock.now += 500
    assert [o.raised for o in outs] == [1, 0, 0, 0] and all(o.accepted == 1 for o in outs)
    resolved = alert("resolved", fp="f1", server_id=SERVER_A, vim_account_id=VIM)
    out = post(hook, resolved)
    assert (out.raised, out.cleared) == (0, 1)
    assert [e.severity for e in sink.events] == [Severity.WARNING, Severity.CLEARED]
    raise_, clear = sink.events
    assert raise_.key == clear.key == "alertmanager:f1" and raise_.resource == clear.resource
    assert clear.timestamp == pytest.approx(1796293800.0)  # the alert's endsAt
    assert hook.tracked == 0
    # a second resolve (Alertmanager sends resolved ones once per group change) does nothing
    assert post(hook, resolved).cleared == 0 and len(sink.events) == 2
    # firing again later: a new fault
    assert post(hook, firing).raised == 1 and len(sink.events) == 3


def test_a_resolved_alert_never_seen_firing_is_ignored(
    hook: am.AlertmanagerWebhook, sink: Recorder
) -> None:
    out = post(hook, alert("resolved", fp="never"))
    assert out.as_json() == {"accepted": 1, "raised": 0, "cleared": 0, "skipped": []}
    assert sink.events == [] and hook.tracked == 0


def test_firing_and_resolved_in_one_payload_raise_then_clear(
    hook: am.AlertmanagerWebhook, sink: Recorder
) -> None:
    post(hook, alert(fp="a"), alert("resolved", fp="a"))
    assert [e.severity for e in sink.events] == [Severity.WARNING, Severity.CLEARED]


def test_a_fingerprint_not_repeated_for_twice_the_window_expires_and_clears(
    hook: am.AlertmanagerWebhook, sink: Recorder, clock: Clock
) -> None:
    post(hook, alert(fp="old"), alert(fp="kept", vnf_instance_id="vnf-a"))
    clock.now += 1000
    post(hook, alert(fp="kept", vnf_instance_id="vnf-a"))  # a repeat keeps it
    clock.now += 300  # "old" unseen for 1300 s > 2 x 600
    assert hook.sweep() == 1
    cleared = [e for e in sink.events if e.cleared]
    assert [e.fault_id for e in cleared] == ["alertmanager:old"]
    assert cleared[0].raw["status"] == "expired" and cleared[0].timestamp == clock.now
    assert hook.tracked == 1
    # its late resolve is then a resolve never seen firing: nothing
    assert post(hook, alert("resolved", fp="old")).cleared == 0
    # and a sweep before the bound expires nothing
    clock.now += 899  # "kept" last seen 1199 s ago
    assert hook.sweep() == 0
    clock.now += 1
    assert hook.sweep() == 1


def test_expiry_also_happens_when_a_payload_arrives(
    hook: am.AlertmanagerWebhook, sink: Recorder, clock: Clock
) -> None:
    post(hook, alert(fp="old"))
    clock.now += 1201
    out = post(hook, alert(fp="new"))
    assert (out.raised, out.cleared) == (1, 0)  # the expired one may be another tenant's
    assert [(e.fault_id, e.cleared) for e in sink.events[1:]] == [
        ("alertmanager:new", False),
        ("alertmanager:old", True),
    ]


def test_expiry_can_forget_without_clearing(clock: Clock, sink: Recorder) -> None:
    hook = _hook(clock, sink, repeat_window_s=600.0, expiry_clears=False)
    post(hook, alert(fp="old"))
    clock.now += 1201
    assert hook.sweep() == 1 and [e.cleared for e in sink.events] == [False]


def test_the_book_is_bounded_least_recently_seen_out(clock: Clock, sink: Recorder) -> None:
    hook = _hook(clock, sink, max_tracked=100)
    post(hook, *[alert(fp=f"f{i}") for i in range(100)])
    clock.now += 1
    post(hook, alert(fp="f0"))  # f0 seen again: f1 is now the least recent
    clock.now += 1
    out = post(hook, alert(fp="f100"))
    assert hook.tracked == 100 and out.raised == 1
    assert sink.events[-1].fault_id == "alertmanager:f1" and sink.events[-1].cleared
    # a payload of more alerts than the bound still leaves the book at the bound
    post(hook, *[alert(fp=f"g{i}") for i in range(300)])
    assert hook.tracked == 100


def test_one_fingerprint_on_two_resources_is_two_faults(
    hook: am.AlertmanagerWebhook, sink: Recorder
) -> None:
    post(hook, alert(fp="same", ns_instance_id=NS_A), alert(fp="same", ns_instance_id=NS_B))
    assert hook.tracked == 2 and len(sink.events) == 2


def test_without_a_sink_alerts_are_refused_and_not_remembered(clock: Clock) -> None:
    sink: list[Recorder] = []
    hook = am.AlertmanagerWebhook(FakeInventory(), lambda: sink[0] if sink else None, clock=clock)
    with pytest.raises(am.MonitoringUnavailable) as err:
        post(hook, alert())
    assert err.value.status == 503 and hook.tracked == 0
    # nothing to deliver (all skipped): answered
    assert post(hook, alert(ns_instance_id="nope")).skipped[0]["reason"] == am.UNKNOWN
    sink.append(Recorder())
    assert post(hook, alert()).raised == 1 and len(sink[0].events) == 1


def test_the_sweeper_thread_starts_and_stops(hook: am.AlertmanagerWebhook) -> None:
    hook.start()
    hook.start()  # idempotent
    assert hook._thread is not None and hook._thread.is_alive()
    thread = hook._thread
    hook.stop()
    assert not thread.is_alive()


# --------------------------------------------------------------------------- configuration


def test_defaults_from_an_empty_environment() -> None:
    cfg = am.AlertmanagerConfig.from_env({})
    assert cfg.rules == am.DEFAULT_RULES and cfg.repeat_window_s == 4 * 3600
    assert cfg.expiry_s == 8 * 3600 and cfg.max_tracked == 10_000 and cfg.expiry_clears


def test_a_label_map_from_a_file_or_inline(tmp_path: Path) -> None:
    rules = [{"kind": "server", "id": ["uuid"], "vim": "cloud"}, {"kind": "ns", "id": "service"}]
    f = tmp_path / "map.json"
    f.write_text(json.dumps(rules))
    for value in (str(f), json.dumps(rules)):
        env = {
            "NFVO_ALERTMANAGER_LABEL_MAP": value,
            "NFVO_ALERTMANAGER_REPEAT_WINDOW": "120",
            "NFVO_ALERTMANAGER_MAX_TRACKED": "500",
            "NFVO_ALERTMANAGER_EXPIRY_CLEARS": "false",
        }
        cfg = am.AlertmanagerConfig.from_env(env)
        assert cfg.rules == (
            am.LabelRule(ResourceKind.SERVER, ("uuid",), ("cloud",)),
            am.LabelRule(ResourceKind.NS, ("service",), ()),
        )
        assert (cfg.repeat_window_s, cfg.max_tracked, cfg.expiry_clears) == (120, 500, False)
        assert am.parse_rules(am.rules_to_json(cfg.rules)) == cfg.rules
    sink = Recorder()
    hook = am.AlertmanagerWebhook(FakeInventory(), lambda: sink, cfg, clock=Clock())
    post(hook, alert(uuid=SERVER_A, cloud=VIM), alert(fp="2", ns_instance_id=NS_A))
    assert [e.resource.kind for e in sink.events] == [ResourceKind.SERVER]


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"NFVO_ALERTMANAGER_REPEAT_WINDOW": "10"}, "between 60"),
        ({"NFVO_ALERTMANAGER_REPEAT_WINDOW": "nan"}, "between"),
        ({"NFVO_ALERTMANAGER_REPEAT_WINDOW": "soon"}, "must be a number"),
        ({"NFVO_ALERTMANAGER_MAX_TRACKED": "9"}, "MAX_TRACKED"),
        ({"NFVO_ALERTMANAGER_EXPIRY_CLEARS": "maybe"}, "true or false"),
        ({"NFVO_ALERTMANAGER_LABEL_MAP": "/nonexistent/map.json"}, "cannot read"),
        ({"NFVO_ALERTMANAGER_LABEL_MAP": "[{"}, "not valid JSON"),
        ({"NFVO_ALERTMANAGER_LABEL_MAP": "[]"}, "non-empty"),
        ({"NFVO_ALERTMANAGER_LABEL_MAP": '[{"kind": "port", "id": "p"}]'}, "cannot be mapped"),
        ({"NFVO_ALERTMANAGER_LABEL_MAP": '[{"kind": "pod", "id": "p"}]'}, "kind must be"),
        ({"NFVO_ALERTMANAGER_LABEL_MAP": '[{"kind": "ns"}]'}, "[0].id"),
        ({"NFVO_ALERTMANAGER_LABEL_MAP": '[{"kind": "ns", "id": "x", "y": 1}]'}, "[0]"),
    ],
)
def test_bad_settings_are_refused_naming_the_variable(env: dict[str, str], words: str) -> None:
    with pytest.raises(SettingsError, match="NFVO_ALERTMANAGER") as err:
        am.AlertmanagerConfig.from_env(env)
    assert words in str(err.value)
