"""NS life-cycle management (SOL005 §6.5): requests and representations."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from nfvo.api.models.common import Closed, KeyValuePairs, Link, Open, ProblemDetails, optional
from nfvo.limits import MAX_DESCRIPTION, MAX_ID, MAX_LIST, MAX_NAME

Id = str
IdList = list[Id]
_MAP = "free-form key-value pairs, at most 64 KiB as JSON"


class CreateNsRequest(Open):
    """SOL005 §6.5.2.9."""

    nsdId: str = Field(min_length=1, max_length=MAX_ID, description="the NSD's descriptor id")
    nsName: str = Field(min_length=1, max_length=MAX_NAME)
    nsDescription: str = optional(max_length=MAX_DESCRIPTION)


class ParamsForVnf(Open):
    """SOL005 §6.5.3.22: per-VNF parameters (``additionalParams.vimAccountId`` places it)."""

    vnfProfileId: str = Field(min_length=1, max_length=MAX_ID)
    vnfInstanceName: str = optional(max_length=MAX_NAME)
    vnfInstanceDescription: str = optional(max_length=MAX_DESCRIPTION)
    vnfConfigurableProperties: KeyValuePairs = optional(_MAP)
    metadata: KeyValuePairs = optional(_MAP)
    extensions: KeyValuePairs = optional(_MAP)
    additionalParams: KeyValuePairs = optional(_MAP)


class InstantiateNsRequest(Open):
    """SOL005 §6.5.2.11 (``additionalParamsForNs.vimAccountId`` names the VIM account)."""

    nsFlavourId: str = Field(min_length=1, max_length=MAX_ID)
    nsInstantiationLevelId: str = optional(max_length=MAX_ID)
    additionalParamsForNs: KeyValuePairs = optional(_MAP)
    additionalParamsForVnf: list[ParamsForVnf] = optional(max_length=MAX_LIST)
    startTime: str = optional()


class TerminateNsRequest(Open):
    """SOL005 §6.5.2.15."""

    terminationTime: str = optional()
    terminationType: Literal["GRACEFUL", "FORCEFUL"] = optional()


class ScaleNsRequest(Open):
    """SOL005 §6.5.2.14."""

    scaleType: Literal["SCALE_NS", "SCALE_VNF"]
    scaleNsData: dict[str, Any] = optional()
    scaleVnfData: list[dict[str, Any]] = optional(max_length=MAX_LIST)
    scaleTime: str = optional()


class HealVnfData(Open):
    """SOL005 §6.5.3.44."""

    vnfInstanceId: str = Field(min_length=1, max_length=MAX_ID)
    cause: str = optional(max_length=MAX_DESCRIPTION)
    additionalParams: KeyValuePairs = optional(_MAP)


class HealNsRequest(Open):
    """SOL005 §6.5.2.13."""

    healNsData: dict[str, Any] = optional()
    healVnfData: list[HealVnfData] = optional(max_length=MAX_LIST)


class UpdateNsRequest(Open):
    """SOL005 §6.5.2.12."""

    updateType: str = Field(min_length=1, max_length=MAX_ID)
    addVnfInstance: list[dict[str, Any]] = optional(max_length=MAX_LIST)
    removeVnfInstanceId: IdList = optional(max_length=MAX_LIST)
    instantiateVnfData: list[dict[str, Any]] = optional(max_length=MAX_LIST)
    changeVnfFlavourData: list[dict[str, Any]] = optional(max_length=MAX_LIST)
    operateVnfData: list[dict[str, Any]] = optional(max_length=MAX_LIST)
    modifyVnfInfoData: list[dict[str, Any]] = optional(max_length=MAX_LIST)
    updateTime: str = optional()


class CancelMode(Closed):
    """SOL005 §6.5.2.16."""

    cancelMode: Literal["GRACEFUL", "FORCEFUL"]


class NsScaleInfo(Open):
    """SOL005 §6.5.3.55."""

    nsScalingAspectId: str
    nsScaleLevelId: str


class NsInstanceLinks(Open):
    """Links of an NsInstance."""

    self: Link
    instantiate: Link | None = None
    terminate: Link | None = None
    scale: Link | None = None
    update: Link | None = None
    heal: Link | None = None
    currentLcmOpOcc: Link | None = None


class NsInstance(Open):
    """SOL005 §6.5.2.10 (attributes outside ``fields``/``exclude_fields`` may be absent)."""

    id: str
    nsInstanceName: str | None = None
    nsInstanceDescription: str | None = None
    nsdId: str | None = None
    nsdInfoId: str | None = None
    flavourId: str | None = None
    vnfInstance: list[dict[str, Any]] | None = None
    pnfInfo: list[dict[str, Any]] | None = None
    virtualLinkInfo: list[dict[str, Any]] | None = None
    nestedNsInstanceId: list[str] | None = None
    nsState: str | None = None
    nsScaleStatus: list[NsScaleInfo] | None = None
    links: NsInstanceLinks = Field(alias="_links")


class NsLcmOpOccLinks(Open):
    """Links of an NsLcmOpOcc."""

    self: Link
    nsInstance: Link | None = None
    retry: Link | None = None
    rollback: Link | None = None
    continue_: Link | None = Field(None, alias="continue")
    fail: Link | None = None
    cancel: Link | None = None


class NsLcmOpOcc(Open):
    """SOL005 §6.5.2.3."""

    id: str
    operationState: str | None = None
    statusEnteredTime: str | None = None
    nsInstanceId: str | None = None
    lcmOperationType: str | None = None
    startTime: str | None = None
    isAutomaticInvocation: bool | None = None
    operationParams: dict[str, Any] | None = None
    isCancelPending: bool | None = None
    cancelMode: Literal["GRACEFUL", "FORCEFUL"] | None = None
    error: ProblemDetails | None = None
    resourceChanges: dict[str, Any] | None = None
    links: NsLcmOpOccLinks = Field(alias="_links")
