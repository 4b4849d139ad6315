"""Catalog state types, declared once (ETSI GS NFV-SOL 005 §9.5.4 / §5.5.4, Annex B.2)."""

from __future__ import annotations

from enum import StrEnum


class PackageKind(StrEnum):
    """What a catalog entry holds: a VNF package, an NSD archive or a PNFD archive."""

    vnf = "vnf"
    nsd = "nsd"
    pnfd = "pnfd"


class OnboardingState(StrEnum):
    """PackageOnboardingStateType / NsdOnboardingStateType (SOL005 §9.5.4.3, §5.5.4.5)."""

    CREATED = "CREATED"
    UPLOADING = "UPLOADING"
    PROCESSING = "PROCESSING"
    ONBOARDED = "ONBOARDED"
    ERROR = "ERROR"


class OperationalState(StrEnum):
    """PackageOperationalStateType / NsdOperationalStateType (SOL005 §9.5.4.4, §5.5.4.3)."""

    ENABLED = "ENABLED"
    DISABLED = "DISABLED"


class UsageState(StrEnum):
    """PackageUsageStateType / NsdUsageStateType (SOL005 §9.5.4.5, §5.5.4.4)."""

    IN_USE = "IN_USE"
    NOT_IN_USE = "NOT_IN_USE"


# The only onboarding transitions the catalog performs (Annex B.2).
ONBOARDING_TRANSITIONS: dict[OnboardingState, frozenset[OnboardingState]] = {
    OnboardingState.CREATED: frozenset({OnboardingState.UPLOADING, OnboardingState.ERROR}),
    OnboardingState.UPLOADING: frozenset({OnboardingState.PROCESSING, OnboardingState.ERROR}),
    OnboardingState.PROCESSING: frozenset({OnboardingState.ONBOARDED, OnboardingState.ERROR}),
    OnboardingState.ONBOARDED: frozenset(),
    OnboardingState.ERROR: frozenset(),
}


def can_transition(src: str, dst: OnboardingState) -> bool:
    """Whether the onboarding state machine allows ``src`` -> ``dst``."""
    return dst in ONBOARDING_TRANSITIONS[OnboardingState(src)]
