"""NS deployment planning: from an NSD, its VNFDs and an InstantiateNsRequest to a plan.

A pure step of the NS life cycle: no database, no VIM. ``plan_instantiation`` decides
which VNF instances an NS instantiation creates, on which VIM, with which VDUs, counts,
sizes, connection points, networks and day-0 data, and in which order (``layers``).
``scale_vnf_counts`` and ``vdu_initial_counts`` answer the per-VNF count questions of
instantiate and scale.

Rules chosen here (documented because the standard leaves them to the NFVO):

- VIM of a VNF: its ``additionalParamsForVnf[].additionalParams.vimAccountId``, else
  ``additionalParamsForNs.vimAccountId``, else the caller's default VIM.
- A VNF external CP connected by the NS flavour to an NS VL: a VDU CP exposed directly
  (``vdu_cp``) gets a port on that NS VL; a ``VnfExtCp`` re-exposing an internal VL makes
  that internal VL *externally managed*: it is not created by the VNF, its VDU CPs get ports
  on the NS VL instead. Ext CPs the flavour leaves unconnected keep the internal VL; a
  directly exposed VDU CP that is unconnected gets no port.
- CIDRs: an internal VL uses its descriptor's CIDR, else the first free ``10.<n>.0.0/24``
  (n = 1, 2, ...) not used by another VL of the same VNF. An NS VL is sized for the ports
  the NS can put on it: per VNF profile connected to it, the VDU instances at the VNF's full
  scale-out (every aspect at ``max_scale_level``, capped by ``max_number_of_instances``)
  times the VDU's CPs on the VL, times the profile's ``max_number_of_instances`` (or its
  instances at the highest level of an NS scaling aspect, if more); plus ``NS_VL_RESERVED``
  addresses for the VIM; never smaller than a /24. In flavour order, each NS VL takes the
  lowest free block of that size in ``172.16.0.0/12`` (so small NSs get ``172.16.<n>.0/24``
  for VL number ``n``), or the CIDR given in ``additionalParamsForNs.nsVirtualLinkCidrs``
  (``{vl_id: cidr}``; checked: a valid CIDR of the VL's IP version, large enough, overlapping
  no other given one). An IPv6-only NS VL gets ``fd00:<n>::/64``. (The NSD model carries no
  CIDR for NS VLs, hence the request parameter.)
- Existing networks: ``additionalParamsForNs.nsVirtualLinkNetworks`` maps an NS VL id to an
  existing VIM network (its id or name) that the VL uses instead of a new one: a string (a
  network of the NS's default VIM), ``{"vimAccountId", "network"}`` (``vimAccountId``
  defaults to the NS's default VIM), or a list of those (one per VIM). The VIM must be one
  the VL is used on. On VIMs not named, the VL gets a new network as above. Terminate leaves
  existing networks alone (only the NS's ports on them go).
- Day-0 data: a VDU's ``boot_data`` content (inline, or the ``source_path`` artifact taken
  from ``artifacts[vnfd_id][path]``) is rendered with the values, in increasing priority,
  of the flavour's input defaults, the boot data's ``data`` entries (a ``get_input`` there,
  or a value equal to an input's default, follows that input), and the VNF's
  ``additionalParams``. ``{{ name }}`` must resolve (else PlanError); ``${name}`` and
  ``$name`` are replaced only when ``name`` has a value (shell variables stay). When no
  artifacts are given for the VNFD, a file-based boot data yields no user data.
- ``VnfDeploymentSpec.params`` holds the VNF's additionalParams (without ``vimAccountId``)
  and, when the VNFD flavour has placement rules, ``placement_rules``: a list of
  ``{kind, scope, targets}`` (targets are VDU ids) for the placement step.
- VNF instance ids: ``vnf_instance_ids["<profile>-<index>"]`` (or ``[profile]`` for index
  0), else uuid5 of (ns instance id, profile id, index), so re-planning is idempotent.
"""

from __future__ import annotations

import ipaddress
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from nfvo.catalog.descriptors import (
    InstantiationLevel,
    Nsd,
    NsFlavour,
    NsInstantiationLevel,
    SwImage,
    Vdu,
    Vnfd,
    VnfFlavour,
    VnfProfile,
    VnfVirtualLink,
)
from nfvo.optimizer.model import Demand, Placement
from nfvo.optimizer.model import PlacementRule as OptRule
from nfvo.vim.base import SecurityRule
from nfvo.vnfm.base import CpSpec, ImageArtifact, VduSpec, VirtualLinkSpec, VnfDeploymentSpec

ScaleDirection = Literal["SCALE_OUT", "SCALE_IN"]
_NAMESPACE = uuid.UUID("5b0e4c0a-6a7c-4a36-9f3e-2f1d7b6a9c41")


class PlanError(ValueError):
    """A request that cannot be planned; ``field`` names the request field to fix."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass
class NsVlPlan:
    """One VIM network for an NS virtual link on one VIM that uses it: created, or, when
    ``existing_network`` names one (id or name), an existing network of that VIM used as it
    is (never deleted by the NS)."""

    vl_id: str
    cidr: str
    ip_version: int
    vim_account_id: str
    existing_network: str | None = None


@dataclass
class VnfPlan:
    """One VNF instance to deploy and the VNF profiles it waits for."""

    spec: VnfDeploymentSpec
    depends_on: list[str] = field(default_factory=list)


@dataclass
class NsPlan:
    """What instantiating an NS creates, and in which order (``layers`` of profile ids)."""

    ns_instance_id: str
    nsd_id: str
    flavour_id: str
    instantiation_level_id: str | None
    virtual_links: list[NsVlPlan]
    vnfs: list[VnfPlan]
    layers: list[list[str]]


# ---------------------------------------------------------------------------------------------
# VNF-level counts
# ---------------------------------------------------------------------------------------------
def _vnf_flavour(vnfd: Vnfd, flavour_id: str) -> VnfFlavour:
    try:
        return vnfd.flavour(flavour_id)
    except KeyError:
        valid = ", ".join(f.flavour_id for f in vnfd.flavours)
        raise PlanError(
            "flavourId", f"VNFD {vnfd.vnfd_id} has no flavour {flavour_id!r}; valid: {valid}"
        ) from None


def _vnf_level(flavour: VnfFlavour, level_id: str | None) -> InstantiationLevel | None:
    levels = flavour.instantiation_levels
    level_id = level_id or flavour.default_instantiation_level
    if level_id is None:
        return levels[0] if levels else None
    for level in levels:
        if level.id == level_id:
            return level
    valid = ", ".join(lv.id for lv in levels) or "none"
    raise PlanError(
        "instantiationLevelId",
        f"VNF flavour {flavour.flavour_id!r} has no instantiation level {level_id!r}; "
        f"valid: {valid}",
    )


def vdu_initial_counts(
    vnfd: Vnfd, flavour_id: str, instantiation_level_id: str | None
) -> dict[str, int]:
    """VDU instance counts of a VNF flavour's instantiation level (default level, else the
    first, else each VDU's ``min_number_of_instances``)."""
    flavour = _vnf_flavour(vnfd, flavour_id)
    level = _vnf_level(flavour, instantiation_level_id)
    counts = level.vdu_instances if level is not None else {}
    return {vdu.id: counts.get(vdu.id, vdu.min_number_of_instances) for vdu in flavour.vdus}


def vnf_initial_levels(
    vnfd: Vnfd, flavour_id: str, instantiation_level_id: str | None
) -> dict[str, int]:
    """Scale level per scaling aspect of a VNF flavour at its instantiation level (0 for an
    aspect the level does not name)."""
    flavour = _vnf_flavour(vnfd, flavour_id)
    level = _vnf_level(flavour, instantiation_level_id)
    return {
        a.id: (level.scale_info.get(a.id, 0) if level is not None else 0)
        for a in flavour.scaling_aspects
    }


def vdu_max_counts(
    vnfd: Vnfd, flavour_id: str, instantiation_level_id: str | None
) -> dict[str, int]:
    """VDU instance counts the VNF reaches when every scaling aspect is scaled out from the
    instantiation level to its ``max_scale_level`` (capped by each VDU's
    ``max_number_of_instances``, never below the initial count)."""
    flavour = _vnf_flavour(vnfd, flavour_id)
    level = _vnf_level(flavour, instantiation_level_id)
    initial = vdu_initial_counts(vnfd, flavour_id, instantiation_level_id)
    counts = dict(initial)
    for aspect in flavour.scaling_aspects:
        start = level.scale_info.get(aspect.id, 0) if level is not None else 0
        for step in range(start, aspect.max_scale_level):
            delta_id = _step_delta(aspect.step_deltas, step)
            for vdu_id, deltas in aspect.vdu_deltas.items():
                number = deltas.get(delta_id, 0) if delta_id else next(iter(deltas.values()), 0)
                counts[vdu_id] = counts.get(vdu_id, 0) + number
    caps = {vdu.id: vdu.max_number_of_instances for vdu in flavour.vdus}
    return {v: max(n, min(counts.get(v, n), caps.get(v, n))) for v, n in initial.items()}


def _step_delta(aspect_deltas: list[str], level: int) -> str | None:
    """The delta id of the step from ``level`` to ``level + 1`` (uniform when only one)."""
    if not aspect_deltas:
        return None
    return aspect_deltas[min(level, len(aspect_deltas) - 1)]


def scale_vnf_counts(
    vnfd: Vnfd,
    flavour_id: str,
    current: dict[str, int],
    aspect_id: str,
    steps: int,
    direction: ScaleDirection,
    current_level: int,
) -> tuple[dict[str, int], int]:
    """New per-VDU counts and the new scale level after scaling ``aspect_id`` by ``steps``.

    PlanError when the level would leave 0..max_scale_level or a VDU its min/max instances.
    """
    flavour = _vnf_flavour(vnfd, flavour_id)
    aspect = next((a for a in flavour.scaling_aspects if a.id == aspect_id), None)
    if aspect is None:
        valid = ", ".join(a.id for a in flavour.scaling_aspects) or "none"
        raise PlanError("aspectId", f"unknown scaling aspect {aspect_id!r}; valid: {valid}")
    if direction not in ("SCALE_OUT", "SCALE_IN"):
        raise PlanError("type", f"scale direction must be SCALE_OUT or SCALE_IN, not {direction!r}")
    if steps < 1:
        raise PlanError("numberOfSteps", f"must be at least 1, got {steps}")
    sign = 1 if direction == "SCALE_OUT" else -1
    new_level = current_level + sign * steps
    if not 0 <= new_level <= aspect.max_scale_level:
        raise PlanError(
            "numberOfSteps",
            f"{direction} by {steps} from level {current_level} of aspect {aspect_id!r} "
            f"would reach level {new_level}; allowed 0..{aspect.max_scale_level}",
        )
    counts = dict(current)
    transitions = range(current_level, new_level) if sign > 0 else range(new_level, current_level)
    for level in transitions:
        delta_id = _step_delta(aspect.step_deltas, level)
        for vdu_id, deltas in aspect.vdu_deltas.items():
            number = deltas.get(delta_id, 0) if delta_id else next(iter(deltas.values()), 0)
            counts[vdu_id] = counts.get(vdu_id, 0) + sign * number
    _check_vdu_bounds(flavour, counts, aspect_id)
    return counts, new_level


def _check_vdu_bounds(flavour: VnfFlavour, counts: dict[str, int], aspect_id: str) -> None:
    for vdu in flavour.vdus:
        n = counts.get(vdu.id)
        if n is None:
            continue
        if n < max(0, vdu.min_number_of_instances) or n > vdu.max_number_of_instances:
            raise PlanError(
                "numberOfSteps",
                f"scaling aspect {aspect_id!r} would give VDU {vdu.id!r} {n} instances; "
                f"allowed {vdu.min_number_of_instances}..{vdu.max_number_of_instances}",
            )


# ---------------------------------------------------------------------------------------------
# Request reading
# ---------------------------------------------------------------------------------------------
def _ns_flavour(nsd: Nsd, request: Mapping[str, Any]) -> NsFlavour:
    flavour_id = request.get("nsFlavourId")
    valid = ", ".join(f.flavour_id for f in nsd.flavours) or "none"
    if not isinstance(flavour_id, str) or not flavour_id:
        raise PlanError("nsFlavourId", f"is required; valid: {valid}")
    for flavour in nsd.flavours:
        if flavour.flavour_id == flavour_id:
            return flavour
    raise PlanError("nsFlavourId", f"NSD has no flavour {flavour_id!r}; valid: {valid}")


def _ns_level(flavour: NsFlavour, level_id: Any) -> NsInstantiationLevel | None:
    levels = flavour.instantiation_levels
    if level_id is None:
        level_id = flavour.default_instantiation_level
        if level_id is None:
            return levels[0] if levels else None
    for level in levels:
        if level.id == level_id:
            return level
    valid = ", ".join(lv.id for lv in levels) or "none"
    raise PlanError(
        "nsInstantiationLevelId",
        f"NS flavour {flavour.flavour_id!r} has no instantiation level {level_id!r}; "
        f"valid: {valid}",
    )


def _per_profile(
    request: Mapping[str, Any], key: str, inner: str, profiles: set[str]
) -> dict[str, dict[str, Any]]:
    """``{vnfProfileId: <inner dict>}`` from a list-of-objects request field."""
    out: dict[str, dict[str, Any]] = {}
    entries = request.get(key) or []
    if not isinstance(entries, list):
        raise PlanError(key, "must be a list")
    for entry in entries:
        pid = entry.get("vnfProfileId") if isinstance(entry, dict) else None
        if pid not in profiles:
            raise PlanError(key, f"unknown vnfProfileId {pid!r}; valid: {', '.join(profiles)}")
        value = entry.get(inner) or {}
        if not isinstance(value, dict):
            raise PlanError(key, f"{inner} of {pid!r} must be an object")
        out.setdefault(pid, {}).update(value)
    return out


def _zone_of(constraints: Mapping[str, Any]) -> str | None:
    for key in ("zone", "availabilityZone"):
        if isinstance(constraints.get(key), str):
            return constraints[key]
    return None


def _vim_for(profile_id: str, params: Mapping[str, Any], ns_vim: Any, default: str | None) -> str:
    vim = params.get("vimAccountId") or ns_vim or default
    if not vim:
        raise PlanError(
            "vimAccountId",
            f"no VIM for VNF profile {profile_id!r}: give additionalParamsForVnf[]."
            "additionalParams.vimAccountId or additionalParamsForNs.vimAccountId",
        )
    return str(vim)


# ---------------------------------------------------------------------------------------------
# Dependencies
# ---------------------------------------------------------------------------------------------
def _dependencies(flavour: NsFlavour, present: list[str]) -> dict[str, list[str]]:
    """Profile -> the profiles it depends on (ids that are not present VNF profiles ignored)."""
    known = set(present)
    deps: dict[str, list[str]] = {pid: [] for pid in present}
    for dep in flavour.dependencies:
        for secondary in dep.secondary:
            if secondary not in known:
                continue
            for primary in dep.primary:
                if primary in known and primary not in deps[secondary]:
                    deps[secondary].append(primary)
    return deps


def _layers(order: list[str], deps: dict[str, list[str]]) -> list[list[str]]:
    """Topological layers (Kahn), each in flavour order; PlanError on a cycle."""
    done: set[str] = set()
    layers: list[list[str]] = []
    while len(done) < len(order):
        layer = [p for p in order if p not in done and all(d in done for d in deps[p])]
        if not layer:
            cycle = sorted(p for p in order if p not in done)
            raise PlanError("dependencies", f"the NSD dependencies form a cycle among {cycle}")
        layers.append(layer)
        done.update(layer)
    return layers


# ---------------------------------------------------------------------------------------------
# Networks
# ---------------------------------------------------------------------------------------------
def _ip_version(value: str | None) -> int:
    return 6 if value and "6" in str(value) else 4


def _internal_vls(vls: list[VnfVirtualLink], external: set[str]) -> list[VirtualLinkSpec]:
    """Internal VLs to create (externally managed ones excluded), CIDRs filled in."""
    taken = [ipaddress.ip_network(vl.cidr, strict=False) for vl in vls if vl.cidr]
    out = []
    n = 0
    for vl in vls:
        if vl.id in external:
            continue
        cidr = vl.cidr
        if cidr is None:
            while True:
                n += 1
                candidate = ipaddress.ip_network(f"10.{n}.0.0/24")
                if not any(candidate.overlaps(t) for t in taken):
                    break
            taken.append(candidate)
            cidr = str(candidate)
        dhcp = True if vl.dhcp_enabled is None else vl.dhcp_enabled
        out.append(VirtualLinkSpec(vl.id, cidr, _ip_version(vl.ip_version), vl.gateway_ip, dhcp))
    return out


# NS VL subnets: taken in flavour order from this pool, each at least a /24 and large enough
# for the ports the NS can put on it (scale-out included); the VIM keeps a few addresses of
# every subnet for itself (network, broadcast, gateway, DHCP and router ports).
NS_VL_POOL = ipaddress.IPv4Network("172.16.0.0/12")
NS_VL_MIN_PREFIX = 24
NS_VL_RESERVED = 8
NS_VL_CIDRS_PARAM = "nsVirtualLinkCidrs"
_CIDRS_FIELD = f"additionalParamsForNs.{NS_VL_CIDRS_PARAM}"

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
NS_VL_NETWORKS_PARAM = "nsVirtualLinkNetworks"
_NETWORKS_FIELD = f"additionalParamsForNs.{NS_VL_NETWORKS_PARAM}"
MAX_NETWORK_REF = 255


def requested_ns_vl_networks(
    ns_params: Mapping[str, Any], default_vim: str | None
) -> dict[str, dict[str, str]]:
    """``additionalParamsForNs.nsVirtualLinkNetworks`` parsed: {NS VL id: {VIM account id:
    existing network id or name}}; PlanError naming the field when it is malformed."""
    raw = ns_params.get(NS_VL_NETWORKS_PARAM) if isinstance(ns_params, Mapping) else None
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise PlanError(
            _NETWORKS_FIELD, "must be an object mapping NS virtual link ids to existing networks"
        )
    out: dict[str, dict[str, str]] = {}
    for vl_id, value in raw.items():
        where = f"{_NETWORKS_FIELD}.{vl_id}"
        entries = value if isinstance(value, list) else [value]
        for n, entry in enumerate(entries):
            at = f"{where}[{n}]" if isinstance(value, list) else where
            if isinstance(entry, str):
                entry = {"network": entry}
            if not isinstance(entry, dict):
                raise PlanError(at, "must be a network id or name, or {vimAccountId, network}")
            unknown = sorted(set(entry) - {"vimAccountId", "network"})
            if unknown:
                raise PlanError(f"{at}.{unknown[0]}", "unknown field; use vimAccountId, network")
            network = entry.get("network")
            if not isinstance(network, str) or not 0 < len(network) <= MAX_NETWORK_REF:
                raise PlanError(
                    f"{at}.network", f"must be a network id or name of 1 to {MAX_NETWORK_REF} chars"
                )
            vim = entry.get("vimAccountId", default_vim)
            if not isinstance(vim, str) or not vim:
                raise PlanError(
                    f"{at}.vimAccountId",
                    "name the VIM account (the NS has no default VIM: set "
                    "additionalParamsForNs.vimAccountId or this field)",
                )
            per_vim = out.setdefault(str(vl_id), {})
            if vim in per_vim:
                raise PlanError(at, f"VIM account {vim} is given twice for this virtual link")
            per_vim[vim] = network
    return out


def _ns_vl_version(layer_protocols: list[str]) -> int:
    return 6 if "ipv6" in layer_protocols and "ipv4" not in layer_protocols else 4


def usable_addresses(net: IpNetwork) -> int:
    """Addresses of ``net`` left for ports once the VIM took its own (``NS_VL_RESERVED``)."""
    return max(net.num_addresses - NS_VL_RESERVED, 0)


def ns_vl_prefix(ports: int) -> int:
    """The IPv4 prefix length an NS VL carrying ``ports`` ports gets (at most ``/24``)."""
    prefix = NS_VL_MIN_PREFIX
    while (1 << (32 - prefix)) - NS_VL_RESERVED < ports:
        prefix -= 1
    return prefix


def requested_ns_vl_cidrs(ns_params: Mapping[str, Any]) -> dict[str, IpNetwork]:
    """``additionalParamsForNs.nsVirtualLinkCidrs`` ({NS VL id: CIDR}) parsed and checked
    (a CIDR each, none overlapping another); PlanError naming the field otherwise."""
    raw = ns_params.get(NS_VL_CIDRS_PARAM) if isinstance(ns_params, Mapping) else None
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise PlanError(_CIDRS_FIELD, "must be an object mapping NS virtual link ids to CIDRs")
    out: dict[str, IpNetwork] = {}
    for vl_id, text in raw.items():
        try:
            net = ipaddress.ip_network(text if isinstance(text, str) else "", strict=True)
        except ValueError as exc:
            raise PlanError(
                f"{_CIDRS_FIELD}.{vl_id}", f"{text!r} is not a network in CIDR notation: {exc}"
            ) from None
        for other_id, other in out.items():
            if net.version == other.version and net.overlaps(other):
                raise PlanError(
                    f"{_CIDRS_FIELD}.{vl_id}", f"{net} overlaps {other} given for {other_id!r}"
                )
        out[str(vl_id)] = net
    return out


def _first_free(size_prefix: int, taken: list[IpNetwork]) -> ipaddress.IPv4Network | None:
    """The lowest block of that prefix in ``NS_VL_POOL`` overlapping nothing taken."""
    if size_prefix < NS_VL_POOL.prefixlen:
        return None
    for candidate in NS_VL_POOL.subnets(new_prefix=size_prefix):
        if not any(candidate.version == t.version and candidate.overlaps(t) for t in taken):
            return candidate
    return None


def ns_vl_cidrs(
    flavour: NsFlavour, ports: Mapping[str, int], given: dict[str, IpNetwork]
) -> dict[str, tuple[str, int]]:
    """NS VL id -> (CIDR, IP version): a given CIDR if large enough, else the first free block
    of ``NS_VL_POOL`` sized for the VL's ports (IPv6: ``fd00:<n>::/64``)."""
    vls = {vl.id: vl for vl in flavour.virtual_links}
    unknown = sorted(set(given) - set(vls))
    if unknown:
        raise PlanError(
            f"{_CIDRS_FIELD}.{unknown[0]}",
            f"the NS flavour {flavour.flavour_id!r} has no virtual link {unknown[0]!r}; "
            f"valid: {', '.join(vls) or 'none'}",
        )
    taken: list[IpNetwork] = list(given.values())
    out: dict[str, tuple[str, int]] = {}
    for index, vl in enumerate(flavour.virtual_links):
        version, need = _ns_vl_version(vl.layer_protocols), ports.get(vl.id, 0)
        net = given.get(vl.id)
        if net is not None:
            if net.version != version:
                raise PlanError(
                    f"{_CIDRS_FIELD}.{vl.id}", f"{net} is not IPv{version}, as the VL is"
                )
            if usable_addresses(net) < need:
                raise PlanError(
                    f"{_CIDRS_FIELD}.{vl.id}",
                    f"{net} has room for {usable_addresses(net)} ports; the NS can put {need} "
                    f"on {vl.id!r} (a /{ns_vl_prefix(need)} or larger is needed)",
                )
        elif version == 6:
            n = index
            while any(t.overlaps(ipaddress.ip_network(f"fd00:{n}::/64")) for t in taken):
                n += 1
            net = ipaddress.ip_network(f"fd00:{n}::/64")
        else:
            net = _first_free(ns_vl_prefix(need), taken)
            if net is None:
                raise PlanError(
                    "virtualLinks",
                    f"no free /{ns_vl_prefix(need)} left in {NS_VL_POOL} for NS virtual link "
                    f"{vl.id!r} ({need} ports); give its CIDR in {_CIDRS_FIELD}",
                )
        taken.append(net)
        out[vl.id] = (str(net), version)
    return out


def _external_bindings(
    flavour: VnfFlavour, profile: VnfProfile
) -> tuple[dict[str, str], dict[str, str]]:
    """(VDU CP id -> NS VL, internal VL id -> NS VL) for the ext CPs the profile connects."""
    connected = {c.requirement: c.virtual_link for c in profile.virtual_links}
    cps: dict[str, str] = {}
    vls: dict[str, str] = {}
    for ext in flavour.ext_cps:
        ns_vl = connected.get(ext.requirement or ext.id)
        if ns_vl is None:
            continue
        if ext.kind == "vdu_cp":
            cps[ext.id] = ns_vl
        elif ext.internal_virtual_link:
            vls[ext.internal_virtual_link] = ns_vl
    return cps, vls


# ---------------------------------------------------------------------------------------------
# Day-0 data
# ---------------------------------------------------------------------------------------------
_MUSTACHE = re.compile(r"\{\{\s*([A-Za-z_][\w.-]*)\s*\}\}")
_DOLLAR = re.compile(r"\$\{([A-Za-z_]\w*)\}|\$([A-Za-z_]\w*)")


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _day0_values(
    flavour: VnfFlavour, data: Mapping[str, Any], params: Mapping[str, Any]
) -> dict[str, Any]:
    defaults = {i.name: i.default for i in flavour.inputs if i.default is not None}
    values: dict[str, Any] = dict(defaults)
    for key, value in data.items():
        source = value.get("get_input") if isinstance(value, dict) else None
        if source is None:
            same = [n for n, d in defaults.items() if d == value and n in params]
            source = same[0] if len(same) == 1 else None
        if isinstance(source, str):
            value = params.get(source, defaults.get(source))
        if value is not None:
            values[key] = value
    values.update((k, v) for k, v in params.items() if k != "vimAccountId")
    return values


def render_day0(template: str, values: Mapping[str, Any], where: str) -> str:
    """Substitute ``{{ name }}`` (required), ``${name}`` and ``$name`` (when known)."""

    def mustache(m: re.Match[str]) -> str:
        if m.group(1) not in values:
            raise PlanError(
                "additionalParamsForVnf", f"day-0 parameter {m.group(1)!r} of {where} has no value"
            )
        return _text(values[m.group(1)])

    def dollar(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(2)
        return _text(values[name]) if name in values else m.group(0)

    return _DOLLAR.sub(dollar, _MUSTACHE.sub(mustache, template))


def _user_data(
    vdu: Vdu,
    flavour: VnfFlavour,
    params: Mapping[str, Any],
    files: Mapping[str, bytes] | None,
    where: str,
) -> str | None:
    boot = vdu.boot_data
    if boot is None:
        return None
    if isinstance(boot, str):
        return render_day0(boot, _day0_values(flavour, {}, params), where)
    if not isinstance(boot, dict):
        return None
    body = boot.get("content_or_file_data", boot)
    if not isinstance(body, dict):
        return None
    template = body.get("content")
    if not isinstance(template, str):
        path = body.get("source_path")
        if not isinstance(path, str) or files is None:
            return None
        if path not in files:
            raise PlanError("artifacts", f"day-0 file {path!r} of {where} is not in the package")
        template = files[path].decode("utf-8")
    data = body.get("data") if isinstance(body.get("data"), dict) else {}
    return render_day0(template, _day0_values(flavour, data, params), where)


# ---------------------------------------------------------------------------------------------
# VNF specs
# ---------------------------------------------------------------------------------------------
def _security_rules(flavour: VnfFlavour, cp_id: str) -> list[SecurityRule]:
    rules = []
    for r in flavour.security_group_rules:
        if cp_id in r.targets:
            ether = "IPv6" if (r.ether_type or "").lower() == "ipv6" else "IPv4"
            rules.append(
                SecurityRule(
                    r.direction or "ingress", ether, r.protocol, r.port_range_min, r.port_range_max
                )
            )
    return rules


def _image_artifact(image: SwImage | None) -> ImageArtifact | None:
    """The image file the package carries for a VDU (None: the VIM must know it by name)."""
    if image is None or not image.name or not image.file or "://" in image.file:
        return None
    return ImageArtifact(
        file=image.file,
        disk_format=image.disk_format,
        container_format=image.container_format,
        min_disk_gib=-(-(image.min_disk_bytes or 0) // (1 << 30)),  # rounded up
        min_ram_mib=-(-(image.min_ram_bytes or 0) // (1 << 20)),
        checksum_algorithm=image.checksum_algorithm,
        checksum_hash=image.checksum_hash,
        size_bytes=image.size_bytes,
    )


def _vdu_specs(
    flavour: VnfFlavour,
    counts: dict[str, int],
    networks: dict[str, str],
    zone: str | None,
    day0: Any,
) -> list[VduSpec]:
    specs = []
    for vdu in flavour.vdus:
        cps = [
            CpSpec(cp.id, networks[cp.id], cp.order or 0, _security_rules(flavour, cp.id))
            for cp in sorted(flavour.vdu_cps, key=lambda c: (c.order or 0, c.id))
            if cp.vdu == vdu.id and cp.id in networks
        ]
        specs.append(
            VduSpec(
                vdu_id=vdu.id,
                name=vdu.name,
                count=counts.get(vdu.id, vdu.min_number_of_instances),
                vcpus=vdu.vcpu_count or 1,
                ram_mib=vdu.virtual_memory_mib or 0,
                disk_gib=vdu.root_disk_gib or 0,
                image=vdu.sw_image.name if vdu.sw_image else None,
                image_artifact=_image_artifact(vdu.sw_image),
                user_data=day0(vdu),
                cps=cps,
                zone=zone,
            )
        )
    return specs


@dataclass
class _VnfContext:
    ns_instance_id: str
    profile: VnfProfile
    vnfd: Vnfd
    vim: str
    params: dict[str, Any]
    zone: str | None
    files: Mapping[str, bytes] | None


def _vnf_spec(ctx: _VnfContext, vnf_instance_id: str) -> VnfDeploymentSpec:
    profile, vnfd = ctx.profile, ctx.vnfd
    flavour = _vnf_flavour(vnfd, profile.flavour_id or "")
    counts = vdu_initial_counts(vnfd, flavour.flavour_id, profile.instantiation_level)
    ext_cps, ext_vls = _external_bindings(flavour, profile)
    networks: dict[str, str] = {}
    for cp in flavour.vdu_cps:
        if cp.id in ext_cps:
            networks[cp.id] = ext_cps[cp.id]
        elif cp.virtual_link:
            networks[cp.id] = ext_vls.get(cp.virtual_link, cp.virtual_link)
    where = f"VNF profile {profile.id!r}"

    def day0(vdu: Vdu) -> str | None:
        return _user_data(vdu, flavour, ctx.params, ctx.files, f"VDU {vdu.id!r} of {where}")

    return VnfDeploymentSpec(
        ns_instance_id=ctx.ns_instance_id,
        vnf_instance_id=vnf_instance_id,
        vnf_profile_id=profile.id,
        vnfd_id=vnfd.vnfd_id,
        flavour_id=flavour.flavour_id,
        vim_account_id=ctx.vim,
        internal_vls=_internal_vls(flavour.virtual_links, set(ext_vls)),
        vdus=_vdu_specs(flavour, counts, networks, ctx.zone, day0),
        ext_networks={vl: "" for vl in sorted(set(ext_cps.values()) | set(ext_vls.values()))},
        params=_spec_params(ctx.params, flavour),
    )


def _spec_params(params: Mapping[str, Any], flavour: VnfFlavour) -> dict[str, Any]:
    """The VNF's additionalParams (without vimAccountId), plus the VNFD placement rules as
    ``placement_rules`` ([{kind, scope, targets}]) for the placement step."""
    out = {k: v for k, v in params.items() if k != "vimAccountId"}
    if flavour.placement_rules:
        out["placement_rules"] = [
            {"kind": r.kind, "scope": r.scope, "targets": list(r.targets)}
            for r in flavour.placement_rules
        ]
    return out


def vnf_instance_id_for(
    ns_instance_id: str, profile_id: str, index: int, given: Mapping[str, str] | None = None
) -> str:
    """The given id of ``<profile>-<index>`` (or ``<profile>`` for index 0), else a uuid5."""
    given = given or {}
    found = given.get(f"{profile_id}-{index}") or (given.get(profile_id) if index == 0 else None)
    return found or str(uuid.uuid5(_NAMESPACE, f"{ns_instance_id}/{profile_id}/{index}"))


# ---------------------------------------------------------------------------------------------
# The NS plan
# ---------------------------------------------------------------------------------------------
def _vnfd_of(profile: VnfProfile, vnfds: Mapping[str, Vnfd]) -> Vnfd:
    vnfd = vnfds.get(profile.vnfd_id or "")
    if vnfd is None:
        raise PlanError(
            "vnfdId", f"VNFD {profile.vnfd_id!r} of VNF profile {profile.id!r} was not given"
        )
    return vnfd


def _ns_vls(
    flavour: NsFlavour,
    used: dict[str, set[str]],
    ports: Mapping[str, int],
    given: dict[str, IpNetwork],
    existing: dict[str, dict[str, str]] | None = None,
) -> list[NsVlPlan]:
    known = {vl.id for vl in flavour.virtual_links}
    unknown = sorted(set(used) - known)
    if unknown:
        raise PlanError("virtualLinks", f"VNF profiles connect to unknown NS VLs {unknown}")
    existing = existing or {}
    for vl_id, per_vim in existing.items():
        if vl_id not in known:
            raise PlanError(
                f"{_NETWORKS_FIELD}.{vl_id}",
                f"the NS flavour {flavour.flavour_id!r} has no virtual link {vl_id!r}; "
                f"valid: {', '.join(sorted(known)) or 'none'}",
            )
        for vim in per_vim:
            if vim not in used.get(vl_id, set()):
                on = ", ".join(sorted(used.get(vl_id, set()))) or "no VIM (no VNF connects to it)"
                raise PlanError(
                    f"{_NETWORKS_FIELD}.{vl_id}",
                    f"no VNF on VIM account {vim} connects to {vl_id!r}; it is used on {on}",
                )
    cidrs = ns_vl_cidrs(flavour, ports, given)
    out = []
    for vl in flavour.virtual_links:
        cidr, version = cidrs[vl.id]
        nets = existing.get(vl.id, {})
        out.extend(
            NsVlPlan(vl.id, cidr, version, vim, nets.get(vim))
            for vim in sorted(used.get(vl.id, ()))
        )
    return out


def _profile_max_instances(flavour: NsFlavour, profile_id: str, count: int) -> int:
    """Most instances a VNF profile can have: its ``max_number_of_instances`` or its count at
    the highest level of an NS scaling aspect naming it (ADD_VNF and SCALE_NS add more)."""
    profile = next((p for p in flavour.vnf_profiles if p.id == profile_id), None)
    most = max(count, profile.max_number_of_instances if profile else 0)
    for aspect in flavour.scaling_aspects:
        per_level = aspect.vnf_instances.get(profile_id) or {}
        most = max([most, *per_level.values()])
    return most


def ns_vl_ports(
    flavour: NsFlavour, vnfs: list[tuple[VnfDeploymentSpec, Vnfd, int]]
) -> dict[str, int]:
    """NS VL id -> the ports the NS can put on it: for each VNF profile (one spec, its VNFD
    and its instance count), VDU instances at the VNF's full scale-out times the VDU's CPs on
    that VL, times the profile's most instances (``_profile_max_instances``)."""
    out: dict[str, int] = {}
    for spec, vnfd, count in vnfs:
        profile = next((p for p in flavour.vnf_profiles if p.id == spec.vnf_profile_id), None)
        level = profile.instantiation_level if profile else None
        counts = vdu_max_counts(vnfd, spec.flavour_id, level)
        instances = _profile_max_instances(flavour, spec.vnf_profile_id, count)
        for vdu in spec.vdus:
            for cp in vdu.cps:
                if cp.network in spec.ext_networks:
                    n = counts.get(vdu.vdu_id, vdu.count) * instances
                    out[cp.network] = out.get(cp.network, 0) + n
    return out


def plan_instantiation(
    ns_instance_id: str,
    nsd: Nsd,
    vnfds: dict[str, Vnfd],
    request: dict,
    *,
    default_vim: str | None,
    vnf_instance_ids: dict[str, str] | None = None,
    artifacts: dict[str, dict[str, bytes]] | None = None,
) -> NsPlan:
    """Plan an NS instantiation (see the module docstring for the rules)."""
    flavour = _ns_flavour(nsd, request)
    level = _ns_level(flavour, request.get("nsInstantiationLevelId"))
    ids = {p.id for p in flavour.vnf_profiles}
    params = _per_profile(request, "additionalParamsForVnf", "additionalParams", ids)
    where = _per_profile(request, "locationConstraints", "locationConstraints", ids)
    ns_params = request.get("additionalParamsForNs") or {}
    vnfs: list[VnfPlan] = []
    used: dict[str, set[str]] = {}
    present: list[str] = []
    pending: list[tuple[_VnfContext, int]] = []
    for profile in flavour.vnf_profiles:
        count = profile.min_number_of_instances
        if level is not None:
            count = level.vnf_instances.get(profile.id, count)
        if count <= 0:
            continue
        p = params.get(profile.id, {})
        vim = _vim_for(profile.id, p, ns_params.get("vimAccountId"), default_vim)
        vnfd = _vnfd_of(profile, vnfds)
        files = (artifacts or {}).get(vnfd.vnfd_id)
        ctx = _VnfContext(
            ns_instance_id, profile, vnfd, vim, p, _zone_of(where.get(profile.id, {})), files
        )
        pending.append((ctx, count))
        present.append(profile.id)
        for conn in profile.virtual_links:
            used.setdefault(conn.virtual_link, set()).add(vim)
    deps = _dependencies(flavour, present)
    layers = _layers(present, deps)
    rank = {pid: n for n, layer in enumerate(layers) for pid in layer}
    pending.sort(key=lambda entry: rank[entry[0].profile.id])  # stable: flavour order inside
    per_profile: list[tuple[VnfDeploymentSpec, Vnfd, int]] = []
    for ctx, count in pending:
        for index in range(count):
            vid = vnf_instance_id_for(ns_instance_id, ctx.profile.id, index, vnf_instance_ids)
            vnfs.append(VnfPlan(_vnf_spec(ctx, vid), list(deps[ctx.profile.id])))
        per_profile.append((vnfs[-1].spec, ctx.vnfd, count))
    ports = ns_vl_ports(flavour, per_profile)
    return NsPlan(
        ns_instance_id=ns_instance_id,
        nsd_id=nsd.nsd_id,
        flavour_id=flavour.flavour_id,
        instantiation_level_id=level.id if level else None,
        virtual_links=_ns_vls(
            flavour,
            used,
            ports,
            requested_ns_vl_cidrs(ns_params),
            requested_ns_vl_networks(ns_params, ns_params.get("vimAccountId") or default_vim),
        ),
        vnfs=vnfs,
        layers=layers,
    )


# ---------------------------------------------------------------------------------------------
# Placement bridge (plan -> optimizer input, optimizer answer -> plan)
# ---------------------------------------------------------------------------------------------
_HOST_SCOPES = {"nfvi_node", "host"}


def _rule_scope(scope: str | None) -> Literal["host", "zone"]:
    """SOL001 scopes: ``nfvi_node`` is a host; zone, zone_group and nfvi_pop map to a zone."""
    return "host" if scope in _HOST_SCOPES or scope is None else "zone"


@dataclass
class PlacementInput:
    """Optimizer input for one VIM: one demand per VDU instance and the descriptor rules
    (each rule's ``label`` is its descriptor policy name); ``labels[i]`` describes the rule
    behind ``rules[i]`` in full (type, name, scope, descriptor) for error messages."""

    demands: list[Demand] = field(default_factory=list)
    rules: list[OptRule] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)


def _rule_label(rule: Any, where: str, *, ns: bool = False) -> str:
    """How an error message names a descriptor rule: its SOL001 type, policy name and scope."""
    kind = ("Ns" if ns else "") + (
        "AntiAffinityRule" if rule.kind == "anti_affinity" else "AffinityRule"
    )
    return f"{kind} {rule.id!r} (scope {rule.scope or 'nfvi_node'}) of {where}"


def placement_inputs(
    plan: NsPlan, vnfds: Mapping[str, Vnfd], nsd: Nsd | None = None
) -> dict[str, PlacementInput]:
    """Optimizer input per VIM: one demand per VDU instance, the VNFD (and NSD) rules.

    Demand ids are ``<vnf_instance_id>/<vdu_id>-<index>``, groups ``<vnf_instance_id>/<vdu_id>``;
    a VNFD rule targeting VDUs applies within each VNF instance, an NSD rule targeting VNF
    profiles applies to every VDU instance of those profiles on the same VIM.
    """
    out: dict[str, PlacementInput] = {}
    by_profile: dict[tuple[str, str], list[str]] = {}
    for vnf in plan.vnfs:
        spec = vnf.spec
        inp = out.setdefault(spec.vim_account_id, PlacementInput())
        ids = by_profile.setdefault((spec.vim_account_id, spec.vnf_profile_id), [])
        for vdu in spec.vdus:
            group = f"{spec.vnf_instance_id}/{vdu.vdu_id}"
            for i in range(vdu.count):
                demand = Demand(
                    f"{group}-{i}",
                    vdu.vcpus,
                    vdu.ram_mib,
                    vdu.disk_gib,
                    vdu.zone,
                    None,
                    group,
                    vnf_id=spec.vnf_instance_id,
                    ns_id=plan.ns_instance_id,
                )
                inp.demands.append(demand)
                ids.append(demand.id)
        flavour = vnfds[spec.vnfd_id].flavour(spec.flavour_id)
        for rule in flavour.placement_rules:
            members = [f"{spec.vnf_instance_id}/{t}" for t in rule.targets]
            inp.rules.append(OptRule(rule.kind, _rule_scope(rule.scope), members, rule.id))
            inp.labels.append(_rule_label(rule, f"VNFD {spec.vnfd_id} flavour {spec.flavour_id}"))
    ns_flavour = next(
        (f for f in (nsd.flavours if nsd else []) if f.flavour_id == plan.flavour_id), None
    )
    for rule in ns_flavour.placement_rules if ns_flavour else []:
        for vim, inp in out.items():
            members = [d for t in rule.targets for d in by_profile.get((vim, t), [])]
            if members:
                inp.rules.append(OptRule(rule.kind, _rule_scope(rule.scope), members, rule.id))
                inp.labels.append(
                    _rule_label(rule, f"NSD {plan.nsd_id} flavour {plan.flavour_id}", ns=True)
                )
    return out


def placement_demands(
    plan: NsPlan, vnfds: Mapping[str, Vnfd], nsd: Nsd | None = None
) -> dict[str, tuple[list[Demand], list[OptRule]]]:
    """``placement_inputs`` as (demands, rules) per VIM."""
    return {vim: (i.demands, i.rules) for vim, i in placement_inputs(plan, vnfds, nsd).items()}


def apply_placement(plan: NsPlan, placement: Placement) -> list[str]:
    """Copy the optimizer's hosts into each spec's ``hosts`` (``<vdu_id>-<index>`` -> host);
    returns the demand ids left unplaced."""
    specs = {vnf.spec.vnf_instance_id: vnf.spec for vnf in plan.vnfs}
    for demand_id, host in placement.assignments.items():
        vnf_instance_id, _, key = demand_id.partition("/")
        if vnf_instance_id in specs:
            specs[vnf_instance_id].hosts[key] = host
    return sorted(placement.unplaced)
