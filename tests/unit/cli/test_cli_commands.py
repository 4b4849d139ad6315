"""Client commands against a fake API: the SOL005 request bodies the options build, names
resolved to ids, --wait's outcome and exit code, login's profile file, shell completion."""

from __future__ import annotations

import json
import stat
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.support.fake_nfvo import FakeApi, problem
from typer.testing import CliRunner

from nfvo.catalog.builder import digest
from nfvo.cli.client.config import ConfigFile
from nfvo.cli.main import app
from nfvo.samples import SAMPLES_DIR

NS = "/nslcm/v2/ns_instances"
OPS = "/nslcm/v2/ns_lcm_op_occs"
RUNNER = CliRunner()

NS1 = {
    "id": "ns1",
    "nsInstanceName": "shop",
    "nsState": "INSTANTIATED",
    "vnfInstance": [
        {"id": "v-web", "vnfProfileId": "vnf_web", "instantiationState": "INSTANTIATED"},
        {"id": "v-db", "vnfProfileId": "vnf_db", "instantiationState": "INSTANTIATED"},
    ],
    "_links": {},
}


def op(state: str, kind: str = "SCALE", **extra: Any) -> dict[str, Any]:
    return {
        "id": "op1",
        "operationState": state,
        "lcmOperationType": kind,
        "nsInstanceId": "ns1",
        "startTime": "2024-01-01T00:00:00+00:00",
        "statusEnteredTime": "2024-01-01T00:00:00+00:00",
        "_links": {},
    } | extra


@pytest.fixture
def ns_api(api: FakeApi, env: Path) -> FakeApi:
    api.on("GET", f"{NS}/ns1", NS1)
    api.on("GET", NS, [NS1])
    for verb in ("instantiate", "scale", "heal", "update", "terminate"):
        api.on(
            "POST",
            f"{NS}/ns1/{verb}",
            lambda r: httpx.Response(202, headers={"Location": f"{OPS}/op1"}),
        )
    api.on("GET", f"{OPS}/op1", op("STARTING"))
    return api


def nfvo(*args: str, input: str | None = None) -> Any:
    return RUNNER.invoke(app, list(args), input=input)


def sent(api: FakeApi, verb: str) -> dict[str, Any]:
    [body] = api.bodies("POST", f"{NS}/ns1/{verb}")
    return body


def test_scale_vnf_by_profile_id(ns_api: FakeApi) -> None:
    r = nfvo("ns", "scale", "ns1", "--vnf", "vnf_web", "--aspect", "web_scale", "--steps", "2",
             "--out", "-o", "json")  # fmt: skip
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["id"] == "op1"
    assert sent(ns_api, "scale") == {
        "scaleType": "SCALE_VNF",
        "scaleVnfData": [
            {
                "vnfInstanceId": "v-web",
                "scaleVnfType": "SCALE_OUT",
                "scaleByStepData": {"aspectId": "web_scale", "numberOfSteps": 2},
            }
        ],
    }
    assert "nfvo op wait op1" in r.stderr  # the note leaves stdout to the JSON


def test_scale_ns(ns_api: FakeApi) -> None:
    assert nfvo("ns", "scale", "shop", "--aspect", "web_tier", "--in").exit_code == 0
    assert sent(ns_api, "scale") == {
        "scaleType": "SCALE_NS",
        "scaleNsData": {
            "scaleNsByStepsData": {
                "scalingDirection": "SCALE_IN",
                "aspectId": "web_tier",
                "numberOfSteps": 1,
            }
        },
    }


def test_scale_needs_a_direction(ns_api: FakeApi) -> None:
    r = nfvo("ns", "scale", "ns1", "--aspect", "a")
    assert r.exit_code == 2 and "--out or --in" in r.stderr
    assert not ns_api.bodies("POST", f"{NS}/ns1/scale")


def test_unknown_vnf_lists_the_known_ones(ns_api: FakeApi) -> None:
    r = nfvo("ns", "heal", "ns1", "--vnf", "vnf_cache")
    assert r.exit_code == 2
    assert "no VNF 'vnf_cache'" in r.stderr and "v-web (vnf_web)" in r.stderr


def test_heal_every_vnf_or_some_vnfcs(ns_api: FakeApi) -> None:
    assert nfvo("ns", "heal", "ns1").exit_code == 0
    assert nfvo("ns", "heal", "ns1", "--vnf", "v-db", "--vnfc", "c1", "--recreate").exit_code == 0
    every, some = ns_api.bodies("POST", f"{NS}/ns1/heal")
    assert every == {
        "healVnfData": [
            {"vnfInstanceId": "v-web", "additionalParams": {"healType": "RESTART"}},
            {"vnfInstanceId": "v-db", "additionalParams": {"healType": "RESTART"}},
        ]
    }
    assert some == {
        "healVnfData": [
            {
                "vnfInstanceId": "v-db",
                "additionalParams": {"healType": "RECREATE", "vnfcInstanceIds": ["c1"]},
            }
        ]
    }


def test_update_operate_and_change_flavour(ns_api: FakeApi) -> None:
    assert nfvo("ns", "update", "ns1", "--vnf", "vnf_web", "--stop").exit_code == 0
    assert nfvo("ns", "update", "ns1", "--vnf", "vnf_db", "--flavour", "ha").exit_code == 0
    stop, change = ns_api.bodies("POST", f"{NS}/ns1/update")
    assert stop == {
        "updateType": "OPERATE_VNF",
        "operateVnfData": [{"vnfInstanceId": "v-web", "changeStateTo": "STOPPED"}],
    }
    assert change == {
        "updateType": "CHANGE_VNF_DF",
        "changeVnfFlavourData": [{"vnfInstanceId": "v-db", "newFlavourId": "ha"}],
    }
    r = nfvo("ns", "update", "ns1", "--vnf", "vnf_web", "--stop", "--start")
    assert r.exit_code == 2 and "one of" in r.stderr


def test_instantiate_resolves_the_vim_and_merges_the_body(ns_api: FakeApi, tmp_path: Path) -> None:
    ns_api.on("GET", "/admin/v1/vim_accounts", [{"id": "vim-9", "name": "lab"}])
    ns_api.on("GET", "/admin/v1/vim_accounts/vim-9", {"id": "vim-9", "name": "lab"})
    body = tmp_path / "req.yaml"
    body.write_text("nsInstantiationLevelId: big\nadditionalParamsForNs: {region: eu}\n")
    r = nfvo("ns", "instantiate", "shop", "--flavour", "default", "--vim", "lab",
             "--param", "replicas=3", "--vnf-param", "vnf_db:vimAccountId=lab",
             "--vnf-param", "vnf_db:admin=root", "--body", f"@{body}")  # fmt: skip
    assert r.exit_code == 0, r.output
    assert sent(ns_api, "instantiate") == {
        "nsInstantiationLevelId": "big",
        "additionalParamsForNs": {"region": "eu", "replicas": 3, "vimAccountId": "vim-9"},
        "nsFlavourId": "default",
        "additionalParamsForVnf": [
            {
                "vnfProfileId": "vnf_db",
                "additionalParams": {"vimAccountId": "vim-9", "admin": "root"},
            }
        ],
    }


def test_raw_body_alone(ns_api: FakeApi) -> None:
    raw = '{"terminationType": "GRACEFUL", "gracefulTerminationTimeout": 5}'
    assert nfvo("ns", "terminate", "ns1", "--body", raw).exit_code == 0
    assert sent(ns_api, "terminate") == json.loads(raw)
    r = nfvo("ns", "terminate", "ns1", "--body", "[1, 2]")
    assert r.exit_code == 2 and "JSON object" in r.stderr


def _sequence(states: list[dict[str, Any]]) -> Any:
    it: Iterator[dict[str, Any]] = iter(states)
    last: dict[str, Any] = {}

    def reply(_r: httpx.Request) -> httpx.Response:
        last["op"] = next(it, last.get("op"))
        return httpx.Response(200, json=last["op"])

    return reply


def test_wait_success_prints_one_line_per_change(ns_api: FakeApi) -> None:
    ns_api.on(
        "GET",
        f"{OPS}/op1",
        _sequence([op("STARTING"), op("PROCESSING"), op("PROCESSING"), op("COMPLETED")]),
    )
    r = nfvo("ns", "scale", "ns1", "--aspect", "web_tier", "--out", "--wait")
    assert r.exit_code == 0, r.output
    lines = [line for line in r.stdout.splitlines() if "SCALE shop:" in line]
    assert [line.split("SCALE shop: ")[1].split()[0] for line in lines] == [
        "PROCESSING",
        "COMPLETED",
        "COMPLETED",  # the closing summary line
    ]
    assert "VNFs up 2/2" in lines[0] and lines[-1].endswith(" s")


def test_wait_failure_exits_1_with_the_problem(ns_api: FakeApi) -> None:
    error = {"title": "VNF operation failed", "status": 500, "detail": "no host", "vduId": "web"}
    ns_api.on("GET", f"{OPS}/op1", _sequence([op("STARTING"), op("FAILED_TEMP", error=error)]))
    r = nfvo("ns", "scale", "ns1", "--aspect", "web_tier", "--out", "--wait", "-o", "json")
    assert r.exit_code == 1
    assert r.stdout == ""  # nothing for a script to mistake for a result
    assert "ended FAILED_TEMP" in r.stderr
    assert "VNF operation failed (500): no host" in r.stderr and "vduId: web" in r.stderr
    assert "nfvo op retry op1 --wait" in r.stderr
    assert "Traceback" not in r.stderr


def test_rollback_wait_expects_rolled_back(ns_api: FakeApi) -> None:
    ns_api.on(
        "POST", f"{OPS}/op1/rollback", lambda r: httpx.Response(202, headers={"Location": "op1"})
    )
    ns_api.on("GET", f"{OPS}/op1", _sequence([op("ROLLING_BACK"), op("ROLLED_BACK")]))
    r = nfvo("op", "rollback", "op1", "--wait")
    assert r.exit_code == 0, r.output
    assert "ROLLED_BACK" in r.stdout


def test_api_error_on_stderr(api: FakeApi, env: Path) -> None:
    api.on("GET", f"{NS}/nope", lambda r: problem(404, "NS instance nope does not exist"))
    api.on("GET", NS, [])
    r = nfvo("ns", "show", "nope", "-o", "json")
    assert r.exit_code == 1 and r.stdout == ""
    assert r.stderr.startswith("error: Error (404): NS instance nope does not exist")


def test_login_writes_a_private_profile_then_reuses_its_token(
    api: FakeApi, env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NFVO_PASSWORD")
    r = nfvo("login", "--url", "http://nfvo.test/", "--user", "admin", "--password-stdin",
             input=api.password + "\n")  # fmt: skip
    assert r.exit_code == 0, r.output
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    assert stat.S_IMODE(env.parent.stat().st_mode) == 0o700
    api.on("GET", "/admin/v1/tenants", [{"id": "t1", "name": "blue"}])
    monkeypatch.delenv("NFVO_URL")
    monkeypatch.delenv("NFVO_USER")
    r = nfvo("tenant", "list", "-o", "json")
    assert r.exit_code == 0 and json.loads(r.stdout)[0]["name"] == "blue"
    assert api.issued == 1  # the cached token, no second login
    r = nfvo("login", "--password-stdin", input="wrong\n")
    assert r.exit_code == 4 and "refused" in r.stderr


def test_pkg_build_hashes_the_manifest(tmp_path: Path) -> None:
    out = tmp_path / "db.csar"
    r = nfvo("pkg", "build", str(SAMPLES_DIR / "vnf-db"), "-o", str(out))
    assert r.exit_code == 0, r.output
    with zipfile.ZipFile(out) as z:
        manifest = z.read("vnf-db.mf").decode()
        hashed = [n for n in z.namelist() if n.startswith("Definitions/")]
        assert hashed and all(digest(z.read(n)) in manifest for n in hashed)
    r = nfvo("pkg", "build", str(tmp_path / "missing"))
    assert r.exit_code == 2 and "not a folder" in r.stderr


def test_shell_completion_is_enabled() -> None:
    r = RUNNER.invoke(
        app,
        [],
        prog_name="nfvo",
        env={"_NFVO_COMPLETE": "complete_bash", "COMP_WORDS": "nfvo ns sc", "COMP_CWORD": "2"},
    )
    assert r.stdout.split() == ["scale"]
    r = RUNNER.invoke(app, ["--help"], prog_name="nfvo")
    assert "--install-completion" in r.stdout and "--show-completion" in r.stdout


def test_version() -> None:
    from nfvo import __version__

    r = RUNNER.invoke(app, ["--version"])
    assert r.exit_code == 0 and r.stdout.strip() == __version__


def test_login_again_renews_the_current_profile(
    api: FakeApi, env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("NFVO_URL", "NFVO_USER", "NFVO_PASSWORD"):
        monkeypatch.delenv(name)
    first = ("login", "--profile", "lab", "--url", "http://nfvo.test", "--password-stdin")
    assert nfvo(*first, input=api.password + "\n").exit_code == 0
    assert nfvo("login", "--password-stdin", input=api.password + "\n").exit_code == 0
    cfg = ConfigFile.load(env)
    assert set(cfg.profiles) == {"lab"} and cfg.current == "lab"
    assert cfg.profiles["lab"].token == "tok-2" and cfg.profiles["lab"].url == "http://nfvo.test"


def test_help_names_value_types_but_not_for_flags() -> None:
    result = RUNNER.invoke(app, ["ns", "scale", "--help"], env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    text = result.output
    assert "Usage: nfvo ns scale [OPTIONS] NS" in text
    assert "<bool>" not in text and "<str>" not in text and "{ns}" not in text
    lines = text.splitlines()
    vnf = next(line for line in lines if "--vnf " in line)
    assert vnf.split("│")[1].split()[:2] == ["--vnf", "TEXT"]
    wait = next(line for line in lines if "--wait" in line)
    assert wait.split("│")[1].split()[:3] == ["--wait", "-w", "Follow"]  # a flag: no type
    output = next(line for line in lines if "--output" in line)
    assert "table|json|yaml" in output
    missing = RUNNER.invoke(app, ["ns", "show"])
    assert missing.exit_code == 2 and "Missing argument 'NS'" in missing.output
