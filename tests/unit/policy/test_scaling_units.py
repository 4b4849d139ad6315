"""The auto-scaler's pure parts: alert keys, scale requests, OSM field names."""

from __future__ import annotations

import pytest

from nfvo.errors import BadRequest
from nfvo.policy.model import ScalingPolicy, Target
from nfvo.policy.scaling import scale_request, trigger_key
from nfvo.policy.store import _normalise


def _policy(**kw: object) -> ScalingPolicy:
    base: dict[str, object] = {
        "id": "p",
        "name": "p",
        "ns_instance_id": "ns",
        "tenant_id": None,
        "aspect_id": "web_scale",
        "metric": "v_cpu_usage_mean_vnf",
        "vnf_instance_id": "vnf",
        "steps": 2,
    }
    return ScalingPolicy(**{**base, **kw})  # type: ignore[arg-type]


def test_an_alert_instance_key_depends_on_policy_fingerprint_and_start() -> None:
    key = trigger_key("p", "fp", 1.0)
    assert key == trigger_key("p", "fp", 1.0) and len(key) == 64
    assert len({key, trigger_key("q", "fp", 1.0), trigger_key("p", "fq", 1.0)}) == 3
    assert len({key, trigger_key("p", "fp", 2.0), trigger_key("p", "fp", None)}) == 3


def test_scale_requests_of_a_vnf_and_an_ns_aspect() -> None:
    vnf = scale_request(_policy(), "SCALE_OUT")
    assert vnf == {
        "scaleType": "SCALE_VNF",
        "scaleVnfData": [
            {
                "vnfInstanceId": "vnf",
                "scaleVnfType": "SCALE_OUT",
                "scaleByStepData": {"aspectId": "web_scale", "numberOfSteps": 2},
            }
        ],
    }
    ns = scale_request(_policy(target=Target.NS, vnf_instance_id=None), "SCALE_IN")
    assert ns["scaleType"] == "SCALE_NS"
    assert ns["scaleNsData"]["scaleNsByStepsData"] == {
        "aspectId": "web_scale",
        "numberOfSteps": 2,
        "scalingDirection": "SCALE_IN",
    }


def test_osm_names_map_to_ours_and_unknown_or_repeated_ones_are_refused() -> None:
    got = _normalise({"scale-out-threshold": 80, "cooldown-time": 60, "threshold-time": "1 min"})
    assert got == {"scaleOutThreshold": 80, "cooldown": 60, "thresholdTime": "1 min"}
    with pytest.raises(BadRequest) as bad:
        _normalise({"scale-out-threshold": 80, "scaleOutThreshold": 90})
    assert bad.value.extra["field"] == "scaleOutThreshold"
    with pytest.raises(BadRequest) as bad:
        _normalise({"bogus": 1})
    assert bad.value.extra["field"] == "bogus"
    assert _normalise({"id": "x", "createdAt": "y"}, patch=True) == {}
