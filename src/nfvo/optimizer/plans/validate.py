"""Re-check a stored plan against the inventory as it is now, before (or while) applying it.

The inventory moves on between planning and applying: a target may have filled up, gone
down or been disabled, an instance may have moved. ``first_problem`` replays the migrations
in order on the current state with the same checks the planners use, and names the first
step that no longer holds, so the caller can stop there and plan again.
"""

from __future__ import annotations

from collections.abc import Sequence

from nfvo.optimizer.model import HostCapacity, PlacementRule
from nfvo.optimizer.plans.model import Migration, Running
from nfvo.optimizer.plans.state import PlanState


def _steps(migrations: Sequence[Migration]) -> list[list[Migration]]:
    """Migrations grouped as they must be applied: a batch together, the others alone."""
    out: list[list[Migration]] = []
    for mig in migrations:
        if out and mig.batch is not None and out[-1][0].batch == mig.batch:
            out[-1].append(mig)
        else:
            out.append([mig])
    return out


def first_problem(
    hosts: Sequence[HostCapacity],
    running: Sequence[Running],
    rules: Sequence[PlacementRule],
    migrations: Sequence[Migration],
) -> str | None:
    """The first migration that is not valid on the current state, as a sentence; else None."""
    try:
        state = PlanState(hosts, running, rules)
    except ValueError as exc:
        return str(exc)
    done = 0
    for step in _steps(migrations):
        first = step[0]
        where = f"migration {done + 1} ({first.demand_id} {first.source} -> {first.target})"
        if any(m.demand_id not in state.items for m in step):
            return f"{where}: the instance no longer runs"
        if any(m.target not in state.index for m in step):
            return f"{where}: the target host is unknown"
        if any(state.names[state.pos[m.demand_id]] != m.source for m in step):
            return f"{where}: the instance is no longer on {first.source}"
        if len({m.target for m in step}) != 1:
            return f"{where}: one batch names several targets"
        unit = state.units[state.unit_of[first.demand_id]]
        target = state.index[first.target]
        moving = {m for m in unit.members if state.pos[m] != target}
        if moving != {m.demand_id for m in step}:
            return f"{where}: host-affinity members must move together: {sorted(unit.members)}"
        if not unit.movable:
            return f"{where}: {unit.why_not}"
        if not state.schedulable[target]:
            return f"{where}: host {first.target} is not schedulable"
        if not state.fits(unit)[target]:
            return f"{where}: host {first.target} lacks the room"
        blocker = state.blocker(unit, target)
        if blocker is not None:
            return f"{where}: {blocker}"
        state.move(unit, target, first.batch)
        done += len(step)
    return None
