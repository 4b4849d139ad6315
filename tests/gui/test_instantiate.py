"""NS instances list and the instantiate form: state-driven actions, the request preview and
placement preview, inline YAML errors, and an instantiation across two VIMs."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from tests.gui.conftest import api_json, login
from tests.gui.ns_support import ensure_samples
from tests.support.live import LiveApi, sim_vim, wait_op

from nfvo.catalog.descriptors import NsFlavour, NsVirtualLink, VnfProfile
from nfvo.ui.routes.ns_list import build_request, form_state, parse_params

WEBAPP_NSD = "620e7828-ec0d-4e06-b975-76305f4da18a"
EXISTING_NET = "gui-ns-existing-net"


@pytest.fixture(scope="module")
def webapp(gui_server: LiveApi) -> dict[str, str]:
    """The ns-webapp sample onboarded (once for the session: shared packages) and two sim
    VIMs of this module, A with a pre-existing provider network."""
    c = gui_server.client
    ensure_samples(c)
    tag = uuid.uuid4().hex[:6]
    vim_a = sim_vim(c, f"gui-ns-a-{tag}", networks=[{"name": EXISTING_NET, "cidr": "10.77.0.0/24"}])
    vim_b = sim_vim(c, f"gui-ns-b-{tag}")
    return {"a": vim_a, "b": vim_b, "tag": tag}


def _create_ns(live: LiveApi, name: str) -> str:
    r = live.client.post("/nslcm/v2/ns_instances", json={"nsdId": WEBAPP_NSD, "nsName": name})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _preview(page: Page) -> dict[str, Any]:
    return json.loads(page.get_by_test_id("request-preview").inner_text())


def _row_on_list(page: Page, ns_id: str) -> Any:
    """The list row of an NS, following the pages (two rows a page: paging is exercised)."""
    page.goto("/ui/ns?state=NOT_INSTANTIATED&limit=2")
    for _ in range(50):
        row = page.locator(f'tr[data-ns-id="{ns_id}"]')
        if row.count():
            return row
        page.get_by_test_id("next-page").click()
        page.wait_for_load_state()
    raise AssertionError(f"NS {ns_id} is on no page of the list")


def test_instantiate_across_two_vims(
    page: Page, gui_server: LiveApi, webapp: dict[str, str], artifacts: Path
) -> None:
    vim_a, vim_b = webapp["a"], webapp["b"]
    # create the NS through the list's form: it lands on the instantiate form
    page.goto("/ui/ns")
    form = page.get_by_test_id("create-ns")
    form.get_by_label("NSD").select_option(WEBAPP_NSD)
    form.get_by_label("Name").fill(f"gui-webapp-{webapp['tag']}")
    form.get_by_role("button", name="Create").click()
    page.wait_for_url(re.compile(r"/ui/ns/[0-9a-f-]+/instantiate$"))
    ns_id = page.url.rsplit("/", 2)[-2]
    page.evaluate("window.__marker = 42")

    net_select = page.get_by_label("Network of virtual link mgmt_vl")
    page.get_by_label("Default VIM account").select_option(vim_b)
    expect(net_select.locator("option", has_text="none synced")).to_have_count(1)
    page.get_by_label("Default VIM account").select_option(vim_a)
    # the default VIM's synced networks are listed (from the inventory)
    expect(net_select.locator("optgroup")).to_have_attribute(
        "label", re.compile(f"gui-ns-a-{webapp['tag']}")
    )
    existing = net_select.locator("option", has_text=EXISTING_NET)
    expect(existing).to_have_count(1)
    existing_id = existing.get_attribute("value")
    net_select.select_option(existing_id)  # mgmt_vl on VIM A: the existing network
    page.get_by_label("VIM account of VNF profile vnf_db").select_option(vim_b)
    page.get_by_label("CIDR of virtual link mgmt_vl").fill("10.60.0.0/24")
    page.get_by_label("Additional parameters for the NS (YAML or JSON)").fill("owner: gui-test\n")
    expect(page.get_by_test_id("params-ok")).to_contain_text("1 parameter")
    preview = page.get_by_test_id("request-preview")
    expect(preview).to_contain_text("10.60.0.0/24")
    expect(preview).to_contain_text("gui-test")
    body = _preview(page)
    assert body == {
        "nsFlavourId": "default",
        "additionalParamsForNs": {
            "owner": "gui-test",
            "vimAccountId": vim_a,
            "nsVirtualLinkCidrs": {"mgmt_vl": "10.60.0.0/24"},
            "nsVirtualLinkNetworks": {"mgmt_vl": {"network": existing_id, "vimAccountId": vim_a}},
        },
        "additionalParamsForVnf": [
            {"vnfProfileId": "vnf_db", "additionalParams": {"vimAccountId": vim_b}}
        ],
    }
    # the what-if placement of that request: vnf_db's VDUs on B, vnf_web's on A
    placement = page.get_by_test_id("placement-preview")
    for profile, vim in (("vnf_db", vim_b), ("vnf_web", vim_a)):
        expect(
            placement.locator(f'tr[data-profile="{profile}"][data-vim="{vim}"]')
        ).not_to_have_count(0)
        expect(
            placement.locator(f'tr[data-profile="{profile}"]:not([data-vim="{vim}"])')
        ).to_have_count(0)
    expect(page.get_by_test_id("plan-feasible")).to_have_attribute("data-feasible", "true")
    page.screenshot(path=str(artifacts / "instantiate-form.png"), full_page=True)
    assert page.evaluate("window.__marker") == 42  # the form never reloaded the page

    page.get_by_role("button", name="Instantiate").click()
    page.wait_for_url(re.compile(r"/ui/ops/[0-9a-f-]+$"))
    op_id = page.url.rsplit("/", 1)[-1]
    op = wait_op(gui_server.client, f"/nslcm/v2/ns_lcm_op_occs/{op_id}")
    assert op["operationState"] == "COMPLETED", op
    assert op["nsInstanceId"] == ns_id
    assert op["operationParams"] == body  # exactly the request the preview showed

    ns = api_json(gui_server, f"/nslcm/v2/ns_instances/{ns_id}")
    vims = {v["vnfProfileId"]: v["vimId"] for v in ns["vnfInstance"]}
    assert vims == {"vnf_web": vim_a, "vnf_db": vim_b}
    mgmt = next(vl for vl in ns["virtualLinkInfo"] if vl["id"] == "mgmt_vl")
    handles = {h["vimId"]: h["resourceId"] for h in mgmt["resourceHandle"]}
    assert set(handles) == {vim_a, vim_b}
    assert handles[vim_a] == existing_id  # VIM A's existing network, as mapped
    assert handles[vim_b] != existing_id  # VIM B: a new network (10.60.0.0/24)

    page.goto(f"/ui/ns/{ns_id}/instantiate")  # no second instantiate
    expect(page.get_by_test_id("not-instantiable")).to_contain_text("INSTANTIATED")
    expect(page.get_by_role("button", name="Instantiate")).to_have_count(0)
    # an INSTANTIATED idle NS offers the operations that state allows, and no delete
    page.goto("/ui/ns?state=INSTANTIATED&limit=200")
    row = page.locator(f'tr[data-ns-id="{ns_id}"]')
    expect(row.get_by_test_id("ns-state")).to_have_text("INSTANTIATED")
    expect(row.get_by_test_id("ns-actions").locator("a, button")).to_have_text(
        ["Terminate", "Scale", "Heal", "Update"]
    )


def test_not_instantiated_row_offers_instantiate_and_delete(
    page: Page, gui_server: LiveApi, webapp: dict[str, str]
) -> None:
    for n in range(3):  # enough rows for several pages of two
        _create_ns(gui_server, f"gui-filler-{webapp['tag']}-{n}")
    ns_id = _create_ns(gui_server, f"gui-idle-{webapp['tag']}")
    row = _row_on_list(page, ns_id)
    expect(row.get_by_test_id("ns-state")).to_have_text("NOT_INSTANTIATED")
    expect(row.get_by_test_id("ns-op")).to_contain_text("none open")
    actions = row.get_by_test_id("ns-actions").locator("a, button")
    expect(actions).to_have_text(["Instantiate", "Delete"])
    page.evaluate("window.__marker = 7")
    page.once("dialog", lambda d: d.accept())
    row.get_by_role("button", name="Delete").click()
    expect(page.get_by_test_id("ns-deleted")).to_contain_text(f"gui-idle-{webapp['tag']}")
    expect(page.locator(f'tr[data-ns-id="{ns_id}"]')).to_have_count(0)
    assert page.evaluate("window.__marker") == 7
    assert gui_server.client.get(f"/nslcm/v2/ns_instances/{ns_id}").status_code == 404


def test_bad_yaml_is_shown_inline_and_refused(
    page: Page, gui_server: LiveApi, webapp: dict[str, str]
) -> None:
    ns_id = _create_ns(gui_server, f"gui-badyaml-{webapp['tag']}")
    # a VIM too small for the NS (deleted again: it must not become anyone's default VIM)
    tiny = sim_vim(
        gui_server.client, f"gui-ns-tiny-{webapp['tag']}", hosts=1, host_defaults={"vcpus": 1}
    )
    page.goto(f"/ui/ns/{ns_id}/instantiate")
    # another flavour: its own VNF profiles and virtual links, kept in the preview
    page.get_by_label("Deployment flavour").select_option("minimal")
    expect(page.get_by_test_id("virtual-links").locator("tbody tr")).to_have_count(1)
    expect(page.get_by_test_id("request-preview")).to_contain_text('"minimal"')
    try:  # the placement preview says what would fail on it, and why
        page.get_by_label("Default VIM account").select_option(tiny)
        expect(page.get_by_test_id("plan-feasible")).to_have_attribute("data-feasible", "false")
        failing = page.get_by_test_id("placement-preview").locator(f'tr[data-vim="{tiny}"]')
        expect(failing.first.locator("td").nth(5)).to_contain_text("not enough vcpus")
    finally:
        r = gui_server.client.delete(f"/admin/v1/vim_accounts/{tiny}")
        assert r.status_code == 204, r.text
    page.get_by_label("Default VIM account").select_option("")
    page.get_by_label("Additional parameters for the NS (YAML or JSON)").fill(
        "owner: me\nlist: [1, 2\nother: 3\n"
    )
    expect(page.get_by_test_id("params-error")).to_contain_text(re.compile(r"line \d+"))
    expect(page.get_by_test_id("preview-problems")).to_contain_text("additional parameters")
    page.get_by_role("button", name="Instantiate").click()
    refused = page.get_by_test_id("submit-refused")
    expect(refused).to_contain_text("Not sent")
    expect(refused).to_contain_text(re.compile(r"additional parameters: line \d+"))
    ns = api_json(gui_server, f"/nslcm/v2/ns_instances/{ns_id}")
    assert ns["nsState"] == "NOT_INSTANTIATED"
    assert "currentLcmOpOcc" not in ns["_links"]
    ops = api_json(gui_server, "/nslcm/v2/ns_lcm_op_occs", filter=f"(eq,nsInstanceId,{ns_id})")
    assert ops == []


def test_reader_sees_no_write_actions(
    context: BrowserContext, gui_server: LiveApi, webapp: dict[str, str]
) -> None:
    ns_id = _create_ns(gui_server, f"gui-reader-{webapp['tag']}")
    page = context.new_page()
    login(page, "reader")
    row = _row_on_list(page, ns_id)
    expect(row.get_by_test_id("ns-state")).to_have_text("NOT_INSTANTIATED")
    expect(row.get_by_test_id("ns-actions").locator("a, button")).to_have_count(0)
    expect(page.get_by_test_id("create-ns")).to_have_count(0)
    page.goto(f"/ui/ns/{ns_id}/instantiate")
    expect(page.get_by_test_id("read-only")).to_be_visible()
    expect(page.get_by_role("button", name="Instantiate")).to_have_count(0)
    gui_server.client.delete(f"/nslcm/v2/ns_instances/{ns_id}")


# -- the form's request builder and parameter check (no browser) ------------------------------
def test_params_check_names_the_line_and_refuses_aliases() -> None:
    assert parse_params("").empty and parse_params("").error is None
    assert parse_params('{"a": 1}').value == {"a": 1}  # JSON is YAML
    bad = parse_params("a: 1\nb: [1, 2\nc: 3\n")
    assert bad.error is not None and re.match(r"line [34], column \d+: ", bad.error), bad.error
    bomb = parse_params("a: &x [1, 2]\nb: [*x, *x]\n")
    assert bomb.error == "line 1, column 4: YAML anchors and aliases are not accepted"
    assert (
        parse_params("- 1\n- 2\n").error
        == "line 1: must be a mapping of names to values, not a list"
    )
    assert "not representable as JSON" in (parse_params("when: 2024-01-01\n").error or "")


def test_form_fields_win_over_the_same_additional_parameters() -> None:
    flavour = NsFlavour(
        flavour_id="f",
        vnf_profiles=[VnfProfile(id="p1"), VnfProfile(id="p2")],
        virtual_links=[NsVirtualLink(id="vl1"), NsVirtualLink(id="vl2")],
    )
    st = form_state(
        {
            "nsFlavourId": "f",
            "nsInstantiationLevelId": "no-such-level",
            "vimAccountId": "vim-a",
            "vnfVim.p2": "vim-b",
            "vlNet.vl1": "new",
            "vlCidr.vl1": "10.1.0.0/24",
            "vlCidr.vl2": "",
        }
    )
    given = parse_params("vimAccountId: other\nnsVirtualLinkCidrs: {vl2: 10.2.0.0/24}\nk: v\n")
    body, problems = build_request(st, flavour, given)
    assert problems == []
    assert body == {
        "nsFlavourId": "f",
        "additionalParamsForNs": {
            "vimAccountId": "vim-a",
            "k": "v",
            "nsVirtualLinkCidrs": {"vl2": "10.2.0.0/24", "vl1": "10.1.0.0/24"},
        },
        "additionalParamsForVnf": [
            {"vnfProfileId": "p2", "additionalParams": {"vimAccountId": "vim-b"}}
        ],
    }
    st.vl_nets["vl2"] = "net-123"  # an existing network of the default VIM
    body, problems = build_request(st, flavour, given)
    assert problems == []
    assert body["additionalParamsForNs"]["nsVirtualLinkNetworks"] == {
        "vl2": {"network": "net-123", "vimAccountId": "vim-a"}
    }
