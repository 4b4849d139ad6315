"""JSON types of the NS LCM request bodies (SOL005 §6.5.2 / §6.5.3), checked before planning.

Why it exists: the planners read the requests with ``.get`` chains and trust that an object
field holds an object; a hostile body with a string or a list there answered 500. One table
gives the JSON type of every field the planners read (and of the other top-level fields the
standard defines), and :func:`check_request` refuses any other type with a 400 naming the
field (``scaleVnfData[2].scaleByStepData.numberOfSteps``). A null stands for an absent field,
as everywhere in the API. Values (known ids, flavours, ranges) are still checked by the
planners; this only settles the types.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Union

from nfvo.errors import BadRequest
from nfvo.lcm.states import OpType

# A field's type: "str", "int", "bool", "object" (any JSON object), "strings" (array of
# strings), a nested Spec (an object whose listed fields are checked), or a one-element list
# holding "object" or a Spec (an array of such objects).
Kind = Union[str, "Spec", list[Any]]
Spec = Mapping[str, Kind]

_STEPS: Spec = {"aspectId": "str", "numberOfSteps": "int", "scalingDirection": "str"}
_VNF_PARAMS: Spec = {"vnfProfileId": "str", "additionalParams": "object"}
_SCALE_VNF: Spec = {
    "vnfInstanceId": "str",
    "scaleVnfType": "str",
    "scaleToLevelData": "object",
    "scaleByStepData": {"aspectId": "str", "numberOfSteps": "int", "additionalParams": "object"},
}
_HEAL_VNF: Spec = {"vnfInstanceId": "str", "cause": "str", "additionalParams": "object"}
_CHANGE_FLAVOUR: Spec = {
    "vnfInstanceId": "str",
    "newFlavourId": "str",
    "instantiationLevelId": "str",
    "additionalParams": "object",
}
_OPERATE: Spec = {"vnfInstanceId": "str", "changeStateTo": "str", "additionalParam": "object"}
_ADD_VNF: Spec = {"vnfProfileId": "str", "vnfdId": "str", "vnfInstanceName": "str"}

REQUESTS: dict[OpType, Spec] = {
    OpType.INSTANTIATE: {
        "nsFlavourId": "str",
        "nsInstantiationLevelId": "str",
        "additionalParamsForNs": "object",
        "additionalParamsForVnf": [_VNF_PARAMS],
        "additionalParamsForNestedNs": ["object"],
        "sapData": ["object"],
        "addpnfData": ["object"],
        "vnfInstanceData": ["object"],
        "nestedNsInstanceData": ["object"],
        "locationConstraints": ["object"],
        "nestedNsLocationConstraints": ["object"],
        "additionalAffinityOrAntiAffinityRule": ["object"],
        "wanConnectionData": ["object"],
        "startTime": "str",
    },
    OpType.SCALE: {
        "scaleType": "str",
        "scaleNsData": {
            "vnfInstanceToBeAdded": ["object"],
            "vnfInstanceToBeRemoved": "strings",
            "scaleNsByStepsData": _STEPS,
            "scaleNsToLevelData": "object",
            "additionalParamsForNs": "object",
            "additionalParamsForVnf": ["object"],
            "locationConstraints": ["object"],
            "nestedNslocationConstraints": ["object"],
        },
        "scaleVnfData": [_SCALE_VNF],
        "scaleTime": "str",
    },
    OpType.HEAL: {
        "healNsData": {"degreeHealing": "str", "actionsHealing": "strings", "healScript": "str"},
        "healVnfData": [_HEAL_VNF],
    },
    OpType.UPDATE: {
        "updateType": "str",
        "addVnfInstance": [_ADD_VNF],
        "removeVnfInstanceId": "strings",
        "instantiateVnfData": ["object"],
        "terminateVnfData": ["object"],
        "modifyVnfInfoData": ["object"],
        "changeExtVnfConnectivityData": ["object"],
        "changeVnfFlavourData": [_CHANGE_FLAVOUR],
        "operateVnfData": [_OPERATE],
        "addSap": ["object"],
        "removeSapId": "strings",
        "addNestedNsData": ["object"],
        "removeNestedNsId": "strings",
        "assocNewNsdVersionData": "object",
        "moveVnfInstanceData": ["object"],
        "addVnffg": ["object"],
        "removeVnffgId": "strings",
        "updateVnffg": ["object"],
        "changeNsFlavourData": "object",
        "addPnfData": ["object"],
        "modifyPnfData": ["object"],
        "removePnfInfoId": "strings",
        "updateTime": "str",
    },
    OpType.TERMINATE: {
        "terminationTime": "str",
        "terminationType": "str",
        "gracefulTerminationTimeout": "int",
    },
}
_NAMES = {
    "str": "a string",
    "int": "an integer",
    "bool": "true or false",
    "object": "a JSON object",
    "strings": "an array of strings",
}


MAX_NAME_CHARS = 255  # the NS instance name column
MAX_DESCRIPTION_CHARS = 4096


def check_create(body: Mapping[str, Any]) -> None:
    """Refuse (400) a CreateNsRequest whose name or description no column can hold: too
    long, holding a NUL character (PostgreSQL text cannot), or not a string."""
    for field, limit in (("nsName", MAX_NAME_CHARS), ("nsDescription", MAX_DESCRIPTION_CHARS)):
        value = body.get(field)
        if value is None:
            continue
        if not isinstance(value, str):
            _refuse(field, _NAMES["str"])
        if len(value) > limit or "\x00" in value:
            _refuse(field, f"a string of at most {limit} characters without NUL")


def check_request(op: OpType, body: Mapping[str, Any]) -> None:
    """Refuse (400, naming the field) a field of an ``op`` request with the wrong JSON type."""
    spec = REQUESTS.get(op)
    if spec is not None:
        _check_object(body, spec, "")


def _check_object(obj: Mapping[str, Any], spec: Spec, prefix: str) -> None:
    for name, kind in spec.items():
        value = obj.get(name)
        if value is not None:
            _check(value, kind, f"{prefix}{name}")


def _check(value: Any, kind: Kind, where: str) -> None:
    if isinstance(kind, list):
        if not isinstance(value, list):
            _refuse(where, "an array of JSON objects")
        for i, item in enumerate(value):
            _check(item, kind[0], f"{where}[{i}]")
        return
    if isinstance(kind, Mapping):
        if not isinstance(value, dict):
            _refuse(where, _NAMES["object"])
        _check_object(value, kind, f"{where}.")
        return
    if not _is(value, kind):
        _refuse(where, _NAMES[kind])


def _is(value: Any, kind: str) -> bool:
    if kind == "str":
        return isinstance(value, str)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "object":
        return isinstance(value, dict)
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _refuse(where: str, expected: str) -> None:
    raise BadRequest(f"{where} must be {expected}", field=where)
