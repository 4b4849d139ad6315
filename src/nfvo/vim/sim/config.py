"""The sim VIM's configuration: pydantic models plus the checks pydantic cannot express.

A sim VIM account's ``config`` object describes its topology (zones, hosts, flavors, images,
provider networks) and its behaviour (latency, faults, quotas, load, credentials). Every
problem is reported as ``VimConfigError`` naming the field by dotted path, so an operator
registering a VIM learns exactly which entry is wrong.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, create_model

from nfvo.monitoring.options import parse_monitoring
from nfvo.vim.base import VimConfigError

# Every size a config can name is bounded, so that validating and expanding a config (and the
# state file and inventory sync that follow) stays within a known amount of memory and time.
MAX_HOSTS = 10_000  # a sync of this many holds ~35 MiB at its peak (100 000 took ~300 MiB)
MAX_ZONES = 1000
MAX_FLAVORS = 1000
MAX_NETWORKS = 1000
MAX_HOST_FAULTS = 1000
MAX_VCPUS = 1 << 20  # per host or flavor
MAX_RAM_MIB = 1 << 40  # per host or flavor (1 EiB)
MAX_DISK_GIB = 1 << 40  # per host or flavor
MAX_RATIO = 1000.0  # allocation ratios
MAX_COUNT = 1 << 53  # image sizes and quota values (exact in JSON and SQLite)
MAX_LATENCY_MS = 60_000.0  # one operation's simulated call latency
MAX_BOOT_MS = 86_400_000.0  # BUILD -> ACTIVE (a timestamp, never a sleep): one day
MAX_FAIL_AFTER_S = 10 * 365 * 86_400.0
MAX_PERIOD_S = 365 * 86_400.0
MAX_SEED = 1 << 63
MAX_TEXT = 1024  # free texts (fault messages, passwords)
MAX_SHORT_TEXT = 64  # formats, CIDRs

# Operations whose call latency and fault injection can be configured.
OPERATIONS: tuple[str, ...] = (
    "check",
    "list",
    "get",
    "network_create",
    "network_delete",
    "subnet_create",
    "subnet_delete",
    "port_create",
    "port_delete",
    "server_create",
    "server_delete",
    "server_start",
    "server_stop",
    "server_reboot",
    "server_migrate",
    "metrics",
    "image_create",
)

ERROR_NAMES = (
    "VimUnavailable",
    "VimQuotaExceeded",
    "VimAuthError",
    "VimConflict",
    "VimBadRequest",
    "VimNotFound",
    "VimCapacityExceeded",
    "VimTimeout",
)

Vcpus = Annotated[int, Field(strict=True, gt=0, le=MAX_VCPUS)]
RamMib = Annotated[int, Field(strict=True, gt=0, le=MAX_RAM_MIB)]
DiskGib = Annotated[int, Field(strict=True, gt=0, le=MAX_DISK_GIB)]
NonNegDiskGib = Annotated[int, Field(strict=True, ge=0, le=MAX_DISK_GIB)]
NonNegInt = Annotated[int, Field(strict=True, ge=0, le=MAX_COUNT)]
Ratio = Annotated[float, Field(gt=0, le=MAX_RATIO, allow_inf_nan=False)]
Rate = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
Name = Annotated[str, Field(strict=True, min_length=1, max_length=255)]
Ms = Annotated[float, Field(ge=0, le=MAX_LATENCY_MS, allow_inf_nan=False)]
BootMs = Annotated[float, Field(ge=0, le=MAX_BOOT_MS, allow_inf_nan=False)]
Text = Annotated[str, Field(max_length=MAX_TEXT)]
ShortText = Annotated[str, Field(max_length=MAX_SHORT_TEXT)]
StrategyName = Annotated[str, Field(strict=True, pattern=r"^[a-z][a-z0-9_]{0,63}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ZoneConfig(_Strict):
    """One availability zone of the simulated VIM."""

    name: Name


class HostDefaults(_Strict):
    """Capacity every generated host (and every host entry lacking a value) gets."""

    vcpus: Vcpus = 64
    ram_mib: RamMib = 262144
    disk_gib: DiskGib = 2048
    cpu_allocation_ratio: Ratio = 1.0
    ram_allocation_ratio: Ratio = 1.0
    disk_allocation_ratio: Ratio = 1.0


class HostConfig(_Strict):
    """One explicitly listed compute host; missing values come from ``host_defaults``."""

    name: Name
    zone: Name | None = None
    vcpus: Vcpus | None = None
    ram_mib: RamMib | None = None
    disk_gib: DiskGib | None = None
    cpu_allocation_ratio: Ratio | None = None
    ram_allocation_ratio: Ratio | None = None
    disk_allocation_ratio: Ratio | None = None


class FlavorConfig(_Strict):
    """A flavor the simulated VIM offers."""

    name: Name
    id: Name | None = None
    vcpus: Vcpus
    ram_mib: RamMib
    disk_gib: NonNegDiskGib


class ImageConfig(_Strict):
    """An image the simulated VIM holds."""

    name: Name
    id: Name | None = None
    disk_format: ShortText | None = "qcow2"
    container_format: ShortText | None = "bare"
    size_bytes: NonNegInt | None = None
    # md5 hex as Glance's ``checksum``, or ``algorithm:hex`` (``sha256:…``) for another digest
    checksum: Annotated[str, Field(max_length=300)] | None = None


class NetworkConfig(_Strict):
    """A pre-existing provider network (with one subnet when ``cidr`` is given)."""

    name: Name
    cidr: ShortText | None = None
    external: bool = False


class QuotaConfig(_Strict):
    """Tenant quotas; an absent entry means unlimited."""

    servers: NonNegInt | None = None
    vcpus: NonNegInt | None = None
    ram_mib: NonNegInt | None = None
    networks: NonNegInt | None = None
    ports: NonNegInt | None = None


class OperationFault(_Strict):
    """Random failure of one operation: a typed error or a timeout."""

    error_rate: Rate = 0.0
    timeout_rate: Rate = 0.0
    error: Literal[ERROR_NAMES] = "VimUnavailable"  # type: ignore[valid-type]


class BootFault(_Strict):
    """Random failure of a server's boot: BUILD -> ERROR."""

    error_rate: Rate = 0.0
    message: Text = "Exceeded maximum number of retries. No valid host was found."


class HostFault(_Strict):
    """A host failing at a wall-clock time or some seconds after the fault is first seen."""

    fail_at: datetime | None = None
    fail_after_s: Annotated[float, Field(ge=0, le=MAX_FAIL_AFTER_S, allow_inf_nan=False)] | None = (
        None
    )


LatencyConfig = create_model(
    "LatencyConfig",
    __base__=_Strict,
    __doc__="Milliseconds per operation; ``server_boot`` is the time from BUILD to ACTIVE.",
    server_boot=(BootMs, 0.0),
    **{op: (Ms, 0.0) for op in OPERATIONS},
)

FaultsConfig = create_model(
    "FaultsConfig",
    __base__=_Strict,
    __doc__="Fault injection per operation, for server boots and for hosts.",
    server_boot=(BootFault | None, None),
    hosts=(dict[str, HostFault], Field(default_factory=dict, max_length=MAX_HOST_FAULTS)),
    **{op: (OperationFault | None, None) for op in OPERATIONS},
)


class LoadConfig(_Strict):
    """Synthetic CPU load pattern used for metrics (percent)."""

    pattern: Literal["constant", "sine", "spike"] = "constant"
    base: Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)] = 20.0
    amplitude: Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)] = 10.0
    period_s: Annotated[float, Field(gt=0, le=MAX_PERIOD_S, allow_inf_nan=False)] = 600.0


class AuthConfig(_Strict):
    """Credentials the simulated VIM accepts."""

    user: Name
    password: Text


def _default_flavors() -> list[FlavorConfig]:
    sizes = [
        ("m1.tiny", 1, 512, 1),
        ("m1.small", 1, 2048, 20),
        ("m1.medium", 2, 4096, 40),
        ("m1.large", 4, 8192, 80),
        ("m1.xlarge", 8, 16384, 160),
    ]
    return [FlavorConfig(name=n, vcpus=v, ram_mib=r, disk_gib=d) for n, v, r, d in sizes]


MAX_IMAGES = 1000
# The image catalogue of a sim VIM whose config names none: the images an OpenStack cloud
# commonly offers, so VNF packages that reference an image by name (not carrying it) find it.
DEFAULT_IMAGES: tuple[tuple[str, int], ...] = (
    ("cirros", 16_338_944),
    ("cirros-0.5.2-x86_64-disk", 16_300_544),
    ("cirros-0.6.2-x86_64-disk", 21_430_272),
    ("ubuntu-22.04", 660_602_880),
    ("ubuntu-24.04", 590_872_576),
    ("debian-12", 346_685_440),
    ("centos-stream-9", 1_188_757_504),
)


def _default_images() -> list[ImageConfig]:
    return [ImageConfig(name=n, size_bytes=size) for n, size in DEFAULT_IMAGES]


class _Top(_Strict):
    zones: Any = 1
    hosts: Any = 4
    host_defaults: HostDefaults = Field(default_factory=HostDefaults)
    flavors: list[FlavorConfig] = Field(default_factory=_default_flavors, max_length=MAX_FLAVORS)
    images: list[ImageConfig] = Field(default_factory=_default_images, max_length=MAX_IMAGES)
    networks: list[NetworkConfig] = Field(default_factory=list, max_length=MAX_NETWORKS)
    quota: QuotaConfig | None = None
    latency_ms: LatencyConfig = Field(default_factory=LatencyConfig)  # type: ignore[valid-type]
    jitter: Rate = 0.0
    faults: FaultsConfig = Field(default_factory=FaultsConfig)  # type: ignore[valid-type]
    seed: Annotated[int, Field(strict=True, ge=-MAX_SEED, lt=MAX_SEED)] | None = None
    load: LoadConfig = Field(default_factory=LoadConfig)
    auth: AuthConfig | None = None
    # read by the LCM: the optimizer strategy it places with (which names exist, it checks)
    placement_strategy: StrategyName | None = None
    # read by the monitoring component (nfvo.monitoring.options): checked in parse_sim_config
    monitoring: Any = None


class SimConfig(BaseModel):
    """A validated sim VIM config with the topology expanded into explicit hosts and zones."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    raw: Any  # the validated top-level model (_Top)
    zone_names: list[str]
    hosts: list[tuple[str, str, int, int, int, float, float, float]]

    @property
    def top(self) -> _Top:
        """The validated top-level settings."""
        return self.raw  # type: ignore[no-any-return]

    def normalised(self) -> dict[str, Any]:
        """The config as JSON with every default filled in (topology kept compact)."""
        out = self.top.model_dump(mode="json", exclude_none=True)
        return out


# --------------------------------------------------------------------------- validation


def _path(prefix: str, loc: tuple[int | str, ...]) -> str:
    out = prefix
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("function-after", "function-before", "tagged-union"):
            continue
        else:
            out += f".{part}"
    return out


def _raise_from(err: ValidationError, prefix: str) -> None:
    first = err.errors()[0]
    raise VimConfigError(_path(prefix, tuple(first["loc"])), first["msg"]) from None


def _zones(value: Any) -> list[str]:
    if isinstance(value, bool) or not isinstance(value, int | list):
        raise VimConfigError("config.zones", "must be a positive integer or a list of {name}")
    if isinstance(value, int):
        if value < 1:
            raise VimConfigError("config.zones", "must be at least 1")
        if value > MAX_ZONES:
            raise VimConfigError("config.zones", f"at most {MAX_ZONES} zones are supported")
        return [f"zone-{i}" for i in range(1, value + 1)]
    if not value:
        raise VimConfigError("config.zones", "must name at least one zone")
    if len(value) > MAX_ZONES:
        raise VimConfigError("config.zones", f"at most {MAX_ZONES} zones are supported")
    try:
        zones = TypeAdapter(list[ZoneConfig]).validate_python(value)
    except ValidationError as err:
        _raise_from(err, "config.zones")
    names: set[str] = set()
    for i, z in enumerate(zones):
        if z.name in names:
            raise VimConfigError(f"config.zones[{i}].name", f"duplicate zone name {z.name!r}")
        names.add(z.name)
    return [z.name for z in zones]


def _hosts(value: Any, zones: list[str], d: HostDefaults) -> list[tuple]:
    ratios = (d.cpu_allocation_ratio, d.ram_allocation_ratio, d.disk_allocation_ratio)
    if isinstance(value, bool) or not isinstance(value, int | list):
        raise VimConfigError("config.hosts", "must be a positive integer or a list of hosts")
    if isinstance(value, int):
        if value < 1:
            raise VimConfigError("config.hosts", "must be at least 1")
        if value > MAX_HOSTS:
            raise VimConfigError("config.hosts", f"at most {MAX_HOSTS} hosts are supported")
        width = max(4, len(str(value)))
        return [
            (f"host-{i:0{width}d}", zones[(i - 1) % len(zones)], d.vcpus, d.ram_mib, d.disk_gib)
            + ratios
            for i in range(1, value + 1)
        ]
    if not value:
        raise VimConfigError("config.hosts", "must list at least one host")
    if len(value) > MAX_HOSTS:
        raise VimConfigError("config.hosts", f"at most {MAX_HOSTS} hosts are supported")
    try:
        hosts = TypeAdapter(list[HostConfig]).validate_python(value)
    except ValidationError as err:
        _raise_from(err, "config.hosts")
    known, seen, out = set(zones), set(), []
    for i, h in enumerate(hosts):
        if h.name in seen:
            raise VimConfigError(f"config.hosts[{i}].name", f"duplicate host name {h.name!r}")
        seen.add(h.name)
        zone = h.zone or zones[i % len(zones)]
        if zone not in known:
            raise VimConfigError(f"config.hosts[{i}].zone", f"unknown zone {zone!r}")
        out.append(
            (
                h.name,
                zone,
                h.vcpus or d.vcpus,
                h.ram_mib or d.ram_mib,
                h.disk_gib or d.disk_gib,
                h.cpu_allocation_ratio or d.cpu_allocation_ratio,
                h.ram_allocation_ratio or d.ram_allocation_ratio,
                h.disk_allocation_ratio or d.disk_allocation_ratio,
            )
        )
    return out


def _unique(items: list[Any], what: str) -> None:
    seen: set[str] = set()
    for i, item in enumerate(items):
        if item.name in seen:
            raise VimConfigError(f"config.{what}[{i}].name", f"duplicate name {item.name!r}")
        seen.add(item.name)


def _check_cidrs(top: _Top) -> None:
    import ipaddress

    for i, n in enumerate(top.networks):
        if n.cidr is not None:
            try:
                ipaddress.ip_network(n.cidr, strict=True)
            except ValueError as exc:
                raise VimConfigError(f"config.networks[{i}].cidr", str(exc)) from None


def parse_sim_config(config: Any) -> SimConfig:
    """Validate a sim VIM config; raises VimConfigError naming the field by dotted path."""
    if not isinstance(config, dict):
        raise VimConfigError("config", "must be a JSON object")
    try:
        top = _Top.model_validate(config)
    except ValidationError as err:
        _raise_from(err, "config")
    zones = _zones(top.zones)
    hosts = _hosts(top.hosts, zones, top.host_defaults)
    _unique(top.flavors, "flavors")
    _unique(top.images, "images")
    _unique(top.networks, "networks")
    _check_cidrs(top)
    top.monitoring = parse_monitoring(top.monitoring, "sim")
    names = {h[0] for h in hosts}
    for name, fault in top.faults.hosts.items():
        if name not in names:
            raise VimConfigError(f"config.faults.hosts.{name}", f"unknown host {name!r}")
        if (fault.fail_at is None) == (fault.fail_after_s is None):
            raise VimConfigError(
                f"config.faults.hosts.{name}", "give exactly one of fail_at or fail_after_s"
            )
    return SimConfig(raw=top, zone_names=zones, hosts=hosts)


def fail_time(fault: HostFault, armed_at: float) -> float:
    """Epoch seconds at which a host fault strikes."""
    if fault.fail_at is not None:
        at = fault.fail_at if fault.fail_at.tzinfo else fault.fail_at.replace(tzinfo=UTC)
        return at.timestamp()
    return armed_at + float(fault.fail_after_s or 0.0)


def runtime_of(config: dict[str, Any]) -> dict[str, Any]:
    """The runtime (changeable without touching the topology) part of a config."""
    keys = ("latency_ms", "jitter", "faults", "seed", "load", "quota")
    return {k: config[k] for k in keys if k in config}
