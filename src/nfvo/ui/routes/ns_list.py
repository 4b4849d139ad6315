"""NS instances: the paged list (state, open operation, the actions the state allows), the
create and delete forms, and the instantiate form with its live SOL005 request preview,
inline check of the additional parameters and the what-if placement preview.

Every write is the call the ``nslcm`` API route makes (``svc.lcm.create``, ``svc.lcm.delete``,
``svc.lcm.start``); the placement preview is the ``POST /admin/v1/plans`` service."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import yaml
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from nfvo.api import sol013
from nfvo.api.deps import Services, services
from nfvo.api.listing import _marker_key, _sort_key
from nfvo.catalog.descriptors import Nsd, NsFlavour
from nfvo.catalog.states import OperationalState, PackageKind
from nfvo.errors import BadRequest, NfvoError
from nfvo.lcm.plan import NS_VL_CIDRS_PARAM, NS_VL_NETWORKS_PARAM
from nfvo.lcm.states import NsState, OpType, ns_deletable, ns_operations
from nfvo.lcm.whatif import WhatIfService
from nfvo.query import ColumnTest, PageQuery
from nfvo.resources.service import Scope
from nfvo.ui.render import fragment, is_htmx, page
from nfvo.ui.session import UiUser, operator, previewer, viewer

if TYPE_CHECKING:  # row types only: the GUI does not use the inventory
    from nfvo.inventory.models import NsInstance, VimAccount

router = APIRouter()

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
MAX_NSDS = 500  # NSDs offered by the create form
MAX_PARAMS_CHARS = 64 * 1024  # the additional parameters textarea
_MARKER_SCOPE = "ui-ns-list"
LIST = "ns/list_page.html"
FORM = "ns/instantiate_form.html"
# the form's own fields; the per-profile / per-VL ones are prefixed
NEW_NETWORK = "new"
VNF_VIM = "vnfVim."
VL_NET = "vlNet."
VL_CIDR = "vlCidr."


# -- the list ---------------------------------------------------------------------------------
@dataclass
class NsRow:
    """One NS of the list with what it offers now."""

    ns: NsInstance
    op: Any | None
    operations: list[OpType]
    deletable: bool


def _state_filter(state: str | None) -> tuple[ColumnTest, ...]:
    if not state:
        return ()
    try:
        return (ColumnTest("ns_state", "in", (NsState(state).value,)),)
    except ValueError:
        raise BadRequest(
            f"state must be one of {', '.join(s.value for s in NsState)}", field="state"
        ) from None


def _after(marker: str | None) -> Any:
    if not marker:
        return None
    try:
        return _sort_key(sol013.decode_marker(marker, filter_hash=_MARKER_SCOPE))
    except sol013.QueryError as exc:
        raise BadRequest(f"{exc}; open the first page again", field="after") from None


def ns_rows(
    svc: Services, user: UiUser, marker: str | None, state: str | None, limit: int = PAGE_SIZE
) -> tuple[list[NsRow], str | None]:
    """One page of NS instances (keyset: ``limit`` rows after ``marker``), each with its open
    operation (one query for the page) and the actions its state allows; the next page's
    marker, or None on the last page."""
    tenant = user.tenant_id
    query = PageQuery(_after(marker), _state_filter(state), limit + 1)
    rows = svc.lcm.page(tenant, query, without=("revision", "updated_at"))
    more = len(rows) > limit
    rows = rows[:limit]
    open_ids = tuple(ns.current_op_id for ns in rows if ns.current_op_id)
    ops: dict[str, Any] = {}
    if open_ids:
        op_query = PageQuery(None, (ColumnTest("id", "in", open_ids),), len(open_ids))
        unread = ("params", "error", "changes", "generation")
        ops = {o.id: o for o in svc.lcm.ops_page(tenant, op_query, without=unread)}
    out = []
    for ns in rows:
        busy = bool(ns.current_op_id)
        out.append(
            NsRow(
                ns,
                ops.get(ns.current_op_id or ""),
                ns_operations(ns.ns_state, busy),
                ns_deletable(ns.ns_state, busy),
            )
        )
    nxt = None
    if more and rows:
        last = rows[-1]
        key = _marker_key((last.created_at, last.id))
        nxt = sol013.encode_marker(key, filter_hash=_MARKER_SCOPE)
    return out, nxt


def enabled_nsds(svc: Services, user: UiUser) -> list[Any]:
    """The onboarded, enabled NSDs the user may create NS instances from."""
    tests = (
        ColumnTest("onboarding_state", "in", ("ONBOARDED",)),
        ColumnTest("operational_state", "in", (OperationalState.ENABLED.value,)),
    )
    rows = svc.catalog.page(PackageKind.nsd, PageQuery(None, tests, MAX_NSDS), user.tenant_id)
    return [p for p in rows if p.descriptor_id]


def _list_values(
    svc: Services, user: UiUser, after: str | None, state: str | None, limit: int
) -> dict[str, Any]:
    rows, nxt = ns_rows(svc, user, after, state, limit)
    return {
        "rows": rows,
        "next_marker": nxt,
        "state": state or "",
        "states": [s.value for s in NsState],
        "first_page": not after,
        "nsds": enabled_nsds(svc, user) if user.can_operate else [],
        "op_links": {op: op.value.lower() for op in OpType},
        "limit": limit,
    }


@router.get("/ui/ns", response_class=HTMLResponse)
def ns_list(
    request: Request,
    after: str | None = Query(None, max_length=2048),
    state: str | None = Query(None, max_length=32),
    limit: int = Query(PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE),
    user: UiUser = Depends(viewer),
    svc: Services = Depends(services),
) -> HTMLResponse:
    """The NS instances, ``limit`` at a time, oldest first (as the API pages them)."""
    return page(request, LIST, **_list_values(svc, user, after, state, limit))


@router.post("/ui/ns", response_class=HTMLResponse)
async def ns_create(
    request: Request, user: UiUser = Depends(operator), svc: Services = Depends(services)
) -> Response:
    """Create an NS instance (as ``POST /nslcm/v2/ns_instances``); go to its instantiate form."""
    form = await request.form()
    body = {
        "nsdId": _text(form.get("nsdId")),
        "nsName": _text(form.get("nsName")),
        "nsDescription": _text(form.get("nsDescription")),
    }
    ns = await run_in_threadpool(svc.lcm.create, body, user.tenant_id)
    target = f"/ui/ns/{ns.id}/instantiate"
    if is_htmx(request):
        return Response(status_code=200, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


@router.post("/ui/ns/{ns_id}/delete", response_class=HTMLResponse)
def ns_delete(
    ns_id: str,
    request: Request,
    user: UiUser = Depends(operator),
    svc: Services = Depends(services),
) -> Response:
    """Delete an NS instance (as ``DELETE /nslcm/v2/ns_instances/{id}``)."""
    ns = svc.lcm.get(ns_id, user.tenant_id)
    svc.lcm.delete(ns_id, user.tenant_id)
    if not is_htmx(request):
        return RedirectResponse("/ui/ns", status_code=303)
    return fragment(request, LIST, "deleted", ns=ns)


# -- the instantiate form ----------------------------------------------------------------------
def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


@dataclass
class ParamsCheck:
    """The additional parameters textarea parsed: the object, or why not (with its line)."""

    value: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    empty: bool = True


def parse_params(text: str) -> ParamsCheck:
    """Parse YAML or JSON (JSON is YAML) into an object; anchors and aliases are refused (a
    few lines of aliases can stand for an enormous document)."""
    if not text.strip():
        return ParamsCheck()
    if len(text) > MAX_PARAMS_CHARS:
        return ParamsCheck(error=f"longer than {MAX_PARAMS_CHARS} characters", empty=False)
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                mark = event.start_mark
                return ParamsCheck(
                    error=f"line {mark.line + 1}, column {mark.column + 1}: "
                    "YAML anchors and aliases are not accepted",
                    empty=False,
                )
        value = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        return ParamsCheck(error=where + str(exc.problem or exc.context), empty=False)
    except yaml.YAMLError as exc:
        return ParamsCheck(error=str(exc), empty=False)
    if value is None:
        return ParamsCheck()
    if not isinstance(value, dict):
        kind = type(value).__name__
        return ParamsCheck(error=f"line 1: must be a mapping of names to values, not a {kind}")
    try:
        json.dumps(value)
    except (TypeError, ValueError) as exc:  # dates and the like: the request is JSON
        return ParamsCheck(error=f"not representable as JSON: {exc}", empty=False)
    return ParamsCheck(value={str(k): v for k, v in value.items()}, empty=False)


@dataclass
class FormState:
    """What the instantiate form holds, read back from a submitted form."""

    flavour_id: str = ""
    level_id: str = ""
    default_vim: str = ""
    vnf_vims: dict[str, str] = field(default_factory=dict)
    vl_nets: dict[str, str] = field(default_factory=dict)
    vl_cidrs: dict[str, str] = field(default_factory=dict)
    params_text: str = ""


def form_state(form: Mapping[str, Any]) -> FormState:
    """The form's fields (unknown ones ignored)."""
    st = FormState(
        flavour_id=_text(form.get("nsFlavourId")),
        level_id=_text(form.get("nsInstantiationLevelId")),
        default_vim=_text(form.get("vimAccountId")),
        params_text=form.get("additionalParams") or "",
    )
    if not isinstance(st.params_text, str):
        st.params_text = ""
    for key in form:
        value = _text(form.get(key))
        if key.startswith(VNF_VIM):
            st.vnf_vims[key[len(VNF_VIM) :]] = value
        elif key.startswith(VL_NET):
            st.vl_nets[key[len(VL_NET) :]] = value
        elif key.startswith(VL_CIDR):
            st.vl_cidrs[key[len(VL_CIDR) :]] = value
    return st


def flavour_of(nsd: Nsd, flavour_id: str) -> NsFlavour | None:
    """The NSD's flavour of that id (else the first)."""
    for f in nsd.flavours:
        if f.flavour_id == flavour_id:
            return f
    return nsd.flavours[0] if nsd.flavours else None


def build_request(
    st: FormState, flavour: NsFlavour | None, params: ParamsCheck
) -> tuple[dict[str, Any], list[str]]:
    """The SOL005 InstantiateNsRequest the form stands for, and what keeps it from being sent.

    The VIM of a VNF profile goes to ``additionalParamsForVnf[].additionalParams.vimAccountId``,
    the default VIM to ``additionalParamsForNs.vimAccountId``, each new NS virtual link's
    CIDR to ``additionalParamsForNs.nsVirtualLinkCidrs`` and each virtual link mapped to an
    existing network of the default VIM to ``additionalParamsForNs.nsVirtualLinkNetworks``
    (docs/lcm.md); the additional parameters are ``additionalParamsForNs`` (the form's own
    fields take precedence)."""
    problems: list[str] = []
    if params.error:
        problems.append(f"additional parameters: {params.error}")
    if flavour is None:
        return {}, [*problems, "the NSD has no deployment flavour"]
    body: dict[str, Any] = {"nsFlavourId": flavour.flavour_id}
    levels = {lvl.id for lvl in flavour.instantiation_levels}
    if st.level_id and st.level_id in levels:
        body["nsInstantiationLevelId"] = st.level_id
    ns_params: dict[str, Any] = dict(params.value)
    if st.default_vim:
        ns_params["vimAccountId"] = st.default_vim
    cidrs: dict[str, str] = {}
    existing: dict[str, Any] = {}
    for vl in flavour.virtual_links:
        net = st.vl_nets.get(vl.id) or NEW_NETWORK
        if net != NEW_NETWORK:
            existing[vl.id] = {"network": net}
            if st.default_vim:
                existing[vl.id]["vimAccountId"] = st.default_vim
        cidr = st.vl_cidrs.get(vl.id, "")
        if cidr:
            cidrs[vl.id] = cidr
    for param, chosen in ((NS_VL_CIDRS_PARAM, cidrs), (NS_VL_NETWORKS_PARAM, existing)):
        if chosen:
            given = ns_params.get(param)
            ns_params[param] = {**(given if isinstance(given, dict) else {}), **chosen}
    if ns_params:
        body["additionalParamsForNs"] = ns_params
    per_vnf = [
        {"vnfProfileId": p.id, "additionalParams": {"vimAccountId": st.vnf_vims[p.id]}}
        for p in flavour.vnf_profiles
        if st.vnf_vims.get(p.id)
    ]
    if per_vnf:
        body["additionalParamsForVnf"] = per_vnf
    return body, problems


@dataclass
class FormContext:
    """What the instantiate form shows besides the user's choices."""

    ns: NsInstance
    nsd: Nsd
    flavour: NsFlavour | None
    vims: list[VimAccount]
    network_vim: VimAccount | None
    networks: list[Any]
    allowed: bool


def _network_vim(vims: Sequence[VimAccount], chosen: str) -> VimAccount | None:
    """The VIM whose networks the VL selects list: the default VIM chosen, else the one the
    LCM would take."""
    return next((v for v in vims if v.id == chosen), None)


def form_context(svc: Services, user: UiUser, ns_id: str, st: FormState) -> FormContext:
    """The NS, its NSD and the chosen flavour, the VIM accounts and the synced networks of the
    default VIM."""
    ns = svc.lcm.get(ns_id, user.tenant_id)
    nsd, _ = svc.catalog.ns_descriptors(ns.nsd_info_id)
    vims = sorted(svc.resources.list_vims(user.scope), key=lambda v: (v.name, v.id))
    owner = Scope(ns.tenant_id)  # the LCM resolves the VIMs within the NS's tenant
    vims = [v for v in vims if owner.sees(v.tenant_id)]
    net_vim = _network_vim(vims, st.default_vim or svc.lcm._default_vim(ns.tenant_id) or "")
    networks: list[Any] = []
    if net_vim is not None:
        networks = svc.resources.networks(net_vim.id, user.scope)
    busy = bool(ns.current_op_id)
    return FormContext(
        ns,
        nsd,
        flavour_of(nsd, st.flavour_id),
        vims,
        net_vim,
        networks,
        OpType.INSTANTIATE in ns_operations(ns.ns_state, busy),
    )


def _form_values(ctx: FormContext, st: FormState) -> dict[str, Any]:
    params = parse_params(st.params_text)
    body, problems = build_request(st, ctx.flavour, params)
    return {
        "ctx": ctx,
        "st": st,
        "params": params,
        "body": body,
        "problems": problems,
        "NEW": NEW_NETWORK,
        "VNF_VIM": VNF_VIM,
        "VL_NET": VL_NET,
        "VL_CIDR": VL_CIDR,
    }


def placement_preview(
    svc: Services, user: UiUser, ns_id: str, body: dict[str, Any]
) -> tuple[dict[str, Any] | None, NfvoError | None]:
    """The what-if plan of the request (the ``POST /admin/v1/plans`` service), or the error it
    answered."""
    try:
        return WhatIfService(svc.lcm).plan({"nsInstanceId": ns_id, **body}, user.tenant_id), None
    except NfvoError as exc:
        return None, exc


@router.get("/ui/ns/{ns_id}/instantiate", response_class=HTMLResponse)
def instantiate_form(
    ns_id: str,
    request: Request,
    user: UiUser = Depends(viewer),
    svc: Services = Depends(services),
) -> HTMLResponse:
    """The instantiate form of a NOT_INSTANTIATED NS (a notice for any other)."""
    st = FormState()
    ctx = form_context(svc, user, ns_id, st)
    if ctx.flavour is not None:
        st.flavour_id = ctx.flavour.flavour_id
    values = _form_values(ctx, st)
    plan, plan_error = (None, None)
    if ctx.allowed and not values["problems"]:
        plan, plan_error = placement_preview(svc, user, ns_id, values["body"])
    return page(request, FORM, **values, plan=plan, plan_error=plan_error)


async def _posted(request: Request, svc: Services, user: UiUser, ns_id: str) -> dict[str, Any]:
    st = form_state(await request.form())
    ctx = await run_in_threadpool(form_context, svc, user, ns_id, st)
    return _form_values(ctx, st)


@router.post("/ui/ns/{ns_id}/instantiate/fields", response_class=HTMLResponse)
async def instantiate_fields(
    ns_id: str,
    request: Request,
    user: UiUser = Depends(previewer),
    svc: Services = Depends(services),
) -> HTMLResponse:
    """The flavour-dependent part of the form (levels, VNF profiles, virtual links), kept in
    step with the flavour chosen."""
    values = await _posted(request, svc, user, ns_id)
    return fragment(request, FORM, "fields", **values)


@router.post("/ui/ns/{ns_id}/instantiate/networks", response_class=HTMLResponse)
async def instantiate_networks(
    ns_id: str,
    request: Request,
    user: UiUser = Depends(previewer),
    svc: Services = Depends(services),
) -> HTMLResponse:
    """The existing networks of the default VIM chosen, swapped into each virtual link's
    select (out of band: nothing else of the form is replaced)."""
    values = await _posted(request, svc, user, ns_id)
    return fragment(request, FORM, "networks", **values)


@router.post("/ui/ns/{ns_id}/instantiate/validate", response_class=HTMLResponse)
async def instantiate_validate(
    request: Request, ns_id: str, user: UiUser = Depends(previewer)
) -> HTMLResponse:
    """The inline check of the additional parameters (YAML or JSON)."""
    text = (await request.form()).get("additionalParams")
    params = parse_params(text if isinstance(text, str) else "")
    return fragment(request, FORM, "params_check", params=params)


@router.post("/ui/ns/{ns_id}/instantiate/preview", response_class=HTMLResponse)
async def instantiate_preview(
    ns_id: str,
    request: Request,
    user: UiUser = Depends(previewer),
    svc: Services = Depends(services),
) -> HTMLResponse:
    """The InstantiateNsRequest the form builds and the placement it would get."""
    values = await _posted(request, svc, user, ns_id)
    plan, plan_error = None, None
    if values["ctx"].allowed and not values["problems"]:
        plan, plan_error = await run_in_threadpool(
            placement_preview, svc, user, ns_id, values["body"]
        )
    return fragment(request, FORM, "preview", **values, plan=plan, plan_error=plan_error)


@router.post("/ui/ns/{ns_id}/instantiate", response_class=HTMLResponse)
async def instantiate_submit(
    ns_id: str,
    request: Request,
    user: UiUser = Depends(operator),
    svc: Services = Depends(services),
) -> Response:
    """Start the INSTANTIATE operation (as ``POST /nslcm/v2/ns_instances/{id}/instantiate``)
    and go to its page; a form that cannot make a request is refused, naming why."""
    values = await _posted(request, svc, user, ns_id)
    if values["problems"]:
        return fragment(request, FORM, "refused", status=400, problems=values["problems"])
    op = await run_in_threadpool(
        svc.lcm.start, ns_id, OpType.INSTANTIATE, values["body"], user.tenant_id
    )
    target = f"/ui/ops/{op.id}"
    if is_htmx(request):
        return Response(status_code=200, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)
