"""The VNFM contract: deploy, scale, heal and remove one VNF on a VIM driver.

The NFVO's life-cycle engine plans an NS (which VNFs, which VDUs, how many, where, on which
VIM) and hands each VNF to a VNFM as a ``VnfDeploymentSpec``; the VNFM answers with a
``VnfRecord`` of exactly what it created. Every VIM call carries an idempotency key derived
from the spec, so calling ``instantiate`` again after a crash finishes the job without
creating anything twice.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from nfvo.vim.base import ImageFacts, SecurityRule, VimDriver, VimError


@dataclass
class VirtualLinkSpec:
    """An internal virtual link of the VNF to create as a VIM network + subnet."""

    vl_id: str
    cidr: str
    ip_version: int = 4
    gateway_ip: str | None = None
    dhcp: bool = True


@dataclass
class CpSpec:
    """A VDU connection point: a port on ``network`` (an internal VL id of this VNF, or an NS
    virtual link id present in ``VnfDeploymentSpec.ext_networks``)."""

    cp_id: str
    network: str
    order: int = 0
    security_rules: list[SecurityRule] = field(default_factory=list)


@dataclass(kw_only=True)
class ImageArtifact(ImageFacts):
    """A VDU's software image carried by the VNF package: where it is and what it is.

    Lets the deploy step upload the image to a VIM that lacks one of that name; the facts come
    from the VNFD's ``tosca.artifacts.nfv.SwImage`` artifact.
    """

    file: str  # package-relative path of the image file


@dataclass
class VduSpec:
    """One VDU and how many instances of it to run.

    ``image`` is the software image's name on the VIM; ``image_artifact``, when the package
    carries the image file, is what to upload if the VIM has no image of that name.
    """

    vdu_id: str
    name: str
    count: int
    vcpus: int
    ram_mib: int
    disk_gib: int
    image: str | None = None
    flavor: str | None = None
    user_data: str | None = None  # day-0 (cloud-init), parameters already substituted
    cps: list[CpSpec] = field(default_factory=list)
    zone: str | None = None
    boot_timeout_s: float = 300.0
    image_artifact: ImageArtifact | None = None


@dataclass
class VnfDeploymentSpec:
    """Everything a VNFM needs to deploy one VNF instance."""

    ns_instance_id: str
    vnf_instance_id: str
    vnf_profile_id: str
    vnfd_id: str
    flavour_id: str
    vim_account_id: str
    internal_vls: list[VirtualLinkSpec] = field(default_factory=list)
    vdus: list[VduSpec] = field(default_factory=list)
    ext_networks: dict[str, str] = field(default_factory=dict)  # NS VL id -> VIM network id
    hosts: dict[str, str] = field(default_factory=dict)  # "<vdu_id>-<index>" -> host (placement)
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class VnfcRecord:
    """One running VDU instance (a VNFC) and its VIM resources."""

    vdu_id: str
    index: int
    key: str
    server_id: str
    status: str
    host: str | None
    zone: str | None
    port_ids: dict[str, str] = field(default_factory=dict)  # cp_id -> VIM port id
    addresses: dict[str, list[str]] = field(default_factory=dict)  # cp_id -> IPs
    mac_addresses: dict[str, str] = field(default_factory=dict)  # cp_id -> MAC, when known


@dataclass
class VlRecord:
    """An internal virtual link as created on the VIM."""

    vl_id: str
    network_id: str
    subnet_id: str | None


@dataclass
class VnfRecord:
    """What a VNFM created for one VNF instance; enough to scale, heal and remove it."""

    vnf_instance_id: str
    vim_account_id: str
    vnfcs: list[VnfcRecord] = field(default_factory=list)
    vls: list[VlRecord] = field(default_factory=list)


class VnfmError(Exception):
    """A VNF operation failed; names the VNF, the VDU, the VIM and the VIM's own words."""

    def __init__(
        self,
        message: str,
        *,
        vnf_instance_id: str,
        vdu_id: str | None = None,
        vim_account_id: str | None = None,
        vim_error: VimError | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.vnf_instance_id = vnf_instance_id
        self.vdu_id = vdu_id
        self.vim_account_id = vim_account_id
        self.vim_error = vim_error

    @property
    def retryable(self) -> bool:
        """Whether retrying the same operation later may succeed."""
        return bool(self.vim_error and self.vim_error.retryable)

    def to_dict(self) -> dict[str, Any]:
        """Fields for a ProblemDetails / op-occ error."""
        out: dict[str, Any] = {"vnfInstanceId": self.vnf_instance_id, "detail": self.message}
        if self.vdu_id:
            out["vduId"] = self.vdu_id
        if self.vim_account_id:
            out["vimAccountId"] = self.vim_account_id
        if self.vim_error is not None:
            out.update(self.vim_error.to_dict())
        return out


class Vnfm(ABC):
    """What the NFVO's life-cycle engine asks of a VNFM, one VNF at a time.

    Everything is given by the VNF's plan (``VnfDeploymentSpec``, which names its VIM
    account) and the record of what exists; how the VIM is reached, which images it needs,
    how leftovers are found and any VIM-specific grouping stay inside the VNFM, so an
    external SOL003 VNFM can implement this as well as the built-in one. Every call is
    idempotent: it may be repeated after a crash and finishes the job without duplicates.
    """

    @abstractmethod
    def instantiate(self, spec: VnfDeploymentSpec) -> VnfRecord:
        """Create (or finish creating) everything of the VNF; wait for its VDUs to be ACTIVE."""

    @abstractmethod
    def scale(self, spec: VnfDeploymentSpec, record: VnfRecord) -> VnfRecord:
        """Bring the VNF to the VDU counts of ``spec``."""

    @abstractmethod
    def heal(
        self, spec: VnfDeploymentSpec, record: VnfRecord, vnfc_keys: list[str], *, recreate: bool
    ) -> VnfRecord:
        """Restart (reboot) or recreate the given VNFCs."""

    @abstractmethod
    def operate(self, record: VnfRecord, state: str) -> VnfRecord:
        """Start (``STARTED``) or stop (``STOPPED``) every VNFC of the VNF."""

    @abstractmethod
    def terminate(self, record: VnfRecord, *, graceful_timeout_s: float | None = None) -> None:
        """Remove the VNF (after stopping its VNFCs, for up to ``graceful_timeout_s``, when
        given); anything an interrupted attempt created is removed too."""

    @abstractmethod
    def remove_vnf(self, ns_instance_id: str, vnf_instance_id: str, vim_account_id: str) -> None:
        """Remove whatever exists of a VNF instance whose record may be incomplete (rollback
        of a VNF added by a failed operation)."""

    @abstractmethod
    def release_ns(self, ns_instance_id: str, vim_account_ids: set[str]) -> None:
        """Remove whatever is left of an NS on its VIMs once its VNFs are gone (resources an
        interrupted attempt never recorded, the NS virtual links, a VIM's NS grouping)."""


class DriverVnfm(ABC):
    """A VNFM that drives a ``VimDriver`` handed to it per call (the built-in generic VNFM's
    engine, which the built-in ``Vnfm`` wraps)."""

    @abstractmethod
    def instantiate(self, spec: VnfDeploymentSpec, driver: VimDriver) -> VnfRecord:
        """Create (or finish creating) everything of the VNF; wait for its VDUs to be ACTIVE."""

    @abstractmethod
    def scale(self, spec: VnfDeploymentSpec, record: VnfRecord, driver: VimDriver) -> VnfRecord:
        """Bring the VNF to the VDU counts of ``spec`` (out: create the new indexes; in: remove
        the highest indexes)."""

    @abstractmethod
    def heal(
        self,
        spec: VnfDeploymentSpec,
        record: VnfRecord,
        driver: VimDriver,
        vnfc_keys: list[str],
        *,
        recreate: bool,
    ) -> VnfRecord:
        """Restart (reboot) or recreate the given VNFCs."""

    @abstractmethod
    def terminate(self, record: VnfRecord, driver: VimDriver) -> None:
        """Remove everything in ``record`` (absent resources are fine)."""
