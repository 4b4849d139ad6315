"""``nfvo ns``: NS instances and their life-cycle operations (``nslcm/v2``).

Options build the SOL005 request bodies (InstantiateNsRequest, ScaleNsRequest,
HealNsRequest, UpdateNsRequest, TerminateNsRequest); ``--body JSON|@file`` gives any body the
options do not cover, and options given beside it are added to it. VNFs are named by VNF
instance id or, when unambiguous, by VNF profile id (``vnf_web``); VIMs, NSs and NSDs by id
or name.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from nfvo.cli.client import metrics
from nfvo.cli.client.common import (
    DEFAULT_WAIT_TIMEOUT,
    BodyOpt,
    OutputOpt,
    TimeoutOpt,
    WaitOpt,
    emit_list,
    load_object,
    op_id_of,
    open_session,
    parse_pairs,
)
from nfvo.cli.client.errors import ApiError, UsageError, handled
from nfvo.cli.client.ops import follow
from nfvo.cli.client.output import Format, details, emit, note, table
from nfvo.cli.client.packages import NSD
from nfvo.cli.client.progress import NS
from nfvo.cli.client.session import ApiSession
from nfvo.cli.client.vim import VIMS, find_vim

ns_app = typer.Typer(help="NS instances: create, instantiate, scale, heal, update, terminate.")

NsArg = Annotated[str, typer.Argument(help="NS instance id or name.")]
VnfOpt = Annotated[
    list[str] | None,
    typer.Option("--vnf", help="VNF instance id or VNF profile id (repeatable)."),
]


def find_ns(s: ApiSession, ref: str) -> dict[str, Any]:
    """An NS instance (with its VNF instances) by id or name."""
    return s.find(NS, ref, ("nsInstanceName",))


def vnf_id(ns: dict[str, Any], ref: str) -> str:
    """The VNF instance of ``ns`` named by id, profile id or instance name."""
    vnfs = ns.get("vnfInstance") or []
    for v in vnfs:
        if v["id"] == ref:
            return ref
    matches = [v for v in vnfs if ref in (v.get("vnfProfileId"), v.get("vnfInstanceName"))]
    if len(matches) == 1:
        return matches[0]["id"]
    known = ", ".join(f"{v['id']} ({v.get('vnfProfileId')})" for v in vnfs) or "none"
    if matches:
        raise UsageError(
            f"{len(matches)} VNF instances of profile {ref!r} in NS {ns['nsInstanceName']}",
            hint=f"give the VNF instance id: {known}",
        )
    raise UsageError(f"NS {ns['nsInstanceName']} has no VNF {ref!r}", hint=f"known: {known}")


def _vnfcs(ns: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for vnf in ns.get("vnfInstance") or []:
        for c in (vnf.get("instantiatedVnfInfo") or {}).get("vnfcResourceInfo") or []:
            meta = c.get("metadata") or {}
            out.append(
                {
                    "vnf": vnf.get("vnfProfileId"),
                    "vdu": c.get("vduId"),
                    "id": c.get("id"),
                    "status": meta.get("status"),
                    "host": meta.get("host"),
                    "zone": meta.get("zone"),
                    "addresses": [a for ips in (meta.get("addresses") or {}).values() for a in ips],
                }
            )
    return out


def _current_op(ns: dict[str, Any]) -> str | None:
    href = ((ns.get("_links") or {}).get("currentLcmOpOcc") or {}).get("href")
    return href.rsplit("/", 1)[-1] if href else None


NS_COLUMNS = [
    ("ID", "id"),
    ("NAME", "nsInstanceName"),
    ("STATE", "nsState"),
    ("FLAVOUR", "flavourId"),
    ("NSD ID", "nsdId"),
    ("CURRENT OP", _current_op),
]
NS_DETAILS = NS_COLUMNS + [
    ("DESCRIPTION", "nsInstanceDescription"),
    ("NSD INFO ID", "nsdInfoId"),
    (
        "NS SCALE",
        lambda n: [
            f"{x['nsScalingAspectId']}={x['nsScaleLevelId']}" for x in n.get("nsScaleStatus") or []
        ],
    ),
]
VNF_COLUMNS = [
    ("VNF INSTANCE", "id"),
    ("PROFILE", "vnfProfileId"),
    ("PRODUCT", "vnfProductName"),
    ("FLAVOUR", "instantiatedVnfInfo.flavourId"),
    ("STATE", "instantiationState"),
    ("VIM", "vimId"),
    (
        "SCALE",
        lambda v: [
            f"{x['aspectId']}={x['scaleLevel']}"
            for x in (v.get("instantiatedVnfInfo") or {}).get("scaleStatus") or []
        ],
    ),
]
VNFC_COLUMNS = [
    ("VNF", "vnf"),
    ("VDU", "vdu"),
    ("VNFC", "id"),
    ("STATUS", "status"),
    ("HOST", "host"),
    ("ZONE", "zone"),
    ("ADDRESSES", "addresses"),
]


def _operation(
    s: ApiSession,
    ns: dict[str, Any],
    verb: str,
    body: dict[str, Any],
    wait: bool,
    timeout: float,
    output: Format,
) -> None:
    r = s.post(f"{NS}/{ns['id']}/{verb}", body)
    op_id = op_id_of(r.headers.get("location"))
    see = f"op occurrence {op_id}; see `nfvo ns show {ns['id']}`"
    follow(s, op_id, wait, timeout, output, lambda _op: see)


@ns_app.command("list")
@handled
def ns_list(output: OutputOpt = Format.table) -> None:
    """NS instances."""
    emit_list(NS, NS_COLUMNS, output, "NS instances")


@ns_app.command("show")
@handled
def ns_show(ns: NsArg, output: OutputOpt = Format.table) -> None:
    """One NS instance: its VNF instances, where their VNFCs run and their current metrics
    (vCPU, memory and disk % per VNFC; "no data" when nothing was measured)."""
    vim_names: dict[str, str] = {}
    usage: dict[str, Any] | None = None
    with open_session() as s:
        item = find_ns(s, ns)
        vnfs = item.get("vnfInstance") or []
        if vnfs and output is Format.table:
            vim_names = {v["id"]: v["name"] for v in s.list(VIMS)}
            usage = metrics.fetch(s, f"/admin/v1/ns_instances/{item['id']}/metrics")
    columns = [
        (h, (lambda v: vim_names.get(v.get("vimId"), v.get("vimId"))) if h == "VIM" else g)
        for h, g in VNF_COLUMNS
    ]
    vnfcs = _vnfcs(item)
    emit(
        item,
        output,
        details(item, NS_DETAILS),
        table(vnfs, columns, title="VNF instances") if vnfs else None,
        table(vnfcs, VNFC_COLUMNS, title="VNFCs (where the NS runs)") if vnfcs else None,
        *metrics.ns_tables(usage),
    )


@ns_app.command("create")
@handled
def ns_create(
    nsd: Annotated[str, typer.Option("--nsd", help="nsdId, NSD resource id or NSD name.")],
    name: Annotated[str, typer.Option("--name", help="NS instance name.")],
    description: Annotated[str, typer.Option(help="Free text.")] = "",
    output: OutputOpt = Format.table,
) -> None:
    """Create an NS instance (NOT_INSTANTIATED) from an onboarded NSD."""
    with open_session() as s:
        try:
            nsd_id = s.find(NSD.path, nsd, ("nsdId", "nsdName")).get("nsdId") or nsd
        except ApiError as exc:
            if exc.status != 404:
                raise
            nsd_id = nsd  # let the API say what is wrong with it
        body = {"nsdId": nsd_id, "nsName": name, "nsDescription": description}
        created = s.post(NS, body).json()
    emit(created, output, details(created, NS_DETAILS))


@ns_app.command("instantiate")
@handled
def ns_instantiate(
    ns: NsArg,
    flavour: Annotated[
        str | None, typer.Option(help="NS deployment flavour (nsFlavourId).")
    ] = None,
    vim: Annotated[str | None, typer.Option(help="VIM account (id or name) for all VNFs.")] = None,
    level: Annotated[
        str | None, typer.Option(help="NS instantiation level (nsInstantiationLevelId).")
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option("--param", help="KEY=VALUE into additionalParamsForNs (repeatable)."),
    ] = None,
    vnf_param: Annotated[
        list[str] | None,
        typer.Option(
            "--vnf-param",
            help="PROFILE:KEY=VALUE into additionalParamsForVnf (repeatable); "
            "PROFILE:vimAccountId=VIM puts one VNF on another VIM.",
        ),
    ] = None,
    body: BodyOpt = None,
    wait: WaitOpt = False,
    timeout: TimeoutOpt = DEFAULT_WAIT_TIMEOUT,
    output: OutputOpt = Format.table,
) -> None:
    """Instantiate: plan, place and deploy every VNF of the flavour."""
    req = load_object(body, "--body")
    if flavour:
        req["nsFlavourId"] = flavour
    if "nsFlavourId" not in req:
        raise UsageError("give --flavour (or nsFlavourId in --body)")
    if level:
        req["nsInstantiationLevelId"] = level
    with open_session() as s:
        item = find_ns(s, ns)
        ns_params = dict(req.get("additionalParamsForNs") or {}) | parse_pairs(param, "--param")
        if vim:
            ns_params["vimAccountId"] = find_vim(s, vim)["id"]
        if ns_params:
            req["additionalParamsForNs"] = ns_params
        per_vnf: dict[str, dict[str, Any]] = {}
        for entry in vnf_param or []:
            profile, sep, pair = entry.partition(":")
            if not sep or not profile:
                raise UsageError(f"--vnf-param {entry!r} must be PROFILE:KEY=VALUE")
            per_vnf.setdefault(profile, {}).update(parse_pairs([pair], "--vnf-param"))
        for profile, params in per_vnf.items():
            if "vimAccountId" in params:
                params["vimAccountId"] = find_vim(s, str(params["vimAccountId"]))["id"]
            req.setdefault("additionalParamsForVnf", []).append(
                {"vnfProfileId": profile, "additionalParams": params}
            )
        _operation(s, item, "instantiate", req, wait, timeout, output)


@ns_app.command("scale")
@handled
def ns_scale(
    ns: NsArg,
    vnf: Annotated[
        str | None,
        typer.Option("--vnf", help="Scale this VNF (SCALE_VNF); without it the NS (SCALE_NS)."),
    ] = None,
    aspect: Annotated[
        str | None, typer.Option(help="Scaling aspect (of the VNF, or of the NS).")
    ] = None,
    steps: Annotated[int, typer.Option(help="Number of scaling steps.", min=1)] = 1,
    out: Annotated[
        bool | None, typer.Option("--out/--in", help="Scale out (add) or in (remove).")
    ] = None,
    body: BodyOpt = None,
    wait: WaitOpt = False,
    timeout: TimeoutOpt = DEFAULT_WAIT_TIMEOUT,
    output: OutputOpt = Format.table,
) -> None:
    """Scale a VNF by aspect steps (--vnf), or the NS by an NS scaling aspect."""
    req = load_object(body, "--body")
    if not req and (aspect is None or out is None):
        raise UsageError("give --aspect and --out or --in (or a --body)")
    with open_session() as s:
        item = find_ns(s, ns)
        if aspect is not None and out is not None:
            direction = "SCALE_OUT" if out else "SCALE_IN"
            if vnf:
                req["scaleType"] = "SCALE_VNF"
                req.setdefault("scaleVnfData", []).append(
                    {
                        "vnfInstanceId": vnf_id(item, vnf),
                        "scaleVnfType": direction,
                        "scaleByStepData": {"aspectId": aspect, "numberOfSteps": steps},
                    }
                )
            else:
                req["scaleType"] = "SCALE_NS"
                req["scaleNsData"] = {
                    "scaleNsByStepsData": {
                        "scalingDirection": direction,
                        "aspectId": aspect,
                        "numberOfSteps": steps,
                    }
                }
        _operation(s, item, "scale", req, wait, timeout, output)


@ns_app.command("heal")
@handled
def ns_heal(
    ns: NsArg,
    vnf: VnfOpt = None,
    vnfc: Annotated[
        list[str] | None,
        typer.Option("--vnfc", help="Only these VNFC ids of the one --vnf (repeatable)."),
    ] = None,
    recreate: Annotated[
        bool, typer.Option("--recreate", help="Recreate the VNFCs instead of restarting them.")
    ] = False,
    body: BodyOpt = None,
    wait: WaitOpt = False,
    timeout: TimeoutOpt = DEFAULT_WAIT_TIMEOUT,
    output: OutputOpt = Format.table,
) -> None:
    """Restart (or --recreate) the VNFCs of some VNFs, or of every VNF of the NS."""
    req = load_object(body, "--body")
    if vnfc and len(vnf or []) != 1:
        raise UsageError("--vnfc needs exactly one --vnf (the VNF the VNFCs belong to)")
    with open_session() as s:
        item = find_ns(s, ns)
        if vnf or not req:
            targets = (
                [vnf_id(item, v) for v in vnf]
                if vnf
                else [
                    v["id"]
                    for v in item.get("vnfInstance") or []
                    if v.get("instantiationState") == "INSTANTIATED"
                ]
            )
            if not targets:
                raise UsageError(f"NS {item['nsInstanceName']} has no instantiated VNF to heal")
            for target in targets:
                params: dict[str, Any] = {"healType": "RECREATE" if recreate else "RESTART"}
                if vnfc:
                    params["vnfcInstanceIds"] = list(vnfc)
                req.setdefault("healVnfData", []).append(
                    {"vnfInstanceId": target, "additionalParams": params}
                )
        _operation(s, item, "heal", req, wait, timeout, output)


@ns_app.command("update")
@handled
def ns_update(
    ns: NsArg,
    vnf: VnfOpt = None,
    start: Annotated[bool, typer.Option("--start", help="OPERATE_VNF: start the VNFs.")] = False,
    stop: Annotated[bool, typer.Option("--stop", help="OPERATE_VNF: stop the VNFs.")] = False,
    flavour: Annotated[
        str | None, typer.Option("--flavour", help="CHANGE_VNF_DF: the VNFs' new flavour.")
    ] = None,
    body: BodyOpt = None,
    wait: WaitOpt = False,
    timeout: TimeoutOpt = DEFAULT_WAIT_TIMEOUT,
    output: OutputOpt = Format.table,
) -> None:
    """Start or stop VNFs (OPERATE_VNF), change their flavour (CHANGE_VNF_DF), or --body."""
    req = load_object(body, "--body")
    chosen = sum(1 for x in (start, stop, flavour) if x)
    if chosen > 1:
        raise UsageError("give one of --start, --stop, --flavour")
    if chosen == 0 and not req:
        raise UsageError("give --start, --stop or --flavour with --vnf (or a --body)")
    if chosen and not vnf:
        raise UsageError("--start, --stop and --flavour need --vnf")
    with open_session() as s:
        item = find_ns(s, ns)
        ids = [vnf_id(item, v) for v in vnf or []]
        if start or stop:
            req["updateType"] = "OPERATE_VNF"
            req["operateVnfData"] = [
                {"vnfInstanceId": i, "changeStateTo": "STARTED" if start else "STOPPED"}
                for i in ids
            ]
        elif flavour:
            req["updateType"] = "CHANGE_VNF_DF"
            req["changeVnfFlavourData"] = [
                {"vnfInstanceId": i, "newFlavourId": flavour} for i in ids
            ]
        _operation(s, item, "update", req, wait, timeout, output)


@ns_app.command("terminate")
@handled
def ns_terminate(
    ns: NsArg,
    graceful: Annotated[
        bool, typer.Option("--graceful", help="Stop the VNFCs before deleting them.")
    ] = False,
    graceful_timeout: Annotated[
        int | None, typer.Option(help="Seconds to wait for a graceful stop.")
    ] = None,
    body: BodyOpt = None,
    wait: WaitOpt = False,
    timeout: TimeoutOpt = DEFAULT_WAIT_TIMEOUT,
    output: OutputOpt = Format.table,
) -> None:
    """Terminate: remove every VNF and NS virtual link (the instance stays, NOT_INSTANTIATED)."""
    req = load_object(body, "--body")
    if graceful:
        req["terminationType"] = "GRACEFUL"
    if graceful_timeout is not None:
        req["gracefulTerminationTimeout"] = graceful_timeout
    with open_session() as s:
        item = find_ns(s, ns)
        _operation(s, item, "terminate", req, wait, timeout, output)


@ns_app.command("delete")
@handled
def ns_delete(ns: NsArg) -> None:
    """Delete a NOT_INSTANTIATED NS instance."""
    with open_session() as s:
        item = find_ns(s, ns)
        s.delete(f"{NS}/{item['id']}")
    note(Format.table, f"Deleted NS instance {item['nsInstanceName']} ({item['id']}).")
