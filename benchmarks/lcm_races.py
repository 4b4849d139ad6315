"""Acceptance runs of two NS LCM guarantees, through the API, on SQLite and PostgreSQL.

Prints JSON per database:

- ``exactness``: ``--exact-runs`` runs of an NS of 51 VNFs in one layer on a zero-latency
  sim VIM; a run is exact when the servers, ports and networks the NS reports
  (``GET ns_instances/{id}``) equal those tagged with the NS on the VIM, and clean when
  terminate then leaves none. Reports runs exact / total, the mismatches and the median
  seconds per run.
- ``races``: ``--rounds`` rounds per case of concurrent requests against one NS, released
  together: 5 x instantiate; terminate || scale VNF || scale NS || heal || update; the same
  with a second heal instead of terminate; DELETE || DELETE; terminate || DELETE. Reports
  rounds, rounds with exactly one accepted, the status code histogram (overall and per
  request), 5xx answers, rounds with two or more unfinished operations, the first problems.

PostgreSQL runs in a throw-away schema of ``--pg-url`` (default: ``NFVO_TEST_DATABASE_URL``)
and is skipped when none is given. The exit status is 1 when any check fails.
Run as ``python benchmarks/lcm_races.py`` (it imports the shared helpers of ``tests/``).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the shared test helpers

from tests.conftest import PG_ENV, _pg_schema_url  # noqa: E402
from tests.support.lcm_load import (  # noqa: E402
    CASES,
    RaceCase,
    Racer,
    RoundResult,
    exactness_run,
    onboard_catalog,
    race_round,
    register_sim_vim,
    summarise_rounds,
)
from tests.support.live import start_live  # noqa: E402


@contextmanager
def _database(kind: str, tmp: Path, pg_url: str | None) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp / 'nfvo.db'}"
        return
    assert pg_url
    yield from _pg_schema_url(pg_url)


def _histogram(values: Iterable[int]) -> dict[str, int]:
    return {str(k): n for k, n in sorted(Counter(values).items())}


def _exactness(api: Any, vim_id: str, runs: int) -> dict[str, Any]:
    results, errors = [], []
    for _ in range(runs):
        try:
            results.append(exactness_run(api.client, api.data_dir, vim_id))
        except (AssertionError, httpx.HTTPError) as exc:  # a run that broke counts as wrong
            errors.append(str(exc)[:300])
    return {
        "runs": runs,
        "runs_broken": len(errors),
        "broken": errors[:5],
        "runs_exact": sum(r.exact for r in results),
        "runs_clean_after_terminate": sum(
            r.terminate_state == "COMPLETED" and not any(r.left_after_terminate.values())
            for r in results
        ),
        "servers_reported": _histogram(r.reported["servers"] for r in results),
        "servers_on_vim": _histogram(r.on_vim["servers"] for r in results),
        "mismatches": [
            {"reported": r.reported, "on_vim": r.on_vim, "diff": r.mismatch}
            for r in results
            if not r.exact
        ][:5],
        "median_s_per_run": (
            round(statistics.median(r.seconds for r in results), 2) if results else None
        ),
    }


def _round(api: Any, racer: Racer, case: RaceCase, vim_id: str) -> RoundResult:
    try:
        return race_round(api.client, racer, case, vim_id, api.data_dir)
    except (AssertionError, httpx.HTTPError) as exc:  # a round that broke counts as wrong
        return RoundResult(case.name, {}, 0, 0, [], [f"round broke: {str(exc)[:300]}"])


def _races(api: Any, vim_id: str, rounds: int) -> dict[str, Any]:
    out = {}
    racer = Racer(api.base_url, api.client.headers)
    try:
        for name, case in CASES.items():
            results = [_round(api, racer, case, vim_id) for _ in range(rounds)]
            out[name] = summarise_rounds(results)
    finally:
        racer.close()
    return out


def _run(kind: str, pg_url: str | None, rounds: int, exact_runs: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, _database(kind, Path(tmp), pg_url) as url:
        api = start_live(Path(tmp) / "data", url, sync_interval_seconds=0)
        try:
            onboard_catalog(api.client)
            vim_id = register_sim_vim(api.client)
            report = {
                "exactness": _exactness(api, vim_id, exact_runs),
                "races": _races(api, vim_id, rounds),
            }
        finally:
            api.close()
    ex = report["exactness"]
    exact_ok = ex["runs_exact"] == ex["runs"] == ex["runs_clean_after_terminate"]
    races_ok = all(r["rounds_ok"] == r["rounds"] for r in report["races"].values())
    report["pass"] = exact_ok and races_ok
    return report


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=100, help="rounds per race case")
    ap.add_argument("--exact-runs", type=int, default=20, help="runs of the 51-VNF NS")
    ap.add_argument("--db", default="sqlite,postgresql", help="comma-separated databases")
    ap.add_argument("--pg-url", default=os.environ.get(PG_ENV), help=f"default: ${PG_ENV}")
    args = ap.parse_args()
    logging.disable(logging.CRITICAL)  # the server logs every 500 it answers; counted below
    out: dict[str, Any] = {}
    for kind in args.db.split(","):
        if kind == "postgresql" and not args.pg_url:
            out[kind] = {"skipped": f"no --pg-url and no {PG_ENV}"}
            continue
        out[kind] = _run(kind, args.pg_url, args.rounds, args.exact_runs)
    print(json.dumps(out, indent=2))
    sys.exit(0 if all(r.get("pass", True) for r in out.values()) else 1)


if __name__ == "__main__":
    main()
