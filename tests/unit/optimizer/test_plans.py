"""Consolidation and rebalance plans: validity under an independent replay, quality, limits."""

from __future__ import annotations

import itertools
import random
import statistics
from collections import defaultdict

import pytest

from nfvo.optimizer.model import HostCapacity, PlacementRule
from nfvo.optimizer.plans import ActionPlan, Running, consolidate, rebalance

GIB = 1024
HOST = (64.0, 256.0 * GIB, 1500.0)
# Nova-like flavours (vcpus, ram MiB, disk GiB): general, compute-heavy, memory-heavy;
# none larger than half a host.
FLAVOURS = [
    (1, 2 * GIB, 20),
    (2, 4 * GIB, 40),
    (4, 8 * GIB, 80),
    (8, 16 * GIB, 160),
    (16, 32 * GIB, 320),
    (8, 8 * GIB, 80),
    (16, 16 * GIB, 160),
    (32, 32 * GIB, 320),
    (4, 32 * GIB, 80),
    (8, 64 * GIB, 160),
    (16, 128 * GIB, 320),
]


# --- an independent checker: replays the plan, shares no code with the planner ------------


def _members(rule, running):
    ids = {r.id for r in running}
    out = set()
    for m in rule.members:
        if m in ids:
            out.add(m)
        out.update(r.id for r in running if r.group == m)
    return out


def _holds(rule, members, where, zone_of):
    places = [where[m] if rule.scope == "host" else zone_of[where[m]] for m in members]
    if rule.kind == "affinity":
        return len(set(places)) <= 1
    return len(set(places)) == len(places)


def check_plan(hosts, running, rules, plan: ActionPlan, max_migrations=None):
    """Replay ``plan`` step by step; fail on any capacity, state, pin or rule violation."""
    by_name = {h.name: h for h in hosts}
    zone_of = {h.name: h.zone for h in hosts}
    free = {h.name: list(h.free()) for h in hosts}
    where = {r.id: r.host for r in running}
    item = {r.id: r for r in running}
    expanded = [(rule, _members(rule, running)) for rule in rules]
    kept = [(r, m) for r, m in expanded if _holds(r, m, where, zone_of)]
    if max_migrations is not None:
        assert len(plan.migrations) <= max_migrations
    seen_batches = set()
    for k, mig in enumerate(plan.migrations):
        r = item[mig.demand_id]
        src, tgt = by_name[mig.source], by_name[mig.target]
        assert where[r.id] == mig.source, f"step {k}: {r.id} is not on {mig.source}"
        assert r.movable, f"step {k}: {r.id} is not movable"
        assert src.up and src.state != "down", f"step {k}: {r.id} moved off a down host"
        assert tgt.up and tgt.state == "up", f"step {k}: target {tgt.name} not schedulable"
        assert mig.source != mig.target
        assert r.zone_pin is None or tgt.zone == r.zone_pin, f"step {k}: zone pin of {r.id}"
        assert (mig.ns_id, mig.vnf_id) == (r.ns_id, r.vnf_id)
        for d, amount in enumerate(r.size()):
            free[mig.source][d] += amount
            free[mig.target][d] -= amount
            assert free[mig.target][d] >= -1e-6, f"step {k}: {tgt.name} over capacity"
        where[r.id] = mig.target
        nxt = plan.migrations[k + 1] if k + 1 < len(plan.migrations) else None
        batch_open = mig.batch is not None and nxt is not None and nxt.batch == mig.batch
        if mig.batch is not None and not batch_open:
            assert mig.batch not in seen_batches, "a batch must be consecutive"
            seen_batches.add(mig.batch)
        for rule, members in kept:
            if rule.kind == "affinity" and rule.scope == "host" and batch_open:
                continue
            assert _holds(rule, members, where, zone_of), f"step {k}: {rule} broken"
    for h in plan.hosts_emptied:
        assert not [i for i, at in where.items() if at == h], f"{h} is not empty"
    assert plan.after["hostsUsed"] == len(set(where.values()))
    return where


# --- scenario: identical hosts loaded at random --------------------------------------------


def loaded_cluster(seed, n_hosts=40, load=0.35, anti_share=0.25, zones=1, flavours=FLAVOURS):
    """Hosts filled at random (first host that fits in random order) to ``load`` of the dominant
    dimension, with replica sets of 1-4 and host anti-affinity on some of them."""
    rng = random.Random(seed)
    names = [f"host-{i:03d}" for i in range(n_hosts)]
    free = {n: list(HOST) for n in names}
    running, rules, used = [], [], [0.0, 0.0, 0.0]
    group = 0
    while max(u / (c * n_hosts) for u, c in zip(used, HOST, strict=True)) < load:
        flavour = rng.choice(flavours)
        replicas = rng.randint(1, 4)
        gname = f"g{group}"
        group += 1
        anti = replicas > 1 and rng.random() < anti_share
        taken: set[str] = set()
        for k in range(replicas):
            order = names[:]
            rng.shuffle(order)
            for n in order:
                if n in taken and anti:
                    continue
                if all(free[n][d] >= flavour[d] for d in range(3)):
                    break
            else:
                continue
            free[n] = [free[n][d] - flavour[d] for d in range(3)]
            used = [used[d] + flavour[d] for d in range(3)]
            taken.add(n)
            running.append(
                Running(f"{gname}-{k}", n, *flavour, group=gname, vnf_id=gname, ns_id="ns")
            )
        if anti:
            rules.append(PlacementRule("anti_affinity", "host", [gname], label=f"anti-{gname}"))
    hosts = [
        HostCapacity(
            n,
            f"az{i % zones}",
            *free[n],
            vcpus_total=HOST[0],
            ram_mib_total=HOST[1],
            disk_gib_total=HOST[2],
        )
        for i, n in enumerate(names)
    ]
    return hosts, running, rules
