"""Root-cause analysis templates: YAML in, validated :class:`Template` out.

A template (in the shape of Vitrage's version 3 templates) declares ``entities`` (alarms and
resources, by category, type and other attributes) and ``scenarios``: a ``condition`` over
those entities and their relationships (``host_alarm [on] host AND host [contains] server``,
with ``AND``, ``OR``, ``NOT`` and parentheses) and the ``actions`` taken while it holds:
``raise_alarm`` (a deduced alarm), ``set_state``, ``mark_down`` and
``add_causal_relationship``. Each action is undone when its condition stops holding (see
:mod:`nfvo.policy.rca.engine`).

:func:`parse` checks a whole document and raises :class:`TemplateError` naming the field
(``scenarios[0].actions[1].raise_alarm.target``) and what is wrong with it. The condition is
kept in disjunctive normal form: each alternative (a :class:`Clause`) is a conjunction of
relationship terms, some negated. Built-in templates are YAML files beside this module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import yaml

from nfvo.errors import UnprocessableEntity
from nfvo.monitoring.model import ResourceKind, Severity

VERSION = 3
ALARM, RESOURCE = "ALARM", "RESOURCE"
CATEGORIES = (ALARM, RESOURCE)
# relationship label -> (category of its source, category of its target)
LABELS: dict[str, tuple[str, str]] = {
    "on": (ALARM, RESOURCE),
    "causes": (ALARM, ALARM),
    "contains": (RESOURCE, RESOURCE),
    "comprises": (RESOURCE, RESOURCE),
    "attached": (RESOURCE, RESOURCE),
}
ACTIONS = ("raise_alarm", "set_state", "mark_down", "add_causal_relationship")
# the attributes an entity may filter on besides its category
ENTITY_ATTRS = ("type", "name", "severity", "deduced", "state")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$")
MAX_TEXT = 64 * 1024  # characters of one template document
MAX_ENTITIES = 32
MAX_SCENARIOS = 32
MAX_ACTIONS = 16  # per scenario
MAX_CONDITION = 1024  # characters
MAX_CLAUSES = 16  # alternatives of one condition in disjunctive normal form
MAX_VALUE = 128  # characters of a type, name, state or alarm name
SEVERITIES = tuple(s.value for s in Severity if s is not Severity.CLEARED)


class TemplateError(UnprocessableEntity):
    """A template that cannot be used; ``field`` names where, the detail says what."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}" if where else problem, field=where or "template")
        self.where = where
        self.problem = problem


@dataclass(frozen=True)
class Entity:
    """One entity of a template: ``category`` and the attributes a vertex must have (a
    ``type`` may be a set of accepted values)."""

    name: str
    category: str
    attrs: tuple[tuple[str, Any], ...] = ()

    def accepts(self, vertex: dict[str, Any]) -> bool:
        """Whether a graph vertex (its attribute dict) is this entity."""
        if vertex.get("category") != self.category:
            return False
        for key, want in self.attrs:
            have = vertex.get(key)
            if isinstance(want, frozenset):
                if have not in want:
                    return False
            elif have != want:
                return False
        return True


@dataclass(frozen=True)
class Literal:
    """``src [label] dst`` (``label`` None: the entity ``src`` exists), negated or not."""

    src: str
    label: str | None = None
    dst: str | None = None
    negated: bool = False

    def negate(self) -> Literal:
        return Literal(self.src, self.label, self.dst, not self.negated)

    @property
    def names(self) -> tuple[str, ...]:
        return (self.src,) if self.dst is None else (self.src, self.dst)


@dataclass(frozen=True)
class Clause:
    """One alternative of a condition: positive terms (what must exist) and negated ones
    (what must not); ``bound`` the entities the positive terms name."""

    positive: tuple[Literal, ...]
    negative: tuple[Literal, ...]

    @property
    def bound(self) -> frozenset[str]:
        return frozenset(n for lit in self.positive for n in lit.names)


@dataclass(frozen=True)
class Action:
    """One action of a scenario (``kind`` one of :data:`ACTIONS`) and its parameters."""

    kind: str
    params: tuple[tuple[str, Any], ...]

    def get(self, key: str, default: Any = None) -> Any:
        return dict(self.params).get(key, default)


@dataclass(frozen=True)
class Scenario:
    """A condition (as alternatives) and the actions taken while it holds."""

    index: int
    name: str
    condition: str
    clauses: tuple[Clause, ...]
    actions: tuple[Action, ...]

    @property
    def has_not(self) -> bool:
        return any(c.negative for c in self.clauses)


@dataclass(frozen=True)
class Template:
    """A validated template: its entities by name and its scenarios, and the document it
    was read from."""

    name: str
    description: str
    entities: dict[str, Entity] = field(hash=False)
    scenarios: tuple[Scenario, ...]
    text: str = field(default="", repr=False)
    builtin: bool = False


# --------------------------------------------------------------------------- the condition

_TOKEN = re.compile(r"\s*(?:(\()|(\))|\[\s*([A-Za-z_]+)\s*\]|([A-Za-z_][A-Za-z0-9_-]*))")


def _tokens(text: str, where: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if m is None:
            raise TemplateError(where, f"cannot read {text[pos:].strip()[:20]!r} (column {pos})")
        lpar, rpar, label, word = m.groups()
        if lpar:
            out.append(("(", "("))
        elif rpar:
            out.append((")", ")"))
        elif label is not None:
            if label not in LABELS:
                raise TemplateError(
                    where, f"relationship [{label}] is not one of {', '.join(LABELS)}"
                )
            out.append(("label", label))
        elif word in ("AND", "OR", "NOT"):
            out.append((word, word))
        else:
            out.append(("id", word))
        pos = m.end()
    return out


DNF = list[list[Literal]]


class _Parser:
    """Recursive descent: ``or := and (OR and)*``, ``and := not (AND not)*``,
    ``not := NOT not | atom``, ``atom := ( or ) | id | id [label] id``."""

    def __init__(self, tokens: list[tuple[str, str]], where: str) -> None:
        self.t = tokens
        self.i = 0
        self.where = where

    def peek(self) -> str | None:
        return self.t[self.i][0] if self.i < len(self.t) else None

    def take(self, kind: str) -> str:
        if self.peek() != kind:
            got = self.t[self.i][1] if self.i < len(self.t) else "the end"
            raise TemplateError(self.where, f"expected {kind} but found {got!r}")
        self.i += 1
        return self.t[self.i - 1][1]

    def parse(self) -> DNF:
        if not self.t:
            raise TemplateError(self.where, "is empty")
        out = self.or_()
        if self.i != len(self.t):
            raise TemplateError(self.where, f"unexpected {self.t[self.i][1]!r}")
        return out

    def or_(self) -> DNF:
        out = self.and_()
        while self.peek() == "OR":
            self.i += 1
            out = out + self.and_()
            self._bound(out)
        return out

    def and_(self) -> DNF:
        out = self.not_()
        while self.peek() == "AND":
            self.i += 1
            right = self.not_()
            out = [a + b for a in out for b in right]
            self._bound(out)
        return out

    def not_(self) -> DNF:
        if self.peek() == "NOT":
            self.i += 1
            return self._negate(self.not_())
        return self.atom()

    def atom(self) -> DNF:
        if self.peek() == "(":
            self.i += 1
            out = self.or_()
            self.take(")")
            return out
        src = self.take("id")
        if self.peek() == "label":
            label = self.take("label")
            return [[Literal(src, label, self.take("id"))]]
        return [[Literal(src)]]

    def _negate(self, dnf: DNF) -> DNF:
        # NOT (C1 OR C2) = NOT C1 AND NOT C2; NOT (a AND b) = NOT a OR NOT b
        out: DNF = [[]]
        for clause in dnf:
            out = [acc + [lit.negate()] for acc in out for lit in clause]
            self._bound(out)
        return out

    def _bound(self, dnf: DNF) -> None:
        if len(dnf) > MAX_CLAUSES:
            raise TemplateError(
                self.where, f"has more than {MAX_CLAUSES} alternatives once expanded"
            )


def parse_condition(text: str, where: str) -> list[list[Literal]]:
    """The condition ``text`` in disjunctive normal form (TemplateError naming ``where``)."""
    if len(text) > MAX_CONDITION:
        raise TemplateError(where, f"is {len(text)} characters long; the limit is {MAX_CONDITION}")
    return _Parser(_tokens(text, where), where).parse()


# --------------------------------------------------------------------------- the document


def _map(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TemplateError(where, "must be a mapping")
    return value


def _str(value: Any, where: str, limit: int = MAX_VALUE) -> str:
    if not isinstance(value, str) or not value.strip():
        raise TemplateError(where, "must be a non-empty string")
    if len(value) > limit:
        raise TemplateError(where, f"is {len(value)} characters long; the limit is {limit}")
    return value


def _entity(name: str, spec: Any, where: str) -> Entity:
    if not IDENT.match(name) or name in ("AND", "OR", "NOT"):
        raise TemplateError(where, "an entity name is a letter then letters, digits, _ or -")
    spec = _map(spec, where)
    unknown = sorted(set(spec) - {"category", *ENTITY_ATTRS})
    if unknown:
        raise TemplateError(f"{where}.{unknown[0]}", "is not an entity attribute")
    category = spec.get("category")
    if category not in CATEGORIES:
        raise TemplateError(f"{where}.category", f"must be one of {', '.join(CATEGORIES)}")
    attrs: list[tuple[str, Any]] = []
    for key in ENTITY_ATTRS:
        if key not in spec:
            continue
        value, at = spec[key], f"{where}.{key}"
        if key == "deduced":
            if not isinstance(value, bool):
                raise TemplateError(at, "must be true or false")
        elif key == "type" and isinstance(value, list):
            if not value or len(value) > MAX_ENTITIES:
                raise TemplateError(at, f"must list 1 to {MAX_ENTITIES} types")
            value = frozenset(_str(v, f"{at}[{i}]") for i, v in enumerate(value))
        else:
            value = _str(value, at)
        if key == "type" and category == RESOURCE:
            kinds = value if isinstance(value, frozenset) else {value}
            bad = sorted(k for k in kinds if k not in {r.value for r in ResourceKind})
            if bad:
                raise TemplateError(
                    at, f"{bad[0]!r} is not a resource type ({', '.join(ResourceKind)})"
                )
        if key == "severity" and value not in SEVERITIES:
            raise TemplateError(at, f"must be one of {', '.join(SEVERITIES)}")
        attrs.append((key, value))
    return Entity(name, category, tuple(attrs))


def _check_clause(clause: list[Literal], ents: dict[str, Entity], where: str) -> Clause:
    for lit in clause:
        for n in lit.names:
            if n not in ents:
                raise TemplateError(where, f"names {n!r}, which is not a declared entity")
        if lit.label is not None:
            want_src, want_dst = LABELS[lit.label]
            assert lit.dst is not None
            for n, want in ((lit.src, want_src), (lit.dst, want_dst)):
                if ents[n].category != want:
                    raise TemplateError(
                        where,
                        f"in {lit.src} [{lit.label}] {lit.dst}, {n!r} must be an {want} entity",
                    )
    pos = tuple(dict.fromkeys(lit for lit in clause if not lit.negated))
    neg = tuple(dict.fromkeys(lit for lit in clause if lit.negated))
    out = Clause(pos, neg)
    bound = out.bound
    if not any(ents[n].category == ALARM for n in bound):
        raise TemplateError(where, "every alternative needs an alarm entity that is not negated")
    for lit in neg:
        if lit.label is None:
            raise TemplateError(where, f"NOT {lit.src} needs a relationship ([on], ...)")
        if not set(lit.names) & bound:
            raise TemplateError(
                where, f"NOT {lit.src} [{lit.label}] {lit.dst} names no entity bound elsewhere"
            )
    _check_connected(pos, where)
    return out


def _check_connected(pos: tuple[Literal, ...], where: str) -> None:
    names = list(dict.fromkeys(n for lit in pos for n in lit.names))
    reached = {names[0]}
    grew = True
    while grew:
        grew = False
        for lit in pos:
            if lit.dst is not None and (lit.src in reached) != (lit.dst in reached):
                reached |= {lit.src, lit.dst}
                grew = True
    apart = [n for n in names if n not in reached]
    if apart:
        raise TemplateError(
            where, f"{names[0]!r} and {apart[0]!r} are not related by the condition"
        )


_ACTION_FIELDS: dict[str, dict[str, tuple[str | None, bool]]] = {
    # field -> (category of the entity it names, or None for a value; required)
    "raise_alarm": {
        "target": (RESOURCE, True),
        "alarm_name": (None, True),
        "severity": (None, False),
        "causing_alarm": (ALARM, False),
    },
    "set_state": {"target": (RESOURCE, True), "state": (None, True)},
    "mark_down": {"target": (RESOURCE, True)},
    "add_causal_relationship": {"source": (ALARM, True), "target": (ALARM, True)},
}


def _action(spec: Any, ents: dict[str, Entity], clauses: list[Clause], where: str) -> Action:
    spec = _map(spec, where)
    if len(spec) != 1 or next(iter(spec)) not in ACTIONS:
        raise TemplateError(where, f"an action is one of {', '.join(ACTIONS)}")
    kind, params = next(iter(spec.items()))
    at = f"{where}.{kind}"
    params = _map(params, at)
    fields = _ACTION_FIELDS[kind]
    unknown = sorted(set(params) - set(fields))
    if unknown:
        raise TemplateError(f"{at}.{unknown[0]}", f"is not a field of {kind}")
    out: list[tuple[str, Any]] = []
    for name, (category, required) in fields.items():
        value = params.get(name)
        if value is None:
            if required:
                raise TemplateError(f"{at}.{name}", "is required")
            continue
        value = _str(value, f"{at}.{name}")
        if category is not None:
            if value not in ents:
                raise TemplateError(f"{at}.{name}", f"{value!r} is not a declared entity")
            if ents[value].category != category:
                raise TemplateError(f"{at}.{name}", f"{value!r} must be an {category} entity")
            if any(value not in c.bound for c in clauses):
                raise TemplateError(
                    f"{at}.{name}", f"{value!r} is not bound in every alternative of the condition"
                )
        if name == "severity" and value not in SEVERITIES:
            raise TemplateError(f"{at}.{name}", f"must be one of {', '.join(SEVERITIES)}")
        out.append((name, value))
    if kind == "raise_alarm" and "severity" not in dict(out):
        out.append(("severity", Severity.MAJOR.value))
    return Action(kind, tuple(out))


def _scenario(i: int, spec: Any, ents: dict[str, Entity]) -> Scenario:
    where = f"scenarios[{i}]"
    spec = _map(spec, where)
    unknown = sorted(set(spec) - {"name", "condition", "actions"})
    if unknown:
        raise TemplateError(f"{where}.{unknown[0]}", "is not a scenario field")
    name = spec.get("name", f"s{i}")
    if not isinstance(name, str) or not IDENT.match(name):
        raise TemplateError(f"{where}.name", "is a letter then letters, digits, _ or -")
    cond = _str(spec.get("condition"), f"{where}.condition", MAX_CONDITION)
    clauses = [
        _check_clause(c, ents, f"{where}.condition")
        for c in parse_condition(cond, f"{where}.condition")
    ]
    actions = spec.get("actions")
    if not isinstance(actions, list) or not actions:
        raise TemplateError(f"{where}.actions", "must be a non-empty list")
    if len(actions) > MAX_ACTIONS:
        raise TemplateError(f"{where}.actions", f"has {len(actions)} entries; the limit is 16")
    acts = tuple(_action(a, ents, clauses, f"{where}.actions[{j}]") for j, a in enumerate(actions))
    return Scenario(i, name, cond, tuple(clauses), acts)


def parse(text: str, *, builtin: bool = False) -> Template:
    """The template a YAML document describes; :class:`TemplateError` (422) naming the
    field and what is wrong with it."""
    if not isinstance(text, str) or not text.strip():
        raise TemplateError("", "the template is empty")
    if len(text) > MAX_TEXT:
        raise TemplateError("", f"the template is {len(text)} characters; the limit is {MAX_TEXT}")
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise TemplateError("", f"not valid YAML{where}: {getattr(exc, 'problem', exc)}") from None
    return from_document(doc, text=text, builtin=builtin)


def from_document(doc: Any, *, text: str = "", builtin: bool = False) -> Template:
    """The template a parsed document (a mapping) describes (see :func:`parse`)."""
    doc = _map(doc, "")
    unknown = sorted(set(doc) - {"metadata", "entities", "scenarios"})
    if unknown:
        raise TemplateError(unknown[0], "is not a template section")
    meta = _map(doc.get("metadata"), "metadata")
    if meta.get("version") != VERSION:
        raise TemplateError("metadata.version", f"must be {VERSION}")
    name = meta.get("name")
    if not isinstance(name, str) or not NAME.match(name):
        raise TemplateError(
            "metadata.name", "is 1 to 64 letters, digits, '_', '.' or '-' (a letter or digit first)"
        )
    description = meta.get("description") or ""
    if not isinstance(description, str) or len(description) > 1024:
        raise TemplateError("metadata.description", "must be a string of at most 1024 characters")
    raw = _map(doc.get("entities"), "entities")
    if not raw or len(raw) > MAX_ENTITIES:
        raise TemplateError("entities", f"must declare 1 to {MAX_ENTITIES} entities")
    ents = {str(n): _entity(str(n), s, f"entities.{n}") for n, s in raw.items()}
    scenarios = doc.get("scenarios")
    if not isinstance(scenarios, list) or not scenarios:
        raise TemplateError("scenarios", "must be a non-empty list")
    if len(scenarios) > MAX_SCENARIOS:
        raise TemplateError(
            "scenarios", f"has {len(scenarios)} entries; the limit is {MAX_SCENARIOS}"
        )
    parsed = tuple(_scenario(i, s, ents) for i, s in enumerate(scenarios))
    names = [s.name for s in parsed]
    dup = next((n for n in names if names.count(n) > 1), None)
    if dup:
        raise TemplateError("scenarios", f"two scenarios are named {dup!r}")
    return Template(name, description, ents, parsed, text, builtin)


def builtins() -> list[Template]:
    """The built-in templates (YAML files of this package's ``templates`` folder)."""
    folder = resources.files("nfvo.policy.rca") / "templates"
    out = []
    for item in sorted(folder.iterdir(), key=lambda p: p.name):
        if item.name.endswith(".yaml"):
            out.append(parse(item.read_text(encoding="utf-8"), builtin=True))
    return out
