"""Check real HTTP traffic against the ETSI NFV-SOL 005 V3.7.1 OpenAPI documents.

The ETSI OpenAPI files are an external reference corpus kept in ``shared/etsi`` beside the
repository root. They are read in place (never copied into the repository); tests call
:func:`etsi_available` and skip when the folder is absent.

The documents are OpenAPI 3.0.2 split over many files that point at each other with relative
``$ref`` (``../responses/SOL005_resp.yaml#/components/responses/404``,
``./definitions/X_def.yaml#/definitions/Foo``...). Non-schema parts (path items, responses) are
followed by :func:`_follow`; schemas are validated by ``jsonschema``'s Draft 4 validator with a
``referencing`` registry that loads any ETSI file on demand, so relative references inside
schemas resolve against the file they are written in.

OpenAPI 3.0 schema objects are turned into JSON Schema at load time: ``nullable: true`` widens
``type`` (and ``enum``) to accept ``null``; ``readOnly``, ``writeOnly``, ``example``,
``discriminator`` are unknown keywords to Draft 4 and therefore ignored. ``format`` is not
checked (ETSI uses non-standard formats such as ``URI``, ``url``, ``MAC``). All mapping keys are
made strings, because the ETSI files write some status codes as YAML integers (``404:``).
"""

from __future__ import annotations

import copy
import datetime
import functools
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import yaml
from jsonschema import Draft4Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

ETSI_DIR: Path = Path(__file__).resolve().parents[2].parent / "shared" / "etsi"

_SPEC_DIRS: dict[str, Path] = {
    "sol005": ETSI_DIR / "sol005",
    "sol003": ETSI_DIR / "sol003" / "SOL003",
    "sol002": ETSI_DIR / "sol003" / "SOL002",
}

# Short API names (the first segment of the API's base path) accepted in place of folder names.
_ALIASES: dict[str, str] = {
    "vnfpkgm": "VNFPackageManagement",
    "nsd": "NSDManagement",
    "nslcm": "NSLifecycleManagement",
    "nsfm": "NSFaultManagement",
    "nspm": "NSPerformanceManagement",
    "nfvici": "NFVICapacityInformation",
    "lcmcoord": "NSLCMCoordination",
    "vnfsnapshotpkgm": "VNFSnapshotPackageManagement",
    "api_versions": "APIVersion",
}

_HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_MAX_MESSAGE = 300
# HTTP statuses that never carry a body; the ETSI files still write ``content: {}`` for them.
_NO_BODY_STATUSES = frozenset({204, 205, 304})
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MAX_SUB_ERRORS = 6
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

REPAIRS: dict[str, list[str]] = {}
"""Upstream slips fixed while loading, per file (relative to ETSI_DIR); filled as files load."""


def etsi_available() -> bool:
    """True when the SOL005 OpenAPI corpus is present beside the repository."""
    return (_SPEC_DIRS["sol005"] / "APIVersion" / "APIVersion.yaml").is_file()


def skip_reason() -> str:
    """The message tests give ``pytest.skip`` when the corpus is missing."""
    return f"ETSI corpus not found at {ETSI_DIR}; place the shared/etsi folder beside the repo"


# --------------------------------------------------------------------------- loading


def _to_json(node: Any, repairs: list[str], pointer: str = "") -> Any:
    """YAML tree -> JSON-compatible tree; OpenAPI 3.0 ``nullable`` becomes JSON Schema.

    Known slips of the ETSI files are repaired and described in ``repairs``.
    """
    if isinstance(node, dict):
        out = {
            str(k): _to_json(v, repairs, f"{pointer}/{_escape(str(k))}") for k, v in node.items()
        }
        if isinstance(out.get("nullable"), bool):
            if out.pop("nullable"):
                _make_nullable(out)
        _repair(out, repairs, pointer)
        return out
    if isinstance(node, list):
        return [_to_json(item, repairs, f"{pointer}/{i}") for i, item in enumerate(node)]
    if isinstance(node, datetime.date | datetime.datetime):
        return node.isoformat()
    return node


def _repair(schema: dict[str, Any], repairs: list[str], pointer: str) -> None:
    """Undo two indentation slips seen upstream (``items:`` / ``type:`` left empty)."""
    ref = schema.get("$ref")
    if "items" in schema and schema["items"] is None and isinstance(ref, str):
        if schema.get("type") == "array":
            schema["items"] = {"$ref": schema.pop("$ref")}
            repairs.append(f"{pointer}: empty 'items' with sibling $ref -> items: {{$ref: {ref}}}")
    if "type" in schema and schema["type"] is None:
        del schema["type"]
        repairs.append(f"{pointer}: empty 'type' dropped")
    # NsLcmOpOcc.operationParams repeats lcmOperationType's string enum, while its own
    # description says it holds the request (InstantiateNsRequest, ScaleNsRequest...).
    if pointer.endswith("/NsLcmOpOcc/properties/operationParams") and schema.get("enum"):
        schema.pop("enum")
        schema["type"] = "object"
        repairs.append(f"{pointer}: string enum -> object (the request of the operation)")
    # PnfdOnboardingStateType lists ONBOARDING where its own description and SOL005
    # table 5.5.4.6-1 say ONBOARDED.
    enum = schema.get("enum")
    if pointer.endswith("/PnfdOnboardingStateType") and isinstance(enum, list):
        if "ONBOARDING" in enum and "ONBOARDED" not in enum:
            schema["enum"] = ["ONBOARDED" if e == "ONBOARDING" else e for e in enum]
            repairs.append(f"{pointer}: enum ONBOARDING -> ONBOARDED (SOL005 table 5.5.4.6-1)")


def _make_nullable(schema: dict[str, Any]) -> None:
    kind = schema.get("type")
    if isinstance(kind, str):
        schema["type"] = [kind, "null"]
    enum = schema.get("enum")
    if isinstance(enum, list) and None not in enum:
        schema["enum"] = [*enum, None]


def _array_of_ref(node: dict[str, Any]) -> dict[str, Any] | None:
    """``{$ref: X}`` -> ``{type: array, items: {$ref: X}}`` (None once upstream is fixed)."""
    if "$ref" not in node or "type" in node:
        return None
    return {
        "description": node.get("description", ""),
        "type": "array",
        "items": {"$ref": node["$ref"]},
    }


def _array_of_strings(node: dict[str, Any]) -> dict[str, Any] | None:
    """``{type: string, enum: [...]}`` -> an array of such strings (None once fixed)."""
    if node.get("type") != "string":
        return None
    item = {k: v for k, v in node.items() if k != "description"}
    return {"description": node.get("description", ""), "type": "array", "items": item}


def _without_alternatives(node: dict[str, Any]) -> dict[str, Any] | None:
    """Drop the ``oneOf``/``anyOf`` that make one identifier attribute mandatory in a
    subscription filter: the spec tables give every filter attribute 0..N, and a filter of
    notification types alone is valid (None once fixed)."""
    if "oneOf" not in node and "anyOf" not in node:
        return None
    return {k: v for k, v in node.items() if k not in ("oneOf", "anyOf")}


def _identifier(node: dict[str, Any]) -> dict[str, Any] | None:
    """``{$ref: .../Uri}`` -> ``{$ref: .../Identifier}`` (None once fixed)."""
    ref = node.get("$ref")
    if not isinstance(ref, str) or not ref.endswith("/Uri"):
        return None
    return {**node, "$ref": ref.removesuffix("/Uri") + "/Identifier"}


def _number(node: dict[str, Any]) -> dict[str, Any] | None:
    """``type: integer`` (or ``object``) -> ``type: number`` (None once fixed)."""
    if node.get("type") not in ("integer", "object"):
        return None
    return {k: v for k, v in node.items() if k not in ("type", "properties")} | {"type": "number"}


def _reports_array(node: dict[str, Any]) -> dict[str, Any] | None:
    """PmJob.reports: one object -> an array of {href, readyTime, expiryTime?, fileSize?}
    (table 7.5.2.7-1: 0..N; the entries carry no _links) (None once fixed)."""
    if node.get("type") != "object":
        return None
    props = {k: v for k, v in (node.get("properties") or {}).items() if k != "_links"}
    item = {"type": "object", "required": ["href", "readyTime"], "properties": props}
    return {"description": node.get("description", ""), "type": "array", "items": item}


def _report_entry(node: dict[str, Any]) -> dict[str, Any] | None:
    """PerformanceReport.entries[]: ``required`` names performanceValue where the property
    (and table 7.5.2.10-1) is performanceValues; subObjectInstanceId is one identifier."""
    required = node.get("required") or []
    if "performanceValue" not in required:
        return None
    props = dict(node.get("properties") or {})
    sub = props.get("subObjectInstanceId") or {}
    if sub.get("type") == "array":
        props["subObjectInstanceId"] = {"description": sub.get("description", "")} | sub["items"]
    fixed = [("performanceValues" if r == "performanceValue" else r) for r in required]
    return {**node, "required": fixed, "properties": props}


def _report_value(node: dict[str, Any]) -> dict[str, Any] | None:
    """PerformanceReport.entries[].performanceValues[]: ``required`` names performanceValue
    where the property is value, typed object where the table gives a number."""
    required = node.get("required") or []
    if "performanceValue" not in required:
        return None
    props = dict(node.get("properties") or {})
    props["value"] = {"type": "number"}
    fixed = [("value" if r == "performanceValue" else r) for r in required]
    return {**node, "required": fixed, "properties": props}


_VNFPKGM_DEF = "sol005/VNFPackageManagement/definitions/SOL005VNFPackageManagement_def.yaml"
_NSD_DEF = "sol005/NSDManagement/definitions/SOL005NSDescriptorManagement_def.yaml"
_NSPM_DEF = "sol005/NSPerformanceManagement/definitions/SOL005NSPerformanceManagement_def.yaml"
_NSPM_NOTE_DEF = (
    "sol005/NSPerformanceManagementNotification/definitions/"
    "SOL005NSPerformanceManagementNotification_def.yaml"
)
_SIMPLE = "/definitions/ThresholdCriteria/properties/simpleThresholdDetails/properties"
_ENTRY = "/definitions/PerformanceReport/properties/entries/items"
_NSFM_NOTE_DEF = (
    "sol005/NSFaultManagementNotification/definitions/SOL005NSFaultManagementNotification_def.yaml"
)


def _alarm_notification_type(node: dict[str, Any]) -> dict[str, Any] | None:
    """AlarmNotification.notificationType enum ``[AlarmClearedNotification]`` ->
    ``[AlarmNotification]`` (table 8.5.2.5-1; None once fixed)."""
    if node.get("enum") != ["AlarmClearedNotification"]:
        return None
    return {**node, "enum": ["AlarmNotification"]}


# Where the YAML contradicts the spec tables: (file, JSON pointer) -> (fix, what it does).
# docs/conformance.md lists the same deviations for users.
_ERRATA: dict[tuple[str, str], tuple[Any, str]] = {
    (_VNFPKGM_DEF, "/definitions/VnfPkgInfo/properties/compatibleSpecificationVersions"): (
        _array_of_ref,
        "single value -> array (spec cardinality 0..N)",
    ),
    (_VNFPKGM_DEF, "/definitions/PkgmNotificationsFilter/properties/notificationTypes"): (
        _array_of_strings,
        "single value -> array (table 9.5.3.2-1: 0..N)",
    ),
    (_VNFPKGM_DEF, "/definitions/PkgmNotificationsFilter"): (
        _without_alternatives,
        "oneOf of required identifiers dropped (table 9.5.3.2-1: each 0..N)",
    ),
    (_VNFPKGM_DEF, "/definitions/PkgmSubscription/properties/id"): (
        _identifier,
        "Uri -> Identifier (table 9.5.2.4-1: the identifier of the subscription)",
    ),
    (_NSFM_NOTE_DEF, "/definitions/AlarmNotification/properties/notificationType"): (
        _alarm_notification_type,
        "enum AlarmClearedNotification -> AlarmNotification (table 8.5.2.5-1)",
    ),
    (_NSD_DEF, "/definitions/NsdmNotificationsFilter"): (
        _without_alternatives,
        "anyOf/oneOf of required identifiers dropped (table 5.5.3.2-1: each 0..N)",
    ),
    # nspm (docs/nspm.md lists these)
    (_NSPM_DEF, "/definitions/PmJob/properties/reports"): (
        _reports_array,
        "object -> array (table 7.5.2.7-1: reports 0..N)",
    ),
    (_NSPM_DEF, f"{_SIMPLE}/thresholdValue"): (_number, "integer -> number (table 7.5.3.4-2)"),
    (_NSPM_DEF, f"{_SIMPLE}/hysteresis"): (_number, "integer -> number (table 7.5.3.4-2)"),
    (_NSPM_DEF, _ENTRY): (_report_entry, "required performanceValue -> performanceValues"),
    (_NSPM_DEF, f"{_ENTRY}/properties/performanceValues/items"): (
        _report_value,
        "required performanceValue -> value, a number",
    ),
    (_NSPM_NOTE_DEF, "/definitions/ThresholdCrossedNotification/properties/performanceValue"): (
        _number,
        "object -> number (the measured value)",
    ),
}


def _apply_errata(path: Path, document: Any, repairs: list[str]) -> None:
    for (suffix, pointer), (fix, message) in _ERRATA.items():
        if not path.as_posix().endswith("/" + suffix):
            continue
        *parents, last = pointer.split("/")[1:]
        parent = document
        for key in parents:
            parent = parent.get(key) if isinstance(parent, dict) else None
        if not isinstance(parent, dict) or not isinstance(parent.get(last), dict):
            continue
        replacement = fix(parent[last])
        if replacement is not None:
            parent[last] = replacement
            repairs.append(f"{pointer}: {message}")


@functools.cache
def _load(path: Path) -> Any:
    """One ETSI YAML file, converted by :func:`_to_json`; cached for the whole test session."""
    try:
        with path.open("rb") as handle:
            raw = yaml.load(handle, Loader=_LOADER)
    except FileNotFoundError:
        raise AssertionError(f"ETSI OpenAPI file not found: {_short(path)}") from None
    repairs: list[str] = []
    converted = _to_json(raw, repairs)
    _apply_errata(path, converted, repairs)
    if repairs:
        REPAIRS[_short(path)] = repairs
    return converted


def _short(path: Path) -> str:
    try:
        return str(path.relative_to(ETSI_DIR.resolve()))
    except ValueError:
        return path.name


@functools.cache
def _retrieve(uri: str) -> Resource:
    path = Path(unquote(urlsplit(uri).path))
    return Resource(contents=_load(path), specification=DRAFT4)


_REGISTRY: Registry = Registry(retrieve=_retrieve)  # type: ignore[call-arg]
_VALIDATORS: dict[str, Draft4Validator] = {}


def _validator(schema_uri: str) -> Draft4Validator:
    validator = _VALIDATORS.get(schema_uri)
    if validator is None:
        validator = Draft4Validator({"$ref": schema_uri}, registry=_REGISTRY)
        _VALIDATORS[schema_uri] = validator
    return validator


# --------------------------------------------------------------------------- $ref following


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


@dataclass(frozen=True)
class _Loc:
    """A node of an ETSI document together with where it lives (file + JSON pointer)."""

    file: Path
    pointer: str
    node: Any

    def uri(self) -> str:
        return f"{self.file.as_uri()}#{quote(self.pointer, safe='/~')}"

    def child(self, *keys: str) -> _Loc:
        node, pointer = self.node, self.pointer
        for key in keys:
            node = node[key]
            pointer = f"{pointer}/{_escape(key)}"
        return _Loc(self.file, pointer, node)


def _resolve_ref(base: Path, ref: str) -> _Loc:
    """Resolve ``ref`` written in file ``base``; AssertionError names a broken reference."""
    file_part, _, fragment = ref.partition("#")
    target = (base.parent / unquote(file_part)).resolve() if file_part else base
    node = _load(target)
    pointer = unquote(fragment)
    for raw in pointer.split("/")[1:]:
        key: Any = raw.replace("~1", "/").replace("~0", "~")
        try:
            node = node[int(key)] if isinstance(node, list) else node[key]
        except (KeyError, IndexError, TypeError, ValueError):
            raise AssertionError(
                f"broken $ref {ref!r} in {_short(base)}: {key!r} not found"
            ) from None
    return _Loc(target, pointer, node)


def _follow(loc: _Loc) -> _Loc:
    """Follow ``$ref`` chains (path items, responses, schemas) to the referenced node."""
    for _ in range(32):
        if not (isinstance(loc.node, dict) and isinstance(loc.node.get("$ref"), str)):
            return loc
        loc = _resolve_ref(loc.file, loc.node["$ref"])
    raise AssertionError(f"$ref chain too long (loop?) at {loc.uri()}")


def _iter_refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _iter_refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _iter_refs(item)


# --------------------------------------------------------------------------- paths


def _server_base(document: dict[str, Any]) -> str:
    servers = document.get("servers") or [{"url": "/"}]
    return urlsplit(str(servers[0].get("url", "/"))).path.rstrip("/")


def _base_regex(base: str) -> str:
    """``/vnfpkgm/v2`` -> a pattern accepting any major version (``/vnfpkgm/v1`` too)."""
    versioned = re.fullmatch(r"(.*)/v\d+", base)
    if versioned:
        return re.escape(versioned.group(1)) + r"/v\d+"
    return re.escape(base)


def _template_regex(template: str) -> re.Pattern[str]:
    """``{artifactPath}`` may span several segments; every other parameter is one segment."""
    out = []
    for part in re.split(r"(\{[^}/]+\})", template):
        if part.startswith("{") and part.endswith("}"):
            out.append(".+" if part[1:-1] == "artifactPath" else "[^/]+")
        else:
            out.append(re.escape(part))
    return re.compile("".join(out))


def _specificity(template: str) -> tuple[int, int]:
    params = re.findall(r"\{[^}/]+\}", template)
    literal = len(template) - sum(len(p) for p in params)
    return (len(params), -literal)


def _has_body(body: Any) -> bool:
    return body is not None and body != b"" and body != ""


# --------------------------------------------------------------------------- errors


def _error_key(error: ValidationError) -> tuple[list[str], str]:
    return ([str(part) for part in error.absolute_path], error.message)


def _json_path(parts: Iterable[str | int]) -> str:
    """``['_links', 'vnfd']`` -> ``$._links.vnfd``; ``[1, 'a b']`` -> ``$[1]['a b']``."""
    out = "$"
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _IDENTIFIER.fullmatch(part):
            out += f".{part}"
        else:
            out += f"[{part!r}]"
    return out


def _error_lines(error: ValidationError, indent: str, depth: int = 0) -> list[str]:
    message = error.message
    if len(message) > _MAX_MESSAGE:
        message = message[:_MAX_MESSAGE] + "..."
    lines = [f"{indent}{_json_path(error.absolute_path)}: {message}"]
    if error.context and depth < 2:
        subs = sorted(error.context, key=_error_key)
        for sub in subs[:_MAX_SUB_ERRORS]:
            lines.extend(_error_lines(sub, indent + "    ", depth + 1))
        if len(subs) > _MAX_SUB_ERRORS:
            lines.append(f"{indent}    ... {len(subs) - _MAX_SUB_ERRORS} more")
    return lines


def _schema_errors(schema: _Loc, body: Any) -> tuple[int, list[str]]:
    errors = sorted(_validator(schema.uri()).iter_errors(body), key=_error_key)
    lines: list[str] = []
    for error in errors:
        lines.extend(_error_lines(error, "  "))
    return len(errors), lines


def _schema_name(schema: _Loc) -> str:
    ref = schema.node.get("$ref") if isinstance(schema.node, dict) else None
    if isinstance(ref, str):
        return ref.rsplit("/", 1)[-1]
    return f"{_short(schema.file)}#{schema.pointer}"


def _pick_media(content: dict[str, Any], content_type: str, where: str) -> str:
    """The declared media type that ``content_type`` falls under (AssertionError if none).

    The ETSI files declare ProblemDetails bodies as ``application/json`` although SOL013 sends
    them as ``application/problem+json``; the latter is accepted for the former.
    """
    wanted = content_type.split(";", 1)[0].strip().lower()
    declared = {key.lower(): key for key in content}
    if wanted in declared:
        return declared[wanted]
    if wanted == "application/problem+json" and "application/json" in declared:
        return declared["application/json"]
    for candidate in (wanted.split("/", 1)[0] + "/*", "*/*"):
        if candidate in declared:
            return declared[candidate]
    raise AssertionError(
        f"content type {wanted!r} not declared for {where}; declared: {sorted(content)}"
    )


# --------------------------------------------------------------------------- API documents


class EtsiApi:
    """One ETSI OpenAPI document (SOL005 by default) with all its ``$ref``s resolvable.

    It exists so tests can say "this real response is what the standard specifies" without
    hand-copying ETSI schemas: the path template, method and status select the response
    object, and the body is validated against the schema the document points at.
    """

    def __init__(self, name: str, spec: str = "sol005") -> None:
        if spec not in _SPEC_DIRS:
            raise ValueError(f"unknown spec {spec!r}; expected one of {sorted(_SPEC_DIRS)}")
        self.name = _ALIASES.get(name, name)
        self.spec = spec
        self.file = (_SPEC_DIRS[spec] / self.name / f"{self.name}.yaml").resolve()
        if not self.file.is_file():
            raise FileNotFoundError(f"no {spec} OpenAPI document named {self.name!r}")
        self.document: dict[str, Any] = _load(self.file)
        self.base_path = _server_base(self.document)
        self._base_re = _base_regex(self.base_path)
        self._templates: dict[str, str] = {
            self._normalise(key): key for key in self.document.get("paths") or {}
        }
        ordered = sorted(self._templates, key=_specificity)
        self._matchers = [(_template_regex(t), t) for t in ordered]

    def __repr__(self) -> str:
        return f"EtsiApi({self.name!r}, spec={self.spec!r})"

    def _normalise(self, key: str) -> str:
        """Drop a base path written into a path key (NSLifecycleManagement's ``/nslcm/v1/...``)."""
        if self.base_path:
            match = re.match(self._base_re + r"(?=/)", key)
            if match:
                return key[match.end() :]
        return key

    def paths(self) -> list[str]:
        """The path templates, relative to the API base path (e.g. ``/vnf_packages/{vnfPkgId}``)."""
        return sorted(self._templates)

    def match_path(self, concrete_path: str) -> str:
        """The template a concrete request path (or URL) falls under.

        ``/vnfpkgm/v2/vnf_packages/123`` -> ``/vnf_packages/{vnfPkgId}``. Any major version is
        accepted in the base path, an apiRoot prefix before it is tolerated, and a path that is
        already relative to the base path is matched as is.
        """
        path = urlsplit(concrete_path).path or "/"
        relative = path
        if self.base_path:
            pattern = rf"(?:/[^/]+)*?{self._base_re}(?P<rest>/.*)?"
            match = re.fullmatch(pattern, path)
            if match:
                relative = match.group("rest") or "/"
        for regex, template in self._matchers:
            if regex.fullmatch(relative):
                return template
        raise AssertionError(
            f"{concrete_path!r} matches no path of {self.name} "
            f"(base {self.base_path or '/'}); known: {self.paths()}"
        )

    # ------------------------------------------------------------------ lookups

    def _operation(self, path_template: str, method: str) -> _Loc:
        key = self._templates.get(path_template)
        if key is None and path_template in (self.document.get("paths") or {}):
            key = path_template
        if key is None:
            raise AssertionError(
                f"unknown path template {path_template!r} in {self.name}; known: {self.paths()}"
            )
        item = _follow(_Loc(self.file, "", self.document).child("paths", key))
        verb = method.lower()
        if verb not in item.node:
            declared = [m.upper() for m in item.node if m in _HTTP_METHODS]
            raise AssertionError(
                f"undeclared method {method.upper()} for {path_template} in {self.name}; "
                f"declared: {declared}"
            )
        return item.child(verb)

    def _response(self, path_template: str, method: str, status: int) -> _Loc:
        responses = _follow(self._operation(path_template, method).child("responses"))
        for key in (str(status), f"{int(status) // 100}XX", "default"):
            if key in responses.node:
                return _follow(responses.child(key))
        raise AssertionError(
            f"undeclared status {status} for {method.upper()} {path_template} in {self.name}; "
            f"declared: {sorted(responses.node)}"
        )

    def _media_schema(
        self, path_template: str, method: str, status: int, content_type: str
    ) -> tuple[bool, str | None, _Loc | None]:
        """(body allowed, media type, schema location) for one response."""
        response = self._response(path_template, method, status)
        content = response.node.get("content")
        if content is None or int(status) in _NO_BODY_STATUSES:
            return (False, None, None)
        if not content:
            return (True, None, None)
        where = f"{method.upper()} {path_template} {status} in {self.name}"
        media = _pick_media(content, content_type, where)
        if not isinstance(content[media], dict) or "schema" not in content[media]:
            return (True, media, None)
        return (True, media, response.child("content", media, "schema"))

    def response_schema(
        self,
        path_template: str,
        method: str,
        status: int,
        content_type: str = "application/json",
    ) -> dict | None:
        """The schema object of a response (``$ref`` chain followed), or None if it has none.

        None means no body (e.g. 204) or an untyped one (``content: {}`` for package files).
        An undeclared method, status or content type raises AssertionError.
        """
        _, _, schema = self._media_schema(path_template, method, status, content_type)
        return None if schema is None else copy.deepcopy(_follow(schema).node)

    def validate_response(
        self,
        path_template: str,
        method: str,
        status: int,
        body: Any,
        content_type: str = "application/json",
    ) -> None:
        """Raise AssertionError listing every schema error (JSON path + message) in ``body``.

        ``body`` is the decoded JSON (bytes are decoded as JSON). A response declared without
        content must have an empty body; untyped content (binary files) is not inspected.
        """
        allowed, media, schema = self._media_schema(path_template, method, status, content_type)
        where = f"{self.name} {method.upper()} {path_template} {status}"
        if not allowed:
            # Some responses with a body (e.g. 206 Partial Content of a package) declare no
            # content at all in the ETSI files; only the no-body statuses are enforced.
            if status in (204, 205, 304) and _has_body(body):
                raise AssertionError(f"{where}: declares no content but a body was given")
            return
        if schema is not None:
            self._check(schema, body, f"{where} ({media}): response body")

    def validate_request(
        self,
        path_template: str,
        method: str,
        body: Any,
        content_type: str = "application/json",
    ) -> None:
        """Like :meth:`validate_response` for a request body (e.g. a notification we send)."""
        operation = self._operation(path_template, method)
        if "requestBody" not in operation.node:
            if _has_body(body):
                raise AssertionError(f"{self.name} {method.upper()} {path_template}: no body")
            return
        request = _follow(operation.child("requestBody"))
        content = request.node.get("content") or {}
        where = f"{self.name} {method.upper()} {path_template} request"
        if not content:
            return
        media = _pick_media(content, content_type, where)
        if isinstance(content[media], dict) and "schema" in content[media]:
            self._check(request.child("content", media, "schema"), body, f"{where} ({media})")

    def _check(self, schema: _Loc, body: Any, where: str) -> None:
        if isinstance(body, bytes | bytearray):
            body = json.loads(body)
        count, lines = _schema_errors(schema, body)
        if count:
            plural = "error" if count == 1 else "errors"
            header = f"{where} does not match {_schema_name(schema)} ({count} {plural}):"
            raise AssertionError("\n".join([header, *lines]))

    def declared_responses(self) -> Iterator[tuple[str, str, str]]:
        """(template, METHOD, status) for every declared response; handy for coverage reports."""
        root = _Loc(self.file, "", self.document)
        for template in self.paths():
            item = _follow(root.child("paths", self._templates[template]))
            for verb in _HTTP_METHODS:
                if verb in item.node:
                    for status in sorted(_follow(item.child(verb, "responses")).node):
                        yield (template, verb.upper(), status)

    # ------------------------------------------------------------------ corpus checks

    def referenced_files(self) -> list[Path]:
        """Every file reachable from this document through ``$ref`` (the document included)."""
        return sorted(self._crawl()[0])

    def broken_refs(self) -> list[str]:
        """Human-readable descriptions of ``$ref``s that do not resolve (empty when sound)."""
        return self._crawl()[1]

    def _crawl(self) -> tuple[set[Path], list[str]]:
        seen: set[Path] = set()
        problems: list[str] = []
        todo = [self.file]
        while todo:
            current = todo.pop()
            if current in seen:
                continue
            seen.add(current)
            for ref in sorted(set(_iter_refs(_load(current)))):
                try:
                    todo.append(_resolve_ref(current, ref).file)
                except AssertionError as exc:
                    problems.append(str(exc))
        return seen, problems


@functools.cache
def get_api(name: str, spec: str = "sol005") -> EtsiApi:
    """A cached :class:`EtsiApi` (documents are loaded once per test session)."""
    return EtsiApi(name, spec)


def available_apis(spec: str = "sol005") -> list[str]:
    """Names of the API documents present for ``spec`` (folder ``X`` holding ``X/X.yaml``)."""
    root = _SPEC_DIRS[spec]
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / f"{p.name}.yaml").is_file())


def validate(
    api: str,
    method: str,
    concrete_path: str,
    status: int,
    body: Any,
    content_type: str = "application/json",
) -> None:
    """Validate one real response of SOL005 API ``api`` (e.g. ``"VNFPackageManagement"``)."""
    document = get_api(api)
    template = document.match_path(concrete_path)
    document.validate_response(template, method, status, body, content_type)


def validate_http_response(api: str, response: Any) -> None:
    """Validate an ``httpx``-style response object (FastAPI's TestClient returns those)."""
    content_type = response.headers.get("content-type", "application/json")
    raw = response.content
    body: Any = raw
    if raw and "json" in content_type.split(";", 1)[0]:
        body = json.loads(raw)
    validate(
        api,
        response.request.method,
        str(response.request.url),
        response.status_code,
        body if raw else None,
        content_type,
    )
