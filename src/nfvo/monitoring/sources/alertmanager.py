"""The Prometheus Alertmanager webhook source: alerts in, ``FaultEvent``s out.

Alertmanager posts a group of alerts (webhook payload version 4) to
``POST /monitoring/v1/alertmanager``. Each alert is mapped to a resource of the inventory by
its labels (a configurable :class:`LabelRule` list), checked against the caller's tenant, and
de-duplicated by fingerprint: Alertmanager repeats a firing alert every ``repeat_interval``,
and only its first sight raises a fault; ``resolved`` clears it once; a fingerprint neither
repeated nor resolved for ``2 x repeat window`` is taken as cleared (its ``resolved`` was
lost). See docs/monitoring-alertmanager.md.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import select

from nfvo.config import SettingsError
from nfvo.errors import BadRequest, NfvoError, UnprocessableEntity
from nfvo.inventory.db import Database
from nfvo.inventory.models import NsInstance, NsVnf, NsVnfc, VimAccount, VimHost
from nfvo.monitoring.model import FaultEvent, FaultKind, Resource, ResourceKind, Severity, Sink

log = logging.getLogger(__name__)

SOURCE = "alertmanager"
VERSION = "4"
MAX_ALERTS = 1000  # alerts in one payload (set webhook_configs.max_alerts at most this)
MAX_LABELS = 64  # labels (and annotations) of one alert, and group/common label maps
MAX_LABEL_NAME = 128
MAX_LABEL_VALUE = 1024
MAX_ANNOTATION_VALUE = 4096
MAX_TEXT = 2048  # groupKey, receiver, externalURL, generatorURL
MAX_FINGERPRINT = 64
MAX_CAUSE = 255
MAX_RULES = 32
STATUSES = ("firing", "resolved")

# --------------------------------------------------------------------------- the payload


@dataclass(frozen=True)
class Alert:
    """One alert of a webhook payload, validated and bounded."""

    status: str
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: float | None
    ends_at: float | None
    generator_url: str
    fingerprint: str

    def raw(self) -> dict[str, Any]:
        """The alert as Alertmanager sent it (the fault event's ``raw``)."""
        return {
            "status": self.status,
            "labels": dict(self.labels),
            "annotations": dict(self.annotations),
            "startsAt": _iso(self.starts_at),
            "endsAt": _iso(self.ends_at),
            "generatorURL": self.generator_url,
            "fingerprint": self.fingerprint,
        }


@dataclass(frozen=True)
class Payload:
    """A webhook payload (version 4): the group's fields and its alerts."""

    version: str
    group_key: str
    status: str
    receiver: str
    truncated_alerts: int
    external_url: str
    alerts: tuple[Alert, ...]


def _bad(detail: str, name: str) -> BadRequest:
    return BadRequest(f"{name}: {detail}", field=name)


def _unprocessable(detail: str, name: str) -> UnprocessableEntity:
    return UnprocessableEntity(f"{name}: {detail}", field=name)


def _text(obj: Mapping[str, Any], key: str, where: str, limit: int, required: bool) -> str:
    name = f"{where}{key}"
    value = obj.get(key)
    if value is None:
        if required:
            raise _bad("is required", name)
        return ""
    if not isinstance(value, str):
        raise _bad("must be a string", name)
    if len(value) > limit:
        raise _bad(f"is {len(value)} characters long; the limit is {limit}", name)
    return value


def _labels(obj: Mapping[str, Any], key: str, where: str, value_limit: int) -> dict[str, str]:
    name = f"{where}{key}"
    value = obj.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _bad("must be a JSON object of strings", name)
    if len(value) > MAX_LABELS:
        raise _bad(f"has {len(value)} entries; the limit is {MAX_LABELS}", name)
    for k, v in value.items():
        if len(k) > MAX_LABEL_NAME:
            raise _bad(f"a name is {len(k)} characters long; the limit is {MAX_LABEL_NAME}", name)
        if not isinstance(v, str):
            raise _bad(f"the value of {k!r} must be a string", f"{name}.{k}")
        if len(v) > value_limit:
            raise _bad(f"is {len(v)} characters long; the limit is {value_limit}", f"{name}.{k}")
    return dict(value)


def _time(obj: Mapping[str, Any], key: str, where: str) -> float | None:
    """RFC 3339 time as epoch seconds; None when absent or Go's zero time (0001-01-01)."""
    name = f"{where}{key}"
    value = _text(obj, key, where, 64, False)
    if not value:
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise _unprocessable(f"{value!r} is not an RFC 3339 date-time", name) from None
    if at.tzinfo is None:
        raise _unprocessable(f"{value!r} names no time zone", name)
    if at.year <= 1:
        return None
    return at.timestamp()


def fingerprint_of(labels: Mapping[str, str]) -> str:
    """A stable fingerprint of a label set (for alerts sent without one): 16 hex digits of
    the SHA-256 of the sorted labels."""
    text = json.dumps(sorted(labels.items()), separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _alert(obj: Any, where: str) -> Alert:
    if not isinstance(obj, dict):
        raise _bad("must be a JSON object", where.rstrip("."))
    status = _text(obj, "status", where, 16, True)
    if status not in STATUSES:
        raise _unprocessable(f"{status!r} is not one of {', '.join(STATUSES)}", f"{where}status")
    labels = _labels(obj, "labels", where, MAX_LABEL_VALUE)
    if not labels:
        raise _unprocessable("an alert needs at least one label", f"{where}labels")
    fp = _text(obj, "fingerprint", where, MAX_FINGERPRINT, False) or fingerprint_of(labels)
    return Alert(
        status=status,
        labels=labels,
        annotations=_labels(obj, "annotations", where, MAX_ANNOTATION_VALUE),
        starts_at=_time(obj, "startsAt", where),
        ends_at=_time(obj, "endsAt", where),
        generator_url=_text(obj, "generatorURL", where, MAX_TEXT, False),
        fingerprint=fp,
    )


def parse_payload(body: Any) -> Payload:
    """The payload ``body`` holds, checked whole before anything is done with it: a 400
    naming the field for a wrong type, a missing field or a size over its bound; a 422 for a
    well-formed value nfvo cannot take (another payload version, an unknown status, a date
    that is not RFC 3339)."""
    if not isinstance(body, dict):
        raise _bad("the payload must be a JSON object", "body")
    version = _text(body, "version", "", 8, True)
    if version != VERSION:
        raise _unprocessable(f"payload version {version!r} is not supported (only 4)", "version")
    status = _text(body, "status", "", 16, False)
    if status and status not in STATUSES:
        raise _unprocessable(f"{status!r} is not one of {', '.join(STATUSES)}", "status")
    truncated = body.get("truncatedAlerts", 0)
    if not isinstance(truncated, int) or isinstance(truncated, bool) or truncated < 0:
        raise _bad("must be a non-negative integer", "truncatedAlerts")
    for key in ("groupLabels", "commonLabels"):
        _labels(body, key, "", MAX_LABEL_VALUE)
    _labels(body, "commonAnnotations", "", MAX_ANNOTATION_VALUE)
    alerts = body.get("alerts")
    if not isinstance(alerts, list):
        raise _bad("is required and must be an array", "alerts")
    if len(alerts) > MAX_ALERTS:
        raise _bad(
            f"has {len(alerts)} entries; the limit is {MAX_ALERTS} "
            "(set max_alerts in the webhook configuration)",
            "alerts",
        )
    return Payload(
        version=version,
        group_key=_text(body, "groupKey", "", MAX_TEXT, False),
        status=status,
        receiver=_text(body, "receiver", "", MAX_TEXT, False),
        truncated_alerts=truncated,
        external_url=_text(body, "externalURL", "", MAX_TEXT, False),
        alerts=tuple(_alert(a, f"alerts[{i}].") for i, a in enumerate(alerts)),
    )


# --------------------------------------------------------------------------- the label map


@dataclass(frozen=True)
class LabelRule:
    """One way of naming a resource in labels: the first of ``id_labels`` present gives its
    id, and (for the kinds scoped to a VIM) the first of ``vim_labels`` present its VIM
    account; without one, the resource is looked up on every VIM the caller may act on and
    taken when exactly one has it."""

    kind: ResourceKind
    id_labels: tuple[str, ...]
    vim_labels: tuple[str, ...] = ()

    def pick(self, labels: Mapping[str, str]) -> tuple[str, str | None] | None:
        """(id, VIM account id or None) when ``labels`` name a resource by this rule."""
        rid = next((labels[k] for k in self.id_labels if labels.get(k)), None)
        if rid is None:
            return None
        return rid, next((labels[k] for k in self.vim_labels if labels.get(k)), None)


_VIM = ("vim_account_id", "nfvo_vim_account_id")
# most specific first: an alert naming a server and its NS is about the server
DEFAULT_RULES: tuple[LabelRule, ...] = (
    LabelRule(ResourceKind.SERVER, ("nfvo_server_id", "instance_uuid", "server_id"), _VIM),
    LabelRule(ResourceKind.VNF, ("nfvo_vnf_instance_id", "vnf_instance_id"), ()),
    LabelRule(ResourceKind.NS, ("nfvo_ns_instance_id", "ns_instance_id"), ()),
    LabelRule(ResourceKind.HOST, ("nfvo_host", "host", "hostname", "nodename"), _VIM),
)
MAPPABLE = (ResourceKind.SERVER, ResourceKind.VNF, ResourceKind.NS, ResourceKind.HOST)


def _names(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise SettingsError(f"{where} must be a label name or a list of label names")
    if len(value) > MAX_LABELS:
        raise SettingsError(f"{where} lists {len(value)} labels; the limit is {MAX_LABELS}")
    return tuple(value)


def parse_rules(data: Any, origin: str = "the label map") -> tuple[LabelRule, ...]:
    """Rules from their JSON form: ``[{"kind": "server", "id": ["server_id"], "vim":
    ["vim_account_id"]}, ...]`` (``SettingsError`` naming the entry at fault)."""
    if not isinstance(data, list) or not data:
        raise SettingsError(f"{origin} must be a non-empty JSON array of rules")
    if len(data) > MAX_RULES:
        raise SettingsError(f"{origin} has {len(data)} rules; the limit is {MAX_RULES}")
    rules = []
    for i, entry in enumerate(data):
        where = f"{origin}[{i}]"
        if not isinstance(entry, dict) or set(entry) - {"kind", "id", "vim"}:
            raise SettingsError(f"{where} must be an object with kind, id and (optional) vim")
        try:
            kind = ResourceKind(entry.get("kind"))
        except ValueError:
            kinds = ", ".join(k.value for k in MAPPABLE)
            raise SettingsError(f"{where}.kind must be one of {kinds}") from None
        if kind not in MAPPABLE:
            raise SettingsError(f"{where}.kind {kind.value!r} cannot be mapped from labels")
        vim = _names(entry.get("vim", []), f"{where}.vim")
        rules.append(LabelRule(kind, _names(entry.get("id"), f"{where}.id"), vim))
    return tuple(rules)


def rules_to_json(rules: Iterable[LabelRule]) -> list[dict[str, Any]]:
    """The JSON form of ``rules`` (what :func:`parse_rules` reads)."""
    return [
        {"kind": r.kind.value, "id": list(r.id_labels), "vim": list(r.vim_labels)} for r in rules
    ]


# --------------------------------------------------------------------------- configuration


@dataclass(frozen=True)
class AlertmanagerConfig:
    """The webhook's settings (environment, see docs/monitoring-alertmanager.md).

    ``repeat_window_s`` is the longest Alertmanager waits before repeating a firing alert
    (its ``repeat_interval``); a fingerprint not seen for ``2 x repeat_window_s`` expires
    and, when ``expiry_clears``, its fault is cleared. At most ``max_tracked`` fingerprints
    are remembered; the least recently seen one beyond that is expired the same way."""

    rules: tuple[LabelRule, ...] = DEFAULT_RULES
    repeat_window_s: float = 4 * 3600.0
    max_tracked: int = 10_000
    expiry_clears: bool = True

    @property
    def expiry_s(self) -> float:
        """How long a fingerprint is remembered without a repeat."""
        return 2 * self.repeat_window_s

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AlertmanagerConfig:
        """The settings from ``NFVO_ALERTMANAGER_*`` (``SettingsError`` naming the variable)."""
        env = os.environ if env is None else env
        rules = DEFAULT_RULES
        raw = env.get("NFVO_ALERTMANAGER_LABEL_MAP", "").strip()
        if raw:
            rules = _rules_from(raw)
        window = _number(env, "NFVO_ALERTMANAGER_REPEAT_WINDOW", 4 * 3600.0, 60, 7 * 86400)
        tracked = _number(env, "NFVO_ALERTMANAGER_MAX_TRACKED", 10_000, 100, 1_000_000)
        return cls(
            rules=rules,
            repeat_window_s=window,
            max_tracked=int(tracked),
            expiry_clears=_flag(env, "NFVO_ALERTMANAGER_EXPIRY_CLEARS", True),
        )


def _rules_from(raw: str) -> tuple[LabelRule, ...]:
    var = "NFVO_ALERTMANAGER_LABEL_MAP"
    text = raw
    if not raw.startswith("["):
        try:
            text = Path(raw).read_text(encoding="utf-8")[: 1 << 20]
        except OSError as exc:
            raise SettingsError(f"{var}: cannot read {raw}: {exc.strerror}") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise SettingsError(f"{var}: not valid JSON: {exc}") from None
    return parse_rules(data, var)


def _number(env: Mapping[str, str], var: str, default: float, low: float, high: float) -> float:
    raw = env.get(var, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{var} must be a number, got {raw!r}") from None
    if not low <= value <= high:  # also refuses NaN
        raise SettingsError(f"{var} must be between {low:g} and {high:g}, got {raw}")
    return value


def _flag(env: Mapping[str, str], var: str, default: bool) -> bool:
    raw = env.get(var, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{var} must be true or false, got {raw!r}")


# --------------------------------------------------------------------------- resources


class Resolver(Protocol):
    """Looks resources up in the inventory: the matches of (kind, id, VIM account or None),
    each with the tenant that owns it (None: shared / global)."""

    def lookup(
        self, kind: ResourceKind, rid: str, vim_id: str | None
    ) -> list[tuple[Resource, str | None]]:
        """At most a few matches (more than one only when ``vim_id`` is None)."""


class InventoryResolver:
    """:class:`Resolver` over the inventory: NS instances, VNF instances, VNFCs (servers, by
    the VIM's server id) and synced VIM hosts, each with its owning tenant (an NS's, or for
    a host its VIM account's)."""

    MAX_MATCHES = 4

    def __init__(self, db: Database) -> None:
        self.db = db

    def lookup(
        self, kind: ResourceKind, rid: str, vim_id: str | None
    ) -> list[tuple[Resource, str | None]]:
        """The matches of (kind, id, VIM account or any)."""
        with self.db.session() as s:
            if kind is ResourceKind.NS:
                q = select(NsInstance.id, NsInstance.tenant_id).where(NsInstance.id == rid)
                return [(Resource(kind, rid), t) for _, t in s.execute(q)]
            if kind is ResourceKind.VNF:
                q = (
                    select(NsVnf.id, NsInstance.tenant_id)
                    .join(NsInstance, NsInstance.id == NsVnf.ns_instance_id)
                    .where(NsVnf.id == rid)
                )
                return [(Resource(kind, rid), t) for _, t in s.execute(q)]
            if kind is ResourceKind.SERVER:
                q = (
                    select(NsVnfc.vim_account_id, NsInstance.tenant_id)
                    .join(NsInstance, NsInstance.id == NsVnfc.ns_instance_id)
                    .where(NsVnfc.server_id == rid)
                )
                if vim_id is not None:
                    q = q.where(NsVnfc.vim_account_id == vim_id)
            elif kind is ResourceKind.HOST:
                q = (
                    select(VimHost.vim_id, VimAccount.tenant_id)
                    .join(VimAccount, VimAccount.id == VimHost.vim_id)
                    .where(VimHost.name == rid)
                )
                if vim_id is not None:
                    q = q.where(VimHost.vim_id == vim_id)
            else:
                return []
            rows = s.execute(q.distinct().limit(self.MAX_MATCHES)).all()
        return [(Resource(kind, rid, v), t) for v, t in rows]


# --------------------------------------------------------------------------- severities

_SEVERITY_WORDS: dict[Severity, tuple[str, ...]] = {
    Severity.CRITICAL: ("critical", "fatal", "emergency", "alert", "page", "disaster"),
    Severity.MAJOR: ("major", "error", "high", "severe"),
    Severity.MINOR: ("minor", "medium", "average"),
    Severity.WARNING: ("warning", "warn", "low", "info", "informational", "notice"),
}
_SEVERITIES = {word: sev for sev, words in _SEVERITY_WORDS.items() for word in words}


def severity_of(labels: Mapping[str, str]) -> Severity:
    """The perceived severity an alert's ``severity`` label names: WARNING without one,
    INDETERMINATE for a value nfvo does not know."""
    value = labels.get("severity")
    if value is None or not value.strip():
        return Severity.WARNING
    return _SEVERITIES.get(value.strip().lower(), Severity.INDETERMINATE)


def probable_cause_of(alert: Alert) -> str:
    """``alertname``, else the ``summary`` or ``description`` annotation (bounded)."""
    for text in (
        alert.labels.get("alertname"),
        alert.annotations.get("summary"),
        alert.annotations.get("description"),
    ):
        if text and text.strip():
            return text.strip()[:MAX_CAUSE]
    return "alert"


# --------------------------------------------------------------------------- de-duplication


@dataclass
class _Tracked:
    resource: Resource
    fault_id: str
    raw: dict[str, Any]
    probable_cause: str
    last_seen: float


class FingerprintBook:
    """The firing alerts seen, by (resource, fingerprint), least recently seen first.

    Not thread-safe on its own: :class:`AlertmanagerWebhook` holds its lock around it."""

    def __init__(self, expiry_s: float, max_tracked: int) -> None:
        self.expiry_s = expiry_s
        self.max_tracked = max_tracked
        self._firing: OrderedDict[tuple[str, str], _Tracked] = OrderedDict()

    def __len__(self) -> int:
        return len(self._firing)

    def firing(self, key: tuple[str, str], entry: _Tracked) -> bool:
        """Record a firing sight; True only for the first (a fault to raise)."""
        seen = self._firing.get(key)
        if seen is not None:
            seen.last_seen = entry.last_seen
            self._firing.move_to_end(key)
            return False
        self._firing[key] = entry
        return True

    def resolved(self, key: tuple[str, str]) -> _Tracked | None:
        """Forget a resolved alert; what was firing (a fault to clear), or None."""
        return self._firing.pop(key, None)

    def expired(self, now: float) -> list[_Tracked]:
        """Forget (and return) the entries not seen for ``expiry_s``, and the least recently
        seen beyond ``max_tracked``."""
        out = []
        while self._firing:
            key, entry = next(iter(self._firing.items()))
            if now - entry.last_seen < self.expiry_s and len(self._firing) <= self.max_tracked:
                break
            del self._firing[key]
            out.append(entry)
        return out


# --------------------------------------------------------------------------- the webhook


@dataclass
class Outcome:
    """What one payload did: alerts taken, faults raised and cleared, alerts skipped."""

    accepted: int = 0
    raised: int = 0
    cleared: int = 0
    skipped: list[dict[str, str]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """The webhook's answer body."""
        return {
            "accepted": self.accepted,
            "raised": self.raised,
            "cleared": self.cleared,
            "skipped": self.skipped,
        }


class MonitoringUnavailable(NfvoError):
    """Fault monitoring does not run in this process: the sender should retry (503)."""

    status = 503
    title = "Service Unavailable"


UNKNOWN = "unknown_resource"
UNMAPPED = "no_resource_label"
AMBIGUOUS = "ambiguous_resource"


class AlertmanagerWebhook:
    """Turns webhook payloads into fault events for the monitoring hub.

    It exists so the route stays a thin adapter: mapping, tenant checks and the
    de-duplication state (bounded, with expiry) live here, with the clock injected. One per
    process; a sweeper thread (:meth:`start`) expires fingerprints between payloads."""

    def __init__(
        self,
        resolver: Resolver,
        sink: Callable[[], Sink | None],
        config: AlertmanagerConfig | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config or AlertmanagerConfig()
        self.resolver = resolver
        self._sink = sink
        self.clock = clock
        self._book = FingerprintBook(self.config.expiry_s, self.config.max_tracked)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def tracked(self) -> int:
        """How many firing fingerprints are remembered."""
        with self._lock:
            return len(self._book)

    def sink(self) -> Sink | None:
        """Where events go (the monitoring hub), None while monitoring is not running."""
        return self._sink()

    def handle(self, payload: Payload, tenant_id: str | None) -> Outcome:
        """Apply a validated payload for a caller of ``tenant_id`` (None: global).
        ``MonitoringUnavailable`` (nothing remembered) when an alert maps to a resource but
        no monitoring hub runs to take its event."""
        out = Outcome()
        mapped: list[tuple[Alert, Resource]] = []
        memo: dict[tuple[ResourceKind, str, str | None], tuple[Resource | None, str]] = {}
        for alert in payload.alerts:
            resource, reason = self._map(alert.labels, tenant_id, memo)
            if resource is None:
                out.skipped.append({"fingerprint": alert.fingerprint, "reason": reason})
            else:
                mapped.append((alert, resource))
        sink = self.sink()
        if mapped and sink is None:  # before anything is remembered
            raise MonitoringUnavailable("fault monitoring is not running in this nfvo process")
        with self._lock:
            now = self.clock()
            events = []
            for alert, resource in mapped:
                out.accepted += 1
                event = self._apply(alert, resource, now)
                if event is not None:
                    events.append(event)
                    out.raised += not event.cleared
                    out.cleared += event.cleared
            # after: what this payload repeated stays. Not counted in the answer: the expired
            # alerts may be another tenant's
            gone = self._book.expired(now)
            if self.config.expiry_clears:
                events += [self._clear_event(e, now) for e in gone]
            if sink is not None:  # under the lock: a raise reaches the hub before its clear
                for event in events:
                    sink.fault(event)
        return out

    def sweep(self) -> int:
        """Expire fingerprints now (clearing their faults when configured); how many."""
        sink = self.sink()
        with self._lock:
            now = self.clock()
            gone = self._book.expired(now)
            if sink is not None and self.config.expiry_clears:
                for entry in gone:
                    sink.fault(self._clear_event(entry, now))
        if gone:
            log.info("alertmanager: %d alert(s) expired without a resolve", len(gone))
        return len(gone)

    def start(self) -> None:
        """Run :meth:`sweep` in a daemon thread (idempotent)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="alertmanager-expiry", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the sweeper thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        interval = max(1.0, min(60.0, self.config.expiry_s / 10))
        while not self._stop.wait(interval):
            try:
                self.sweep()
            except Exception:  # noqa: BLE001 - a failing sweep must not end the thread
                log.exception("alertmanager: expiry sweep failed")

    def _map(
        self,
        labels: Mapping[str, str],
        tenant_id: str | None,
        memo: dict[tuple[ResourceKind, str, str | None], tuple[Resource | None, str]],
    ) -> tuple[Resource | None, str]:
        """The resource the first matching rule names and the caller may act on, or None and
        why not. Another tenant's resource is skipped exactly as an unknown one."""
        reason = UNMAPPED
        for rule in self.config.rules:
            picked = rule.pick(labels)
            if picked is None:
                continue
            key = (rule.kind, picked[0], picked[1])
            if key not in memo:
                memo[key] = self._resolve(rule.kind, picked[0], picked[1], tenant_id)
            resource, reason = memo[key]
            if resource is not None:
                return resource, ""
        return None, reason

    def _resolve(
        self, kind: ResourceKind, rid: str, vim_id: str | None, tenant_id: str | None
    ) -> tuple[Resource | None, str]:
        matches = [
            r
            for r, owner in self.resolver.lookup(kind, rid, vim_id)
            if tenant_id is None or owner == tenant_id
        ]
        if len(matches) == 1:
            return matches[0], ""
        return None, AMBIGUOUS if matches else UNKNOWN

    def _apply(self, alert: Alert, resource: Resource, now: float) -> FaultEvent | None:
        key = (resource.key, alert.fingerprint)
        if alert.status == "firing":
            entry = _Tracked(
                resource=resource,
                fault_id=f"{SOURCE}:{alert.fingerprint}",
                raw=alert.raw(),
                probable_cause=probable_cause_of(alert),
                last_seen=now,
            )
            if not self._book.firing(key, entry):
                return None  # a repeat
            return FaultEvent(
                resource=resource,
                kind=FaultKind.ALERT,
                severity=severity_of(alert.labels),
                timestamp=alert.starts_at or now,
                source=SOURCE,
                raw=entry.raw,
                fault_id=entry.fault_id,
                probable_cause=entry.probable_cause,
            )
        was = self._book.resolved(key)
        if was is None:
            return None  # never seen firing: nothing to clear
        return self._clear_event(was, alert.ends_at or now, alert.raw())

    @staticmethod
    def _clear_event(entry: _Tracked, at: float, raw: dict[str, Any] | None = None) -> FaultEvent:
        return FaultEvent(
            resource=entry.resource,
            kind=FaultKind.ALERT,
            severity=Severity.CLEARED,
            timestamp=at,
            source=SOURCE,
            raw=raw if raw is not None else {**entry.raw, "status": "expired"},
            fault_id=entry.fault_id,
            probable_cause=entry.probable_cause,
        )


def _iso(at: float | None) -> str | None:
    if at is None:
        return None
    return datetime.fromtimestamp(at, UTC).isoformat().replace("+00:00", "Z")
