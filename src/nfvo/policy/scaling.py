"""The auto-scaler: scaling policies evaluated per scaling aspect, with the guards, acting
through the LCM entry point a user's scale request takes.

Why it exists: a scale decision must be taken once per aspect, not once per VDU alarm, and
must not fire twice for one condition. So:

- One value per policy: the aspect's VNF (or NS) metric from the monitoring hub, whose VNF
  values already aggregate the VNF's VNFCs, as the mean or the peak over the policy's
  window (``thresholdTime``). A window without a sample is NO_DATA, never low load.
- Evaluated when samples arrive (the hub's listener only wakes the evaluator thread) and on
  a short timer (:data:`TICK_S`), so a condition that becomes true is acted on within about
  a second, not at the next minute.
- Guards, in order: the aspect's scale level (MAX_LEVEL / MIN_LEVEL, read from the NS
  records and the descriptor: no VIM call), one operation in flight per NS (IN_FLIGHT; the
  LCM claim of the NS is the guarantee), separate scale-out and scale-in cooldowns counted
  from the *completion* of the NS's last operation (COOLDOWN), a rate limit per NS
  (RATE_LIMIT), quotas (QUOTA, raised by the LCM entry point). Acting records ACTED with
  the op occurrence.
- The decision log stays meaningful: an idle evaluation records nothing; a declined one is
  recorded when its reason changes for that policy and direction (a condition held for an
  hour at the maximum level is one MAX_LEVEL decision, not 3,600).
- Alertmanager: an alert carrying scaling labels (:data:`POLICY_LABEL`, or the NS, VNF and
  aspect labels, and :data:`DIRECTION_LABEL`) takes the same guarded decision at once. The
  alert instance (policy, fingerprint, startsAt) is an idempotency key written in the
  transaction that creates the op occurrence, so a re-delivered alert never starts a second
  operation, also after the process died anywhere in between.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from nfvo.errors import Conflict, NfvoError, NotFound, QuotaExceeded
from nfvo.inventory.db import Database
from nfvo.inventory.lcm_repo import NsRecordsRepository, NsRepository
from nfvo.inventory.models import NsInstance, NsLcmOpOcc
from nfvo.inventory.policies_repo import ScalingTriggerRepository, ScalingTriggerRow
from nfvo.lcm.service import LcmService
from nfvo.lcm.states import TERMINAL, NsState, OpState, OpType
from nfvo.monitoring.model import Resource, ResourceKind, Sample
from nfvo.policy import decisions
from nfvo.policy.decisions import Kind, Reason
from nfvo.policy.model import Aggregation, Relation, ScalingPolicy, Target

log = logging.getLogger(__name__)

TICK_S = 0.5  # the timer: every policy is evaluated at least this often
MIN_GAP_S = 0.05  # evaluations woken by samples are at least this far apart
POLICIES_TTL_S = 1.0  # the policy list is re-read at most this often
RATE_MAX = 10  # automatic scale operations per NS ...
RATE_WINDOW_S = 3600.0  # ... in this period
RESUME_AFTER_S = 5.0  # an automatic op still STARTING this long lost its start to a crash
RESUME_EVERY_S = 30.0

SCALE_OUT = "SCALE_OUT"
SCALE_IN = "SCALE_IN"

POLICY_LABEL = "nfvo_policy_id"
DIRECTION_LABEL = "nfvo_scale_direction"
NS_LABEL = "nfvo_ns_instance_id"
VNF_LABEL = "nfvo_vnf_instance_id"
ASPECT_LABEL = "nfvo_aspect_id"
_DIRECTIONS = {"out": SCALE_OUT, "scale_out": SCALE_OUT, "in": SCALE_IN, "scale_in": SCALE_IN}

_HOLDS: dict[Relation, Callable[[float, float], bool]] = {
    Relation.GE: lambda v, t: v >= t,
    Relation.GT: lambda v, t: v > t,
    Relation.LE: lambda v, t: v <= t,
    Relation.LT: lambda v, t: v < t,
}
_WAKING = frozenset({ResourceKind.SERVER, ResourceKind.PORT, ResourceKind.VNF, ResourceKind.NS})


class DuplicateTrigger(Exception):
    """The alert instance already started an operation (its key exists)."""


@dataclass(frozen=True)
class Decision:
    """What one guarded decision came to (``op_occ_id`` when it acted)."""

    policy_id: str
    direction: str
    reason: Reason
    op_occ_id: str | None = None
    detail: str = ""


@dataclass
class _Completion:
    op_id: str
    at: float  # in the scaler's clock


def trigger_key(policy_id: str, fingerprint: str, starts_at: float | None) -> str:
    """The idempotency key of one alert instance for one policy."""
    text = f"{policy_id}|{fingerprint}|{'' if starts_at is None else repr(float(starts_at))}"
    return hashlib.sha256(text.encode()).hexdigest()


def _epoch(at: datetime) -> float:
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp()


class AutoScaler:
    """Evaluates the scaling policies and starts scale operations through LCM.

    ``policies()`` gives the policies to evaluate (``PolicyStore.scaling_policies``);
    ``monitor`` is the monitoring hub (``stat`` over VNF/NS resources); ``clock`` gives
    epoch seconds (injected by tests)."""

    def __init__(
        self,
        db: Database,
        lcm: LcmService,
        monitor: Any,
        policies: Callable[[], list[ScalingPolicy]],
        *,
        clock: Callable[[], float] = time.time,
        tick_s: float = TICK_S,
        rate_max: int = RATE_MAX,
        rate_window_s: float = RATE_WINDOW_S,
    ) -> None:
        self.db = db
        self.lcm = lcm
        self.monitor = monitor
        self.policies = policies
        self.clock = clock
        self.tick_s = tick_s
        self.rate_max = rate_max
        self.rate_window_s = rate_window_s
        self._lock = threading.RLock()  # one decision at a time in this process
        self._cache: tuple[float, list[ScalingPolicy]] | None = None
        self._last: dict[tuple[str, str], Reason] = {}  # last recorded reason per direction
        self._no_data: set[str] = set()
        self._completions: dict[str, _Completion] = {}  # NS -> its last op's completion
        self._watch: set[str] = set()  # NS whose automatic op runs: completion noted promptly
        self._acted: dict[str, deque[float]] = {}  # NS -> times of automatic ops (rate)
        self._levels_cache: dict[tuple[str, str, str], int | None] = {}
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_resume = 0.0
        self.evaluations = 0

    # ------------------------------------------------------------------ life

    def start(self) -> None:
        """Run the evaluator thread (idempotent)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="autoscaler", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the evaluator thread."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def on_samples(self, batch: Sequence[Sample]) -> None:
        """The hub's sample listener: wakes the evaluator when a batch may change a VNF or
        NS value (cheap: no evaluation on the hub's dispatcher thread)."""
        if any(s.resource.kind in _WAKING for s in batch):
            self._wake.set()

    def _run(self) -> None:
        last, error = 0.0, ""
        while not self._stop.is_set():
            self._wake.wait(self.tick_s)
            self._wake.clear()
            if self._stop.is_set():
                return
            gap = MIN_GAP_S - (time.monotonic() - last)
            if gap > 0:
                self._stop.wait(gap)
            last = time.monotonic()
            try:
                self.evaluate_once()
                if time.monotonic() >= self._next_resume:
                    self._next_resume = time.monotonic() + RESUME_EVERY_S
                    self.resume_stalled()
                error = ""
            except Exception as exc:  # noqa: BLE001 - a database hiccup must not end it
                text = f"{type(exc).__name__}: {exc}"[:500]
                if text != error:  # logged once per change of the error, not every tick
                    log.exception("auto-scale evaluation failed")
                error = text

    # ------------------------------------------------------------------ evaluation

    def current_policies(self, *, fresh: bool = False) -> list[ScalingPolicy]:
        """The policies (re-read at most every :data:`POLICIES_TTL_S` unless ``fresh``)."""
        now = time.monotonic()
        cached = self._cache
        if fresh or cached is None or now - cached[0] >= POLICIES_TTL_S:
            self._cache = cached = (now, list(self.policies()))
        return cached[1]

    def evaluate_once(self) -> list[Decision]:
        """Evaluate every policy now; the decisions taken (idle evaluations give none)."""
        self.evaluations += 1
        self._note_completions()
        out = []
        for policy in self.current_policies():
            d = self.evaluate(policy)
            if d is not None:
                out.append(d)
        return out

    def evaluate(self, policy: ScalingPolicy) -> Decision | None:
        """Evaluate one policy against the hub; a decision when its condition holds (or
        when its data just went missing)."""
        now = self.clock()
        if policy.target is Target.VNF and policy.vnf_instance_id:
            resource = Resource(ResourceKind.VNF, policy.vnf_instance_id)
        else:
            resource = Resource(ResourceKind.NS, policy.ns_instance_id)
        try:
            stat = self.monitor.stat(resource, policy.metric, now - policy.window_s, now)
        except (KeyError, ValueError):
            return None  # a metric the store refused would have been refused here too
        if stat.no_data:
            if policy.id in self._no_data:
                return None
            self._no_data.add(policy.id)
            detail = f"no sample of {policy.metric} in the last {policy.window_s:g} s"
            self._record(policy, "EVALUATE", Reason.NO_DATA, {"metric": policy.metric}, detail)
            return Decision(policy.id, "", Reason.NO_DATA, detail=detail)
        self._no_data.discard(policy.id)
        value = stat.peak if policy.aggregation is Aggregation.MAX else stat.mean
        assert value is not None
        direction = None
        if policy.out_threshold is not None and _HOLDS[policy.out_relation](
            value, policy.out_threshold
        ):
            direction = SCALE_OUT
        elif policy.in_threshold is not None and _HOLDS[policy.in_relation](
            value, policy.in_threshold
        ):
            direction = SCALE_IN
        with self._lock:
            for d in (SCALE_OUT, SCALE_IN):
                if d != direction:
                    self._last.pop((policy.id, d), None)
        if direction is None:
            return None
        inputs = {
            "metric": policy.metric,
            "aggregation": policy.aggregation.value,
            "value": round(value, 6),
            "windowS": policy.window_s,
            "samples": stat.count,
            "threshold": policy.out_threshold if direction == SCALE_OUT else policy.in_threshold,
        }
        return self.decide(policy, direction, inputs)

    # ------------------------------------------------------------------ the guarded decision

    def decide(
        self,
        policy: ScalingPolicy,
        direction: str,
        inputs: Mapping[str, Any],
        *,
        key: str | None = None,
    ) -> Decision:
        """Apply the guards and act or decline; records the decision (a declined one only
        when its reason changed). ``key``: an alert instance's idempotency key
        (:class:`DuplicateTrigger` when it already started an operation)."""
        with self._lock:
            reason, op_id, detail = self._guarded(policy, direction, dict(inputs), key)
            if reason is Reason.ACTED or self._last.get((policy.id, direction)) != reason:
                self._last[(policy.id, direction)] = reason
                self._record(policy, direction, reason, inputs, detail, op_id)
            return Decision(policy.id, direction, reason, op_id, detail)

    def _guarded(
        self, policy: ScalingPolicy, direction: str, inputs: dict[str, Any], key: str | None
    ) -> tuple[Reason, str | None, str]:
        now = self.clock()
        with self.db.session() as s:
            ns = NsRepository(s).get(policy.ns_instance_id)
            if ns is None or ns.ns_state != NsState.INSTANTIATED:
                return Reason.NOT_READY, None, "the NS instance is not INSTANTIATED"
            level = self._level(s, policy, ns)
        if isinstance(level, str):
            return Reason.REFUSED, None, level
        current, top = level
        inputs["scaleLevel"], inputs["maxScaleLevel"] = current, top
        if direction == SCALE_OUT and current + policy.steps > top:
            return Reason.MAX_LEVEL, None, f"{policy.aspect_id} is at level {current} of {top}"
        if direction == SCALE_IN and current - policy.steps < 0:
            return Reason.MIN_LEVEL, None, f"{policy.aspect_id} is at level {current}"
        if ns.current_op_id:
            return Reason.IN_FLIGHT, None, f"operation {ns.current_op_id} is open"
        cooldown = policy.cooldown_out_s if direction == SCALE_OUT else policy.cooldown_in_s
        done = self._completion(policy.ns_instance_id, now)
        if done is not None and now - done < cooldown:
            left = cooldown - (now - done)
            return Reason.COOLDOWN, None, f"{left:.0f} s of the {cooldown:g} s cooldown left"
        acted = self._acted.setdefault(policy.ns_instance_id, deque())
        while acted and acted[0] <= now - self.rate_window_s:
            acted.popleft()
        if len(acted) >= self.rate_max:
            return (
                Reason.RATE_LIMIT,
                None,
                f"{len(acted)} automatic operations in the last {self.rate_window_s:g} s",
            )
        return self._act(policy, direction, now, key)

    def _act(
        self, policy: ScalingPolicy, direction: str, now: float, key: str | None
    ) -> tuple[Reason, str | None, str]:
        bind = None
        if key is not None:

            def bind(s: Session, occ: NsLcmOpOcc) -> None:
                try:
                    ScalingTriggerRepository(s).add(
                        ScalingTriggerRow(
                            key=key,
                            policy_id=policy.id,
                            ns_instance_id=policy.ns_instance_id,
                            op_occ_id=occ.id,
                        )
                    )
                except IntegrityError:
                    raise DuplicateTrigger(key) from None

        try:
            occ = self.lcm.start(
                policy.ns_instance_id,
                OpType.SCALE,
                scale_request(policy, direction),
                policy.tenant_id,
                automatic=True,
                bind=bind,
            )
        except QuotaExceeded as exc:
            return Reason.QUOTA, None, exc.detail
        except Conflict as exc:
            return Reason.IN_FLIGHT, None, exc.detail
        except NotFound as exc:
            return Reason.NOT_READY, None, exc.detail
        except NfvoError as exc:
            return Reason.REFUSED, None, exc.detail
        self._acted.setdefault(policy.ns_instance_id, deque()).append(now)
        self._watch.add(policy.ns_instance_id)
        self._completions.pop(policy.ns_instance_id, None)
        return Reason.ACTED, occ.id, f"{direction} {policy.aspect_id} by {policy.steps}"

    def _level(self, s: Session, policy: ScalingPolicy, ns: NsInstance) -> tuple[int, int] | str:
        """(current scale level, maximum) of the policy's aspect, or why it is unknown."""
        if policy.target is Target.VNF:
            vnf = NsRecordsRepository(s).vnf(policy.vnf_instance_id or "")
            if vnf is None or vnf.ns_instance_id != ns.id:
                return f"VNF instance {policy.vnf_instance_id} is not part of the NS"
            current = int((vnf.scale_levels or {}).get(policy.aspect_id, 0))
            top = policy.max_scale_level
            if top is None:
                top = self._max_level(ns.nsd_info_id, vnf.vnfd_id, vnf.flavour_id, policy)
        else:
            current = int((ns.scale_status or {}).get(policy.aspect_id, 0))
            top = policy.max_scale_level
            if top is None:
                top = self._max_level(ns.nsd_info_id, None, ns.flavour_id or "", policy)
        if top is None:
            return f"scaling aspect {policy.aspect_id} is not in the descriptor"
        return current, top

    def _max_level(
        self, nsd_info_id: str, vnfd_id: str | None, flavour_id: str, policy: ScalingPolicy
    ) -> int | None:
        key = (nsd_info_id, vnfd_id or "", f"{flavour_id}/{policy.aspect_id}")
        if key in self._levels_cache:
            return self._levels_cache[key]
        try:
            nsd, vnfds = self.lcm.catalog.ns_descriptors(nsd_info_id)
        except NfvoError:
            return None
        flavours: Iterable[Any]
        if vnfd_id is not None:
            vnfd = vnfds.get(vnfd_id)
            flavours = vnfd.flavours if vnfd else ()
        else:
            flavours = nsd.flavours
        flavour = next((f for f in flavours if f.flavour_id == flavour_id), None)
        aspect = next(
            (a for a in (flavour.scaling_aspects if flavour else ()) if a.id == policy.aspect_id),
            None,
        )
        top = aspect.max_scale_level if aspect else None
        if len(self._levels_cache) > 10_000:
            self._levels_cache.clear()
        self._levels_cache[key] = top
        return top

    # ------------------------------------------------------------------ completions

    def _completion(self, ns_id: str, now: float) -> float | None:
        """When the NS's last operation completed, in the scaler's clock (None: it has
        none, or it has not finished)."""
        last = self._last_op(ns_id)
        if last is None:
            return None
        op_id, state, entered = last
        if OpState(state) not in TERMINAL:
            return None
        seen = self._completions.get(ns_id)
        if seen is not None and seen.op_id == op_id:
            return seen.at
        # first sight: its age in real time, carried over to the scaler's clock
        at = now - max(0.0, time.time() - _epoch(entered))
        self._completions[ns_id] = _Completion(op_id, at)
        return at

    def observe(self, ns_id: str) -> float | None:
        """Note now when the NS's last operation completed (in the scaler's clock; None
        while it runs or when it has none): cooldowns count from then."""
        with self._lock:
            return self._completion(ns_id, self.clock())

    def _note_completions(self) -> None:
        """Note the completion of the operations this scaler started as soon as they end
        (so cooldowns count from then, whatever the clock)."""
        if not self._watch:
            return
        now = self.clock()
        with self._lock:
            for ns_id in list(self._watch):
                last = self._last_op(ns_id)
                if last is None or OpState(last[1]) in TERMINAL:
                    self._watch.discard(ns_id)
                    if last is not None:
                        self._completion(ns_id, now)

    def _last_op(self, ns_id: str) -> tuple[str, str, datetime] | None:
        with self.db.session() as s:
            row = s.execute(
                select(NsLcmOpOcc.id, NsLcmOpOcc.state, NsLcmOpOcc.state_entered_time)
                .where(NsLcmOpOcc.ns_instance_id == ns_id)
                .order_by(NsLcmOpOcc.start_time.desc(), NsLcmOpOcc.id.desc())
                .limit(1)
            ).first()
        return (row[0], row[1], row[2]) if row else None

    # ------------------------------------------------------------------ alerts

    def on_alerts(self, alerts: Iterable[Any], tenant: str | None) -> list[dict[str, Any]]:
        """Take the firing alerts that carry scaling labels (``Alert`` values of the
        Alertmanager source) for a caller of ``tenant`` (None: global): each is one guarded
        decision, at once; a re-delivered alert instance starts nothing. What each did."""
        out: list[dict[str, Any]] = []
        for alert in alerts:
            labels: Mapping[str, str] = alert.labels
            if alert.status != "firing" or not (
                labels.get(POLICY_LABEL) or labels.get(ASPECT_LABEL)
            ):
                continue
            out.append(self._alert(alert, labels, tenant))
        return out

    def _alert(self, alert: Any, labels: Mapping[str, str], tenant: str | None) -> dict[str, Any]:
        result: dict[str, Any] = {"fingerprint": alert.fingerprint}
        raw_direction = labels.get(DIRECTION_LABEL, "out").strip().lower()
        direction = _DIRECTIONS.get(raw_direction)
        if direction is None:
            return {**result, "result": "SKIPPED", "detail": f"{DIRECTION_LABEL} is out or in"}
        policy = self._policy_of(labels, tenant)
        if policy is None:
            return {**result, "result": "SKIPPED", "detail": "no such enabled scaling policy"}
        result["policyId"] = policy.id
        key = trigger_key(policy.id, alert.fingerprint, alert.starts_at)
        with self.db.session() as s:
            done = ScalingTriggerRepository(s).get(key)
        if done is not None:
            return {**result, "result": "DUPLICATE", "nsLcmOpOccId": done.op_occ_id}
        inputs = {"alert": alert.fingerprint, "alertname": labels.get("alertname", "")[:128]}
        try:
            d = self.decide(policy, direction, inputs, key=key)
        except DuplicateTrigger:
            with self.db.session() as s:
                done = ScalingTriggerRepository(s).get(key)
            return {
                **result,
                "result": "DUPLICATE",
                "nsLcmOpOccId": done.op_occ_id if done else None,
            }
        return {
            **result,
            "result": d.reason.value,
            "direction": direction,
            "nsLcmOpOccId": d.op_occ_id,
            "detail": d.detail,
        }

    def _policy_of(self, labels: Mapping[str, str], tenant: str | None) -> ScalingPolicy | None:
        """The enabled policy an alert's labels name, if the caller sees it."""

        def find(policies: list[ScalingPolicy]) -> ScalingPolicy | None:
            pid = labels.get(POLICY_LABEL)
            for p in policies:
                if pid:
                    hit = p.id == pid
                else:
                    hit = (
                        p.ns_instance_id == labels.get(NS_LABEL)
                        and p.aspect_id == labels.get(ASPECT_LABEL)
                        and (p.vnf_instance_id or "") == labels.get(VNF_LABEL, "")
                    )
                if hit and (tenant is None or p.tenant_id == tenant):
                    return p
            return None

        return find(self.current_policies()) or find(self.current_policies(fresh=True))

    # ------------------------------------------------------------------ recovery

    def resume_stalled(self) -> int:
        """Start the workflows of automatic scale operations still STARTING long after their
        creation (the process died between creating one and starting it; idempotent: an
        op's workflow id is unique per attempt). How many."""
        cutoff = time.time() - RESUME_AFTER_S
        with self.db.session() as s:
            rows = s.scalars(
                select(NsLcmOpOcc).where(
                    NsLcmOpOcc.state == OpState.STARTING,
                    NsLcmOpOcc.is_automatic_invocation.is_(True),
                    NsLcmOpOcc.operation == OpType.SCALE,
                )
            ).all()
        stalled = [o for o in rows if _epoch(o.start_time) < cutoff]
        for occ in stalled:
            log.warning("resuming automatic scale operation %s (its start was lost)", occ.id)
            self.lcm.run(occ)
        return len(stalled)

    # ------------------------------------------------------------------ the log

    def _record(
        self,
        policy: ScalingPolicy,
        action: str,
        reason: Reason,
        inputs: Mapping[str, Any],
        detail: str,
        op_id: str | None = None,
    ) -> None:
        decisions.record(
            self.db,
            kind=Kind.AUTO_SCALE,
            reason=reason,
            action=action,
            policy_id=policy.id,
            ns_instance_id=policy.ns_instance_id,
            tenant_id=policy.tenant_id,
            inputs={"aspectId": policy.aspect_id, **inputs},
            op_occ_id=op_id,
            detail=detail,
            at=datetime.fromtimestamp(self.clock(), UTC),
        )


def scale_request(policy: ScalingPolicy, direction: str) -> dict[str, Any]:
    """The ScaleNsRequest of one step of the policy's aspect in ``direction``."""
    if policy.target is Target.VNF:
        return {
            "scaleType": "SCALE_VNF",
            "scaleVnfData": [
                {
                    "vnfInstanceId": policy.vnf_instance_id,
                    "scaleVnfType": direction,
                    "scaleByStepData": {
                        "aspectId": policy.aspect_id,
                        "numberOfSteps": policy.steps,
                    },
                }
            ],
        }
    return {
        "scaleType": "SCALE_NS",
        "scaleNsData": {
            "scaleNsByStepsData": {
                "aspectId": policy.aspect_id,
                "numberOfSteps": policy.steps,
                "scalingDirection": direction,
            }
        },
    }
