"""The one VIM driver interface, its data types and its typed error tree.

Every VIM nfvo deploys on (the built-in ``sim``, OpenStack, Kubernetes) sits behind
``VimDriver``. Drivers never touch nfvo's database; they speak to the VIM only. Every create
takes an nfvo-supplied idempotency ``key``: a retried create with the same key returns the
resource created the first time, never a duplicate. Deleting an absent resource succeeds.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, BinaryIO, ClassVar

# --------------------------------------------------------------------------- errors


class VimError(Exception):
    """Base of every error a driver raises; carries the VIM's own words and request id."""

    retryable: ClassVar[bool] = False
    code: ClassVar[str] = "VIM_ERROR"

    def __init__(
        self, message: str, *, vim_message: str | None = None, request_id: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.vim_message = vim_message or message
        self.request_id = request_id

    def to_dict(self) -> dict[str, Any]:
        """Fields for a ProblemDetails body."""
        out: dict[str, Any] = {"vimError": type(self).__name__, "vimMessage": self.vim_message}
        if self.request_id:
            out["vimRequestId"] = self.request_id
        return out


class VimNotFound(VimError):
    """The addressed VIM resource does not exist."""

    code = "VIM_NOT_FOUND"


class VimConflict(VimError):
    """The VIM refused because of the resource's state (e.g. deleting a network in use)."""

    code = "VIM_CONFLICT"


class VimQuotaExceeded(VimError):
    """A tenant quota of the VIM would be exceeded."""

    code = "VIM_QUOTA_EXCEEDED"


class VimCapacityExceeded(VimError):
    """No host (in the requested zone / the hinted host) has room for the request."""

    code = "VIM_CAPACITY_EXCEEDED"


class VimAuthError(VimError):
    """The VIM rejected the credentials or the token."""

    code = "VIM_AUTH_ERROR"


class VimBadRequest(VimError):
    """The VIM rejected the request as invalid (unknown image or flavor, bad CIDR...)."""

    code = "VIM_BAD_REQUEST"


class VimUnavailable(VimError):
    """The VIM (or one of its services) is unavailable; retrying later may succeed."""

    retryable = True
    code = "VIM_UNAVAILABLE"


class VimTimeout(VimError):
    """The VIM did not answer in time; the operation may or may not have happened."""

    retryable = True
    code = "VIM_TIMEOUT"


class VimConfigError(ValueError):
    """A VIM account's ``config`` (or topology) is invalid; ``field`` names the culprit."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


# --------------------------------------------------------------------------- data

TAG_KEY = "nfvo.key"  # the idempotency key of the create
TAG_NS = "nfvo.ns"  # NS instance id the resource belongs to
TAG_VNF = "nfvo.vnf"  # VNF instance id the resource belongs to
TAG_VNFD = "nfvo.vnfd"  # VNFD id whose package an uploaded image came from


@dataclass
class Zone:
    """An availability zone."""

    name: str
    available: bool = True


@dataclass
class Host:
    """A compute host with its physical capacity, allocation ratios and current usage."""

    name: str
    zone: str
    vcpus: int
    ram_mib: int
    disk_gib: int
    cpu_allocation_ratio: float = 1.0
    ram_allocation_ratio: float = 1.0
    disk_allocation_ratio: float = 1.0
    vcpus_used: int = 0
    ram_mib_used: int = 0
    disk_gib_used: int = 0
    servers: int = 0
    state: str = "up"  # up | down


@dataclass
class Flavor:
    """A named compute size."""

    id: str
    name: str
    vcpus: int
    ram_mib: int
    disk_gib: int


@dataclass
class Image:
    """A software image known to the VIM."""

    id: str
    name: str
    disk_format: str | None = None
    container_format: str | None = None
    size_bytes: int | None = None
    checksum: str | None = None


@dataclass(frozen=True)
class ImageRef:
    """A software image a VNFD references by name: its package does not carry the file, the
    VIM's image service holds it (SOL001 ``SwImageData`` name, version, checksum)."""

    name: str
    version: str | None = None
    checksum_algorithm: str | None = None
    checksum_hash: str | None = None


@dataclass
class ImageLookup:
    """The outcome of looking an :class:`ImageRef` up on a VIM: the usable image, or why
    there is none (``detail``: absent, not active, checksum differs)."""

    image: Image | None
    detail: str | None = None
    checksum_verified: bool = False


@dataclass(kw_only=True)
class ImageFacts:
    """What a VNFD says of a software image (its ``SwImage`` artifact): formats, minimum disk
    and RAM, checksum (``checksum_algorithm`` as the VNFD writes it, ``sha-256``...), size."""

    disk_format: str | None = None
    container_format: str | None = None
    min_disk_gib: int = 0
    min_ram_mib: int = 0
    checksum_algorithm: str | None = None
    checksum_hash: str | None = None
    size_bytes: int | None = None

    def facts(self) -> dict[str, Any]:
        """These fields alone (without a subclass's own), as keyword arguments."""
        return {f.name: getattr(self, f.name) for f in fields(ImageFacts)}


@dataclass(kw_only=True)
class ImageSpec(ImageFacts):
    """What to ensure: a software image of this ``name`` on the VIM.

    Images are looked up by name and shared by everything deployed on the VIM (they are not
    per NS and never deleted by nfvo). ``open`` gives the image's bytes (a fresh stream per
    call, closed by the caller) when the VNF package carries them; a driver uploads them only
    if the VIM lacks an image of that name; the bytes are verified against ``checksum_hash``
    while they stream.
    """

    name: str
    open: Callable[[], BinaryIO] | None = None
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class NetworkSpec:
    """What to create: a network (idempotent on ``key``)."""

    key: str
    name: str
    tags: dict[str, str] = field(default_factory=dict)
    external: bool = False
    mtu: int | None = None


@dataclass
class Network:
    """A VIM network."""

    id: str
    name: str
    status: str = "ACTIVE"
    external: bool = False
    tags: dict[str, str] = field(default_factory=dict)
    subnets: list[str] = field(default_factory=list)


@dataclass
class SubnetSpec:
    """What to create: a subnet of a network (idempotent on ``key``)."""

    key: str
    name: str
    network_id: str
    cidr: str
    ip_version: int = 4
    gateway_ip: str | None = None
    dhcp: bool = True
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class Subnet:
    """A VIM subnet."""

    id: str
    name: str
    network_id: str
    cidr: str
    ip_version: int = 4
    gateway_ip: str | None = None
    dhcp: bool = True
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class SecurityRule:
    """One security group rule of a port (SOL001 SecurityGroupRule)."""

    direction: str = "ingress"  # ingress | egress
    ether_type: str = "IPv4"
    protocol: str | None = None  # tcp | udp | icmp | None (any)
    port_range_min: int | None = None
    port_range_max: int | None = None
    remote_cidr: str | None = None


@dataclass
class PortSpec:
    """What to create: a port on a network (idempotent on ``key``)."""

    key: str
    name: str
    network_id: str
    security_rules: list[SecurityRule] = field(default_factory=list)
    fixed_ip: str | None = None
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class Port:
    """A VIM port."""

    id: str
    name: str
    network_id: str
    status: str = "DOWN"  # DOWN until bound to a server, then ACTIVE
    server_id: str | None = None
    mac_address: str | None = None
    ip_addresses: list[str] = field(default_factory=list)
    security_rules: list[SecurityRule] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class ServerSpec:
    """What to create: a server/VDU instance (idempotent on ``key``).

    Give either ``flavor`` (name or id) or explicit ``vcpus``/``ram_mib``/``disk_gib``.
    ``zone`` restricts placement to a zone; ``host`` pins it to a host (a hint the VIM must
    honour or refuse with VimCapacityExceeded).
    """

    key: str
    name: str
    image: str | None = None
    flavor: str | None = None
    vcpus: int | None = None
    ram_mib: int | None = None
    disk_gib: int | None = None
    ports: list[str] = field(default_factory=list)
    user_data: str | None = None
    zone: str | None = None
    host: str | None = None
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class Server:
    """A VIM server (VM or container) with where it runs and its state.

    ``status``: BUILD, ACTIVE, ERROR, SHUTOFF, REBOOT, MIGRATING, DELETED.
    """

    id: str
    name: str
    status: str
    host: str | None
    zone: str | None
    vcpus: int
    ram_mib: int
    disk_gib: int
    image: str | None = None
    flavor: str | None = None
    ports: list[str] = field(default_factory=list)
    addresses: list[str] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    fault: str | None = None  # the VIM's words when status is ERROR
    created_at: str | None = None


@dataclass
class ServerMetrics:
    """One sample of a server's usage, for monitoring."""

    server_id: str
    timestamp: str
    cpu_percent: float
    ram_used_mib: float
    net_rx_bps: float
    net_tx_bps: float


# --------------------------------------------------------------------------- driver


def image_digests(image: Image) -> dict[str, str]:
    """The digests a VIM reports for an image: ``Image.checksum`` is ``md5`` hex (Glance's
    ``checksum``) unless written ``algorithm:hex``."""
    if not image.checksum:
        return {}
    algo, sep, value = image.checksum.partition(":")
    if sep and value:
        return {algo.strip().lower().replace("-", ""): value.strip().lower()}
    return {"md5": image.checksum.strip().lower()}


class VimDriver(ABC):
    """A connection to one VIM account. Methods raise only ``VimError`` subclasses."""

    vim_type: ClassVar[str]
    # What SOL005 ``vimLevelResourceType`` calls this VIM's servers and networks
    server_resource_type: ClassVar[str] = "OS::Nova::Server"
    network_resource_type: ClassVar[str] = "OS::Neutron::Net"

    @abstractmethod
    def check(self) -> dict[str, Any]:
        """Verify connectivity and credentials; returns facts about the VIM (version...)."""

    # inventory
    @abstractmethod
    def list_zones(self) -> list[Zone]:
        """Availability zones."""

    @abstractmethod
    def list_hosts(self) -> list[Host]:
        """Compute hosts with capacity and usage."""

    @abstractmethod
    def list_flavors(self) -> list[Flavor]:
        """Flavors."""

    @abstractmethod
    def list_images(self) -> list[Image]:
        """Images."""

    def find_image(self, ref: ImageRef) -> ImageLookup:
        """Look up an image referenced by name (or id), checking its checksum when the VNFD
        gives one and the VIM knows a digest of that algorithm. Read-only: nothing is
        created. This default searches :meth:`list_images` (``Image.checksum`` is an md5 hex
        digest, or ``algorithm:hex``); drivers with an image service override it."""
        from nfvo.vim.images import select_image

        return select_image(ref, [(i, image_digests(i)) for i in self.list_images()], self)

    def ensure_image(self, spec: ImageSpec) -> Image:
        """The VIM's image named ``spec.name``, uploading ``spec.open()``'s bytes if it has none.

        Idempotent: an existing image of that name is returned and nothing is uploaded. This
        default only looks the name up, for VIMs nfvo cannot upload images to; drivers of VIMs
        with an image service override it.
        """
        for image in self.list_images():
            if spec.name in (image.name, image.id):
                return image
        vim = getattr(self, "vim_id", None) or self.vim_type
        raise VimBadRequest(
            f"image {spec.name!r} does not exist on VIM {vim}, and images cannot be uploaded "
            f"to a {self.vim_type} VIM",
            request_id="nfvo-local",
        )

    # networks
    @abstractmethod
    def create_network(self, spec: NetworkSpec) -> Network:
        """Create (or return the existing network with the same key)."""

    @abstractmethod
    def get_network(self, network_id: str) -> Network:
        """A network; VimNotFound if absent."""

    @abstractmethod
    def list_networks(self, tags: dict[str, str] | None = None) -> list[Network]:
        """Networks, optionally only those carrying all ``tags``."""

    @abstractmethod
    def delete_network(self, network_id: str) -> None:
        """Delete; absent is fine; VimConflict while ports use it."""

    @abstractmethod
    def create_subnet(self, spec: SubnetSpec) -> Subnet:
        """Create (or return the existing subnet with the same key)."""

    @abstractmethod
    def delete_subnet(self, subnet_id: str) -> None:
        """Delete; absent is fine."""

    # ports
    @abstractmethod
    def create_port(self, spec: PortSpec) -> Port:
        """Create (or return the existing port with the same key)."""

    @abstractmethod
    def get_port(self, port_id: str) -> Port:
        """A port; VimNotFound if absent."""

    @abstractmethod
    def list_ports(self, tags: dict[str, str] | None = None) -> list[Port]:
        """Ports, optionally only those carrying all ``tags``."""

    @abstractmethod
    def delete_port(self, port_id: str) -> None:
        """Delete; absent is fine."""

    # servers
    @abstractmethod
    def create_server(self, spec: ServerSpec) -> Server:
        """Create (or return the existing server with the same key); status BUILD or later."""

    @abstractmethod
    def get_server(self, server_id: str) -> Server:
        """A server with its current status; VimNotFound if absent."""

    @abstractmethod
    def list_servers(self, tags: dict[str, str] | None = None) -> list[Server]:
        """Servers, optionally only those carrying all ``tags``."""

    @abstractmethod
    def delete_server(self, server_id: str) -> None:
        """Delete (frees its capacity, unbinds its ports); absent is fine."""

    def delete_servers(self, server_ids: Sequence[str]) -> None:
        """Delete several servers; returns when all are gone (absent ones are fine). A VIM that
        deletes asynchronously overrides this to start every delete before waiting."""
        for server_id in server_ids:
            self.delete_server(server_id)

    @abstractmethod
    def start_server(self, server_id: str) -> Server:
        """SHUTOFF -> ACTIVE."""

    @abstractmethod
    def stop_server(self, server_id: str) -> Server:
        """ACTIVE -> SHUTOFF."""

    @abstractmethod
    def reboot_server(self, server_id: str) -> Server:
        """Reboot (ACTIVE afterwards)."""

    @abstractmethod
    def migrate_server(self, server_id: str, host: str | None = None) -> Server:
        """Move to ``host`` (or a host the VIM chooses); VimCapacityExceeded if no room."""

    @abstractmethod
    def server_metrics(self, server_id: str) -> ServerMetrics:
        """Current usage sample of a server."""

    def set_host_schedulable(self, host: str, schedulable: bool, reason: str = "") -> bool:
        """Stop (``False``) or resume (``True``) new servers on a compute host at the VIM
        itself (an availability window's sleep: the sim marks the host ``disabled``; Nova
        disables the nova-compute service; Kubernetes cordons the node). Servers already
        there keep running. False when this VIM cannot (nfvo's own placement still keeps
        off the host)."""
        return False

    def release_ns_group(self, ns_instance_id: str) -> None:  # noqa: B027 - optional hook
        """Drop the VIM's own grouping of an NS's resources once they are gone (a Kubernetes
        namespace); VIMs without one do nothing."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""
