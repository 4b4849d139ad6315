"""Acceptance corpora through the API: the ETSI/Tacker SOL004 samples and the hostile uploads.

Every valid package must reach ONBOARDED; every broken or hostile one must be refused with
a 4xx ProblemDetails or end in ERROR with a named cause, with no 5xx, and with nothing left
behind but the package record (no blobs, no temp files).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from tests.fixtures.hostile import hostile_corpus
from tests.support.etsi_openapi import ETSI_DIR
from tests.support.live import LiveApi

from nfvo.inventory.blobs import BlobRepository
from nfvo.inventory.repositories import CatalogRepository
from nfvo.samples import build_sample

# What each Tacker "reason" means in nfvo's cause codes.
REASON_CAUSES = {
    "the manifest named in TOSCA.meta does not exist": {"MISSING_FILE"},
    "a hash does not match the file": {"HASH_MISMATCH"},
    "unknown hash algorithm SHA-255": {"UNSUPPORTED_ALGORITHM"},
    "a Source/Name names a file that is not in the package": {"SOURCE_NOT_FOUND", "MISSING_FILE"},
    "an artifact entry lacks its Algorithm key": {"MISSING_ALGORITHM"},
    "an artifact entry has an empty Algorithm value": {"EMPTY_VALUE"},
    "the manifest name does not match the root YAML name": {"MANIFEST_NAME_MISMATCH"},
}


@pytest.fixture(scope="module")
def etsi_samples(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    script = ETSI_DIR / "sol004" / "build_samples.py"
    if not script.exists():
        pytest.skip(
            f"ETSI corpus not found at {ETSI_DIR}; place the shared/etsi folder beside the repo"
        )
    out = tmp_path_factory.mktemp("sol004")
    subprocess.run([sys.executable, str(script), str(out)], check=True, capture_output=True)
    return out, json.loads((out / "expected.json").read_text())


def _no_leftovers(live: LiveApi, onboarded: int) -> None:
    with live.services.db.session() as s:
        assert BlobRepository(s).count() == onboarded
    assert list(live.services.settings.tmp_dir.iterdir()) == []


def test_etsi_sol004_samples(live: LiveApi, etsi_samples: tuple[Path, dict]) -> None:
    folder, expected = etsi_samples
    onboarded = 0
    failures = []
    for name, exp in sorted(expected.items()):
        data = (folder / f"{name}.zip").read_bytes()
        pkg = live.create("vnf", userDefinedData={"case": name})
        r = live.upload("vnf", pkg["id"], data)
        assert r.status_code < 500, (name, r.text)
        info = live.wait("vnf", pkg["id"]) if r.status_code == 202 else None
        state = info["onboardingState"] if info else "REJECTED"
        if exp["onboard"]:
            if state != "ONBOARDED":
                failures.append((name, info and info.get("onboardingFailureDetails")))
                continue
            onboarded += 1
            # several Tacker samples share a vnfdId: free it for the next one
            pid = pkg["id"]
            live.client.patch(
                f"/vnfpkgm/v2/vnf_packages/{pid}", json={"operationalState": "DISABLED"}
            )
            assert live.client.delete(f"/vnfpkgm/v2/vnf_packages/{pid}").status_code == 204
            onboarded -= 1
        else:
            details = (info or {}).get("onboardingFailureDetails") or {}
            if state != "ERROR" or not details.get("cause"):
                failures.append((name, f"expected rejection, got {state}"))
                continue
            wanted = REASON_CAUSES.get(exp["reason"])
            if wanted and details["cause"] not in wanted:
                failures.append((name, f"cause {details['cause']}, wanted {wanted}: {details}"))
    assert not failures, failures
    _no_leftovers(live, onboarded)


def test_hostile_corpus(live: LiveApi, tmp_path: Path) -> None:
    cases = hostile_corpus(tmp_path)
    assert len(cases) >= 30
    # the NSD case needs nothing onboarded; VNF cases are independent
    problems = []
    for case in cases:
        kind = "nsd" if case.kind == "ns" else "vnf"
        pkg = live.create(kind, userDefinedData={"case": case.name})
        r = live.upload(kind, pkg["id"], case.data)
        if r.status_code >= 500:
            problems.append((case.name, r.status_code, r.text))
            continue
        if r.status_code != 202:
            body = r.json()
            if not body.get("detail"):
                problems.append((case.name, "4xx without detail"))
            continue
        info = live.wait(kind, pkg["id"], timeout=120)
        state = info.get("onboardingState") or info.get("nsdOnboardingState")
        details = info.get("onboardingFailureDetails") or {}
        expect = case.expect_cause if isinstance(case.expect_cause, tuple) else (case.expect_cause,)
        if state != "ERROR":
            problems.append((case.name, f"state {state}"))
        elif details.get("cause") not in expect:
            problems.append(
                (
                    case.name,
                    f"cause {details.get('cause')} not in {expect}: {details.get('detail')}",
                )
            )
    assert not problems, "\n".join(map(str, problems))
    _no_leftovers(live, 0)
    with live.services.db.session() as s:
        assert CatalogRepository(s).count() == len(cases)  # the records, in ERROR, and nothing else


def test_good_sample_still_onboards_after_the_corpus(live: LiveApi) -> None:
    assert live.onboard("vnf", build_sample("vnf-web"))["onboardingState"] == "ONBOARDED"
