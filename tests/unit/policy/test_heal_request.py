"""The HEAL request the auto-healer builds: per VNF, RECREATE of exactly its down VNFCs (by
VNFC id), within what one request may hold (the LCM's own shape check accepts it); what does
not fit waits for the next request."""

from __future__ import annotations

from nfvo import limits
from nfvo.lcm.requests import check_request
from nfvo.lcm.states import OpType
from nfvo.monitoring.model import Resource, ResourceKind
from nfvo.policy.heal import _Down, _request, _split, _Vnfc
from nfvo.policy.model import DownVnfc


def _vnfc(vnf: str, i: int) -> _Vnfc:
    server = Resource(ResourceKind.SERVER, f"srv-{vnf}-{i}", "vim-1")
    key = f"ns-1/{vnf}/web/{i}"
    down = _Down(DownVnfc("ns-1", vnf, key.replace("/", "-"), "web", server), {"host:x"})
    return _Vnfc(down, key, "host-1", "vim-1")


def test_one_request_per_ns_names_each_vnf_and_its_vnfcs() -> None:
    here = [_vnfc("vnf-b", 0), _vnfc("vnf-a", 1), _vnfc("vnf-a", 0)]
    now, rest = _split(here)
    assert rest == [] and len(now) == 3
    body = _request(now, ["host:host:vim-1:host-1", "server:server:vim-1:srv"])
    check_request(OpType.HEAL, body)
    assert body == {
        "healVnfData": [
            {
                "vnfInstanceId": "vnf-a",
                "cause": "auto-heal: root cause host:host:vim-1:host-1 (+1 more)",
                "additionalParams": {
                    "healType": "RECREATE",
                    "vnfcInstanceIds": ["ns-1-vnf-a-web-0", "ns-1-vnf-a-web-1"],
                },
            },
            {
                "vnfInstanceId": "vnf-b",
                "cause": "auto-heal: root cause host:host:vim-1:host-1 (+1 more)",
                "additionalParams": {
                    "healType": "RECREATE",
                    "vnfcInstanceIds": ["ns-1-vnf-b-web-0"],
                },
            },
        ]
    }


def test_what_one_request_cannot_hold_waits() -> None:
    one_vnf = [_vnfc("vnf-a", i) for i in range(limits.MAX_LIST + 20)]
    now, rest = _split(one_vnf)
    assert (len(now), len(rest)) == (limits.MAX_LIST, 20)
    check_request(OpType.HEAL, _request(now, ["host:x"]))

    many_vnfs = [_vnfc(f"vnf-{i:03d}", j) for i in range(limits.MAX_LIST + 5) for j in (0, 1)]
    now, rest = _split(many_vnfs)
    body = _request(now, ["host:x"])
    check_request(OpType.HEAL, body)  # within the bounds of one request
    assert len(body["healVnfData"]) == limits.MAX_LIST
    assert all(len(d["additionalParams"]["vnfcInstanceIds"]) == 2 for d in body["healVnfData"])
    assert len(rest) == 10 and {v.down.vnfc.vnf_instance_id for v in rest} == {
        f"vnf-{i:03d}" for i in range(limits.MAX_LIST, limits.MAX_LIST + 5)
    }


def test_a_batch_fires_after_a_quiet_second_or_at_the_window_end() -> None:
    from nfvo.policy.heal import _Batch

    single = _Batch(first_at=100.0, last_at=100.0)
    assert single.due_at(5.0, 1.0) == 101.0  # one root: healed after the quiet second
    stream = _Batch(first_at=100.0, last_at=104.5)
    assert stream.due_at(5.0, 1.0) == 105.0  # roots keep coming: the window caps it
    assert _Batch(first_at=100.0).due_at(5.0, 1.0) == 101.0  # no root time recorded yet
