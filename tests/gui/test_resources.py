"""Resource administration pages: VIM accounts (type-specific form, test connection, synced
capacity), SDN controllers, tenants and users, with the API's role rules."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from tests.gui.conftest import api_json, login
from tests.support.live import LiveApi

from nfvo.api.security import Principal, Role
from nfvo.errors import BadRequest
from nfvo.ui.routes.resources import vim_request
from nfvo.ui.session import UiUser
from nfvo.vim import registry


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def _accept_dialogs(page: Page) -> None:
    page.on("dialog", lambda d: d.accept())


def test_reader_sees_vims_without_write_buttons(
    context: BrowserContext, gui_server: LiveApi
) -> None:
    name = _name("gui-ro")
    r = gui_server.client.post(
        "/admin/v1/vim_accounts", json={"name": name, "vim_type": "sim", "config": {"hosts": 1}}
    )
    assert r.status_code == 201, r.text
    page = context.new_page()
    login(page, "reader")
    page.goto("/ui/vims")
    row = page.locator(f'[data-testid="vim-table"] tr[data-name="{name}"]')
    expect(row).to_be_visible()
    expect(page.get_by_role("button", name="Delete")).to_have_count(0)
    expect(page.get_by_test_id("vim-form")).to_have_count(0)
    page.goto(f"/ui/vims/{r.json()['id']}")
    expect(page.get_by_role("heading", name=f"VIM account {name}")).to_be_visible()
    expect(page.get_by_role("button", name="Test connection")).to_have_count(0)
    # a write without the role is refused whatever the page shows
    resp = page.request.delete(f"/ui/vims/{r.json()['id']}")
    assert resp.status == 403
    gui_server.client.delete(f"/admin/v1/vim_accounts/{r.json()['id']}")


def test_register_sim_vim_test_connection_and_dashboard(page: Page, gui_server: LiveApi) -> None:
    name = _name("gui-lab")
    page.goto("/ui/vims")
    page.evaluate("window.__marker = 42")
    form = page.get_by_test_id("vim-form")
    # the fields follow the type, swapped in without a reload
    form.get_by_label("VIM type").select_option("openstack")
    expect(form.get_by_label("Keystone v3 auth URL")).to_be_visible()
    expect(form.get_by_label("Project", exact=True)).to_be_visible()
    expect(form.get_by_label("vCPUs per host")).to_have_count(0)
    form.get_by_label("VIM type").select_option("kubernetes")
    expect(form.get_by_label("API server URL")).to_be_visible()
    expect(form.get_by_label("Bearer token")).to_be_visible()
    form.get_by_label("VIM type").select_option("sim")
    expect(form.get_by_label("vCPUs per host")).to_be_visible()
    assert page.evaluate("window.__marker") == 42
    form.get_by_label("Name").fill(name)
    form.get_by_label("Zones").fill("2")
    form.get_by_label("Hosts").fill("4")
    form.get_by_label("vCPUs per host").fill("16")
    form.get_by_label("RAM per host (MiB)").fill("32768")
    # a bad value is refused next to the form, naming the field
    form.get_by_label("More config").fill("[1, 2]")
    form.get_by_role("button", name="Register").click()
    problem = form.get_by_test_id("problem")
    expect(problem).to_contain_text("config")
    expect(problem).to_have_attribute("data-status", "400")
    form.get_by_label("More config").fill('{"latency_ms": {"check": 1}}')
    form.get_by_role("button", name="Register").click()
    page.wait_for_url(re.compile(r"/ui/vims/[0-9a-f-]{36}$"))
    vim_id = page.url.rsplit("/", 1)[1]
    api = api_json(gui_server, f"/admin/v1/vim_accounts/{vim_id}")
    assert api["name"] == name and api["config"]["host_defaults"]["vcpus"] == 16

    # the page follows the background check and sync, then shows the synced capacity
    expect(page.get_by_test_id("vim-state")).to_have_attribute("data-state", "ENABLED")
    expect(page.get_by_test_id("vim-capacity").locator('tr[data-zone="zone-2"]')).to_be_visible()
    page.get_by_role("button", name="Test connection").click()
    expect(page.get_by_test_id("test-result")).to_contain_text("OK")
    expect(page.get_by_test_id("test-result")).to_contain_text("4 hosts")
    expect(page.get_by_test_id("vim-state")).to_have_attribute("data-state", "ENABLED")
    cap = page.get_by_test_id("vim-capacity")
    expect(cap.locator('tr[data-zone="zone-1"]')).to_contain_text("0 / 32")
    expect(page.get_by_test_id("vim-flavors")).to_contain_text("m1.tiny")

    page.goto("/ui/")
    card = page.get_by_test_id(f"cap-{name}")
    expect(card.locator('tr[data-zone=""] [data-testid="vcpus"]')).to_have_text("0 / 64")
    for zone in ("zone-1", "zone-2"):
        expect(card.locator(f'tr[data-zone="{zone}"] [data-testid="vcpus"]')).to_have_text("0 / 32")
        expect(card.locator(f'tr[data-zone="{zone}"] [data-testid="ram"]')).to_have_text(
            "0.0 / 64.0"
        )

    # deleted from the list, in place
    _accept_dialogs(page)
    page.goto("/ui/vims")
    page.evaluate("window.__marker = 7")
    page.get_by_role("button", name=f"Delete {name}").click()
    expect(page.get_by_test_id("message")).to_contain_text(f"Deleted {name}")
    expect(page.locator(f'tr[data-name="{name}"]')).to_have_count(0)
    assert page.evaluate("window.__marker") == 7
    assert gui_server.client.get(f"/admin/v1/vim_accounts/{vim_id}").status_code == 404
    _failing_vim(page, gui_server)


def _failing_vim(page: Page, gui_server: LiveApi) -> None:
    """A sim VIM that demands credentials nobody gave: the check fails with its words."""
    name = _name("gui-bad")
    r = gui_server.client.post(
        "/admin/v1/vim_accounts",
        json={
            "name": name,
            "vim_type": "sim",
            "config": {"hosts": 1, "auth": {"user": "u", "password": "p-secret"}},
        },
    )
    assert r.status_code == 201, r.text
    vim_id = r.json()["id"]
    page.goto(f"/ui/vims/{vim_id}")
    page.get_by_role("button", name="Test connection").click()
    problem = page.locator("#vim-test-result").get_by_test_id("problem")
    expect(problem).to_have_attribute("data-status", "409")
    expect(problem).to_contain_text("VimAuthError")
    expect(page.get_by_test_id("vim-state")).to_have_attribute("data-state", "ERROR")
    # nfvo cannot tell whether it still has servers there: refused, unless forced
    page.get_by_role("button", name="Delete").click()
    expect(page.locator("#vim-test-result").get_by_test_id("problem")).to_contain_text("force")
    page.get_by_label("even if nfvo still has resources on it").check()
    page.get_by_role("button", name="Delete").click()
    page.wait_for_url(re.compile(r"/ui/vims$"))
    expect(page.locator(f'tr[data-name="{name}"]')).to_have_count(0)
    assert gui_server.client.get(f"/admin/v1/vim_accounts/{vim_id}").status_code == 404


def test_sdn_tenants_and_users(page: Page, gui_server: LiveApi) -> None:
    _accept_dialogs(page)
    _sdn_controllers(page, gui_server)
    _tenants_and_users(page, gui_server)


def _sdn_controllers(page: Page, gui_server: LiveApi) -> None:
    name = _name("gui-sdn")
    page.goto("/ui/sdn")
    form = page.get_by_test_id("sdn-form")
    form.get_by_label("Name").fill(name)
    form.get_by_label("Type").select_option("sim")
    form.get_by_label("URL").fill("http://sdn.example.test:8181")
    form.get_by_role("button", name="Register").click()
    expect(form.get_by_test_id("message")).to_contain_text(f"Registered {name}")
    row = page.locator(f'[data-testid="sdn-table"] tr[data-name="{name}"]')
    expect(row).to_contain_text("ENABLED")  # the table follows the background check
    form.get_by_role("button", name="Register").click()  # the same name again
    expect(form.get_by_test_id("problem")).to_have_attribute("data-status", "409")
    row.get_by_role("button", name=f"Delete {name}").click()
    expect(row).to_have_count(0)
    names = [s["name"] for s in api_json(gui_server, "/admin/v1/sdn_controllers")]
    assert name not in names


def _tenants_and_users(page: Page, gui_server: LiveApi) -> None:
    tenant, client = _name("gui-t"), _name("gui-u")
    page.goto("/ui/tenants")
    page.get_by_test_id("tenant-form").get_by_label("Name").fill(tenant)
    page.get_by_test_id("tenant-form").get_by_role("button", name="Create").click()
    expect(page.locator(f'tr[data-name="{tenant}"]')).to_be_visible()
    tenant_id = page.locator(f'tr[data-name="{tenant}"]').get_attribute("data-tenant-id")

    page.goto("/ui/users")
    form = page.get_by_test_id("user-form")
    form.get_by_label("Client id").fill(client)
    form.get_by_label("Role").select_option("operator")
    form.get_by_label("Tenant").select_option(label=tenant)
    form.get_by_role("button", name="Create").click()
    expect(form.get_by_test_id("created-secret")).to_contain_text(client)
    secret = form.get_by_test_id("created-secret").locator("code").inner_text()
    row = page.locator(f'[data-testid="user-table"] tr[data-client-id="{client}"]')
    expect(row).to_contain_text(tenant)
    users = {u["clientId"]: u for u in api_json(gui_server, "/admin/v1/users")}
    assert users[client] == {
        "clientId": client,
        "role": "operator",
        "disabled": False,
        "tenantId": tenant_id,
    }
    assert gui_server.token(client, secret)  # the secret shown works

    # the same id again: the API's 409, next to the form
    form.get_by_role("button", name="Create").click()
    expect(form.get_by_test_id("problem")).to_contain_text("already exists")

    row.get_by_role("button", name=f"Disable {client}").click()
    expect(row).to_contain_text("disabled")
    assert {u["clientId"]: u for u in api_json(gui_server, "/admin/v1/users")}[client]["disabled"]
    row.get_by_role("button", name=f"Enable {client}").click()
    expect(row).to_contain_text("enabled")
    row.get_by_role("button", name=f"Delete {client}").click()
    expect(row).to_have_count(0)
    # the signed-in admin has no button against itself
    expect(page.locator('tr[data-client-id="admin"] button')).to_have_count(0)

    page.goto("/ui/tenants")
    page.get_by_role("button", name=f"Delete {tenant}").click()
    expect(page.locator(f'tr[data-name="{tenant}"]')).to_have_count(0)
    assert gui_server.client.get(f"/admin/v1/tenants/{tenant_id}").status_code == 404


def test_the_vim_form_maps_each_types_fields_to_the_apis_body() -> None:
    admin = UiUser(Principal("a", Role.admin, None), "csrf")
    body = vim_request(
        {
            "name": "os-1",
            "vim_type": "openstack",
            "vim_url": "https://keystone.example.test:5000/v3",
            "vim_user": "nfvo",
            "vim_password": "pw-secret",
            "vim_tenant_name": "proj",
            "user_domain_name": "Default",
            "region_name": " ",
            "tenant_id": "",
        },
        admin,
    )
    assert body["vim_tenant_name"] == "proj" and body["vim_password"] == "pw-secret"
    # an unticked box is false; a blank field is left out
    assert body["config"] == {"user_domain_name": "Default", "verify": False}
    assert body["tenant_id"] is None
    registry.validate_config("openstack", body["config"])
    body = vim_request(
        {
            "name": "k-1",
            "vim_type": "kubernetes",
            "vim_url": "https://k8s.example.test:6443",
            "verify_ssl": "on",
            "images": "nginx:1.27\n\nbusybox",
            "config_extra": '{"request_timeout": 5, "images": ["alpine"]}',
        },
        admin,
    )
    # the JSON typed under "More config" wins over the fields
    assert body["config"] == {"verify_ssl": True, "images": ["alpine"], "request_timeout": 5}
    registry.validate_config("kubernetes", body["config"])
    with pytest.raises(BadRequest, match="config.hosts"):
        vim_request({"name": "s", "vim_type": "sim", "hosts": "four"}, admin)
    with pytest.raises(BadRequest, match="vim_type"):
        vim_request({"name": "s", "vim_type": "vmware"}, admin)
