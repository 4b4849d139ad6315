"""Shapes of the NS LCM request bodies (SOL005 §6.5.2), checked before planning.

Why it exists: the planners read the requests with ``.get`` chains and trust that an object
field holds an object; a hostile body with a string or a list there answered 500, and an
unbounded list or map in a request would be stored and read back by every later step. One
table per operation gives the JSON type of every field the planners read (and of the other
top-level fields the standard defines); :func:`check_request` refuses a null, another type,
or a size beyond :mod:`nfvo.limits` with a 400 naming the field
(``scaleVnfData[2].scaleByStepData.numberOfSteps``). Values (known ids, flavours, ranges) are
still checked by the planners; this only settles types and sizes. The API and any other
caller (the policy engine) get the same checks, since they run in the LCM service.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nfvo import limits
from nfvo.errors import BadRequest
from nfvo.lcm.states import OpType

STR, INT, OBJ = limits.STRING, limits.INTEGER, limits.OBJECT
_VIM: limits.Shape = {"vimAccountId": STR}
_STEPS: limits.Shape = {"aspectId": STR, "numberOfSteps": INT, "scalingDirection": STR}
_VNF_PARAMS: limits.Shape = {
    "vnfProfileId": STR,
    "vnfInstanceName": STR,
    "vnfInstanceDescription": STR,
    "vnfConfigurableProperties": OBJ,
    "metadata": OBJ,
    "extensions": OBJ,
    "additionalParams": _VIM,
}
_SCALE_VNF: limits.Shape = {
    "vnfInstanceId": STR,
    "scaleVnfType": STR,
    "scaleToLevelData": OBJ,
    "scaleByStepData": {"aspectId": STR, "numberOfSteps": INT, "additionalParams": OBJ},
}
_HEAL_VNF: limits.Shape = {
    "vnfInstanceId": STR,
    "cause": STR,
    "additionalParams": {"vnfcInstanceIds": [STR], "healType": STR},
}
_CHANGE_FLAVOUR: limits.Shape = {
    "vnfInstanceId": STR,
    "newFlavourId": STR,
    "instantiationLevelId": STR,
    "additionalParams": OBJ,
}
_OPERATE: limits.Shape = {"vnfInstanceId": STR, "changeStateTo": STR, "additionalParam": OBJ}
_ADD_VNF: limits.Shape = {
    "vnfProfileId": STR,
    "vnfdId": STR,
    "vnfInstanceName": STR,
    "vnfInstanceDescription": STR,
}

REQUESTS: dict[OpType, dict[str, limits.Shape]] = {
    OpType.INSTANTIATE: {
        "nsFlavourId": STR,
        "nsInstantiationLevelId": STR,
        "additionalParamsForNs": _VIM,
        "additionalParamsForVnf": [_VNF_PARAMS],
        "additionalParamsForNestedNs": [OBJ],
        "sapData": [OBJ],
        "addpnfData": [OBJ],
        "vnfInstanceData": [OBJ],
        "nestedNsInstanceData": [OBJ],
        "locationConstraints": [OBJ],
        "nestedNsLocationConstraints": [OBJ],
        "additionalAffinityOrAntiAffinityRule": [OBJ],
        "wanConnectionData": [OBJ],
        "startTime": STR,
    },
    OpType.SCALE: {
        "scaleType": STR,
        "scaleNsData": {
            "vnfInstanceToBeAdded": [OBJ],
            "vnfInstanceToBeRemoved": [STR],
            "scaleNsByStepsData": _STEPS,
            "scaleNsToLevelData": OBJ,
            "additionalParamsForNs": OBJ,
            "additionalParamsForVnf": [OBJ],
            "locationConstraints": [OBJ],
            "nestedNslocationConstraints": [OBJ],
        },
        "scaleVnfData": [_SCALE_VNF],
        "scaleTime": STR,
    },
    OpType.HEAL: {
        "healNsData": {"degreeHealing": STR, "actionsHealing": [STR], "healScript": STR},
        "healVnfData": [_HEAL_VNF],
    },
    OpType.UPDATE: {
        "updateType": STR,
        "addVnfInstance": [_ADD_VNF],
        "removeVnfInstanceId": [STR],
        "instantiateVnfData": [OBJ],
        "terminateVnfData": [OBJ],
        "modifyVnfInfoData": [OBJ],
        "changeExtVnfConnectivityData": [OBJ],
        "changeVnfFlavourData": [_CHANGE_FLAVOUR],
        "operateVnfData": [_OPERATE],
        "addSap": [OBJ],
        "removeSapId": [STR],
        "addNestedNsData": [OBJ],
        "removeNestedNsId": [STR],
        "assocNewNsdVersionData": OBJ,
        "moveVnfInstanceData": [OBJ],
        "addVnffg": [OBJ],
        "removeVnffgId": [STR],
        "updateVnffg": [OBJ],
        "changeNsFlavourData": OBJ,
        "addPnfData": [OBJ],
        "modifyPnfData": [OBJ],
        "removePnfInfoId": [STR],
        "updateTime": STR,
    },
    OpType.TERMINATE: {
        "terminationTime": STR,
        "terminationType": STR,
        "gracefulTerminationTimeout": INT,
    },
}


def check_create(body: Mapping[str, Any]) -> None:
    """Refuse (400, naming the field) a CreateNsRequest whose id, name or description is not
    a string, is longer than its bound, or holds a NUL character (PostgreSQL text cannot)."""
    for field, limit in (
        ("nsdId", limits.MAX_ID),
        ("nsName", limits.MAX_NAME),
        ("nsDescription", limits.MAX_DESCRIPTION),
    ):
        if field not in body:
            continue
        value = body[field]
        if not isinstance(value, str):
            raise BadRequest(f"{field} must be a string", field=field)
        limits.check_string(value, field, limit)
        if "\x00" in value:
            raise BadRequest(f"{field} must not hold a NUL character", field=field)


def check_request(op: OpType, body: Mapping[str, Any]) -> None:
    """Refuse (400, naming the field) a field of an ``op`` request that is null, of another
    JSON type than the standard's, or beyond its bound."""
    shape = REQUESTS.get(op)
    if shape is not None:
        limits.check_body(dict(body), shape)
