"""``/admin/v1`` placement records: the decision an NS LCM operation occurrence took."""

from __future__ import annotations

from pydantic import Field

from nfvo.api.models.common import Open


class FilterVerdictView(Open):
    """What one placement filter did for one VDU instance."""

    filter: str
    removed: int
    examples: list[str] = []


class VduRef(Open):
    """Which VDU instance an entry is about."""

    vnfInstanceId: str
    vduId: str
    index: int


class PlacedVdu(VduRef):
    """Where one VDU instance went."""

    host: str
    zone: str | None = None


class UnplacedVdu(VduRef):
    """A VDU instance no host could take, and why."""

    reason: str


class VduExplanation(VduRef):
    """Why a VDU instance went where it went (or nowhere): the filters in the order they
    ran with the hosts each removed, the candidates left, the chosen host's score."""

    demandId: str
    host: str | None = None
    zone: str | None = None
    score: float | None = None
    candidates: int = 0
    filtered: list[FilterVerdictView] = []
    reason: str | None = None
    blockingRule: str | None = None
    blockingDimension: str | None = None


class VimPlacementDecision(Open):
    """The optimizer's answer for one VIM: strategy, bounds, assignment, explanations."""

    vimAccountId: str
    strategy: str
    algorithm: str
    objective: float = Field(description="Hosts holding the VDU instances placed")
    lowerBound: float = Field(description="A proven minimum of the objective")
    bounds: dict[str, float] = Field(default_factory=dict, description="Each bound computed")
    gap: float = Field(description="(objective - lowerBound) / objective")
    solveTimeS: float
    boundTimeS: float = 0.0
    assignments: list[PlacedVdu] = []
    unplaced: list[UnplacedVdu] = []
    explanations: list[VduExplanation] = []


class OpPlacementRecord(Open):
    """The placement decision an NS LCM operation occurrence recorded, per VIM."""

    nsLcmOpOccId: str
    nsInstanceId: str
    operation: str
    recordedAt: str
    vims: list[VimPlacementDecision]
