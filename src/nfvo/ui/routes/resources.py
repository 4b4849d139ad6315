"""Resource administration pages: VIM accounts (``/ui/vims``: list, register with the fields
of the chosen type, test connection, synced resources and capacity, delete), SDN controllers
(``/ui/sdn``) and tenants (``/ui/tenants``, admins only). Every write takes the same service
calls and rules as ``/admin/v1`` (admin role; tenants: a global admin) and answers htmx with
a message where the form is, plus the refreshed list swapped out of band."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool

from nfvo.api.deps import Services, services
from nfvo.api.routes import admin as admin_api
from nfvo.errors import BadRequest, Conflict, NfvoError
from nfvo.query import PageQuery
from nfvo.resources.sdn import SDN_TYPES
from nfvo.resources.service import VIM_TYPES, placement_strategies
from nfvo.ui.render import SECURITY_HEADERS, block_html, fragment, is_htmx, page
from nfvo.ui.routes.dashboard import capacity_of
from nfvo.ui.session import UiUser, admin_viewer, administrator, viewer

router = APIRouter()
LIST_LIMIT = 500  # tenants / SDN controllers listed on one page
SHOWN = 200  # hosts, flavors, images, networks listed on a VIM's page
VIM_TEMPLATE = "resources/vims.html"
VIM_DETAIL = "resources/vim.html"
SDN_TEMPLATE = "resources/sdn.html"
TENANT_TEMPLATE = "resources/tenants.html"
# the parts of a VIM's page that follow its state (swapped out of band)
OOB_DETAIL = ["vim_state", "vim_capacity", "vim_synced"]


# -- shared helpers -------------------------------------------------------------------------
def blocks(
    request: Request,
    template: str,
    names: list[str],
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
    **values: Any,
) -> HTMLResponse:
    """Several blocks of ``template`` in one answer (a message plus out-of-band swaps)."""
    html = "".join(block_html(request, template, n, **values) for n in names)
    return HTMLResponse(html, status_code=status, headers={**SECURITY_HEADERS, **(headers or {})})


def problem_html(request: Request, exc: NfvoError) -> str:
    """The error fragment of ``exc`` (as the GUI's error pages show it)."""
    return block_html(
        request,
        "error.html",
        "error",
        code=exc.status,
        title=exc.title,
        detail=exc.detail,
        extra=exc.extra,
    )


def validated(model: type[BaseModel], data: dict[str, Any]) -> BaseModel:
    """``data`` checked by the API's request model (same limits); 400 naming the field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "body"
        raise BadRequest(f"{where}: {err['msg']}", field=where) from None


def text(form: Any, name: str) -> str | None:
    """A form field's stripped text; None when absent or blank."""
    value = form.get(name)
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value or None


def config_json(raw: str | None, field: str = "config") -> dict[str, Any]:
    """A JSON object typed into a form (empty: {}); 400 naming the field otherwise."""
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise BadRequest(f"{field}: not valid JSON ({exc.msg} at {exc.pos})", field=field) from None
    if not isinstance(value, dict):
        raise BadRequest(f"{field}: must be a JSON object", field=field)
    return value


def tenant_names(svc: Services, user: UiUser) -> dict[str, str]:
    """Tenant id -> name, of the tenants the user sees."""
    query = PageQuery(None, (), LIST_LIMIT)
    return {t.id: t.name for t in svc.resources.tenants_page(user.scope, query)}


def tenant_choices(svc: Services, user: UiUser) -> list[tuple[str, str]] | None:
    """The tenants a global admin may give a new resource to; None for anyone else (a
    tenant's resources are always its own)."""
    if not user.is_admin or user.tenant_id is not None:
        return None
    return sorted(tenant_names(svc, user).items(), key=lambda kv: kv[1])


def writable(user: UiUser, owner: str | None) -> bool:
    """Whether the user may change a resource owned by ``owner`` (admin, and the owner's
    tenant or global)."""
    return user.is_admin and user.scope.owns(owner)


def redirect(request: Request, target: str) -> Response:
    """Go to ``target``: HX-Redirect for htmx, 303 for a plain form."""
    if is_htmx(request):
        return Response(status_code=200, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


# -- VIM account form fields ------------------------------------------------------------------
@dataclass(frozen=True)
class FormField:
    """One input of the VIM form: where its value goes (a body field or a config path)."""

    name: str
    label: str
    key: str  # body field, or "config.a.b"
    kind: str = "text"  # text | url | password | number | checkbox | textarea | lines
    default: str = ""
    help: str = ""
    required: bool = False

    def value(self, form: Any) -> Any:
        """The typed value of this input in ``form``; None: leave it out."""
        if self.kind == "checkbox":
            return form.get(self.name) in ("on", "true", "1")
        raw = text(form, self.name)
        if raw is None:
            return None
        if self.kind == "number":
            try:
                return int(raw)
            except ValueError:
                raise BadRequest(
                    f"{self.key}: {self.label} must be a whole number, not {raw!r}",
                    field=self.key,
                ) from None
        if self.kind == "lines":
            return [line.strip() for line in raw.splitlines() if line.strip()]
        return raw


SIM_FIELDS = [
    FormField("zones", "Zones", "config.zones", "number", "2", "how many zones (zone-1, zone-2…)"),
    FormField("hosts", "Hosts", "config.hosts", "number", "4", "spread evenly over the zones"),
    FormField("host_vcpus", "vCPUs per host", "config.host_defaults.vcpus", "number", "64"),
    FormField(
        "host_ram_mib", "RAM per host (MiB)", "config.host_defaults.ram_mib", "number", "262144"
    ),
    FormField(
        "host_disk_gib", "Disk per host (GiB)", "config.host_defaults.disk_gib", "number", "2048"
    ),
]
OPENSTACK_FIELDS = [
    FormField(
        "vim_url",
        "Keystone v3 auth URL",
        "vim_url",
        "url",
        required=True,
        help="e.g. https://keystone.example.net:5000/v3",
    ),
    FormField("vim_user", "User", "vim_user"),
    FormField(
        "vim_password",
        "Password",
        "vim_password",
        "password",
        help="stored encrypted, never shown again",
    ),
    FormField("vim_tenant_name", "Project", "vim_tenant_name"),
    FormField("user_domain_name", "User domain", "config.user_domain_name", default="Default"),
    FormField(
        "project_domain_name", "Project domain", "config.project_domain_name", default="Default"
    ),
    FormField("region_name", "Region", "config.region_name"),
    FormField(
        "application_credential_id",
        "Application credential id",
        "config.application_credential_id",
        help="instead of user and password",
    ),
    FormField(
        "application_credential_secret",
        "Application credential secret",
        "config.application_credential_secret",
        "password",
    ),
    FormField("verify", "Verify TLS certificates", "config.verify", "checkbox", "on"),
    FormField(
        "default_image",
        "Default image",
        "config.default_image",
        help="for VDUs whose descriptor names no image",
    ),
]
KUBERNETES_FIELDS = [
    FormField(
        "vim_url", "API server URL", "vim_url", "url", help="e.g. https://k8s.example.net:6443"
    ),
    FormField(
        "vim_password",
        "Bearer token",
        "vim_password",
        "password",
        help="stored encrypted, never shown again",
    ),
    FormField(
        "kubeconfig",
        "kubeconfig (YAML)",
        "config.kubeconfig",
        "textarea",
        help="instead of the URL and token",
    ),
    FormField("namespace_prefix", "Namespace prefix", "config.namespace_prefix", default="nfvo-"),
    FormField("verify_ssl", "Verify TLS certificates", "config.verify_ssl", "checkbox", "on"),
    FormField("ca_cert", "CA certificate (PEM)", "config.ca_cert", "textarea"),
    FormField("images", "Known images", "config.images", "lines", help="one reference per line"),
    FormField("default_image", "Default image", "config.default_image"),
]
VIM_FIELDS: dict[str, list[FormField]] = {
    "sim": SIM_FIELDS,
    "openstack": OPENSTACK_FIELDS,
    "kubernetes": KUBERNETES_FIELDS,
}


def _put(config: dict[str, Any], path: list[str], value: Any) -> None:
    for part in path[:-1]:
        config = config.setdefault(part, {})
    config[path[-1]] = value


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def vim_request(form: Any, user: UiUser) -> dict[str, Any]:
    """The ``POST /admin/v1/vim_accounts`` body a VIM form stands for: the common fields,
    the chosen type's fields, then the JSON typed under "More config" merged over them."""
    vim_type = text(form, "vim_type") or ""
    if vim_type not in VIM_TYPES:
        raise BadRequest(
            f"vim_type must be one of {list(VIM_TYPES)}, not {vim_type!r}", field="vim_type"
        )
    body: dict[str, Any] = {
        "name": text(form, "name") or "",
        "vim_type": vim_type,
        "description": text(form, "description"),
    }
    config: dict[str, Any] = {}
    for f in VIM_FIELDS[vim_type]:
        value = f.value(form)
        if value is None:
            continue
        if f.key.startswith("config."):
            _put(config, f.key.split(".")[1:], value)
        else:
            body[f.key] = value
    strategy = text(form, "placement_strategy")
    if strategy:
        config["placement_strategy"] = strategy
    body["config"] = _merge(config, config_json(text(form, "config_extra"), "config"))
    if user.tenant_id is None:
        body["tenant_id"] = text(form, "tenant_id")
    return validated(admin_api.VimCreate, body).model_dump()


# -- VIM accounts -----------------------------------------------------------------------------
def _vim_rows(svc: Services, user: UiUser) -> list[Any]:
    return sorted(svc.resources.list_vims(user.scope), key=lambda v: v.name)


def vim_list_values(svc: Services, user: UiUser) -> dict[str, Any]:
    """What the VIM list shows."""
    rows = _vim_rows(svc, user)
    return {
        "vims": rows,
        "tenants": tenant_names(svc, user),
        "polling": any(v.operational_state == "PROCESSING" for v in rows),
        "writable": lambda v: writable(user, v.tenant_id),
        "oob": False,
    }


def vim_form_values(svc: Services, user: UiUser, vim_type: str = "sim") -> dict[str, Any]:
    """What the VIM registration form needs."""
    return {
        "vim_types": VIM_TYPES,
        "vim_type": vim_type,
        "fields": VIM_FIELDS[vim_type],
        "strategies": placement_strategies(),
        "tenant_choices": tenant_choices(svc, user),
    }


@router.get("/ui/vims", response_class=HTMLResponse)
def vims_page(
    request: Request, user: UiUser = Depends(viewer), svc: Services = Depends(services)
) -> HTMLResponse:
    """VIM accounts, and (for an admin) the registration form."""
    return page(request, VIM_TEMPLATE, **vim_list_values(svc, user), **vim_form_values(svc, user))


@router.get("/ui/vims/table", response_class=HTMLResponse)
def vims_table(
    request: Request, user: UiUser = Depends(viewer), svc: Services = Depends(services)
) -> HTMLResponse:
    """The VIM table alone (polled while an account is PROCESSING)."""
    return fragment(request, VIM_TEMPLATE, "vim_table", **vim_list_values(svc, user))


@router.get("/ui/vims/fields", response_class=HTMLResponse)
def vim_fields(
    request: Request,
    vim_type: str = "sim",
    user: UiUser = Depends(admin_viewer),
    svc: Services = Depends(services),
) -> HTMLResponse:
    """The type-specific inputs of the registration form (swapped in on a type change)."""
    if vim_type not in VIM_FIELDS:
        raise BadRequest(f"vim_type must be one of {list(VIM_TYPES)}", field="vim_type")
    return fragment(
        request, VIM_TEMPLATE, "vim_fields", vim_type=vim_type, fields=VIM_FIELDS[vim_type]
    )


@router.post("/ui/vims")
async def create_vim(
    request: Request,
    background: BackgroundTasks,
    user: UiUser = Depends(administrator),
    svc: Services = Depends(services),
) -> Response:
    """Register a VIM account as ``POST /admin/v1/vim_accounts`` does: stored PROCESSING,
    then checked and synced in the background; the page goes to the new account."""
    form = await request.form()
    body = vim_request(form, user)
    vim = await run_in_threadpool(svc.resources.create_vim, body, user.scope)
    background.add_task(svc.resources.check_and_sync, vim.id)
    background.add_task(svc.refresh_vim_events)
    resp = redirect(request, f"/ui/vims/{vim.id}")
    resp.background = background
    return resp


def vim_detail_values(svc: Services, user: UiUser, vim_id: str) -> dict[str, Any]:
    """What a VIM account's page shows (all from the inventory; the VIM is not asked)."""
    vim = svc.resources.get_vim(vim_id, user.scope)
    hosts = svc.resources.host_capacities(vim.id)
    catalog = svc.resources.synced_catalog(vim.id, user.scope)
    tenants = tenant_names(svc, user)
    return {
        "vim": vim,
        "view": admin_api.vim_view(svc, vim),
        "tenant_name": tenants.get(vim.tenant_id or "", vim.tenant_id),
        "cap": capacity_of(vim, hosts),
        "hosts": hosts[:SHOWN],
        "hosts_more": max(len(hosts) - SHOWN, 0),
        "catalog": {k: v[:SHOWN] for k, v in catalog.items()},
        "catalog_counts": {k: len(v) for k, v in catalog.items()},
        "can_write": writable(user, vim.tenant_id),
        "oob": False,
    }


@router.get("/ui/vims/{vim_id}", response_class=HTMLResponse)
def vim_page(
    vim_id: str,
    request: Request,
    user: UiUser = Depends(viewer),
    svc: Services = Depends(services),
) -> HTMLResponse:
    """One VIM account: state, config, capacity per zone and host, synced resources."""
    return page(request, VIM_DETAIL, **vim_detail_values(svc, user, vim_id))


@router.get("/ui/vims/{vim_id}/live", response_class=HTMLResponse)
def vim_live(
    vim_id: str,
    request: Request,
    user: UiUser = Depends(viewer),
    svc: Services = Depends(services),
) -> HTMLResponse:
    """The account's state (polled while PROCESSING) and, out of band, its capacity."""
    values = vim_detail_values(svc, user, vim_id) | {"oob": True}
    return blocks(request, VIM_DETAIL, OOB_DETAIL, **values)


@router.get("/ui/vims/{vim_id}/owned", response_class=HTMLResponse)
def vim_owned(
    vim_id: str,
    request: Request,
    user: UiUser = Depends(viewer),
    svc: Services = Depends(services),
) -> HTMLResponse:
    """What nfvo created on the VIM, read live from it (loaded after the page)."""
    owned = svc.resources.resources(vim_id, user.scope)
    return fragment(request, VIM_DETAIL, "owned", owned=owned)


@router.post("/ui/vims/{vim_id}/test", response_class=HTMLResponse)
def test_vim(
    vim_id: str,
    request: Request,
    user: UiUser = Depends(administrator),
    svc: Services = Depends(services),
) -> HTMLResponse:
    """Test connection: the connectivity check and inventory sync of
    ``POST /admin/v1/vim_accounts/{id}/sync``; OK with what was synced, or the VIM's error.
    The state and capacity on the page follow either way."""
    failed: Conflict | None = None
    try:
        counts = svc.resources.sync(vim_id, user.scope)
    except Conflict as exc:  # the VIM did not answer, or refused: its words, and ERROR
        counts, failed = {}, exc
    values = vim_detail_values(svc, user, vim_id) | {"oob": True, "counts": counts}
    first = (
        problem_html(request, failed)
        if failed is not None
        else block_html(request, VIM_DETAIL, "test_ok", **values)
    )
    rest = "".join(block_html(request, VIM_DETAIL, b, **values) for b in OOB_DETAIL)
    status = failed.status if failed is not None else 200
    return HTMLResponse(first + rest, status_code=status, headers=SECURITY_HEADERS)


@router.delete("/ui/vims/{vim_id}", response_class=HTMLResponse)
def delete_vim(
    vim_id: str,
    request: Request,
    background: BackgroundTasks,
    force: bool = False,
    view: str = "list",
    user: UiUser = Depends(administrator),
    svc: Services = Depends(services),
) -> Response:
    """Delete a VIM account as ``DELETE /admin/v1/vim_accounts/{id}`` (409 while nfvo still
    has resources on it, unless forced)."""
    vim = svc.resources.get_vim(vim_id, user.scope)
    svc.resources.delete_vim(vim_id, user.scope, force=force)
    background.add_task(svc.refresh_vim_events)
    if view == "detail":
        resp = redirect(request, "/ui/vims")
    else:
        values = vim_list_values(svc, user) | {"oob": True, "message": f"Deleted {vim.name}."}
        resp = blocks(request, VIM_TEMPLATE, ["message", "vim_table"], **values)
    resp.background = background
    return resp


# -- SDN controllers --------------------------------------------------------------------------
def sdn_list_values(svc: Services, user: UiUser) -> dict[str, Any]:
    """What the SDN controller list shows."""
    rows = svc.resources.sdns_page(user.scope, PageQuery(None, (), LIST_LIMIT))
    return {
        "sdns": rows,
        "truncated": len(rows) >= LIST_LIMIT,
        "tenants": tenant_names(svc, user),
        "polling": any(r.operational_state == "PROCESSING" for r in rows),
        "writable": lambda r: writable(user, r.tenant_id),
        "oob": False,
    }


@router.get("/ui/sdn", response_class=HTMLResponse)
def sdn_page(
    request: Request, user: UiUser = Depends(viewer), svc: Services = Depends(services)
) -> HTMLResponse:
    """SDN controllers, and (for an admin) the registration form."""
    return page(
        request,
        SDN_TEMPLATE,
        sdn_types=SDN_TYPES,
        tenant_choices=tenant_choices(svc, user),
        **sdn_list_values(svc, user),
    )


@router.get("/ui/sdn/table", response_class=HTMLResponse)
def sdn_table(
    request: Request, user: UiUser = Depends(viewer), svc: Services = Depends(services)
) -> HTMLResponse:
    """The SDN table alone (polled while a controller is PROCESSING)."""
    return fragment(request, SDN_TEMPLATE, "sdn_table", **sdn_list_values(svc, user))


@router.post("/ui/sdn", response_class=HTMLResponse)
async def create_sdn(
    request: Request,
    background: BackgroundTasks,
    user: UiUser = Depends(administrator),
    svc: Services = Depends(services),
) -> HTMLResponse:
    """Register an SDN controller as ``POST /admin/v1/sdn_controllers`` (checked after)."""
    form = await request.form()
    body: dict[str, Any] = {
        "name": text(form, "name") or "",
        "type": text(form, "type") or "",
        "url": text(form, "url"),
        "user": text(form, "user"),
        "password": text(form, "password"),
        "description": text(form, "description"),
        "config": config_json(text(form, "config"), "config"),
    }
    if user.tenant_id is None:
        body["tenant_id"] = text(form, "tenant_id")
    model = validated(admin_api.SdnCreate, body)
    row = await run_in_threadpool(svc.resources.create_sdn, model.model_dump(), user.scope)
    background.add_task(svc.resources.check_sdn, row.id)
    values = await run_in_threadpool(sdn_list_values, svc, user)
    values |= {"oob": True, "message": f"Registered {row.name}; checking it."}
    resp = blocks(request, SDN_TEMPLATE, ["message", "sdn_table"], status=201, **values)
    resp.background = background
    return resp


@router.delete("/ui/sdn/{sdn_id}", response_class=HTMLResponse)
def delete_sdn(
    sdn_id: str,
    request: Request,
    user: UiUser = Depends(administrator),
    svc: Services = Depends(services),
) -> HTMLResponse:
    """Delete an SDN controller as ``DELETE /admin/v1/sdn_controllers/{id}``."""
    row = svc.resources.get_sdn(sdn_id, user.scope)
    svc.resources.delete_sdn(sdn_id, user.scope)
    values = sdn_list_values(svc, user) | {"oob": True, "message": f"Deleted {row.name}."}
    return blocks(request, SDN_TEMPLATE, ["message", "sdn_table"], **values)


# -- tenants ----------------------------------------------------------------------------------
def tenant_list_values(svc: Services, user: UiUser) -> dict[str, Any]:
    """What the tenant list shows."""
    rows = svc.resources.tenants_page(user.scope, PageQuery(None, (), LIST_LIMIT))
    return {
        "tenant_rows": rows,
        "truncated": len(rows) >= LIST_LIMIT,
        "can_manage": user.is_admin and user.tenant_id is None,
        "oob": False,
    }


@router.get("/ui/tenants", response_class=HTMLResponse)
def tenants_page(
    request: Request, user: UiUser = Depends(admin_viewer), svc: Services = Depends(services)
) -> HTMLResponse:
    """Tenants (admins only; a global admin creates and deletes them)."""
    return page(request, TENANT_TEMPLATE, **tenant_list_values(svc, user))


@router.post("/ui/tenants", response_class=HTMLResponse)
async def create_tenant(
    request: Request,
    user: UiUser = Depends(administrator),
    svc: Services = Depends(services),
) -> HTMLResponse:
    """Create a tenant as ``POST /admin/v1/tenants`` (a global admin only)."""
    admin_api._global_admin(user.principal)
    form = await request.form()
    body = {"name": text(form, "name") or "", "description": text(form, "description")}
    model = validated(admin_api.TenantCreate, body)
    t = await run_in_threadpool(svc.resources.create_tenant, model.name, model.description)
    values = await run_in_threadpool(tenant_list_values, svc, user)
    values |= {"oob": True, "message": f"Created tenant {t.name} ({t.id})."}
    return blocks(request, TENANT_TEMPLATE, ["message", "tenant_table"], status=201, **values)


@router.delete("/ui/tenants/{tenant_id}", response_class=HTMLResponse)
def delete_tenant(
    tenant_id: str,
    request: Request,
    user: UiUser = Depends(administrator),
    svc: Services = Depends(services),
) -> HTMLResponse:
    """Delete an empty tenant as ``DELETE /admin/v1/tenants/{id}`` (a global admin only;
    409 says what it still owns)."""
    admin_api._global_admin(user.principal)
    t = svc.resources.get_tenant(tenant_id, user.scope)
    svc.resources.delete_tenant(tenant_id)
    values = tenant_list_values(svc, user) | {"oob": True, "message": f"Deleted {t.name}."}
    return blocks(request, TENANT_TEMPLATE, ["message", "tenant_table"], **values)
