"""Two NS LCM guarantees under concurrency, through the public API, on SQLite and PostgreSQL.

1. Exactness: an NS of 51 VNFs in one layer (they deploy concurrently) reports exactly the
   servers, ports and networks that exist for it on the VIM, and terminate leaves none.
2. One open operation per NS: of requests released at the same instant against one NS,
   exactly one is accepted, the others are refused (409, or 404 for a second DELETE), never
   a 500; the NS never has two unfinished operation occurrences; every operation ends in a
   consistent state.

The full acceptance numbers (100 rounds per case, 20 wide-NS runs) come from
``benchmarks/lcm_races.py``; this test runs a few of each.
"""

from __future__ import annotations

import json

import pytest
from tests.support.lcm_load import (
    CASES,
    WIDE_SERVERS,
    Racer,
    exactness_run,
    onboard_catalog,
    race_round,
    register_sim_vim,
    summarise_rounds,
)
from tests.support.live import LiveApi

EXACT_RUNS = 3
RACE_ROUNDS = 15


@pytest.fixture
def ready(live: LiveApi) -> tuple[LiveApi, str]:
    """A running nfvo with the sample packages, the wide NSD and a zero-latency sim VIM."""
    onboard_catalog(live.client)
    return live, register_sim_vim(live.client)


def test_wide_ns_reports_exactly_what_is_on_the_vim(ready: tuple[LiveApi, str]) -> None:
    live, vim_id = ready
    runs = [exactness_run(live.client, live.data_dir, vim_id) for _ in range(EXACT_RUNS)]
    bad = [r for r in runs if not r.ok]
    assert not bad, (
        f"{len(bad)}/{len(runs)} runs wrong (want {WIDE_SERVERS} servers reported = on VIM, "
        f"0 left after terminate): "
        + "; ".join(
            f"instantiate {r.instantiate_state}, terminate {r.terminate_state}, "
            f"reported {r.reported}, on VIM {r.on_vim}, left {r.left_after_terminate}"
            for r in bad
        )
    )
    for r in runs:  # what "ok" means, spelled out
        assert r.reported == r.on_vim and r.reported["servers"] == WIDE_SERVERS
        assert r.left_after_terminate == {"servers": 0, "ports": 0, "networks": 0}


@pytest.mark.parametrize("case", sorted(CASES))
def test_exactly_one_concurrent_operation_is_accepted(
    ready: tuple[LiveApi, str], case: str
) -> None:
    live, vim_id = ready
    racer = Racer(live.base_url, live.client.headers)
    try:
        results = [
            race_round(live.client, racer, CASES[case], vim_id, live.data_dir)
            for _ in range(RACE_ROUNDS)
        ]
    finally:
        racer.close()
    summary = summarise_rounds(results)
    assert summary["rounds_ok"] == RACE_ROUNDS, json.dumps(summary, indent=1)
    assert summary["http_5xx"] == 0 and summary["rounds_exactly_one_accepted"] == RACE_ROUNDS
