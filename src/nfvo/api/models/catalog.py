"""VNF packages (SOL005 §9.5) and NSD / PNFD archives (§5.5): requests and representations."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from nfvo.api.models.common import (
    Checksum,
    Closed,
    KeyValuePairs,
    Link,
    Open,
    ProblemDetails,
    optional,
)
from nfvo.limits import MAX_NAME, MAX_URI

OperationalState = Literal["ENABLED", "DISABLED"]
UDD_TEXT = "free-form key-value pairs, at most 64 KiB as JSON"


class CreateVnfPkgInfoRequest(Closed):
    """SOL005 §9.5.2.2."""

    userDefinedData: KeyValuePairs = optional(UDD_TEXT)


class VnfPkgInfoModifications(Closed):
    """SOL005 §9.5.2.3 (a JSON merge patch): at least one attribute, none null."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"minProperties": 1})

    operationalState: OperationalState = optional()
    userDefinedData: KeyValuePairs = optional(UDD_TEXT)


class UploadVnfPkgFromUriRequest(Closed):
    """SOL005 §9.5.2.4: where nfvo fetches the package from (http or https)."""

    addressInformation: str = Field(max_length=MAX_URI, pattern=r"^[Hh][Tt][Tt][Pp][Ss]?://")
    userName: str = optional(max_length=MAX_NAME)
    password: str = optional(max_length=MAX_NAME)


class CreateNsdInfoRequest(Closed):
    """SOL005 §5.5.2.3."""

    userDefinedData: KeyValuePairs = optional(UDD_TEXT)


class NsdInfoModifications(Closed):
    """SOL005 §5.5.2.6."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"minProperties": 1})

    nsdOperationalState: OperationalState = optional()
    userDefinedData: KeyValuePairs = optional(UDD_TEXT)


class CreatePnfdInfoRequest(Closed):
    """SOL005 §5.5.2.4."""

    userDefinedData: KeyValuePairs = optional(UDD_TEXT)


class PnfdInfoModifications(Closed):
    """SOL005 §5.5.2.7."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"minProperties": 1})

    userDefinedData: KeyValuePairs = optional(UDD_TEXT)


class VnfPackageSoftwareImageInfo(Open):
    """SOL005 §9.5.3.2."""

    id: str | None = None
    name: str | None = None
    provider: str | None = None
    version: str | None = None
    checksum: Checksum | None = None
    containerFormat: str | None = None
    diskFormat: str | None = None
    createdAt: str | None = None
    minDisk: int | None = None
    minRam: int | None = None
    size: int | None = None
    imagePath: str | None = None
    imageUri: str | None = None


class VnfPackageArtifactInfo(Open):
    """SOL005 §9.5.3.3."""

    artifactPath: str | None = None
    artifactURI: str | None = None
    checksum: Checksum | None = None
    isEncrypted: bool | None = None
    nonManoArtifactSetId: str | None = None
    artifactClassification: str | None = None
    metadata: KeyValuePairs | None = None


class VnfPkgLinks(Open):
    """Links of a VnfPkgInfo."""

    self: Link
    vnfd: Link | None = None
    packageContent: Link | None = None


class VnfPkgInfo(Open):
    """SOL005 §9.5.2.5 (attributes outside ``fields``/``exclude_fields`` may be absent)."""

    id: str
    vnfdId: str | None = None
    vnfProvider: str | None = None
    vnfProductName: str | None = None
    vnfSoftwareVersion: str | None = None
    vnfdVersion: str | None = None
    compatibleSpecificationVersions: list[str] | None = None
    checksum: Checksum | None = None
    packageSecurityOption: str | None = None
    softwareImages: list[VnfPackageSoftwareImageInfo] | None = None
    additionalArtifacts: list[VnfPackageArtifactInfo] | None = None
    onboardingState: str | None = None
    operationalState: OperationalState | None = None
    usageState: str | None = None
    vnfmInfo: list[str] | None = None
    userDefinedData: KeyValuePairs | None = None
    onboardingFailureDetails: ProblemDetails | None = None
    links: VnfPkgLinks = Field(alias="_links")


class NsdArchiveArtifactInfo(Open):
    """SOL005 §5.5.3.5."""

    artifactPath: str | None = None
    checksum: Checksum | None = None
    nonManoArtifactSetId: str | None = None
    metadata: KeyValuePairs | None = None


class NsdLinks(Open):
    """Links of an NsdInfo."""

    self: Link
    nsd_content: Link | None = None


class NsdInfo(Open):
    """SOL005 §5.5.2.2."""

    id: str
    nsdId: str | None = None
    nsdName: str | None = None
    nsdVersion: str | None = None
    nsdDesigner: str | None = None
    nsdInvariantId: str | None = None
    vnfPkgIds: list[str] | None = None
    pnfdInfoIds: list[str] | None = None
    nestedNsdInfoIds: list[str] | None = None
    archiveSecurityOption: str | None = None
    artifacts: list[NsdArchiveArtifactInfo] | None = None
    nsdOnboardingState: str | None = None
    onboardingFailureDetails: ProblemDetails | None = None
    nsdOperationalState: OperationalState | None = None
    nsdUsageState: str | None = None
    userDefinedData: KeyValuePairs | None = None
    links: NsdLinks = Field(alias="_links")


class PnfdLinks(Open):
    """Links of a PnfdInfo."""

    self: Link
    pnfd_content: Link | None = None


class PnfdInfo(Open):
    """SOL005 §5.5.2.5."""

    id: str
    pnfdId: str | None = None
    pnfdName: str | None = None
    pnfdVersion: str | None = None
    pnfdProvider: str | None = None
    pnfdInvariantId: str | None = None
    archiveSecurityOption: str | None = None
    artifacts: list[NsdArchiveArtifactInfo] | None = None
    pnfdOnboardingState: str | None = None
    onboardingFailureDetails: ProblemDetails | None = None
    pnfdUsageState: str | None = None
    userDefinedData: KeyValuePairs | None = None
    links: PnfdLinks = Field(alias="_links")
