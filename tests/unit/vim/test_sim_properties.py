"""Property: any sequence of creates, deletes and migrations keeps every host within capacity."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nfvo.vim.base import ServerSpec, VimCapacityExceeded, VimConflict
from nfvo.vim.sim import SimVim

CONFIG = {
    "zones": 2,
    "hosts": [
        {"name": "h1", "vcpus": 4, "ram_mib": 8192, "disk_gib": 100},
        {"name": "h2", "vcpus": 8, "ram_mib": 4096, "disk_gib": 50, "cpu_allocation_ratio": 2.0},
        {"name": "h3", "vcpus": 2, "ram_mib": 16384, "disk_gib": 200},
    ],
}

create = st.tuples(
    st.just("create"),
    st.integers(1, 6),
    st.integers(256, 6000),
    st.integers(0, 60),
    st.sampled_from([None, "zone-1", "zone-2"]),
)
delete = st.tuples(st.just("delete"), st.integers(0, 30))
migrate = st.tuples(st.just("migrate"), st.integers(0, 30), st.sampled_from([None, "h1", "h2"]))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(create, delete, migrate), max_size=30))
def test_capacity_is_never_exceeded_and_usage_matches_servers(ops: list[tuple]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        vim = SimVim(vim_id="prop", config=CONFIG, data_dir=Path(tmp))
        ids: list[str] = []
        try:
            for n, op in enumerate(ops):
                try:
                    if op[0] == "create":
                        _, v, r, d, zone = op
                        spec = ServerSpec(key=f"k{n}", name="s", vcpus=v, ram_mib=r, disk_gib=d)
                        spec.zone = zone
                        ids.append(vim.create_server(spec).id)
                    elif ids and op[0] == "delete":
                        vim.delete_server(ids.pop(op[1] % len(ids)))
                    elif ids:
                        vim.migrate_server(ids[op[1] % len(ids)], op[2])
                except (VimCapacityExceeded, VimConflict):
                    pass
                except Exception as exc:  # a wrong hint is the only other refusal allowed
                    assert type(exc).__name__ == "VimBadRequest", exc
                _check(vim, ids)
        finally:
            vim.close()


def _check(vim: SimVim, ids: list[str]) -> None:
    servers = vim.list_servers()
    assert sorted(s.id for s in servers) == sorted(ids)
    zones = {h.name: h.zone for h in vim.list_hosts()}
    for host in vim.list_hosts():
        mine = [s for s in servers if s.host == host.name]
        assert host.servers == len(mine)
        assert host.vcpus_used == sum(s.vcpus for s in mine)
        assert host.ram_mib_used == sum(s.ram_mib for s in mine)
        assert host.vcpus_used <= host.vcpus * host.cpu_allocation_ratio
        assert host.ram_mib_used <= host.ram_mib * host.ram_allocation_ratio
        assert host.disk_gib_used <= host.disk_gib * host.disk_allocation_ratio
    for s in servers:
        assert zones[s.host] == s.zone
