"""Packages: the VNF packages and NSDs of the catalog, uploading a CSAR (a file, or a URL the
server fetches through the same outbound guard as the API), onboarding followed live,
enabling/disabling and deleting, and a detail page with the descriptor (and an NSD's graph).

Every change goes through the catalog service calls the API's package routes make. One thing
the GUI adds: a package it created for an upload that is refused (a broken archive, a URL
that cannot be fetched) is deleted again once the refusal is known, so the operator sees the
cause (file and line) and is left with no half-made package."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from nfvo.api import views
from nfvo.api.deps import Services, services
from nfvo.api.routes import transfer
from nfvo.api.routes.packages import _fetch_and_process
from nfvo.catalog.descriptors import Nsd
from nfvo.catalog.errors import PackageError
from nfvo.catalog.states import OnboardingState, OperationalState, PackageKind, UsageState
from nfvo.errors import BadRequest, NfvoError, NotFound, PayloadTooLarge
from nfvo.query import PageQuery
from nfvo.ui.render import block_html, fragment, page
from nfvo.ui.session import UiUser, operator, viewer

if TYPE_CHECKING:  # row type only: the GUI does not use the inventory
    from nfvo.inventory.models import CatalogPackage

router = APIRouter()

KINDS = {"vnf": PackageKind.vnf, "nsd": PackageKind.nsd}
WORD = {PackageKind.vnf: "VNF package", PackageKind.nsd: "NSD"}
BUSY = (OnboardingState.UPLOADING, OnboardingState.PROCESSING)
FINAL = (OnboardingState.ONBOARDED, OnboardingState.ERROR)
LIST_LIMIT = 500  # rows per kind on the list page
SHOWN_BYTES = 1 << 20  # a descriptor file larger than this is shown cut
# how long a refused upload's package may wait for the uploading page to show its cause
# before it is deleted anyway (the page deletes it on its next poll, within half a second)
REFUSAL_GRACE = 10.0
MSG = "#pkg-msg"  # where an action's error is shown


def _kind(name: str) -> PackageKind:
    kind = KINDS.get(name)
    if kind is None:
        raise NotFound(f"no package kind {name!r}: vnf or nsd")
    return kind


@dataclass(frozen=True)
class Row:
    """One package as a list row shows it, with the actions its state allows."""

    kind: str
    id: str
    name: str
    version: str
    provider: str
    descriptor_id: str
    onboarding: str
    operational: str
    usage: str

    @property
    def busy(self) -> bool:
        """Onboarding is running (the row polls until it ends)."""
        return self.onboarding in BUSY

    @property
    def final(self) -> bool:
        """Onboarding has ended (ONBOARDED or ERROR)."""
        return self.onboarding in FINAL

    @property
    def can_enable(self) -> bool:
        return self.onboarding == OnboardingState.ONBOARDED and self.operational == "DISABLED"

    @property
    def can_disable(self) -> bool:
        return self.onboarding == OnboardingState.ONBOARDED and self.operational == "ENABLED"

    @property
    def can_delete(self) -> bool:
        """The catalog's rule: disabled, not in use, not uploading or processing (a reference
        from an NSD is reported by the service when the button is used)."""
        return (
            not self.busy
            and self.operational == OperationalState.DISABLED
            and self.usage == UsageState.NOT_IN_USE
        )


def row_of(pkg: CatalogPackage) -> Row:
    """The list row of a package, from the API's own view of it."""
    if pkg.kind == PackageKind.vnf:
        v = views.vnf_pkg_info(pkg, "/vnfpkgm/v2")
        return Row(
            "vnf",
            pkg.id,
            v.get("vnfProductName") or "",
            v.get("vnfSoftwareVersion") or v.get("vnfdVersion") or "",
            v.get("vnfProvider") or "",
            v.get("vnfdId") or "",
            v["onboardingState"],
            v["operationalState"],
            v["usageState"],
        )
    v = views.nsd_info(pkg, "/nsd/v2")
    return Row(
        "nsd",
        pkg.id,
        v.get("nsdName") or "",
        v.get("nsdVersion") or "",
        v.get("nsdDesigner") or "",
        v.get("nsdId") or "",
        v["nsdOnboardingState"],
        v["nsdOperationalState"],
        v["nsdUsageState"],
    )


def _rows(svc: Services, kind: PackageKind, tenant: str | None) -> tuple[list[Row], bool]:
    """Up to LIST_LIMIT rows of a kind (oldest first) and whether more exist."""
    pkgs = svc.catalog.page(kind, PageQuery(None, (), LIST_LIMIT + 1), tenant)
    return [row_of(p) for p in pkgs[:LIST_LIMIT]], len(pkgs) > LIST_LIMIT


def _problem(
    request: Request, exc: NfvoError, target: str = MSG, testid: str = "action-error"
) -> HTMLResponse:
    """A service's refusal shown in ``target`` (the row that asked stays as it was)."""
    return _message(
        request,
        "problem",
        target,
        status=exc.status,
        code=exc.status,
        title=exc.title,
        detail=exc.detail,
        extra=exc.extra,
        testid=testid,
    )


def _message(
    request: Request, block: str, target: str, *, status: int = 200, **values: Any
) -> HTMLResponse:
    """A block of ``messages.html`` swapped into ``target`` whatever element asked."""
    resp = fragment(request, "packages/messages.html", block, status=status, **values)
    resp.headers["HX-Retarget"] = target
    resp.headers["HX-Reswap"] = "innerHTML"
    return resp


def _row(request: Request, row: Row, *, track: bool = False, status: int = 200) -> HTMLResponse:
    return fragment(request, "packages/list.html", "row", status=status, row=row, track=track)


# ------------------------------------------------------------------------------ pages


@router.get("/ui/packages", response_class=HTMLResponse)
def packages(
    request: Request, svc: Services = Depends(services), user: UiUser = Depends(viewer)
) -> HTMLResponse:
    """The list of VNF packages and NSDs, and (operators) the upload form."""
    vnf, vnf_more = _rows(svc, PackageKind.vnf, user.tenant_id)
    nsd, nsd_more = _rows(svc, PackageKind.nsd, user.tenant_id)
    return page(
        request,
        "packages/list.html",
        sections=[
            ("vnf", "VNF packages", vnf, vnf_more),
            ("nsd", "NS descriptors", nsd, nsd_more),
        ],
        limit=LIST_LIMIT,
        track=False,
    )


@router.get("/ui/packages/{kind}/{pkg_id}/row", response_class=HTMLResponse)
def package_row(
    kind: str,
    pkg_id: str,
    request: Request,
    svc: Services = Depends(services),
    user: UiUser = Depends(viewer),
) -> HTMLResponse:
    """One list row (polled while the package's onboarding runs)."""
    try:
        pkg = svc.catalog.get(_kind(kind), pkg_id, user.tenant_id)
    except NotFound:
        return fragment(request, "packages/messages.html", "gone", pkg_id=pkg_id)
    return _row(request, row_of(pkg))


@router.get("/ui/packages/{kind}/{pkg_id}", response_class=HTMLResponse)
def package_detail(
    kind: str,
    pkg_id: str,
    request: Request,
    file: str | None = None,
    flavour: str | None = None,
    svc: Services = Depends(services),
    user: UiUser = Depends(viewer),
) -> HTMLResponse:
    """A package: its state, its descriptor files as YAML and, for an NSD, its graph."""
    k = _kind(kind)
    pkg = svc.catalog.get(k, pkg_id, user.tenant_id)
    row = row_of(pkg)
    info = pkg.info or {}
    names = [n for n in info.get("descriptorFiles", []) if not n.endswith(".meta")]
    entry = info.get("entryDefinitions") or (names[0] if names else None)
    shown, text, cut = None, None, False
    graph = None
    if pkg.onboarding_state == OnboardingState.ONBOARDED and entry:
        shown = file if file in names else entry
        _, files = svc.catalog.files(k, pkg_id, user.tenant_id)
        data = files.read(shown)
        cut = len(data) > SHOWN_BYTES
        text = data[:SHOWN_BYTES].decode("utf-8", errors="replace")
        if k is PackageKind.nsd:
            nsd = Nsd.model_validate(svc.catalog.descriptor(k, pkg_id))
            graph = nsd_graph(nsd, flavour)
    return page(
        request,
        "packages/detail.html",
        row=row,
        failure=pkg.failure_details,
        files=names,
        entry=entry,
        shown=shown,
        text=text,
        cut=cut,
        graph=graph,
    )


@dataclass(frozen=True)
class NsdGraph:
    """The graph of one NSD flavour: Cytoscape elements, the table rows, the flavours."""

    flavour: str
    flavours: list[str]
    spec: dict[str, Any]
    rows: list[dict[str, str]]


def nsd_graph(nsd: Nsd, flavour: str | None) -> NsdGraph | None:
    """The NS node, the flavour's VNF profiles, virtual links and SAPs, with an edge from the
    NS to each VNF profile, from each VNF profile to each virtual link it connects to, and
    from each SAP to its virtual link."""
    if not nsd.flavours:
        return None
    chosen = next((f for f in nsd.flavours if f.flavour_id == flavour), nsd.flavours[0])
    nodes: list[dict[str, Any]] = []
    edges: list[dict[str, Any]] = []
    rows: list[dict[str, str]] = []

    def node(node_id: str, label: str, kind: str, detail: str) -> None:
        nodes.append({"data": {"id": node_id, "label": label, "kind": kind, "state": ""}})
        rows.append({"id": node_id, "label": label, "kind": kind, "detail": detail})

    def edge(source: str, target: str) -> None:
        edge_id = f"{source}->{target}"
        if any(e["data"]["id"] == edge_id for e in edges):
            return
        edges.append({"data": {"id": edge_id, "source": source, "target": target}})

    node("ns", nsd.name or nsd.nsd_id, "ns", f"NSD {nsd.nsd_id}, flavour {chosen.flavour_id}")
    vls = {vl.id for vl in chosen.virtual_links}
    for vl in chosen.virtual_links:
        node(f"vl:{vl.id}", vl.id, "vl", ", ".join(vl.layer_protocols) or "virtual link")
    for p in chosen.vnf_profiles:
        links = [c.virtual_link for c in p.virtual_links]
        node(
            f"vnf:{p.id}",
            p.id,
            "vnf",
            f"VNFD {p.vnfd_id or '?'}, flavour {p.flavour_id or '?'}, "
            f"{p.min_number_of_instances}..{p.max_number_of_instances} instances; "
            f"connects {', '.join(links) or 'nothing'}",
        )
        edge("ns", f"vnf:{p.id}")
        for vl_id in links:
            if vl_id in vls:
                edge(f"vnf:{p.id}", f"vl:{vl_id}")
    for sap in chosen.saps:
        node(f"sap:{sap.id}", sap.id, "cp", f"SAP on {sap.virtual_link or '?'}")
        if sap.virtual_link in vls:
            edge(f"sap:{sap.id}", f"vl:{sap.virtual_link}")
    return NsdGraph(
        chosen.flavour_id,
        [f.flavour_id for f in nsd.flavours],
        {"elements": nodes + edges, "layout": "breadthfirst"},
        rows,
    )


# ------------------------------------------------------------------------------ upload


def _choice(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


@router.post("/ui/packages/upload", response_class=HTMLResponse)
async def upload(
    request: Request,
    background: BackgroundTasks,
    svc: Services = Depends(services),
    user: UiUser = Depends(operator),
) -> HTMLResponse:
    """Create a package and upload its CSAR (the ``file`` part, or fetched from ``uri``), as
    ``POST`` + ``PUT .../package_content`` (or ``.../upload_from_uri``) of the API do; the
    answer says so and adds the new row to the list, where it follows the onboarding. A
    refusal while receiving is shown at once and the package is deleted again."""
    target = "#upload-result"
    form = await request.form(max_files=1, max_fields=10)
    kind = KINDS.get(_choice(form.get("kind")))
    if kind is None:
        return _problem(
            request, BadRequest("choose VNF package or NSD", field="kind"), target, "upload-refused"
        )
    uri = _choice(form.get("uri"))
    part = form.get("file")
    has_file = part is not None and not isinstance(part, str) and bool(part.filename)
    if has_file == bool(uri):
        return _problem(
            request,
            BadRequest("choose a CSAR file or give a URL (one of them)", field="file"),
            target,
            "upload-refused",
        )
    if uri:
        if kind is not PackageKind.vnf:
            return _problem(
                request,
                BadRequest(
                    "an NSD archive is uploaded as a file; fetching from a URL is offered for "
                    "VNF packages (as the API's upload_from_uri)",
                    field="uri",
                ),
                target,
                "upload-refused",
            )
        if not uri.lower().startswith(("http://", "https://")):
            return _problem(
                request,
                BadRequest(
                    "the URL must be http:// or https://; other schemes (file:, ftp:) are refused",
                    field="uri",
                ),
                target,
                "upload-refused",
            )
    pkg = svc.catalog.create(kind, {}, user.tenant_id)
    svc.catalog.start_upload(kind, pkg.id)
    if uri:
        background.add_task(
            _discarding_refusal, svc, kind, pkg.id, _fetch_and_process, svc, kind, pkg.id, uri, None
        )
    else:
        try:
            path = await transfer.receive_body(
                request, svc.settings.tmp_dir, svc.settings.max_upload_bytes
            )
        except Exception as exc:
            cause = "PACKAGE_TOO_LARGE" if isinstance(exc, PayloadTooLarge) else "UPLOAD_FAILED"
            svc.catalog.fail(kind, pkg.id, PackageError(cause, str(exc)))
            svc.catalog.delete(kind, pkg.id)
            if isinstance(exc, NfvoError):
                return _problem(request, exc, target, "upload-refused")
            raise
        svc.catalog.start_processing(kind, pkg.id)
        background.add_task(
            _discarding_refusal, svc, kind, pkg.id, svc.catalog.process, kind, pkg.id, path
        )
    row = row_of(svc.catalog.get(kind, pkg.id))
    html = block_html(request, "packages/list.html", "row", row=row, track=True)
    return _message(
        request, "uploading", target, status=201, row=row, row_html=html, word=WORD[kind]
    )


async def _discarding_refusal(
    svc: Services, kind: PackageKind, pkg_id: str, work: Any, *args: Any
) -> None:
    """Run the onboarding ``work(*args)``; when it ends in ERROR, give the uploading page
    REFUSAL_GRACE seconds to show the cause (it deletes the package as it does), then delete
    the package if it is still there."""
    await run_in_threadpool(work, *args)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + REFUSAL_GRACE
    while loop.time() < deadline:
        try:
            pkg = await run_in_threadpool(svc.catalog.get, kind, pkg_id)
        except NotFound:
            return
        if pkg.onboarding_state != OnboardingState.ERROR:
            return
        await asyncio.sleep(0.5)
    await run_in_threadpool(_discard, svc, kind, pkg_id)


def _discard(svc: Services, kind: PackageKind, pkg_id: str) -> None:
    """Delete a refused upload's package (gone already: nothing to do)."""
    try:
        svc.catalog.delete(kind, pkg_id)
    except NotFound:
        pass


@router.post("/ui/packages/{kind}/{pkg_id}/track", response_class=HTMLResponse)
def track(
    kind: str,
    pkg_id: str,
    request: Request,
    svc: Services = Depends(services),
    user: UiUser = Depends(operator),
) -> HTMLResponse:
    """The row of a package this page uploaded, polled until onboarding ends. A refused
    package is deleted and its cause (with file and line) shown above the list instead of
    the row."""
    k = _kind(kind)
    try:
        pkg = svc.catalog.writable(k, pkg_id, user.tenant_id)
    except NotFound:
        return fragment(request, "packages/messages.html", "gone", pkg_id=pkg_id)
    if pkg.onboarding_state != OnboardingState.ERROR:
        return _row(request, row_of(pkg), track=True)
    failure = dict(pkg.failure_details or {})
    _discard(svc, k, pkg_id)
    extra = {key: failure[key] for key in ("cause", "file", "line", "toscaPath") if key in failure}
    return _message(
        request,
        "refused",
        "#upload-result",
        code=failure.get("status", 422),
        title=failure.get("title", "Package onboarding failed"),
        detail=failure.get("detail", "the package was refused"),
        extra=extra,
        testid="upload-refused",
        pkg_id=pkg_id,
        word=WORD[k],
    )


# ------------------------------------------------------------------------------ actions


def _set_state(
    request: Request, svc: Services, user: UiUser, kind: str, pkg_id: str, state: str
) -> HTMLResponse:
    k = _kind(kind)
    try:
        svc.catalog.writable(k, pkg_id, user.tenant_id)
        pkg = svc.catalog.modify(k, pkg_id, operational_state=state, user_defined_data=None)
    except NfvoError as exc:
        return _problem(request, exc)
    return _row(request, row_of(pkg))


@router.post("/ui/packages/{kind}/{pkg_id}/enable", response_class=HTMLResponse)
def enable(
    kind: str,
    pkg_id: str,
    request: Request,
    svc: Services = Depends(services),
    user: UiUser = Depends(operator),
) -> HTMLResponse:
    """operationalState ENABLED (as ``PATCH`` of the API)."""
    return _set_state(request, svc, user, kind, pkg_id, OperationalState.ENABLED)


@router.post("/ui/packages/{kind}/{pkg_id}/disable", response_class=HTMLResponse)
def disable(
    kind: str,
    pkg_id: str,
    request: Request,
    svc: Services = Depends(services),
    user: UiUser = Depends(operator),
) -> HTMLResponse:
    """operationalState DISABLED (as ``PATCH`` of the API)."""
    return _set_state(request, svc, user, kind, pkg_id, OperationalState.DISABLED)


@router.post("/ui/packages/{kind}/{pkg_id}/delete", response_class=HTMLResponse)
def delete(
    kind: str,
    pkg_id: str,
    request: Request,
    svc: Services = Depends(services),
    user: UiUser = Depends(operator),
) -> Response:
    """Delete the package (as ``DELETE`` of the API); the row goes."""
    k = _kind(kind)
    try:
        svc.catalog.writable(k, pkg_id, user.tenant_id)
        svc.catalog.delete(k, pkg_id)
    except NfvoError as exc:
        return _problem(request, exc)
    return _message(
        request,
        "deleted",
        MSG,
        pkg_id=pkg_id,
        word=WORD[k],
    )
