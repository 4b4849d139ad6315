"""Read-only Compute API views the OpenStack monitoring source polls: compute services,
hypervisors and server diagnostics, through the openstacksdk compute proxy of the driver's
connection (the SDK negotiates each call's microversion: diagnostics in the standard 2.48
shape, services and hypervisors with ``state``/``status``).

Every SDK or transport failure becomes a typed ``VimError``; an answer that means "this cloud
does not let this account read that" (403 policy, 404 / 501 API or hypervisor without it)
becomes ``NotExposed`` so the caller can stop asking.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nfvo.vim.base import VimError
from nfvo.vim.os.client import OpenStackClient, map_exception

COMPUTE_BINARY = "nova-compute"
NOT_EXPOSED_STATUSES = frozenset({403, 404, 501})


class NotExposed(VimError):
    """The cloud refuses this read to this account (policy) or does not implement it."""

    code = "VIM_NOT_EXPOSED"

    def __init__(self, message: str, *, status: int, request_id: str | None = None) -> None:
        super().__init__(message, request_id=request_id)
        self.status = status


@dataclass(frozen=True)
class ComputeService:
    """One nova-compute service as ``GET /os-services`` lists it."""

    host: str
    zone: str | None
    state: str  # "up" / "down": Nova's heartbeat view
    status: str  # "enabled" / "disabled"
    forced_down: bool
    disabled_reason: str | None = None

    @property
    def up(self) -> bool:
        """Whether the host takes servers: heartbeating, enabled and not forced down."""
        return self.state == "up" and self.status == "enabled" and not self.forced_down

    @property
    def why_down(self) -> str:
        """The reason a down service is down (empty when up)."""
        if self.forced_down:
            return "forced_down"
        if self.state != "up":
            return f"service state {self.state}"
        if self.status != "enabled":
            return f"disabled: {self.disabled_reason}" if self.disabled_reason else "disabled"
        return ""


@dataclass(frozen=True)
class Hypervisor:
    """One hypervisor as ``GET /os-hypervisors/detail`` lists it (``host``: its service's)."""

    name: str
    host: str
    state: str  # "up" / "down"
    status: str  # "enabled" / "disabled"


@dataclass(frozen=True)
class Diagnostics:
    """The standard (microversion 2.48) server diagnostics nfvo uses.

    ``cpu_time_ns``: cumulative CPU time over all vCPUs (None when the hypervisor gives
    none); ``cpu_utilisation``: the mean of the per-vCPU utilisation some drivers report.
    """

    num_cpus: int | None
    cpu_time_ns: float | None
    cpu_utilisation: float | None
    memory_max_mib: float | None
    memory_used_mib: float | None
    state: str | None = None


def _status_of(exc: Exception) -> int | None:
    code = getattr(exc, "status_code", None) or getattr(exc, "http_status", None)
    return int(code) if isinstance(code, int) else None


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def to_diagnostics(body: dict[str, Any]) -> Diagnostics:
    """A ``Diagnostics`` from the 2.48 body (missing or null fields give ``None``)."""
    cpus = body.get("cpu_details") or []
    times = [_num(c.get("time")) for c in cpus if isinstance(c, dict)]
    utils = [_num(c.get("utilisation")) for c in cpus if isinstance(c, dict)]
    known_times = [t for t in times if t is not None]
    known_utils = [u for u in utils if u is not None]
    memory = body.get("memory_details") or {}
    num_cpus = body.get("num_cpus")
    return Diagnostics(
        num_cpus=int(num_cpus) if isinstance(num_cpus, int) and num_cpus > 0 else None,
        cpu_time_ns=sum(known_times) if known_times else None,
        cpu_utilisation=sum(known_utils) / len(known_utils) if known_utils else None,
        memory_max_mib=_num(memory.get("maximum")) if isinstance(memory, dict) else None,
        memory_used_mib=_num(memory.get("used")) if isinstance(memory, dict) else None,
        state=body.get("state") if isinstance(body.get("state"), str) else None,
    )


class ComputeReader:
    """The monitoring reads of one OpenStack account, beside the driver (sharing its
    connection) so the source need not know the SDK."""

    def __init__(self, client: OpenStackClient) -> None:
        self.client = client

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except VimError:
            raise
        except Exception as exc:  # noqa: BLE001 - SDK / keystoneauth errors are many types
            status = _status_of(exc)
            if status in NOT_EXPOSED_STATUSES:
                raise NotExposed(
                    f"{what}: OpenStack answered {status}",
                    status=status or 0,
                    request_id=getattr(exc, "request_id", None),
                ) from exc
            raise map_exception(exc, None) from exc

    @property
    def _compute(self) -> Any:
        return self.client.connection.compute

    def compute_services(self) -> list[ComputeService]:
        """Every nova-compute service (needs the os-services policy, admin by default)."""

        def read() -> list[ComputeService]:
            found = self._compute.services(binary=COMPUTE_BINARY)
            return [
                ComputeService(
                    host=str(s.host),
                    zone=s.availability_zone,
                    state=str(s.state or "down"),
                    status=str(s.status or "enabled"),
                    forced_down=bool(s.is_forced_down),
                    disabled_reason=s.disabled_reason,
                )
                for s in found
                if s.binary == COMPUTE_BINARY and s.host
            ]

        return self._call("compute service list", read)

    def hypervisors(self) -> list[Hypervisor]:
        """Every hypervisor with its state (needs the os-hypervisors policy, admin)."""

        def read() -> list[Hypervisor]:
            out = []
            for h in self._compute.hypervisors(details=True):
                service = h.service_details or {}
                host = service.get("host") or h.name
                if h.name and host:
                    out.append(Hypervisor(str(h.name), str(host), str(h.state), str(h.status)))
            return out

        return self._call("hypervisor list", read)

    def server_diagnostics(self, server_id: str) -> Diagnostics:
        """One server's diagnostics (admin by default; some hypervisors implement none)."""

        def read() -> Diagnostics:
            diag = self._compute.get_server_diagnostics(server_id)
            return to_diagnostics(diag.to_dict(computed=False, ignore_none=False))

        return self._call(f"diagnostics of server {server_id}", read)
