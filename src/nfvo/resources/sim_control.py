"""Driving a sim VIM account's injected faults and load curves (the admin API's ``/sim``
routes): which account the caller may drive, and the sim driver's refusals as ProblemDetails.

It sits in the resources layer because the API layer does not reach VIM drivers itself.
"""

from __future__ import annotations

from typing import Any

from nfvo.errors import BadRequest, Conflict, Forbidden, NfvoError, NotFound, UnprocessableEntity
from nfvo.resources.service import ResourceService, Scope
from nfvo.vim.base import VimBadRequest, VimConflict, VimError, VimNotFound
from nfvo.vim.sim.config import LoadConfig
from nfvo.vim.sim.curves import SERVER_METRICS

# the request schema of a load curve (the sim's own config model)
LoadCurve = LoadConfig
CURVE_METRICS: tuple[str, ...] = tuple(SERVER_METRICS)
FAULT_FIELDS = {"HOST_DOWN": "host", "SERVER_CRASH": "serverId", "NETWORK_DOWN": "networkId"}
TARGET_KINDS = {"serverId": "server", "vnfInstanceId": "vnf", "host": "host"}


class ServiceUnavailable(NfvoError):
    """The sim's state file cannot be read or written just now."""

    status = 503
    title = "Service Unavailable"


def _problem(exc: VimError, field: str | None = None) -> NfvoError:
    """The ProblemDetails of a sim driver's refusal."""
    text = exc.message
    if isinstance(exc, VimBadRequest):
        return UnprocessableEntity(text, field=field) if field else BadRequest(text)
    if isinstance(exc, VimConflict):
        return Conflict(text)
    if isinstance(exc, VimNotFound):
        return NotFound(text)
    return ServiceUnavailable(text)


class SimControl:
    """Faults and load curves of the sim VIM accounts a caller sees (reads) or owns (writes)."""

    def __init__(self, resources: ResourceService) -> None:
        self.resources = resources

    def _driver(self, vim_id: str, scope: Scope, *, write: bool) -> Any:
        vim = self.resources.get_vim(vim_id, scope)
        if write and not scope.owns(vim.tenant_id):
            raise Forbidden(f"VIM account {vim_id} is shared; only a global operator may drive it")
        if vim.vim_type != "sim":
            raise UnprocessableEntity(
                f"VIM account {vim.name} ({vim_id}) is of type {vim.vim_type}: faults and load "
                "curves are injected on sim VIM accounts only",
                field="vimAccountId",
                vimAccountId=vim_id,
                vimType=vim.vim_type,
            )
        return self.resources.driver(vim_id)

    def inject(self, vim_id: str, scope: Scope, kind: str, target: str) -> dict[str, Any]:
        """Inject a fault now (409 if the same fault is active already)."""
        driver = self._driver(vim_id, scope, write=True)
        try:
            return driver.inject_fault(kind, target).view()
        except VimError as exc:
            raise _problem(exc, FAULT_FIELDS[kind]) from None

    def faults(self, vim_id: str, scope: Scope) -> list[dict[str, Any]]:
        """The faults injected and not yet cleared, oldest first."""
        driver = self._driver(vim_id, scope, write=False)
        try:
            return [f.view() for f in driver.injected_faults()]
        except VimError as exc:
            raise _problem(exc) from None

    def clear(self, vim_id: str, scope: Scope, fault_id: str) -> dict[str, Any]:
        """End a fault and undo what it did."""
        driver = self._driver(vim_id, scope, write=True)
        if len(fault_id) > 64:
            raise NotFound(f"no active injected fault {fault_id[:64]}…")
        try:
            return driver.clear_fault(fault_id).view()
        except VimError as exc:
            raise _problem(exc) from None

    def set_load(
        self,
        vim_id: str,
        scope: Scope,
        target: tuple[str, str],
        metric: str,
        curve: LoadConfig | None,
    ) -> dict[str, Any]:
        """Set (or, with ``curve`` None, remove) a load curve; ``target`` is the request's
        (field, id), the field one of :data:`TARGET_KINDS`."""
        field, target_id = target
        driver = self._driver(vim_id, scope, write=True)
        try:
            return driver.set_load(TARGET_KINDS[field], target_id, metric, curve).view()
        except VimError as exc:
            raise _problem(exc, f"target.{field}") from None

    def loads(self, vim_id: str, scope: Scope) -> list[dict[str, Any]]:
        """The load curves set through the API."""
        driver = self._driver(vim_id, scope, write=False)
        try:
            return [e.view() for e in driver.loads()]
        except VimError as exc:
            raise _problem(exc) from None
