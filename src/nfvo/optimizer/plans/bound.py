"""A proven lower bound on the hosts a consolidation must keep in use.

A consolidation only moves instances onto hosts already in use, so every host it keeps is
one of those. Three relaxations each give a minimum; the bound is the largest:

* ``volume``: the hosts holding an instance that cannot move are kept; the movable load must
  fit, dimension by dimension, in the room of kept hosts, so at least as many further hosts
  as it takes the largest rooms to cover it (exact for identical and for mixed hosts);
* ``anti_affinity``: the members of a host anti-affinity rule that holds now need as many
  distinct hosts (a rule already broken is not repaired, so it proves nothing);
* ``zones``: instances bound to a zone (zone pin, or stuck on a host there) need hosts of
  that zone; the zones' volume bounds add up since zones share no host. (Zone affinity is
  left out: a whole group may in principle move to another zone.)
"""

from __future__ import annotations

import math

import numpy as np

from nfvo.optimizer.plans.state import EPS, PlanState


def _cover(need: np.ndarray, rooms: np.ndarray) -> float:
    """Fewest rooms (rows) whose per-dimension sums cover ``need``; inf when none do."""
    count = 0
    for d in range(3):
        if need[d] <= EPS:
            continue
        col = np.sort(rooms[:, d])[::-1] if len(rooms) else np.zeros(0)
        total = np.cumsum(col)
        hit = np.nonzero(total >= need[d] - 1e-7 * max(1.0, need[d]))[0]
        if len(hit) == 0:
            return math.inf
        count = max(count, int(hit[0]) + 1)
    return count


def _volume(state: PlanState, hosts: list[int], ids: list[str]) -> float:
    """Volume bound for instances ``ids`` over ``hosts`` (hosts with a stuck instance kept)."""
    stuck_hosts = {state.pos[i] for i in ids if not state.units[state.unit_of[i]].movable}
    room = {}
    for h in hosts:
        mine = (
            np.sum([state.items[i].size() for i in state.on_host[h]], axis=0)
            if state.on_host[h]
            else np.zeros(3)
        )
        # Room for instances on this host once others' usage is left out; an overcommitted
        # host may keep what it holds, so never less than that.
        room[h] = np.maximum(state.free[h] + mine, mine)
    need = np.zeros(3)
    for i in ids:
        if state.units[state.unit_of[i]].movable:
            need += state.items[i].size()
    for h in stuck_hosts:
        stuck = [i for i in state.on_host[h] if not state.units[state.unit_of[i]].movable]
        room[h] = room[h] - np.sum([state.items[i].size() for i in stuck], axis=0)
        need -= np.maximum(room[h], 0.0)
    need = np.maximum(need, 0.0)
    others = [h for h in hosts if h not in stuck_hosts]
    rooms = np.array([np.maximum(room[h], 0.0) for h in others]).reshape(-1, 3)
    return len(stuck_hosts) + _cover(need, rooms)


def hosts_needed(state: PlanState) -> dict[str, float]:
    """Each named lower bound on the in-use hosts that must stay in use."""
    in_use = state.in_use()
    ids = list(state.items)
    bounds: dict[str, float] = {"volume": _volume(state, in_use, ids)}
    held = [r for r in state.rules.host_anti if len({state.pos[m] for m in r}) == len(r)]
    bounds["anti_affinity"] = float(max((len(r) for r in held), default=0))
    zone_of: dict[str, str] = {}
    for i, item in state.items.items():
        stuck = not state.units[state.unit_of[i]].movable
        z = item.zone_pin or (state.zone[state.pos[i]] if stuck else None)
        if z is not None:
            zone_of[i] = z
    total = 0.0
    for z in sorted(set(zone_of.values())):
        hosts = [h for h in in_use if state.zone[h] == z]
        total += _volume(state, hosts, [i for i, zi in zone_of.items() if zi == z])
    bounds["zones"] = total
    return bounds
