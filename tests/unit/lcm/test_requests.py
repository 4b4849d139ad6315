"""JSON types of NS LCM request bodies: a wrong type is a 400 naming the field, never a 500."""

from __future__ import annotations

from typing import Any

import pytest

from nfvo.errors import BadRequest
from nfvo.lcm.requests import check_create, check_request
from nfvo.lcm.states import OpType

INST, S, H, U, T = OpType.INSTANTIATE, OpType.SCALE, OpType.HEAL, OpType.UPDATE, OpType.TERMINATE


@pytest.mark.parametrize(
    ("op", "body", "field"),
    [
        (INST, {"nsFlavourId": 7}, "nsFlavourId"),
        (INST, {"nsFlavourId": "df", "additionalParamsForNs": "vim"}, "additionalParamsForNs"),
        (INST, {"nsFlavourId": "df", "additionalParamsForNs": [1]}, "additionalParamsForNs"),
        (INST, {"additionalParamsForVnf": "x"}, "additionalParamsForVnf"),
        (INST, {"additionalParamsForVnf": [None]}, "additionalParamsForVnf[0]"),
        (
            INST,
            {"additionalParamsForVnf": [{"additionalParams": [1]}]},
            "additionalParamsForVnf[0].additionalParams",
        ),  # fmt: skip
        (INST, {"nsInstantiationLevelId": ["a"]}, "nsInstantiationLevelId"),
        (INST, {"locationConstraints": "everywhere"}, "locationConstraints"),
        (S, {"scaleType": 1}, "scaleType"),
        (S, {"scaleVnfData": "all"}, "scaleVnfData"),
        (S, {"scaleVnfData": [{}, 1]}, "scaleVnfData[1]"),
        (
            S,
            {"scaleVnfData": [{"scaleByStepData": {"numberOfSteps": -1.5}}]},
            "scaleVnfData[0].scaleByStepData.numberOfSteps",
        ),  # fmt: skip
        (
            S,
            {"scaleVnfData": [{"scaleByStepData": {"numberOfSteps": True}}]},
            "scaleVnfData[0].scaleByStepData.numberOfSteps",
        ),  # fmt: skip
        (S, {"scaleNsData": [1, 2]}, "scaleNsData"),
        (S, {"scaleNsData": {"scaleNsByStepsData": "x"}}, "scaleNsData.scaleNsByStepsData"),
        (H, {"healNsData": "all"}, "healNsData"),
        (H, {"healVnfData": [1]}, "healVnfData[0]"),
        (H, {"healVnfData": [{"vnfInstanceId": 7}]}, "healVnfData[0].vnfInstanceId"),
        (U, {"updateType": ["X"]}, "updateType"),
        (U, {"changeVnfFlavourData": "x"}, "changeVnfFlavourData"),
        (U, {"removeVnfInstanceId": [1]}, "removeVnfInstanceId[0]"),
        (T, {"gracefulTerminationTimeout": "soon"}, "gracefulTerminationTimeout"),
    ],
)
def test_wrong_types_are_refused_naming_the_field(op: OpType, body: dict, field: str) -> None:
    with pytest.raises(BadRequest) as err:
        check_request(op, body)
    assert err.value.status == 400
    assert err.value.extra.get("field") == field, err.value.extra
    assert field in err.value.detail


@pytest.mark.parametrize(
    ("op", "body"),
    [
        (INST, {"nsFlavourId": "df", "additionalParamsForNs": {"vimAccountId": "v"},
             "additionalParamsForVnf": [{"vnfProfileId": "web", "additionalParams": {}}]}),
        (INST, {"nsFlavourId": "df", "unknownField": [1]}),
        (S, {"scaleType": "SCALE_VNF", "scaleVnfData": [{"vnfInstanceId": "v",
             "scaleVnfType": "SCALE_OUT", "scaleByStepData": {"aspectId": "a",
                                                               "numberOfSteps": 2}}]}),
        (H, {"healVnfData": [{"vnfInstanceId": "v", "additionalParams": {"healType": "x"}}]}),
        (U, {"updateType": "REMOVE_VNF", "removeVnfInstanceId": ["a", "b"]}),
        (T, {"terminationType": "FORCEFUL", "gracefulTerminationTimeout": 10}),
    ],
)  # fmt: skip
def test_well_typed_requests_pass(op: OpType, body: dict[str, Any]) -> None:
    check_request(op, body)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"nsName": "x" * 256}, "nsName"),
        ({"nsName": "a\x00b"}, "nsName"),
        ({"nsName": "ok", "nsDescription": [1, 2]}, "nsDescription"),
        ({"nsName": "ok", "nsDescription": "d" * 4097}, "nsDescription"),
    ],
)
def test_create_refuses_what_no_column_can_hold(body: dict, field: str) -> None:
    """A 200,000-character or NUL-holding nsName reached the database (a 500); a list as
    nsDescription was stored as is."""
    with pytest.raises(BadRequest) as err:
        check_create(body)
    assert err.value.extra.get("field") == field


def test_create_accepts_names_up_to_the_column_size() -> None:
    check_create({"nsName": "x" * 255, "nsDescription": "\u202e\U0001f4a9" * 100})
