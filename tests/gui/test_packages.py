"""The packages page: an upload followed live to ONBOARDED, a broken package refused with its
file and line and nothing kept, the NSD graph against its table, and what a reader may not do.

Every package here carries descriptor ids of its own (the server is shared by the suite)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from tests.support.gui import api_json, login
from tests.support.live import LiveApi

from nfvo.catalog.builder import build_csar_from_files, read_package_dir
from nfvo.samples import NSD_WEBAPP_ID, NSD_WEBAPP_INVARIANT_ID, VNF_DB_ID, VNF_WEB_ID, sample_dir

VNFS = "/vnfpkgm/v2/vnf_packages"
BROKEN_FILE = "Definitions/vnf_web_df_small.yaml"
BROKEN_LINE = 7


def variant(name: str, ids: dict[str, str], broken: tuple[str, int] | None = None) -> bytes:
    """Sample ``name`` with every id in ``ids`` replaced, and (``broken``) a YAML syntax error
    inserted as line ``n`` of a file."""
    files = read_package_dir(sample_dir(name))
    for path, data in files.items():
        if path.endswith((".yaml", ".mf")):
            text = data.decode()
            for old, new in ids.items():
                text = text.replace(old, new)
            files[path] = text.encode()
    if broken:
        path, line = broken
        lines = files[path].decode().splitlines(keepends=True)
        lines.insert(line - 1, "  broken: [unclosed\n")
        files[path] = "".join(lines).encode()
    return build_csar_from_files(files)


def _csar_file(tmp_path: Path, data: bytes) -> Path:
    out = tmp_path / f"pkg-{uuid.uuid4().hex[:8]}.zip"
    out.write_bytes(data)
    return out


@pytest.fixture(scope="module")
def catalog(gui_server: LiveApi) -> dict[str, Any]:
    """A VNF package pair and an NSD over them, onboarded through the API with fresh ids."""
    web, db, nsd, inv = (str(uuid.uuid4()) for _ in range(4))
    ids = {VNF_WEB_ID: web, VNF_DB_ID: db, NSD_WEBAPP_ID: nsd, NSD_WEBAPP_INVARIANT_ID: inv}
    out = {
        "web": gui_server.onboard("vnf", variant("vnf-web", ids)),
        "db": gui_server.onboard("vnf", variant("vnf-db", ids)),
        "nsd": gui_server.onboard("nsd", variant("ns-webapp", ids)),
    }
    for info in out.values():
        assert info.get("onboardingState", info.get("nsdOnboardingState")) == "ONBOARDED", info
    return out


def _operator(context: BrowserContext) -> Page:
    page = context.new_page()
    login(page, "operator")
    page.goto("/ui/packages")
    return page


def test_upload_onboards_live_then_disable_and_delete(
    context: BrowserContext, gui_server: LiveApi, tmp_path: Path
) -> None:
    page = _operator(context)
    vnfd_id = str(uuid.uuid4())
    csar = _csar_file(tmp_path, variant("vnf-web", {VNF_WEB_ID: vnfd_id}))
    page.evaluate("window.__marker = 42")
    page.get_by_label("CSAR file (zip)").set_input_files(str(csar))
    page.get_by_role("button", name="Upload").click()

    row = page.locator("#vnf-rows tr[data-tracked]")
    expect(row).to_have_count(1)
    expect(page.get_by_test_id("upload-started")).to_contain_text(
        str(row.get_attribute("data-package-id"))
    )
    expect(row.get_by_test_id("onboarding-state")).to_have_text("ONBOARDED", timeout=5_000)
    assert page.evaluate("window.__marker") == 42  # updated in place, no reload
    pkg_id = row.get_attribute("data-package-id")
    info = api_json(gui_server, f"{VNFS}/{pkg_id}")
    assert info["vnfdId"] == vnfd_id and info["operationalState"] == "ENABLED"
    row = page.locator(f"#pkg-{pkg_id}")

    # enabled: no delete yet; disabled: delete appears and removes the package
    expect(row.get_by_role("button", name="Delete")).to_have_count(0)
    row.get_by_role("button", name="Disable").click()
    expect(row.get_by_test_id("operational-state")).to_have_text("DISABLED")
    assert api_json(gui_server, f"{VNFS}/{pkg_id}")["operationalState"] == "DISABLED"
    page.once("dialog", lambda d: d.accept())
    row.get_by_role("button", name="Delete").click()
    expect(page.get_by_test_id("action-done")).to_contain_text(str(pkg_id))
    expect(page.locator(f"#pkg-{pkg_id}")).to_have_count(0)
    assert gui_server.client.get(f"{VNFS}/{pkg_id}").status_code == 404
    assert page.evaluate("window.__marker") == 42
    # the service's refusal comes back as a fragment, htmx or not (never a 500)
    csrf = page.evaluate("JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRF-Token']")
    again = page.request.post(f"/ui/packages/vnf/{pkg_id}/delete", headers={"X-CSRF-Token": csrf})
    assert again.status == 404 and "does not exist" in again.text()


def test_broken_package_shows_file_and_line_and_keeps_nothing(
    context: BrowserContext, gui_server: LiveApi, tmp_path: Path
) -> None:
    page = _operator(context)
    before = {p["id"] for p in api_json(gui_server, VNFS)}
    broken = variant("vnf-web", {VNF_WEB_ID: str(uuid.uuid4())}, (BROKEN_FILE, BROKEN_LINE))
    page.get_by_label("CSAR file (zip)").set_input_files(str(_csar_file(tmp_path, broken)))
    page.get_by_role("button", name="Upload").click()

    refused = page.get_by_test_id("upload-refused")
    expect(refused).to_be_visible(timeout=5_000)
    expect(refused.get_by_test_id("problem-file")).to_have_text(BROKEN_FILE)
    expect(refused.get_by_test_id("problem-line")).to_have_text(str(BROKEN_LINE))
    expect(refused.get_by_test_id("problem-cause")).to_have_text("YAML_SYNTAX")
    pkg_id = page.locator("[data-refused-package]").get_attribute("data-refused-package")
    assert pkg_id and pkg_id not in before
    # no half-made package: not in the API, not on the page, not after a reload either
    assert gui_server.client.get(f"{VNFS}/{pkg_id}").status_code == 404
    assert {p["id"] for p in api_json(gui_server, VNFS)} <= before
    expect(page.locator(f"#pkg-{pkg_id}")).to_have_count(0)

    # a URL the outbound guard refuses (link-local, the cloud metadata address): the same
    page.get_by_label("CSAR file (zip)").set_input_files([])
    page.get_by_label("or the URL").fill("http://169.254.169.254/latest/meta-data/")
    page.get_by_role("button", name="Upload").click()
    expect(refused.get_by_test_id("problem-cause")).to_have_text("FETCH_FAILED", timeout=5_000)
    assert {p["id"] for p in api_json(gui_server, VNFS)} <= before
    second = page.locator("[data-refused-package]").get_attribute("data-refused-package")
    assert second and second != pkg_id
    page.reload()
    expect(page.get_by_test_id("vnf-packages")).to_be_visible()
    expect(page.locator(f"#pkg-{pkg_id}, #pkg-{second}")).to_have_count(0)


def test_nsd_detail_graph_matches_table(page: Page, catalog: dict[str, Any]) -> None:
    nsd = catalog["nsd"]
    page.goto(f"/ui/packages/nsd/{nsd['id']}")
    page.wait_for_function("() => window.nfvoGraphs && window.nfvoGraphs['nsd-graph']")
    nodes = page.evaluate("window.nfvoGraphs['nsd-graph'].nodes().map(n => n.id())")
    rows = page.get_by_test_id("nsd-graph-table").locator("tbody tr")
    table = [rows.nth(i).get_attribute("data-node-id") for i in range(rows.count())]
    assert sorted(nodes) == sorted(table)
    assert {"ns", "vnf:vnf_web", "vnf:vnf_db", "vl:mgmt_vl", "vl:data_vl"} <= set(nodes)
    edges = page.evaluate(
        "window.nfvoGraphs['nsd-graph'].edges().map(e => e.source().id() + '>' + e.target().id())"
    )
    assert "vnf:vnf_web>vl:data_vl" in edges and "vnf:vnf_db>vl:mgmt_vl" in edges
    descriptor = page.get_by_test_id("descriptor")
    expect(descriptor).to_contain_text("tosca_definitions_version")
    assert descriptor.get_attribute("data-file") == "Definitions/ns_webapp.nsd.yaml"
    # the other flavour redraws the graph from its own profiles
    page.get_by_role("link", name="minimal", exact=True).click()
    page.wait_for_url("**flavour=minimal")
    page.wait_for_function(
        "() => window.nfvoGraphs && window.nfvoGraphs['nsd-graph'] && "
        "!window.nfvoGraphs['nsd-graph'].$id('vl:mgmt_vl').length"
    )
    assert "vl:mgmt_vl" not in [
        rows.nth(i).get_attribute("data-node-id") for i in range(rows.count())
    ]


def test_reader_sees_no_writes_and_a_forged_post_is_refused(
    context: BrowserContext, gui_server: LiveApi, catalog: dict[str, Any]
) -> None:
    page = context.new_page()
    login(page, "reader")
    page.goto("/ui/packages")
    web_id = catalog["web"]["id"]
    expect(page.locator(f"#pkg-{web_id}")).to_be_visible()
    expect(page.get_by_test_id("upload-form")).to_have_count(0)
    for name in ("Enable", "Disable", "Delete", "Upload"):
        expect(page.get_by_role("button", name=name)).to_have_count(0)
    csrf = page.evaluate("JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRF-Token']")
    resp = page.request.post(
        f"/ui/packages/vnf/{web_id}/disable", headers={"X-CSRF-Token": csrf, "HX-Request": "true"}
    )
    assert resp.status == 403
    assert api_json(gui_server, f"{VNFS}/{web_id}")["operationalState"] == "ENABLED"
    count = len(api_json(gui_server, VNFS))
    resp = page.request.post(
        "/ui/packages/upload",
        headers={"X-CSRF-Token": csrf},
        multipart={
            "kind": "vnf",
            "file": {"name": "x.zip", "mimeType": "application/zip", "buffer": b"PK"},
        },
    )
    assert resp.status == 403
    assert len(api_json(gui_server, VNFS)) == count
