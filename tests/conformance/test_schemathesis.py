"""Property-based conformance run: schemathesis generates requests from the ETSI SOL005
V3.7.1 OpenAPI documents of vnfpkgm, nsd and nslcm and sends them to a real nfvo on
loopback (authenticated, with seeded packages, NS instances and subscriptions); every
response must be free of server errors and match the response schema the document
declares for its status.

The ETSI documents are read from ``shared/etsi`` beside the repository (see
``tests/support/etsi_openapi.py``); the test skips when that folder is absent. They are
copied into a temporary folder and the slips that contradict the spec tables are repaired
there (the same repairs as the hand-written conformance tests; docs/conformance.md lists
them). ``NFVO_SCHEMATHESIS_EXAMPLES`` sets the number of generated cases per operation.

A second run takes nfvo's own ``/openapi.json`` as the contract (no ETSI document needed):
valid and invalid requests, every answer declared (status, media type, body schema) and no
server error. ``NFVO_CONTRACT_EXAMPLES`` sets its cases per operation.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.integration.test_sol005_conformance import PNFD_FILES
from tests.support import etsi_openapi
from tests.support.live import LiveApi, start_live, wait_for, wait_op

from nfvo.catalog.builder import build_csar_from_files
from nfvo.monitoring.fm import FaultManager
from nfvo.monitoring.model import FaultEvent, FaultKind, Resource, ResourceKind, Severity
from nfvo.samples import build_sample

schemathesis = pytest.importorskip("schemathesis", reason="pip install -e '.[test]'")
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

# Package uploads (PUT .../package_content, declared application/binary or application/zip):
# a real package, an empty body or junk
_UPLOADS = st.sampled_from([build_sample("vnf-db"), b"", b"PK\x03\x04 not a zip"])
for _media in ("application/binary", "application/zip", "application/octet-stream"):
    schemathesis.openapi.media_type(_media, _UPLOADS)

EXAMPLES = int(os.environ.get("NFVO_SCHEMATHESIS_EXAMPLES", "25"))
APIS = {
    "vnfpkgm": ("VNFPackageManagement", "2.4.0"),
    "nsd": ("NSDManagement", "2.3.0"),
    "nslcm": ("NSLifecycleManagement", "2.3.0"),
    "nspm": ("NSPerformanceManagement", "2.3.0"),
    "nsfm": ("NSFaultManagement", "1.3.0"),
}
# the path majors each API serves (nsfm: v1 only; nspm: v2 only)
MAJORS = {"nsfm": ("v1",), "nspm": ("v2",)}
V2_ONLY = {"nspm"}  # no v1 paths, and no subscriptions (jobs carry their callbackUri)
# Path parameter -> the seeded resource its real value is taken from
REAL_IDS = {
    "vnfPkgId": "vnf",
    "nsdInfoId": "nsd",
    "pnfdInfoId": "pnfd",
    "nsInstanceId": "ns",
    "nsLcmOpOccId": "op",
    "subscriptionId": "sub",
    "artifactPath": "artifact",
    "pmJobId": "pm_job",
    "reportId": "report",
    "thresholdId": "threshold",
    "alarmId": "alarm",
}
# The same for nfvo's own document (its path parameter names)
OWN_IDS = {
    "ns_id": "ns",
    "op_id": "op",
    "vim_id": "vim",
    "tenant_id": "tenant",
    "sdn_id": "sdn",
    "artifact_path": "artifact",
    "pm_job_id": "pm_job",
    "report_id": "report",
    "threshold_id": "threshold",
    "alarm_id": "alarm",
}
# pkg_id and subscription_id depend on the collection
OWN_COLLECTION_IDS = {
    "/vnfpkgm/v2/vnf_packages/": "vnf",
    "/nsd/v2/ns_descriptors/": "nsd",
    "/nsd/v2/pnf_descriptors/": "pnfd",
}


@pytest.fixture(scope="module")
def _need_corpus() -> None:
    if not etsi_openapi.etsi_available():
        pytest.skip(etsi_openapi.skip_reason() + " to run the schemathesis conformance run")


# --------------------------------------------------------------------------- the documents


def _repaired(node: Any, repairs: list[str], pointer: str = "") -> Any:
    """The raw YAML tree with the ETSI slips repaired (OpenAPI 3.0 ``nullable`` kept)."""
    if isinstance(node, dict):
        out = {
            k: _repaired(v, repairs, f"{pointer}/{etsi_openapi._escape(str(k))}")
            for k, v in node.items()
        }
        etsi_openapi._repair(out, repairs, pointer)
        return out
    if isinstance(node, list):
        return [_repaired(v, repairs, f"{pointer}/{i}") for i, v in enumerate(node)]
    return node


def _copy_repaired(target: Path) -> dict[str, list[str]]:
    """The SOL005 documents, repaired, under ``target`` (same layout); the repairs made."""
    source = etsi_openapi.ETSI_DIR / "sol005"
    shutil.copytree(source, target / "sol005")
    done: dict[str, list[str]] = {}
    for path in sorted((target / "sol005").rglob("*.yaml")):
        raw = yaml.safe_load(path.read_text())
        repairs: list[str] = []
        fixed = _repaired(raw, repairs)
        etsi_openapi._apply_errata(path, fixed, repairs)
        paths = fixed.get("paths") if isinstance(fixed, dict) else None
        if isinstance(paths, dict):
            # NSLifecycleManagement writes the base path into two path keys
            for key in [k for k in paths if str(k).startswith("/nslcm/v1/")]:
                paths[key.removeprefix("/nslcm/v1")] = paths.pop(key)
                repairs.append(f"/paths/{key}: base path dropped from the path key")
        if repairs:
            path.write_text(yaml.safe_dump(fixed, sort_keys=False, allow_unicode=True))
            done[str(path.relative_to(target))] = repairs
    return done


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory, _need_corpus: None) -> Path:
    root = tmp_path_factory.mktemp("etsi")
    repairs = _copy_repaired(root)
    assert repairs, "no ETSI repair applied: check whether upstream fixed them"
    return root / "sol005"


# --------------------------------------------------------------------------- the server


class _Callback(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass

    def _ok(self) -> None:
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        self._ok()

    def do_POST(self) -> None:  # noqa: N802 - http.server naming
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._ok()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveApi, dict[str, str]]]:
    callback = ThreadingHTTPServer(("127.0.0.1", 0), _Callback)
    threading.Thread(target=callback.serve_forever, daemon=True).start()
    data = tmp_path_factory.mktemp("nfvo")
    live = start_live(data, f"sqlite:///{data}/nfvo.db")
    try:
        yield live, _seed(live, f"http://127.0.0.1:{callback.server_address[1]}/cb")
    finally:
        live.close()
        callback.shutdown()
        callback.server_close()


def _seed(live: LiveApi, callback: str) -> dict[str, str]:
    """Packages, an NS instance with an operation, and a subscription per API; the ids that
    path parameters take."""
    c = live.client
    vnf = live.onboard("vnf", build_sample("vnf-web"), userDefinedData={"k": "v"})
    live.onboard("vnf", build_sample("vnf-db"))
    nsd = live.onboard("nsd", build_sample("ns-webapp"))
    pnfd = live.onboard("pnfd", build_csar_from_files(PNFD_FILES))
    vim = c.post(
        "/admin/v1/vim_accounts",
        json={
            "name": "lab",
            "vim_type": "sim",
            "config": {
                "hosts": 4,
                "images": [{"name": n} for n in ("web-img", "db-img")],
                "latency_ms": {"server_boot": 5},
            },
        },
    )
    assert vim.status_code == 201, vim.text
    wait_for(c, f"/admin/v1/vim_accounts/{vim.json()['id']}", "operationalState", ("PENDING",))
    ns = c.post("/nslcm/v2/ns_instances", json={"nsdId": nsd["nsdId"], "nsName": "conf"})
    assert ns.status_code == 201, ns.text
    body = {"nsFlavourId": "default", "additionalParamsForNs": {"vimAccountId": vim.json()["id"]}}
    op = c.post(f"/nslcm/v2/ns_instances/{ns.json()['id']}/instantiate", json=body)
    assert op.status_code == 202, op.text
    assert wait_op(c, op.headers["location"])["operationState"] == "COMPLETED"
    ids = {
        "vnf": vnf["id"],
        "nsd": nsd["id"],
        "pnfd": pnfd["id"],
        "ns": ns.json()["id"],
        "op": op.headers["location"].rsplit("/", 1)[-1],
        "artifact": "Files/cloud-init/web.yaml",
    }
    ids |= _seed_nspm(live, ids["ns"], callback)
    for api in [a for a in APIS if a not in V2_ONLY]:
        major = MAJORS.get(api, ("v2",))[-1]
        r = c.post(f"/{api}/{major}/subscriptions", json={"callbackUri": f"{callback}/{api}"})
        assert r.status_code == 201, r.text
        ids[f"sub:{api}"] = r.json()["id"]
    # an alarm on the NS, as a fault event handed by the monitoring hub raises it
    ns = Resource(ResourceKind.NS, ids["ns"])
    event = FaultEvent(ns, FaultKind.ALERT, Severity.MAJOR, 0, "conformance")
    (ids["alarm"],) = FaultManager(live.services.db).handle(event).raised
    tenant = c.post("/admin/v1/tenants", json={"name": "conf-tenant"})
    assert tenant.status_code == 201, tenant.text
    sdn = c.post("/admin/v1/sdn_controllers", json={"name": "conf-sdn", "type": "sim"})
    assert sdn.status_code == 201, sdn.text
    ids |= {"vim": vim.json()["id"], "tenant": tenant.json()["id"], "sdn": sdn.json()["id"]}
    return ids


def _seed_nspm(live: LiveApi, ns_id: str, callback: str) -> dict[str, str]:
    """A PM job with one report (1 s / 2 s periods; with no samples its values are absent)
    and a threshold on the seeded NS."""
    c = live.client
    criteria = {"performanceMetric": ["ByteIncoming"], "collectionPeriod": 1}
    body = {"objectType": "NsInstance", "objectInstanceIds": [ns_id], "callbackUri": callback}
    r = c.post("/nspm/v2/pm_jobs", json=body | {"criteria": criteria | {"reportingPeriod": 2}})
    assert r.status_code == 201, r.text
    job = r.json()["id"]
    deadline = time.monotonic() + 20
    while not (reports := c.get(f"/nspm/v2/pm_jobs/{job}").json()["reports"]):
        assert time.monotonic() < deadline, "no report within 20 s"
        time.sleep(0.1)
    details = {"thresholdValue": 80.0, "hysteresis": 5.0}
    th = {
        "objectType": "NsInstance",
        "objectInstanceId": ns_id,
        "criteria": {
            "performanceMetric": "ByteIncoming",
            "thresholdType": "SIMPLE",
            "simpleThresholdDetails": details,
        },
        "callbackUri": callback,
    }
    r = c.post("/nspm/v2/thresholds", json=th)
    assert r.status_code == 201, r.text
    report = reports[0]["href"].rsplit("/", 1)[-1]
    return {"pm_job": job, "report": report, "threshold": r.json()["id"]}


# --------------------------------------------------------------------------- the run


_ORDER = {"GET": 0, "POST": 1, "PUT": 1, "PATCH": 1, "DELETE": 2}


def _operations(schema: Any) -> list[Any]:
    """Every operation, the reads first and the deletions last, so that the seeded
    resources are read before a generated request may remove them."""
    ops = [result.ok() for result in schema.get_all_operations()]
    return sorted(ops, key=lambda op: (_ORDER.get(op.method.upper(), 1), op.path))


def _short(text: str, limit: int = 600) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


@pytest.mark.parametrize(
    ("api", "major"),
    [(api, major) for api in APIS for major in ("v2", "v1") if major in MAJORS.get(api, (major,))],
)
def test_no_server_error_and_every_response_matches_its_schema(
    api: str, major: str, documents: Path, server: tuple[LiveApi, dict[str, str]]
) -> None:
    """The V3.7.1 documents against the v2 paths, and against the v1 paths that older
    clients call (the same resources; there only the absence of server errors and the
    V3.7.1 schemas, which the v1 shapes nfvo sends also satisfy, are checked)."""
    if api in V2_ONLY and major == "v1":
        pytest.skip(f"{api} has no v1 paths")
    live, ids = server
    folder, version = APIS[api]
    latest = MAJORS.get(api, ("v2",))[-1]
    version = version if major == latest else "1.3.0"
    examples = EXAMPLES if major == latest else max(1, EXAMPLES // 3)
    schema = schemathesis.openapi.from_path(str(documents / folder / f"{folder}.yaml"))
    token = live.client.headers["Authorization"]
    base_url = f"{live.base_url}/{api}/{major}"
    failures: list[str] = []
    calls = 0
    statuses: dict[str, set[int]] = {}
    for op in _operations(schema):
        real = {}
        for name in (p.name for p in op.path_parameters):
            source = REAL_IDS.get(name)
            if source is not None:
                real[name] = ids[f"sub:{api}" if source == "sub" else source]
        headers = {"Authorization": token, "Version": version}
        strategies = [op.as_strategy(headers=headers)]
        if real:
            strategies.append(op.as_strategy(headers=headers, path_parameters=real))

        @_examples(examples)
        @given(case=st.one_of(strategies))
        def run(case: Any) -> None:
            nonlocal calls
            calls += 1
            response = case.call(base_url=base_url, timeout=30)
            statuses.setdefault(f"{case.method} {case.path}", set()).add(response.status_code)
            try:
                case.validate_response(
                    response, checks=[not_a_server_error, response_schema_conformance]
                )
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - reported together
                failures.append(
                    f"{case.method} {case.formatted_path} query={case.query} "
                    f"-> {response.status_code}: {_short(str(exc))}\n"
                    f"   body: {_short(response.text)}"
                )

        run()
    print(f"\n{api}/{major}: {calls} calls")
    for where, codes in sorted(statuses.items()):
        print(f"  {where}: {sorted(codes)}")
    # the run reaches the resources, not only the error paths
    reads = [w for w, codes in statuses.items() if w.startswith("GET") and 200 in codes]
    assert len(reads) >= 3, statuses
    assert not failures, f"{len(failures)} failures of {calls} calls:\n" + "\n".join(failures[:20])


# --------------------------------------------------------------------------- nfvo's own document

OWN_CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
OWN_EXAMPLES = int(os.environ.get("NFVO_CONTRACT_EXAMPLES", "12"))
if os.environ.get("NFVO_CONTRACT_CHECKS") == "server":  # a quick hunt for server errors
    OWN_CHECKS = [not_a_server_error]


def _examples(n: int) -> Any:
    """Hypothesis settings of a run: ``n`` generated cases, no deadline, no example database."""
    return settings(
        max_examples=n,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )


def _text(response: Any) -> str:
    return response.content[:2000].decode("utf-8", errors="replace")


def _own_real_ids(path: str, names: list[str], ids: dict[str, str]) -> dict[str, str]:
    """Real values for the path parameters of one of nfvo's own operations."""
    real: dict[str, str] = {}
    for name in names:
        if name in OWN_IDS:
            real[name] = ids[OWN_IDS[name]]
        elif name == "pkg_id":
            for prefix, source in OWN_COLLECTION_IDS.items():
                if path.startswith(prefix):
                    real[name] = ids[source]
        elif name == "subscription_id":
            real[name] = ids[f"sub:{path.split('/')[1]}"]
    return real


def test_own_openapi_document_is_the_contract(server: tuple[LiveApi, dict[str, str]]) -> None:
    """schemathesis against nfvo's own ``/openapi.json``: every answer is declared by the
    document (status code, media type and body schema) and none is a server error."""
    live, ids = server
    document = live.client.get("/openapi.json")
    assert document.status_code == 200
    schema = schemathesis.openapi.from_dict(document.json())
    token = live.client.headers["Authorization"]
    failures: list[str] = []
    calls = 0
    statuses: dict[str, set[int]] = {}
    for op in _operations(schema):
        if op.path == "/oauth2/token":
            continue  # form-encoded credentials: its own tests cover it
        if op.path == "/admin/v1/signing_keys/rotate":
            continue  # ends every token, this run's too: the token tests cover it
        headers = {"Authorization": token}
        real = _own_real_ids(op.path, [p.name for p in op.path_parameters], ids)
        strategies = [op.as_strategy(headers=headers)]
        if real:
            strategies.append(op.as_strategy(headers=headers, path_parameters=real))
        if op.body:  # invalid bodies too (nulls, wrong types, beyond bounds): never a 5xx
            strategies.append(
                op.as_strategy(
                    GenerationMode.NEGATIVE, headers=headers, path_parameters=real or None
                )
            )

        @_examples(OWN_EXAMPLES)
        @given(case=st.one_of(strategies))
        def run(case: Any) -> None:
            nonlocal calls
            calls += 1
            response = case.call(base_url=live.base_url, timeout=30)
            statuses.setdefault(f"{case.method} {case.path}", set()).add(response.status_code)
            try:
                case.validate_response(response, checks=OWN_CHECKS)
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - reported together
                failures.append(
                    f"{case.method} {case.formatted_path} query={case.query} "
                    f"body={_short(repr(case.body), 300)} -> {response.status_code}: "
                    f"{_short(str(exc))}\n   body: {_short(_text(response))}"
                )

        run()
    print(f"\nown document: {calls} calls")
    for where, codes in sorted(statuses.items()):
        print(f"  {where}: {sorted(codes)}")
    reads = [w for w, codes in statuses.items() if w.startswith("GET") and 200 in codes]
    assert len(reads) >= 10, statuses
    assert not failures, f"{len(failures)} failures of {calls} calls:\n" + "\n".join(failures[:30])
