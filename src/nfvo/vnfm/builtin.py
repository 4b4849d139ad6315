"""The built-in VNFM as the life-cycle engine sees it: the generic VNFM's engine
(``nfvo.vnfm.generic``) with the VIM reached by account id and software images taken from
the VNF packages, behind the driver-less ``Vnfm`` contract."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import BinaryIO

from nfvo.vim.base import VimCapacityExceeded, VimDriver, VimError
from nfvo.vnfm.base import VnfDeploymentSpec, Vnfm, VnfmError, VnfRecord
from nfvo.vnfm.generic import GenericVnfm, cleanup_by_tags, ensure_images

# VIM account id -> a connected driver (owned by the provider: never closed here)
DriverProvider = Callable[[str], VimDriver]
# (VNFD id, package-relative path) -> a stream of that file of the onboarded VNF package
PackageOpener = Callable[[str, str], BinaryIO]


class BuiltinVnfm(Vnfm):
    """Deploys VNFs itself on any VIM nfvo has a driver for (no external VNFM needed)."""

    def __init__(
        self,
        drivers: DriverProvider,
        open_package_file: PackageOpener,
        engine: GenericVnfm | None = None,
    ) -> None:
        self._drivers = drivers
        self._open = open_package_file
        self.engine = engine or GenericVnfm()

    def _images(self, spec: VnfDeploymentSpec, driver: VimDriver) -> None:
        ensure_images(spec, driver, lambda path: self._open(spec.vnfd_id, path))

    def instantiate(self, spec: VnfDeploymentSpec) -> VnfRecord:
        """Images first, then the VNF. Hosts chosen by placement are a preference: when the
        VIM says one is full (operations running at the same moment took the room since the
        last sync), the VIM is authoritative and places the VDUs itself."""
        driver = self._drivers(spec.vim_account_id)
        self._images(spec, driver)
        try:
            return self.engine.instantiate(spec, driver)
        except VnfmError as exc:
            if not (spec.hosts and isinstance(exc.vim_error, VimCapacityExceeded)):
                raise
        spec.hosts = {}
        return self.engine.instantiate(spec, driver)

    def scale(self, spec: VnfDeploymentSpec, record: VnfRecord) -> VnfRecord:
        """Bring the VNF to the VDU counts of ``spec``."""
        driver = self._drivers(spec.vim_account_id)
        self._images(spec, driver)
        return self.engine.scale(spec, record, driver)

    def heal(
        self, spec: VnfDeploymentSpec, record: VnfRecord, vnfc_keys: list[str], *, recreate: bool
    ) -> VnfRecord:
        """Reboot, or delete and recreate, the given VNFCs."""
        driver = self._drivers(spec.vim_account_id)
        if recreate:
            self._images(spec, driver)
        return self.engine.heal(spec, record, driver, vnfc_keys, recreate=recreate)

    def operate(self, record: VnfRecord, state: str) -> VnfRecord:
        """Start or stop every VNFC; the record comes back with the new statuses."""
        driver = self._drivers(record.vim_account_id)
        for vnfc in record.vnfcs:
            call = driver.start_server if state == "STARTED" else driver.stop_server
            try:
                vnfc.status = call(vnfc.server_id).status
            except VimError as exc:
                raise VnfmError(
                    f"VNF {record.vnf_instance_id}: {state.lower()} of server "
                    f"{vnfc.server_id} failed: {exc.message}",
                    vnf_instance_id=record.vnf_instance_id,
                    vdu_id=vnfc.vdu_id,
                    vim_account_id=record.vim_account_id,
                    vim_error=exc,
                ) from exc
        return record

    def terminate(self, record: VnfRecord, *, graceful_timeout_s: float | None = None) -> None:
        """Stop the VNFCs first when asked (bounded wait for SHUTOFF), then remove all."""
        driver = self._drivers(record.vim_account_id)
        if graceful_timeout_s is not None:
            _stop_gracefully(driver, record, graceful_timeout_s)
        self.engine.terminate(record, driver)

    def remove_vnf(self, ns_instance_id: str, vnf_instance_id: str, vim_account_id: str) -> None:
        """Delete everything tagged with the VNF instance."""
        cleanup_by_tags(
            self._drivers(vim_account_id),
            ns_instance_id=ns_instance_id,
            vnf_instance_id=vnf_instance_id,
        )

    def release_ns(self, ns_instance_id: str, vim_account_ids: set[str]) -> None:
        """Delete everything tagged with the NS on each VIM, then the VIM's NS grouping."""
        for vim_id in sorted(vim_account_ids):
            driver = self._drivers(vim_id)
            cleanup_by_tags(driver, ns_instance_id=ns_instance_id)
            driver.release_ns_group(ns_instance_id)


def _stop_gracefully(driver: VimDriver, record: VnfRecord, timeout: float) -> None:
    """Stop every VDU instance and wait (up to ``timeout``) for SHUTOFF before deletion."""
    for vnfc in record.vnfcs:
        try:
            driver.stop_server(vnfc.server_id)
        except VimError:
            pass  # absent or already stopped: deletion follows anyway
    deadline = time.monotonic() + timeout
    pending = {v.server_id for v in record.vnfcs}
    while pending and time.monotonic() < deadline:
        for server_id in list(pending):
            try:
                if driver.get_server(server_id).status in ("SHUTOFF", "ERROR"):
                    pending.discard(server_id)
            except VimError:
                pending.discard(server_id)
        if pending:
            time.sleep(0.05)
