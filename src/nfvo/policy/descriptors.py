"""Auto-scaling and auto-healing as an NS's descriptors declare them.

Read from the descriptor files of the NS's NSD and VNF packages (this module's own reading
of ``policies``, ``triggers`` and the VNF node's properties; the typed descriptors keep only
what the LCM needs):

- ``tosca.policies.nfv.ScalingAspects``: aspects, ``max_scale_level``, ``step_deltas``;
- monitoring parameters: ``tosca.policies.nfv.VnfMonitoring`` / ``NsMonitoring`` policies of
  the NSD (``vnf_monitoring_parameters`` / ``ns_monitoring_parameters``, targets the VNF
  profiles or the NS) and the VNF node's ``monitoring_parameters``;
- triggers (SOL001 Annex A.15 style) of any policy, ``tosca.policies.nfv.VnfIndicator``
  first: ``event``, ``condition`` (``- <attribute>: [ {greater_or_equal: 60} ]`` clauses,
  ``or``/``and`` lists, or TOSCA's ``{constraint, period, evaluations, method}``) and
  ``action: [ {call_operation: {operation: Vnflcm.scale, inputs: [type, aspect,
  number_of_steps]}} ]``;
- ``configurable_properties`` of the VNF node (``tosca.datatypes.nfv.VnfConfigurableProperties``
  ``is_autoscale_enabled`` / ``is_autoheal_enabled``; absent: not restricted).

A trigger becomes part of a :class:`ScalingPolicy` when the attribute it compares (or the
event's notification) names a monitoring parameter whose ``performance_metric`` is a known
metric, or is a known metric itself (:func:`nfvo.monitoring.metrics.canonical`); the
scale-out and scale-in triggers of one aspect and metric make one policy. A trigger that
cannot be evaluated (a VNF indicator nfvo does not collect, an unknown aspect, a condition
with no threshold) is left out, and :func:`explain` says why. Durations (``period``) are read
with :func:`nfvo.policy.durations.seconds`.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from nfvo.catalog.errors import PackageError
from nfvo.catalog.store import PackageFiles
from nfvo.catalog.tosca.yamlload import load_yaml
from nfvo.inventory.blobs import BlobRepository
from nfvo.inventory.db import Database
from nfvo.inventory.models import CatalogPackage, NsInstance, NsVnf
from nfvo.inventory.repositories import CatalogRepository
from nfvo.lru import Lru
from nfvo.monitoring import metrics
from nfvo.policy.durations import DurationError, seconds
from nfvo.policy.model import Aggregation, Relation, ScalingPolicy, Target

log = logging.getLogger(__name__)

SCALING_ASPECTS = "tosca.policies.nfv.ScalingAspects"
VNF_MONITORING = "tosca.policies.nfv.VnfMonitoring"
NS_MONITORING = "tosca.policies.nfv.NsMonitoring"
VNF_INDICATOR = "tosca.policies.nfv.VnfIndicator"
VNF_NODE = "tosca.nodes.nfv.VNF"
NS_NODE = "tosca.nodes.nfv.NS"
_RELATIONS = {
    "greater_or_equal": Relation.GE,
    "greater_than": Relation.GT,
    "less_or_equal": Relation.LE,
    "less_than": Relation.LT,
}
_METHODS = {
    "average": Aggregation.MEAN,
    "mean": Aggregation.MEAN,
    "max": Aggregation.MAX,
    "maximum": Aggregation.MAX,
}
_SCALE_OPS = ("vnflcm.scale", "nslcm.scale")
MAX_DESCRIPTOR_BYTES = 4 << 20  # a descriptor file read for its policies (onboarding bounds it)
_CACHE = Lru(256)  # parsed policies per (package id, blob id): a package's content never changes


# -- what a descriptor file says ---------------------------------------------------------------
@dataclass(frozen=True)
class Aspect:
    """A scaling aspect (``tosca.policies.nfv.ScalingAspects``)."""

    id: str
    max_scale_level: int
    step_deltas: tuple[str, ...] = ()


@dataclass(frozen=True)
class MonitoringParameter:
    """A monitoring parameter: its id and name, the metric, the collection period (s), and
    the node templates it is about (VNF profiles; empty: the descriptor's own VNF / NS)."""

    id: str
    name: str | None
    performance_metric: str
    collection_period_s: float | None = None
    targets: tuple[str, ...] = ()


@dataclass(frozen=True)
class Trigger:
    """A scaling trigger: ``direction`` SCALE_OUT or SCALE_IN of ``aspect`` by ``steps``
    when ``attribute`` satisfies ``relation`` against ``threshold``. ``level_bound``: the
    condition's bound on the aspect's scale level (scale out only while below it)."""

    policy: str
    name: str
    event: str
    direction: str
    aspect: str
    steps: int = 1
    attribute: str | None = None
    relation: Relation | None = None
    threshold: float | None = None
    level_bound: int | None = None
    window_s: float | None = None
    aggregation: Aggregation | None = None
    targets: tuple[str, ...] = ()
    ns_level: bool = False  # an Nslcm.scale action: an NS scaling aspect

    def candidates(self) -> list[str]:
        """Names that may identify what the trigger compares, best first."""
        out = [self.attribute] if self.attribute else []
        if self.event:
            out += [self.event.rsplit(".", 1)[-1], self.event]
        return out


@dataclass
class TopologyPolicies:
    """The policies of one ``topology_template`` (a VNF flavour, the VNFD's top level, an
    NSD flavour): ``flavour_id`` None when it names none (applies to every flavour)."""

    file: str
    flavour_id: str | None = None
    aspects: dict[str, Aspect] = field(default_factory=dict)
    monitoring: list[MonitoringParameter] = field(default_factory=list)
    triggers: list[Trigger] = field(default_factory=list)
    configurable: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


class _Types:
    """``derived_from`` of the node and policy types the package's files declare."""

    def __init__(self, docs: Iterable[Mapping[str, Any]]) -> None:
        self.parent: dict[str, str] = {}
        self.defaults: dict[str, dict[str, Any]] = {}
        for doc in docs:
            for section in ("node_types", "policy_types"):
                for name, body in _mapping(doc.get(section)).items():
                    body = _mapping(body)
                    if isinstance(body.get("derived_from"), str):
                        self.parent[str(name)] = body["derived_from"]
                    props = _mapping(body.get("properties"))
                    self.defaults[str(name)] = {
                        str(k): _mapping(v).get("default") for k, v in props.items()
                    }

    def is_a(self, name: Any, base: str) -> bool:
        """Whether the type ``name`` is ``base`` or derives from it."""
        seen: set[str] = set()
        current = name if isinstance(name, str) else ""
        while current and current not in seen:
            if current == base:
                return True
            seen.add(current)
            current = self.parent.get(current, "")
        return False

    def default(self, name: Any, prop: str) -> Any:
        """The default of ``prop`` along the type's ``derived_from`` chain."""
        seen: set[str] = set()
        current = name if isinstance(name, str) else ""
        while current and current not in seen:
            value = self.defaults.get(current, {}).get(prop)
            if value is not None:
                return value
            seen.add(current)
            current = self.parent.get(current, "")
        return None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _items(value: Any) -> Iterator[tuple[str, Any]]:
    """(name, body) of a TOSCA list of single-key maps, or of a map."""
    if isinstance(value, Mapping):
        yield from ((str(k), v) for k, v in value.items())
    elif isinstance(value, list):
        for entry in value:
            if isinstance(entry, Mapping):
                yield from ((str(k), v) for k, v in entry.items())


def _value(value: Any) -> Any:
    """An operation input as written: ``{value: X}`` or ``X``."""
    if isinstance(value, Mapping) and "value" in value:
        return value["value"]
    return value


def _seconds(value: Any, where: str, problems: list[str]) -> float | None:
    if value is None:
        return None
    try:
        return seconds(value)
    except DurationError as exc:
        problems.append(f"{where}: {exc}")
        return None


def read_package(files: Mapping[str, bytes]) -> list[TopologyPolicies]:
    """The policies of every topology in a package's descriptor files (``files``: package
    path -> bytes; files that are not YAML service templates are skipped)."""
    docs: dict[str, Mapping[str, Any]] = {}
    for name, data in sorted(files.items()):
        if not name.lower().endswith((".yaml", ".yml")) or len(data) > MAX_DESCRIPTOR_BYTES:
            continue
        try:
            doc = load_yaml(data, name)
        except PackageError:
            continue
        if isinstance(doc, Mapping):
            docs[name] = doc
    types = _Types(docs.values())
    out = []
    for name, doc in docs.items():
        top = doc.get("topology_template")
        if isinstance(top, Mapping):
            out.append(_topology(name, top, types))
    return out


def _topology(file: str, top: Mapping[str, Any], types: _Types) -> TopologyPolicies:
    nodes = _mapping(top.get("node_templates"))
    subst = _mapping(top.get("substitution_mappings"))
    found = TopologyPolicies(file)
    flavour = _mapping(subst.get("properties")).get("flavour_id")
    for node in nodes.values():
        node = _mapping(node)
        if not types.is_a(node.get("type"), VNF_NODE):
            continue
        props = _mapping(node.get("properties"))
        if subst and flavour is None:
            flavour = props.get("flavour_id")
        configurable = props.get("configurable_properties")
        if configurable is None:
            configurable = types.default(node.get("type"), "configurable_properties")
        found.configurable.update(_mapping(configurable))
        found.monitoring += _parameters(props.get("monitoring_parameters"), (), found.problems)
    if subst and isinstance(flavour, str):
        found.flavour_id = flavour
    for pname, body in _items(top.get("policies")):
        body = _mapping(body)
        ptype = body.get("type")
        props = _mapping(body.get("properties"))
        targets = tuple(str(t) for t in body.get("targets") or [] if isinstance(t, str))
        if types.is_a(ptype, SCALING_ASPECTS):
            for aspect_id, aspect in _items(props.get("aspects")):
                aspect = _mapping(aspect)
                level = aspect.get("max_scale_level")
                if not isinstance(level, int) or isinstance(level, bool) or level < 0:
                    found.problems.append(f"{pname}.{aspect_id}: max_scale_level {level!r}")
                    continue
                deltas = tuple(str(d) for d in aspect.get("step_deltas") or [])
                found.aspects[aspect_id] = Aspect(aspect_id, level, deltas)
        elif types.is_a(ptype, VNF_MONITORING) or types.is_a(ptype, NS_MONITORING):
            params = props.get("vnf_monitoring_parameters") or props.get("ns_monitoring_parameters")
            found.monitoring += _parameters(params, targets, found.problems)
        if "triggers" in body:
            found.triggers += _triggers(pname, body.get("triggers"), targets, found.problems)
    return found


def _parameters(
    value: Any, targets: tuple[str, ...], problems: list[str]
) -> list[MonitoringParameter]:
    out = []
    entries = (
        list(_items(value))
        if isinstance(value, Mapping)
        else [(str(_mapping(v).get("name") or i), v) for i, v in enumerate(value or [])]
        if isinstance(value, list)
        else []
    )
    for param_id, body in entries:
        body = _mapping(body)
        metric = body.get("performance_metric")
        if not isinstance(metric, str):
            problems.append(f"monitoring parameter {param_id}: no performance_metric")
            continue
        period = _seconds(body.get("collection_period"), f"{param_id}.collection_period", problems)
        name = body.get("name") if isinstance(body.get("name"), str) else None
        out.append(MonitoringParameter(param_id, name, metric, period, targets))
    return out


def _clauses(condition: Any) -> Iterator[tuple[str, str, Any]]:
    """(attribute, operator, value) of a condition's constraint clauses, ``or``/``and``
    branches included (``equal`` for a bare value)."""
    for attribute, body in _items(condition):
        if attribute in ("or", "and", "not"):
            for branch in body if isinstance(body, list) else [body]:
                yield from _clauses(branch)
            continue
        if attribute in ("period", "evaluations", "method"):
            continue
        constraints = body if isinstance(body, list) else [body]
        for constraint in constraints:
            if isinstance(constraint, Mapping):
                for op, value in constraint.items():
                    yield attribute, str(op), value
            else:
                yield attribute, "equal", constraint


def _triggers(
    policy: str, value: Any, targets: tuple[str, ...], problems: list[str]
) -> list[Trigger]:
    out = []
    for name, body in _items(value):
        body = _mapping(body)
        where = f"{policy}.triggers.{name}"
        call = _scale_call(body.get("action"))
        if call is None:
            continue  # not a scaling trigger (e.g. Vnflcm.heal)
        operation, inputs = call
        direction = str(_value(inputs.get("type")) or "").upper()
        aspect = _value(inputs.get("aspect"))
        if direction not in ("SCALE_OUT", "SCALE_IN") or not isinstance(aspect, str):
            problems.append(f"{where}: a scale action needs type scale_out|scale_in and aspect")
            continue
        steps = _value(inputs.get("number_of_steps"))
        steps = 1 if steps is None else steps
        if not isinstance(steps, int) or isinstance(steps, bool) or not 1 <= steps <= 100:
            problems.append(f"{where}: number_of_steps {steps!r} is not an integer 1..100")
            continue
        condition = body.get("condition")
        cond = _mapping(condition)
        constraint = cond.get("constraint", cond.get("constraints"))
        clauses = list(_clauses(constraint if constraint is not None else condition))
        attribute = relation = threshold = level_bound = None
        for attr, op, val in clauses:
            if op not in _RELATIONS or isinstance(val, bool) or not isinstance(val, int | float):
                continue
            if attr.endswith("scale_level"):
                if direction == "SCALE_OUT" and op in ("less_than", "less_or_equal"):
                    level_bound = int(val) + (1 if op == "less_or_equal" else 0)
                continue
            if attribute is None:
                attribute, relation, threshold = attr, _RELATIONS[op], float(val)
        if attribute is None and constraint is not None:
            for _, op, val in _clauses({"value": constraint}):
                if op in _RELATIONS and isinstance(val, int | float):
                    relation, threshold = _RELATIONS[op], float(val)
                    break
        period = _seconds(cond.get("period"), f"{where}.condition.period", problems)
        evaluations = cond.get("evaluations")
        if period is not None and isinstance(evaluations, int) and evaluations > 1:
            period *= evaluations
        method = cond.get("method")
        out.append(
            Trigger(
                policy=policy,
                name=name,
                event=str(body.get("event") or ""),
                direction=direction,
                aspect=aspect,
                steps=steps,
                attribute=attribute,
                relation=relation,
                threshold=threshold,
                level_bound=level_bound,
                window_s=period,
                aggregation=_METHODS.get(str(method).lower()) if method else None,
                targets=targets,
                ns_level=operation.endswith("nslcm.scale"),
            )
        )
    return out


def _scale_call(action: Any) -> tuple[str, dict[str, Any]] | None:
    """(operation, inputs) of an action's ``call_operation`` of a scale operation."""
    for kind, body in _items(action if isinstance(action, list | Mapping) else []):
        if kind != "call_operation":
            continue
        if isinstance(body, str):
            operation, inputs = body, {}
        else:
            body = _mapping(body)
            operation = str(body.get("operation") or "")
            inputs = dict(_items(body.get("inputs")))
        op = operation.lower()
        if op.endswith(_SCALE_OPS) or op == "scale":
            return op, inputs
    return None


# -- from the database ------------------------------------------------------------------------
def _session(db_or_session: Database | Session) -> Any:
    if isinstance(db_or_session, Session):
        return nullcontext(db_or_session)
    return db_or_session.session()


def _package_policies(s: Session, pkg: CatalogPackage | None) -> list[TopologyPolicies]:
    """The parsed policies of an onboarded package (read once per package content)."""
    if pkg is None or not pkg.blob_id:
        return []
    key = (pkg.id, pkg.blob_id)
    cached = _CACHE.get(key)
    if cached is not None:
        return list(cached)
    names = [n for n in (pkg.info or {}).get("descriptorFiles", []) if isinstance(n, str)]
    fd, path = tempfile.mkstemp(prefix=".policies-")
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in BlobRepository(s).iter_range(pkg.blob_id):
                out.write(chunk)
        reader = PackageFiles(Path(path))
        files = {}
        for name in names:
            try:
                files[name] = reader.read(name)
            except (KeyError, PackageError):
                continue
    finally:
        os.unlink(path)
    parsed = read_package(files)
    _CACHE.put(key, tuple(parsed))
    return parsed


def _of_flavour(tops: Iterable[TopologyPolicies], flavour: str | None) -> list[TopologyPolicies]:
    return [t for t in tops if t.flavour_id is None or t.flavour_id == flavour]


@dataclass(frozen=True)
class _Ns:
    ns: NsInstance
    vnfs: list[NsVnf]
    nsd: list[TopologyPolicies]
    vnfds: dict[str, list[TopologyPolicies]]


def _load(s: Session, ns_instance_id: str) -> _Ns | None:
    ns = s.get(NsInstance, ns_instance_id)
    if ns is None:
        return None
    vnfs = list(
        s.execute(select(NsVnf).where(NsVnf.ns_instance_id == ns_instance_id).order_by(NsVnf.seq))
        .scalars()
        .all()
    )
    catalog = CatalogRepository(s)
    nsd = _of_flavour(_package_policies(s, catalog.get(ns.nsd_info_id)), ns.flavour_id)
    packages = catalog.find_onboarded("vnf", sorted({v.vnfd_id for v in vnfs}))
    vnfds = {vnfd_id: _package_policies(s, pkg) for vnfd_id, pkg in packages.items()}
    return _Ns(ns, vnfs, nsd, vnfds)


def _enabled(tops: Iterable[TopologyPolicies], prop: str) -> bool:
    for top in tops:
        value = top.configurable.get(prop)
        if isinstance(value, bool):
            return value
    return True  # not present: this VNF property is not configurable, nothing restricts it


def _vnf_flag(db_or_session: Database | Session, vnf_instance_id: str, prop: str) -> bool:
    with _session(db_or_session) as s:
        vnf = s.get(NsVnf, vnf_instance_id)
        if vnf is None:
            return False
        pkg = CatalogRepository(s).find_onboarded("vnf", [vnf.vnfd_id]).get(vnf.vnfd_id)
        tops = _of_flavour(_package_policies(s, pkg), vnf.flavour_id)
    return _enabled(tops, prop)


def autoheal_enabled(db_or_session: Database | Session, vnf_instance_id: str) -> bool:
    """Whether the VNF instance may be healed automatically: its VNFD's
    ``is_autoheal_enabled`` (absent: yes); False for a VNF instance that does not exist."""
    return _vnf_flag(db_or_session, vnf_instance_id, "is_autoheal_enabled")


def autoscale_enabled(db_or_session: Database | Session, vnf_instance_id: str) -> bool:
    """Whether the VNF instance may be scaled automatically: its VNFD's
    ``is_autoscale_enabled`` (absent: yes); False for a VNF instance that does not exist."""
    return _vnf_flag(db_or_session, vnf_instance_id, "is_autoscale_enabled")


def _metric(trigger: Trigger, params: Iterable[MonitoringParameter]) -> str | None:
    """The canonical metric a trigger compares, or None."""
    params = list(params)
    for name in trigger.candidates():
        for p in params:
            if name in (p.id, p.name):
                try:
                    return metrics.canonical(p.performance_metric)
                except KeyError:
                    return None
    for name in trigger.candidates():
        try:
            return metrics.canonical(name)
        except KeyError:
            continue
    return None


@dataclass
class _Draft:
    """The triggers of one (VNF or NS, aspect, metric) on their way to a ScalingPolicy."""

    target: Target
    vnf_id: str | None
    aspect: Aspect
    metric: str
    out: Trigger | None = None
    into: Trigger | None = None


def _drafts(loaded: _Ns, problems: list[str]) -> list[_Draft]:
    drafts: dict[tuple[str | None, str, str], _Draft] = {}
    nsd_params = [p for t in loaded.nsd for p in t.monitoring]
    nsd_aspects = {a.id: a for t in loaded.nsd for a in t.aspects.values()}
    nsd_triggers = [tr for t in loaded.nsd for tr in t.triggers]

    def add(target: Target, vnf_id: str | None, aspect: Aspect, tr: Trigger, metric: str) -> None:
        key = (vnf_id, aspect.id, metric)
        draft = drafts.setdefault(key, _Draft(target, vnf_id, aspect, metric))
        if tr.direction == "SCALE_OUT" and draft.out is None:
            draft.out = tr
        elif tr.direction == "SCALE_IN" and draft.into is None:
            draft.into = tr

    for vnf in loaded.vnfs:
        tops = _of_flavour(loaded.vnfds.get(vnf.vnfd_id, []), vnf.flavour_id)
        aspects = {a.id: a for t in tops for a in t.aspects.values()}
        params = [p for t in tops for p in t.monitoring] + [
            p for p in nsd_params if vnf.vnf_profile_id in p.targets
        ]
        mine = [tr for t in tops for tr in t.triggers if not tr.ns_level]
        mine += [tr for tr in nsd_triggers if not tr.ns_level and vnf.vnf_profile_id in tr.targets]
        for tr in mine:
            where = f"VNF instance {vnf.id}: trigger {tr.policy}.{tr.name}"
            metric = _metric(tr, params)
            if tr.aspect not in aspects:
                problems.append(f"{where}: aspect {tr.aspect!r} is not a scaling aspect")
            elif tr.relation is None or tr.threshold is None:
                problems.append(f"{where}: its condition compares no number")
            elif metric is None:
                problems.append(f"{where}: {tr.candidates()[:1]} is no metric nfvo collects")
            else:
                add(Target.VNF, vnf.id, aspects[tr.aspect], tr, metric)
    profiles = {v.vnf_profile_id for v in loaded.vnfs}
    ns_params = [p for p in nsd_params if not set(p.targets) <= profiles or not p.targets]
    for tr in nsd_triggers:
        if not tr.ns_level:
            continue
        where = f"NS instance {loaded.ns.id}: trigger {tr.policy}.{tr.name}"
        metric = _metric(tr, ns_params)
        if tr.aspect not in nsd_aspects:
            problems.append(f"{where}: aspect {tr.aspect!r} is not an NS scaling aspect")
        elif tr.relation is None or tr.threshold is None or metric is None:
            problems.append(f"{where}: no threshold on a metric nfvo collects")
        else:
            add(Target.NS, None, nsd_aspects[tr.aspect], tr, metric)
    return list(drafts.values())


def _policy(loaded: _Ns, d: _Draft, enabled: bool) -> ScalingPolicy:
    first = d.out or d.into
    assert first is not None
    level = d.aspect.max_scale_level
    if d.out is not None and d.out.level_bound is not None:
        level = min(level, d.out.level_bound)
    subject = d.vnf_id or loaded.ns.id
    windows = [t.window_s for t in (d.out, d.into) if t is not None and t.window_s]
    aggregation = next(
        (t.aggregation for t in (d.out, d.into) if t is not None and t.aggregation),
        Aggregation.MEAN,
    )
    return ScalingPolicy(
        id=f"descriptor:{subject}:{d.aspect.id}:{d.metric}",
        name=f"{first.policy}/{d.aspect.id}",
        ns_instance_id=loaded.ns.id,
        tenant_id=loaded.ns.tenant_id,
        aspect_id=d.aspect.id,
        metric=d.metric,
        target=d.target,
        vnf_instance_id=d.vnf_id,
        aggregation=aggregation,
        window_s=max(windows) if windows else 60.0,
        out_threshold=d.out.threshold if d.out else None,
        out_relation=(d.out.relation or Relation.GE) if d.out else Relation.GE,
        in_threshold=d.into.threshold if d.into else None,
        in_relation=(d.into.relation or Relation.LE) if d.into else Relation.LE,
        steps=first.steps,
        max_scale_level=level,
        enabled=enabled,
        source="descriptor",
    )


def scaling_policies_for(
    db_or_session: Database | Session, ns_instance_id: str
) -> list[ScalingPolicy]:
    """The auto-scaling policies the descriptors of an NS instance declare, one per (VNF
    instance or NS, aspect, metric); disabled where the VNFD's ``is_autoscale_enabled`` is
    false. Empty for an NS instance that does not exist or has no VNF instances yet."""
    return explain(db_or_session, ns_instance_id)[0]


def explain(
    db_or_session: Database | Session, ns_instance_id: str
) -> tuple[list[ScalingPolicy], list[str]]:
    """:func:`scaling_policies_for`, and why each trigger left out was left out."""
    problems: list[str] = []
    with _session(db_or_session) as s:
        loaded = _load(s, ns_instance_id)
        if loaded is None:
            return [], [f"NS instance {ns_instance_id} does not exist"]
        for tops in [loaded.nsd, *loaded.vnfds.values()]:
            problems += [f"{t.file}: {p}" for t in tops for p in t.problems]
        drafts = _drafts(loaded, problems)
    flavours = {v.id: v for v in loaded.vnfs}
    out = []
    for d in drafts:
        enabled = True
        if d.vnf_id is not None:
            vnf = flavours[d.vnf_id]
            tops = _of_flavour(loaded.vnfds.get(vnf.vnfd_id, []), vnf.flavour_id)
            enabled = _enabled(tops, "is_autoscale_enabled")
        out.append(_policy(loaded, d, enabled))
    if problems:
        log.debug("descriptor policies of NS %s: %s", ns_instance_id, "; ".join(problems))
    return sorted(out, key=lambda p: p.id), problems
