"""VNF packages (vnfpkgm) and NSD/PNFD archives (nsd): one router factory for the three
collections, since SOL005 shapes them alike."""

from __future__ import annotations

import mimetypes
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, BackgroundTasks, Body, Depends, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse

from nfvo import limits
from nfvo.api import shapes, views
from nfvo.api.deps import Services, operator, reader, services
from nfvo.api.listing import (
    LIST_PARAMS,
    SELECTOR_PARAMS,
    Column,
    Columns,
    page_of,
    query_params,
)
from nfvo.api.models import catalog as m
from nfvo.api.models.openapi import array_of, request_body, responses
from nfvo.api.routes import transfer
from nfvo.api.security import Principal
from nfvo.catalog.errors import PackageError
from nfvo.catalog.states import PackageKind
from nfvo.catalog.store import unreadable
from nfvo.errors import BadRequest, NotAcceptable, NotFound, PreconditionFailed

if TYPE_CHECKING:  # row types only: the API does not use the inventory
    from nfvo.inventory.models import CatalogPackage


@dataclass(frozen=True)
class Collection:
    """How one SOL005 package collection is named and shaped."""

    kind: PackageKind
    name: str  # vnf_packages | ns_descriptors | pnf_descriptors
    content: str  # package_content | nsd_content | pnfd_content
    descriptor: str  # vnfd | nsd | pnfd
    op_state_field: str | None  # operationalState | nsdOperationalState | None (PNFD)
    view: Callable[[CatalogPackage, str], dict[str, Any]]
    default_excluded: list[tuple[str, ...]]
    artifacts_field: str  # where the artifact list lives in info
    columns: Columns  # attributes a list filters on in SQL
    shape: shapes.Shape  # the attributes of the resource (unknown ones are a 400)


def _columns(descriptor_id: str, prefix: str, *, operational: bool = True) -> Columns:
    """Filterable columns of a package list; ``prefix`` is "" (VNF) or "nsd"/"pnfd"."""

    def name(attr: str) -> str:
        return prefix + attr[0].upper() + attr[1:] if prefix else attr

    cols = {
        ("id",): Column("id"),
        (descriptor_id,): Column("descriptor_id"),  # set with the info at onboarding
        (name("onboardingState"),): Column("onboarding_state"),
        (name("usageState"),): Column("usage_state"),
    }
    if operational:
        cols[(name("operationalState"),)] = Column("operational_state")
    return cols


VNF = Collection(
    PackageKind.vnf,
    "vnf_packages",
    "package_content",
    "vnfd",
    "operationalState",
    views.vnf_pkg_info,
    views.VNF_DEFAULT_EXCLUDED,
    "additionalArtifacts",
    _columns("vnfdId", ""),
    shapes.VNF_PKG_INFO,
)
NSD = Collection(
    PackageKind.nsd,
    "ns_descriptors",
    "nsd_content",
    "nsd",
    "nsdOperationalState",
    views.nsd_info,
    views.NSD_DEFAULT_EXCLUDED,
    "artifacts",
    _columns("nsdId", "nsd"),
    shapes.NSD_INFO,
)
PNFD = Collection(
    PackageKind.pnfd,
    "pnf_descriptors",
    "pnfd_content",
    "pnfd",
    None,
    views.pnfd_info,
    views.PNFD_DEFAULT_EXCLUDED,
    "artifacts",
    _columns("pnfdId", "pnfd", operational=False),
    shapes.PNFD_INFO,
)


def api_base(request: Request) -> str:
    """The absolute API root the client addressed (``http://host/vnfpkgm/v2`` or ``.../v1``):
    links (SOL013 ``Link.href``) and ``Location`` headers are absolute URIs. The configured
    public URL, when set, names the host (a proxy in front of nfvo)."""
    parts = request.url.path.split("/")
    public = request.app.state.services.settings.public_url if _has_services(request) else None
    root = (public or str(request.base_url)).rstrip("/")
    return root + "/".join(parts[:3])


def _has_services(request: Request) -> bool:
    return getattr(request.app.state, "services", None) is not None


def _tenant(p: Principal) -> str | None:
    return p.tenant_id


def _etag(pkg: CatalogPackage) -> str:
    return f'"{pkg.revision}"'


def _if_match(request: Request) -> int | None:
    value = request.headers.get("if-match")
    if value is None or value.strip() == "*":
        return None
    tag = value.split(",")[0].strip().removeprefix("W/").strip('"')
    if not tag.isdigit():
        raise PreconditionFailed(f"If-Match {value!r} does not match the current ETag")
    return int(tag)


def _accepts(request: Request, *types: str) -> list[str]:
    accept = request.headers.get("accept", "*/*") or "*/*"
    offered = [a.split(";")[0].strip() for a in accept.split(",")]
    if "*/*" in offered:
        return list(types)
    return [t for t in types if t in offered or t.split("/")[0] + "/*" in offered]


@dataclass(frozen=True)
class Declared:
    """The request and response models of one collection, for ``/openapi.json``."""

    create: type[Any]
    modify: type[Any]
    info: type[Any]


DECLARED = {
    PackageKind.vnf: Declared(m.CreateVnfPkgInfoRequest, m.VnfPkgInfoModifications, m.VnfPkgInfo),
    PackageKind.nsd: Declared(m.CreateNsdInfoRequest, m.NsdInfoModifications, m.NsdInfo),
    PackageKind.pnfd: Declared(m.CreatePnfdInfoRequest, m.PnfdInfoModifications, m.PnfdInfo),
}
SOL = (406,)  # a Version header the path's major does not serve
ZIP = "application/zip"
TEXT = "text/plain"
UPLOAD = {
    "requestBody": {
        "required": True,
        "content": {
            ZIP: {"schema": {"type": "string", "format": "binary"}},
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            },
        },
    }
}
BYTES = {"type": "string", "format": "binary"}


def check_user_defined_data(udd: Any) -> None:
    """400 naming userDefinedData unless it is a JSON object within its bound."""
    if udd is not None and not isinstance(udd, dict):
        raise BadRequest("userDefinedData must be a JSON object", field="userDefinedData")
    limits.check_map(udd, "userDefinedData")


def build_router(c: Collection) -> APIRouter:  # noqa: C901 - one closure per SOL005 resource
    """All routes of one package collection."""
    r = APIRouter()
    d = DECLARED[c.kind]
    single = c.kind is not PackageKind.vnf  # a one-file descriptor may be fetched as text
    none = [Depends(query_params())]
    signatures = [Depends(query_params("include_signatures"))]
    coll = f"/{c.name}"
    item = f"/{c.name}/{{pkg_id}}"

    @r.post(
        coll,
        status_code=201,
        dependencies=none,
        responses=responses(201, d.info, "Created", errors=SOL, headers=["Location"]),
        openapi_extra=request_body(d.create, required=False),
    )
    def create(
        request: Request,
        body: dict[str, Any] = Body(default_factory=dict),
        svc: Services = Depends(services),
        who: Principal = Depends(operator),
    ) -> JSONResponse:
        if "userDefinedData" in body and body["userDefinedData"] is None:
            raise BadRequest("userDefinedData cannot be null; omit it", field="userDefinedData")
        udd = body.get("userDefinedData")
        check_user_defined_data(udd)
        udd = udd or {}
        unknown = set(body) - {"userDefinedData"}
        if unknown:
            raise BadRequest(
                f"unknown attribute(s) {sorted(unknown)} in the request", field=sorted(unknown)[0]
            )
        pkg = svc.catalog.create(c.kind, udd, _tenant(who))
        out = c.view(pkg, api_base(request))
        return JSONResponse(
            out, status_code=201, headers={"Location": out["_links"]["self"]["href"]}
        )

    @r.get(
        coll,
        dependencies=[Depends(query_params(LIST_PARAMS))],
        responses=responses(200, array_of(d.info), "A page of the collection", errors=SOL),
    )
    def list_(
        request: Request, svc: Services = Depends(services), who: Principal = Depends(reader)
    ) -> JSONResponse:
        base, tenant = api_base(request), _tenant(who)
        return page_of(
            request,
            fetch=lambda page: svc.catalog.page(c.kind, page, tenant),
            render_page=lambda rows: [c.view(p, base) for p in rows],
            page_size=svc.settings.page_size,
            default_excluded=c.default_excluded,
            mandatory=views.MANDATORY,
            columns=c.columns,
            shape=c.shape,
        )

    @r.get(
        item,
        dependencies=[Depends(query_params(SELECTOR_PARAMS))],
        responses=responses(200, d.info, "The resource", errors=(*SOL, 404), headers=["ETag"]),
    )
    def get(
        pkg_id: str,
        request: Request,
        svc: Services = Depends(services),
        who: Principal = Depends(reader),
    ) -> JSONResponse:
        pkg = svc.catalog.get(c.kind, pkg_id, _tenant(who))
        return JSONResponse(c.view(pkg, api_base(request)), headers={"ETag": _etag(pkg)})

    @r.patch(
        item,
        dependencies=none,
        responses=responses(
            200, d.modify, "The modifications applied", errors=(*SOL, 404, 409, 412)
        ),
        openapi_extra=request_body(d.modify),
    )
    def modify(
        pkg_id: str,
        request: Request,
        body: dict[str, Any] = Body(...),
        svc: Services = Depends(services),
        who: Principal = Depends(operator),
    ) -> JSONResponse:
        svc.catalog.writable(c.kind, pkg_id, _tenant(who))
        allowed = {"userDefinedData"} | ({c.op_state_field} if c.op_state_field else set())
        unknown = set(body) - allowed
        if unknown or not body:
            raise BadRequest(
                f"modifications may contain only {sorted(allowed)}",
                field=sorted(unknown)[0] if unknown else "body",
            )
        nulls = sorted(k for k, v in body.items() if v is None)
        if nulls:
            raise BadRequest(
                f"{nulls[0]} cannot be null; omit it to keep its value", field=nulls[0]
            )
        state = body.get(c.op_state_field) if c.op_state_field else None
        if state is not None and state not in ("ENABLED", "DISABLED"):
            raise BadRequest(
                f"{c.op_state_field} must be ENABLED or DISABLED, not {state!r}",
                field=c.op_state_field,
            )
        udd = body.get("userDefinedData")
        check_user_defined_data(udd)
        pkg = svc.catalog.modify(
            c.kind,
            pkg_id,
            operational_state=state,
            user_defined_data=udd,
            if_match=_if_match(request),
        )
        return JSONResponse(body, headers={"ETag": _etag(pkg)})

    @r.delete(
        item,
        status_code=204,
        dependencies=none,
        responses=responses(204, None, "Deleted", errors=(*SOL, 404, 409)),
    )
    def delete(
        pkg_id: str, svc: Services = Depends(services), who: Principal = Depends(operator)
    ) -> Response:
        svc.catalog.writable(c.kind, pkg_id, _tenant(who))
        svc.catalog.delete(c.kind, pkg_id)
        return Response(status_code=204)

    @r.put(
        f"{item}/{c.content}",
        status_code=202,
        dependencies=none,
        responses=responses(202, None, "Accepted: onboarding runs", errors=(*SOL, 404, 409)),
        openapi_extra=UPLOAD,
    )
    async def upload(
        pkg_id: str,
        request: Request,
        background: BackgroundTasks,
        svc: Services = Depends(services),
        who: Principal = Depends(operator),
    ) -> Response:
        svc.catalog.writable(c.kind, pkg_id, _tenant(who))
        svc.catalog.start_upload(c.kind, pkg_id)
        try:
            path = await transfer.receive_body(
                request, svc.settings.tmp_dir, svc.settings.max_upload_bytes
            )
        except Exception as exc:
            cause = (
                "PACKAGE_TOO_LARGE"
                if exc.__class__.__name__ == "PayloadTooLarge"
                else "UPLOAD_FAILED"
            )
            svc.catalog.fail(c.kind, pkg_id, PackageError(cause, str(exc)))
            raise
        svc.catalog.start_processing(c.kind, pkg_id)
        background.add_task(svc.catalog.process, c.kind, pkg_id, path)
        return Response(status_code=202)

    @r.get(
        f"{item}/{c.content}",
        dependencies=none,
        responses=responses(
            200,
            BYTES,
            "The archive (206 with a Range)",
            errors=(*SOL, 404, 409, 416),
            media=(ZIP, TEXT) if single else (ZIP,),
        )
        | responses(206, BYTES, "The range asked for", media=(ZIP,)),
    )
    def download(
        pkg_id: str,
        request: Request,
        svc: Services = Depends(services),
        who: Principal = Depends(reader),
    ) -> Response:
        pkg = svc.catalog.onboarded(c.kind, pkg_id, _tenant(who))
        if c.kind is not PackageKind.vnf and "application/zip" not in _accepts(
            request, "application/zip"
        ):
            # SOL005 §5.4.4.3.2 / §5.4.7.3.2 (Accept: text/plain and/or application/zip): a
            # descriptor that is one file may be fetched alone, as text
            return _descriptor_text(request, svc, c, pkg_id, who)
        size = int((pkg.info or {}).get("packageSize", 0))
        rng = transfer.parse_range(request.headers.get("range"), size)
        start, end = rng if rng else (0, size - 1)
        headers = transfer.range_headers(rng, size) | {"Content-Length": str(end - start + 1)}
        return StreamingResponse(
            svc.catalog.content(pkg, start, end),
            status_code=206 if rng else 200,
            media_type="application/zip",
            headers=headers,
        )

    @r.get(
        f"{item}/{c.descriptor}",
        dependencies=signatures,
        responses=responses(
            200, BYTES, "The descriptor", errors=(*SOL, 404, 409), media=(TEXT, ZIP)
        ),
    )
    def descriptor(
        pkg_id: str,
        request: Request,
        svc: Services = Depends(services),
        who: Principal = Depends(reader),
    ) -> Response:
        return _descriptor(request, svc, c, pkg_id, who)

    @r.get(
        f"{item}/manifest",
        dependencies=signatures,
        responses=responses(200, BYTES, "The manifest", errors=(*SOL, 404, 409), media=(TEXT, ZIP)),
    )
    def manifest(
        pkg_id: str,
        request: Request,
        svc: Services = Depends(services),
        who: Principal = Depends(reader),
    ) -> Response:
        pkg, files = svc.catalog.files(c.kind, pkg_id, _tenant(who))
        mpath = (pkg.info or {}).get("manifestPath")
        if not mpath:
            raise NotFound(f"package {pkg_id} has no manifest file")
        if "include_signatures" in request.query_params:
            members = [mpath]
            cert = (pkg.info or {}).get("toscaMeta", {}).get("ETSI-Entry-Certificate")
            if cert:
                members.append(cert)
            return Response(
                transfer.zip_bytes(files.iter_members(members)), media_type="application/zip"
            )
        return Response(files.read(mpath), media_type="text/plain")

    if c.kind is PackageKind.vnf:
        artifact_params = query_params(
            "include_signatures",
            "exclude_all_mano_artifacts",
            "exclude_all_non_mano_artifacts",
            "select_non_mano_artifact_sets",
            "include_external_artifacts",
        )

        @r.get(
            f"{item}/artifacts",
            dependencies=[Depends(artifact_params)],
            responses=responses(
                200, BYTES, "The selected artifacts", errors=(*SOL, 404, 409), media=(ZIP,)
            ),
        )
        def artifacts(
            pkg_id: str,
            request: Request,
            svc: Services = Depends(services),
            who: Principal = Depends(reader),
        ) -> Response:
            pkg, files = svc.catalog.files(c.kind, pkg_id, _tenant(who))
            q = request.query_params
            sets = {s for s in (q.get("select_non_mano_artifact_sets") or "").split(",") if s}
            chosen = []
            for a in (pkg.info or {}).get(c.artifacts_field, []):
                path, set_id = a.get("artifactPath"), a.get("nonManoArtifactSetId")
                if not path:
                    continue
                if set_id is None and "exclude_all_mano_artifacts" in q:
                    continue
                if set_id is not None and "exclude_all_non_mano_artifacts" in q and not sets:
                    continue
                if set_id is not None and sets and set_id not in sets:
                    continue
                chosen.append(path)
            if not chosen:
                raise NotFound("no artifact matches the selection")
            return StreamingResponse(
                _primed(files.zip_stream(chosen), pkg_id, chosen[0]),
                media_type="application/zip",
            )

        @r.post(
            f"{item}/{c.content}/upload_from_uri",
            status_code=202,
            dependencies=none,
            responses=responses(202, None, "Accepted: the fetch runs", errors=(*SOL, 404, 409)),
            openapi_extra=request_body(m.UploadVnfPkgFromUriRequest),
        )
        def upload_from_uri(
            pkg_id: str,
            background: BackgroundTasks,
            body: dict[str, Any] = Body(...),
            svc: Services = Depends(services),
            who: Principal = Depends(operator),
        ) -> Response:
            svc.catalog.writable(c.kind, pkg_id, _tenant(who))
            uri = body.get("addressInformation")
            if not isinstance(uri, str) or not uri.lower().startswith(("http://", "https://")):
                raise BadRequest(
                    "addressInformation must be an http:// or https:// URI; "
                    "other schemes (file:, ftp:) are refused",
                    field="addressInformation",
                )
            auth = None
            user = body.get("userName", body.get("username"))  # SOL005 writes userName
            if user is not None:
                auth = (str(user), str(body.get("password") or ""))
            svc.catalog.start_upload(c.kind, pkg_id)
            background.add_task(_fetch_and_process, svc, c.kind, pkg_id, uri, auth)
            return Response(status_code=202)

    @r.get(
        item + "/artifacts/{artifact_path:path}",
        dependencies=signatures,
        responses=responses(
            200, BYTES, "The artifact", errors=(*SOL, 404, 409, 416), media=("*/*",)
        )
        | responses(206, BYTES, "The range asked for", media=("*/*",)),
    )
    def artifact(
        pkg_id: str,
        artifact_path: str,
        request: Request,
        svc: Services = Depends(services),
        who: Principal = Depends(reader),
    ) -> Response:
        pkg, files = svc.catalog.files(c.kind, pkg_id, _tenant(who))
        if artifact_path not in (pkg.info or {}).get("files", []):
            raise NotFound(f"package {pkg_id} has no artifact {artifact_path!r}")
        size = files.size(artifact_path)
        rng = transfer.parse_range(request.headers.get("range"), size)
        start, end = rng if rng else (0, size - 1)
        mtype = mimetypes.guess_type(artifact_path)[0] or "application/octet-stream"
        headers = transfer.range_headers(rng, size) | {"Content-Length": str(end - start + 1)}
        return StreamingResponse(
            _primed(files.stream(artifact_path, start, end), pkg_id, artifact_path),
            status_code=206 if rng else 200,
            media_type=mtype,
            headers=headers,
        )

    return r


def _primed(chunks: Iterator[bytes], pkg_id: str, member: str) -> Iterator[bytes]:
    """``chunks`` with its first chunk read now, so that an archive member of package
    ``pkg_id`` that cannot be read (corrupt, or inflating beyond its declared size) is
    answered with a 409 naming it rather than a broken stream; a later failure ends the
    stream early (the client sees the length mismatch)."""
    try:
        first = next(chunks, b"")
    except PackageError as exc:
        exc.file = exc.file or member
        raise unreadable(exc) from None

    def rest() -> Iterator[bytes]:
        if first:
            yield first
        yield from chunks

    return rest()


def _descriptor(
    request: Request, svc: Services, c: Collection, pkg_id: str, who: Principal
) -> Response:
    """The descriptor as its one YAML file (text/plain) or as a ZIP of its files, as the
    ``Accept`` header asks; 406 when the descriptor spans several files and only text/plain
    is acceptable (SOL005 §5.4.4a, §5.4.7a, §9.4.4)."""
    pkg, files = svc.catalog.files(c.kind, pkg_id, _tenant(who))
    names = list((pkg.info or {}).get("descriptorFiles", []))
    yamls = [n for n in names if not n.endswith(".meta")]
    ok = _accepts(request, "text/plain", "application/zip")
    if not ok:
        raise NotAcceptable("the descriptor is served as text/plain or application/zip")
    if "text/plain" in ok and len(yamls) == 1:
        return Response(files.read(yamls[0]), media_type="text/plain")
    if "application/zip" not in ok:
        raise NotAcceptable(
            f"the descriptor spans {len(yamls)} files; accept application/zip to get them"
        )
    return Response(transfer.zip_bytes(files.iter_members(names)), media_type="application/zip")


def _descriptor_text(
    request: Request, svc: Services, c: Collection, pkg_id: str, who: Principal
) -> Response:
    """``nsd_content`` / ``pnfd_content`` asked for without application/zip."""
    if not _accepts(request, "text/plain"):
        raise NotAcceptable(f"the {c.content} is served as application/zip or text/plain")
    return _descriptor(request, svc, c, pkg_id, who)


def _fetch_and_process(
    svc: Services, kind: PackageKind, pkg_id: str, uri: str, auth: tuple[str, str] | None
) -> None:
    fd, path = transfer.new_temp(svc.settings.tmp_dir)
    os.close(fd)
    try:
        transfer.fetch_uri(
            uri,
            path,
            limit=svc.settings.max_upload_bytes,
            timeout=svc.settings.upload_from_uri_timeout,
            auth=auth,
            guard=svc.settings.outbound_guard,
        )
    except PackageError as exc:
        path.unlink(missing_ok=True)
        svc.catalog.fail(kind, pkg_id, exc)
        return
    svc.catalog.start_processing(kind, pkg_id)
    svc.catalog.process(kind, pkg_id, path)
