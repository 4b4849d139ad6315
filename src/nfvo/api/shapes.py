"""The attribute trees of the SOL005 resources that lists filter and select on.

SOL013 §5.2 and §5.3: a ``filter``, ``fields`` or ``exclude_fields`` naming an attribute the
resource does not have is a 400. These trees list the attribute names of the SOL005 V3.7.1
data types (VnfPkgInfo §9.5.2.5, NsdInfo §5.5.2.2, PnfdInfo §5.5.2.5, NsInstance §6.5.2.10,
NsLcmOpOcc §6.5.2.3 and the subscriptions), written in a compact notation:
``{a b{c d} e{*}}`` — ``b`` has the attributes ``c`` and ``d``, ``e`` is free-form (key-value
pairs, or a structure deeper than the tree follows) and accepts any path below it. Arrays are
transparent, as in SOL013 attribute paths.
"""

from __future__ import annotations

from collections.abc import Iterable

Shape = dict[str, "Shape | None"] | str  # a dict of attributes, or ANY
ANY = "*"


def parse(text: str) -> Shape:
    """The tree written in the notation above."""
    shape, end = _parse(text.strip(), 0)
    if end != len(text.strip()):
        raise ValueError(f"trailing text at {end} in shape")
    assert shape is not None
    return shape


def _parse(text: str, pos: int) -> tuple[Shape | None, int]:
    if text[pos] != "{":
        raise ValueError(f"expected '{{' at {pos}")
    pos += 1
    if text.startswith("*}", pos):
        return ANY, pos + 2
    out: dict[str, Shape | None] = {}
    while True:
        while text[pos] == " ":
            pos += 1
        if text[pos] == "}":
            return out, pos + 1
        start = pos
        while text[pos] not in " {}":
            pos += 1
        name = text[start:pos]
        child: Shape | None = None
        if text[pos] == "{":
            child, pos = _parse(text, pos)
        out[name] = child


def unknown_part(shape: Shape, path: Iterable[str]) -> str | None:
    """The first name of ``path`` the tree does not know (as ``a/b``), or None if known."""
    node: Shape | None = shape
    seen: list[str] = []
    for name in path:
        seen.append(name)
        if node == ANY:
            return None
        if not isinstance(node, dict) or name not in node:
            return "/".join(seen)
        node = node[name]
    return None


VNF_PKG_INFO = parse(
    "{id vnfdId vnfProvider vnfProductName vnfSoftwareVersion vnfdVersion "
    "compatibleSpecificationVersions checksum{algorithm hash} packageSecurityOption "
    "signingCertificate softwareImages{id name provider version checksum{algorithm hash} "
    "isEncrypted containerFormat diskFormat createdAt minDisk minRam size userMetadata{*} "
    "imagePath imageUri} additionalArtifacts{artifactPath artifactURI checksum{algorithm hash} "
    "isEncrypted nonManoArtifactSetId artifactClassification metadata{*}} onboardingState "
    "operationalState usageState vnfmInfo userDefinedData{*} onboardingFailureDetails{type title "
    "status detail instance} _links{self{href} vnfd{href} packageContent{href}}}"
)
PKGM_SUBSCRIPTION = parse(
    "{id filter{notificationTypes vnfProductsFromProviders{vnfProvider "
    "vnfProductsFromProviders{vnfProductName versions{vnfSoftwareVersion vnfdVersions}}} vnfdId "
    "vnfPkgId operationalState usageState vnfmInfo} callbackUri _links{self{href}}}"
)
NSD_INFO = parse(
    "{id nsdId nsdName nsdVersion nsdDesigner nsdInvariantId vnfPkgIds pnfdInfoIds "
    "nestedNsdInfoIds archiveSecurityOption signingCertificate artifacts{artifactPath "
    "checksum{algorithm hash} metadata{*}} nsdOnboardingState onboardingFailureDetails{type title "
    "status detail instance} nsdOperationalState nsdUsageState userDefinedData{*} "
    "_links{self{href} nsd_content{href}}}"
)
PNFD_INFO = parse(
    "{id pnfdId pnfdName pnfdVersion pnfdersion pnfdProvider pnfdInvariantId archiveSecurityOption "
    "signingCertificate artifacts{artifactPath checksum{algorithm hash} nonManoArtifactSetId "
    "metadata{*}} pnfdOnboardingState onboardingFailureDetails{type title status detail instance} "
    "pnfdUsageState userDefinedData{*} _links{self{href} pnfd_content{href}}}"
)
NSDM_SUBSCRIPTION = parse(
    "{id filter{notificationTypes nsdInfoId nsdId nsdName nsdVersion nsdDesigner nsdInvariantId "
    "vnfPkgIds pnfdInfoIds nestedNsdInfoIds nsdOnboardingState nsdOperationalState nsdUsageState "
    "pnfdId pnfdName pnfdVersion pnfdProvider pnfdInvariantId pnfdOnboardingState pnfdUsageState} "
    "callbackUri _links{self{href}}}"
)
NS_INSTANCE = parse(
    "{id nsInstanceName nsInstanceDescription nsdId nsdInfoId flavourId priority vnfInstance{id "
    "vnfInstanceName vnfInstanceDescription vnfdId vnfProvider vnfProductName vnfSoftwareVersion "
    "vnfdVersion vnfPkgId vnfConfigurableProperties{*} vimId instantiationState "
    "instantiatedVnfInfo{flavourId{*} vnfState{*} scaleStatus{*} maxScaleLevels{*} extCpInfo{*} "
    "vipCpInfo{*} extVirtualLinkInfo{*} extManagedVirtualLinkInfo{*} monitoringParameters{*} "
    "localizationLanguage{*} vnfcResourceInfo{*} vnfVirtualLinkResourceInfo{*} "
    "virtualStorageResourceInfo{*}} metadata{*} extensions{*}} pnfInfo{pnfId pnfName pnfdId "
    "pnfdInfoId pnfProfileId cpInfo{cpInstanceId{*} cpdId{*} cpProtocolData{*}}} "
    "virtualLinkInfo{id nsVirtualLinkDescId nsVirtualLinkProfileId resourceHandle{vimId{*} "
    "resourceProviderId{*} resourceId{*} vimLevelResourceType{*}} linkPort{id{*} "
    "resourceHandle{*} nsCpHandle{*}}} vnffgInfo{id vnffgdId vnfInstanceId pnfdInfoId "
    "nsVirtualLinkInfoId nsCpHandle{vnfInstanceId{*} vnfExtCpInstanceId{*} pnfInfoId{*} "
    "pnfExtCpInstanceId{*} nsInstanceId{*} nsSapInstanceId{*}}} sapInfo{id sapdId sapName "
    "description sapProtocolInfo{layerProtocol{*} ipOverEthernet{*}}} nestedNsInstanceId "
    "vnfSnapshotInfoIds nsState monitoringParameter{id name performanceMetric} "
    "nsScaleStatus{nsScalingAspectId nsScaleLevelId} additionalAffinityOrAntiAffinityRule{vnfdId "
    "vnfProfileId vnfInstanceId affinityOrAntiAffiinty scope} "
    "wanConnectionInfo{wanConnectionInfoId nsVirtualLinkInfoId vnfVirtualLinkResourceInfoId "
    "protocolInfo{mscsInfo{*} connectivityServiceEndpoints{*}}} _links{self{href} "
    "nestedNsInstances{href} vnfSnapshotInfos{href} instantiate{href} terminate{href} "
    "update{href} scale{href} heal{href}}}"
)
NS_LCM_OP_OCC = parse(
    "{id operationState stateEnteredTime nsInstanceId lcmOperationType startTime "
    "isAutomaticInvocation operationParams{*} isCancelPending cancelMode error{type title status "
    "detail instance} resourceChanges{affectedVnfs{vnfInstanceId{*} vnfdId{*} vnfProfileId{*} "
    "vnfName{*} changeType{*} changeResult{*} changedInfo{*}} affectedPnfs{pnfId{*} pnfdId{*} "
    "pnfProfileId{*} pnfName{*} cpInstanceId{*} changeType{*} changeResult{*}} "
    "affectedVls{nsVirtualLinkInstanceId{*} nsVirtualLinkDescId{*} vlProfileId{*} changeType{*} "
    "linkPortIds changeResult{*}} affectedVnffgs{vnffgInstanceId{*} vnffgdId{*} changeType{*} "
    "changeResult{*}} affectedNss{nsInstanceId{*} nsdId{*} changeType{*} changeResult{*} "
    "changedInfo{*}} affectedSaps{sapInstanceId{*} sapdId{*} sapName{*} changeType{*} "
    "changeResult{*}}} lcmCoordinations{id coordinationActionName coordinationResult startTime "
    "endTime endpointType delay} rejectedLcmCoordinations{coordinationActionName rejectionTime "
    "endpointType delay} warnings _links{self{href} nsInstance{href} cancel{href} retry{href} "
    "rollback{href} continue{href} fail{href}}}"
)
LCCN_SUBSCRIPTION = parse(
    "{id filter{nsInstanceSubscriptionFilter{nsdIds vnfdIds pnfdIds nsInstanceIds "
    "nsInstanceNames} notificationTypes operationTypes operationStates affectedNsInstanceIds "
    "nsComponentTypes lcmOpNameImpactingNsComponent lcmOpOccStatusImpactingNsComponent} "
    "callbackUri verbosity _links{self{href}}}"
)
# nsfm (SOL005 §8.5.2.4 Alarm, §8.5.2.3 FmSubscription). ``nsInstanceId`` is the filter name
# the ETSI YAML gives for managedObjectId; rootCauseFaultyComponent.faultyResourceType is
# the YAML's slip for faultyVnfInstanceId: both accepted in filters.
ALARM = parse(
    "{id managedObjectId nsInstanceId rootCauseFaultyComponent{faultyNestedNsInstanceId "
    "faultyNsVirtualLinkInstanceId faultyVnfInstanceId faultyResourceType} "
    "rootCauseFaultyResource{faultyResource{vimId resourceProviderId resourceId "
    "vimLevelResourceType} faultyResourceType} alarmRaisedTime alarmChangedTime "
    "alarmClearedTime alarmAcknowledgedTime ackState perceivedSeverity eventTime eventType "
    "faultType probableCause isRootCause correlatedAlarmIds faultDetails "
    "_links{self{href} objectInstance{href}}}"
)
FM_SUBSCRIPTION = parse(
    "{id filter{nsInstanceSubscriptionFilter{nsdIds vnfdIds pnfdIds nsInstanceIds "
    "nsInstanceNames} notificationTypes faultyResourceTypes perceivedSeverities eventTypes "
    "probableCauses} callbackUri _links{self{href}}}"
)
