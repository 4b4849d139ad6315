"""Durable NS life-cycle workflows on DBOS.

Each operation occurrence runs as a DBOS workflow on the nfvo database (SQLite embedded,
PostgreSQL in production). Every VIM/VNFM call is a checkpointed step whose VIM creates carry
idempotency keys, so a process killed anywhere resumes on restart from the last finished step
and never duplicates a resource. Independent VNFs of one dependency layer are deployed
concurrently within one step (see ``deploy_layer``). A failed step leaves the op in
FAILED_TEMP with a ProblemDetails naming the VNF, VDU, VIM and the VIM's own message;
``retry`` runs the workflow again under a new id (finished steps are idempotent),
``rollback`` removes exactly what the operation created.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar
from urllib.parse import parse_qs, unquote, urlsplit

import sqlalchemy as sa
from dbos import DBOS, SetWorkflowID

from nfvo import __version__
from nfvo.inventory.db import sqlite_path
from nfvo.lcm import actions, codec, steps
from nfvo.lcm.model import ChangeSet, NsLevelPlan
from nfvo.lcm.states import OpType
from nfvo.private_files import private_sqlite_file

log = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")

_lock = threading.Lock()
_launched_url: str | None = None
QUEUE_NAME = "nfvo_lcm"


@dataclass
class _Runtime:
    role: str = "all"
    queue: Any = None
    sys_engine: sa.Engine | None = None  # the SQLite system database's (nfvo disposes it)


_runtime = _Runtime()


@dataclass
class CrashHook:
    """Test hook: ``NFVO_CRASH_AFTER_STEP=k`` kills the process (like kill -9) right after the
    k-th checkpointed step of this process did its work, before DBOS records it."""

    after: int | None = None
    done: int = 0

    def tick(self) -> None:
        if self.after is None:
            return
        with _lock:
            self.done += 1
            if self.done == self.after:
                os._exit(137)


CRASH = CrashHook(
    int(os.environ["NFVO_CRASH_AFTER_STEP"]) if os.environ.get("NFVO_CRASH_AFTER_STEP") else None
)


def _step(func: Callable[P, R]) -> Callable[P, R]:
    """A DBOS step that also counts for the crash hook."""

    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        out = func(*args, **kwargs)
        CRASH.tick()
        return out

    wrapper.__name__ = func.__name__
    wrapper.__qualname__ = func.__qualname__
    return DBOS.step(name=f"nfvo.{func.__name__}")(wrapper)


def plan_and_link(op_id: str) -> NsLevelPlan:
    """Plan and place the NS, then create its NS virtual links (keyed: a re-run after a
    crash reuses the stored plan and gets back the same networks)."""
    plan = steps.plan(op_id)
    CRASH.tick()  # planned, no network yet
    if plan.virtual_links:
        steps.create_ns_vls(op_id, plan.virtual_links)
    return plan


plan_step = _step(plan_and_link)
deploy_vnf_step = _step(steps.deploy_vnf)
finish_instantiate_step = _step(steps.finish_instantiate)
layers_step = _step(steps.terminate_layers)
terminate_vnf_step = _step(steps.terminate_vnf)
delete_vls_step = _step(steps.delete_ns_vls)
finish_terminate_step = _step(steps.finish_terminate)
rollback_step = _step(steps.rollback_instantiate)
fail_step = _step(steps.record_failure)
cancel_check_step = DBOS.step(name="nfvo.check_cancel")(steps.check_cancel)
begin_modify_step = _step(steps.begin_modify)
scale_vnf_step = _step(steps.scale_vnf)
heal_vnf_step = _step(steps.heal_vnf)
operate_vnf_step = _step(steps.operate_vnf)
finish_modify_step = _step(steps.finish_modify)
set_spec_step = _step(steps.set_spec)
rollback_modify_step = _step(steps.rollback_modify)


def migrate_vdus(op_id: str) -> None:
    """Action plan migrations of an UPDATE op (``nfvo.lcm.actions``)."""
    actions.migrate_vdus(op_id, CRASH.tick, _start_sibling)


def _start_sibling(op_id: str, operation: str, generation: int) -> None:
    """Start another op's workflow from a thread outside this step's context (a no-op when it
    exists: workflow ids are unique per op and attempt)."""
    threading.Thread(target=start, args=(op_id, operation, generation), daemon=True).start()


migrate_vdus_step = _step(migrate_vdus)


# VNFs of one dependency layer are deployed (or removed) concurrently inside one step: each
# VNF's own rows, committed when it is done, are its checkpoint, and the VNFM's keyed creates
# make a re-run after a crash finish the job without duplicates. One DBOS step per layer
# instead of a child workflow per VNF keeps the engine's bookkeeping independent of the
# number of VNFs.
_VNF_WORKERS = int(os.environ.get("NFVO_LCM_VNF_CONCURRENCY", "16"))
if not 1 <= _VNF_WORKERS <= 256:
    raise ValueError("NFVO_LCM_VNF_CONCURRENCY must be between 1 and 256")
_pool = ThreadPoolExecutor(max_workers=_VNF_WORKERS, thread_name_prefix="nfvo-vnf")


def _each_vnf(op_id: str, vnf_ids: list[str], work: Callable[[str, str], None]) -> None:
    """``work(op_id, vnf_id)`` for every VNF at once; all finish, then the first error
    (in layer order) is raised."""

    def one(vnf_id: str) -> None:
        work(op_id, vnf_id)
        CRASH.tick()  # a VNF's committed rows are a checkpoint of their own

    futures = [_pool.submit(one, vnf_id) for vnf_id in vnf_ids]
    errors = []
    for future in futures:
        try:
            future.result()
        except Exception as exc:  # collect all: the first failure is reported
            errors.append(exc)
    if errors:
        raise errors[0]


def deploy_layer(op_id: str, vnf_ids: list[str]) -> None:
    """Deploy the VNFs of one layer (unless the client cancelled the operation): their VNFC
    rows are written first (one transaction), the VNFM deploys them all at once, and what it
    created is recorded in one transaction, also for the VNFs that did deploy when another
    failed. A crash before that record loses nothing: the VNFC rows carry the VIM keys, and
    the re-run step gets the same servers back."""
    specs = steps.prepare_deploy(vnf_ids, op_id)
    vnfm = steps.ctx().vnfm
    futures = [_pool.submit(vnfm.instantiate, spec) for spec in specs]
    deployed, errors = [], []
    for spec, future in zip(specs, futures, strict=True):
        try:
            deployed.append((spec, future.result()))
        except Exception as exc:  # collect all: the first failure is reported
            errors.append(exc)
            continue
        CRASH.tick()  # a VNF on its VIM, not yet recorded: the re-run must find it by keys
    steps.save_deployed(deployed)
    if errors:
        raise errors[0]


def terminate_layer(op_id: str, vnf_ids: list[str]) -> None:
    """Remove the VNFs of one layer (unless the client cancelled the operation)."""
    steps.check_cancel(op_id)
    _each_vnf(op_id, vnf_ids, steps.terminate_vnf)


deploy_layer_step = _step(deploy_layer)
terminate_layer_step = _step(terminate_layer)


def _typed(cls: type[R], result: Any) -> R:
    """A step's recorded result as ``cls``: a workflow that recorded the step before it
    returned typed records (then resumed by this version) holds its JSON form instead."""
    return result if isinstance(result, cls) else codec.from_json(cls, result)


def _run_layers(op_id: str, layers: list[list[str]], layer_step: Callable[..., None]) -> None:
    for layer in layers:  # each layer step checks first whether the client cancelled
        layer_step(op_id, list(layer))


@DBOS.workflow(name="nfvo.instantiate")
def instantiate_wf(op_id: str) -> None:
    """Plan and place and create NS virtual links, deploy VNFs layer by layer, finish. The
    client's cancel is honoured at the start of the plan, of each layer and of the finish."""
    try:
        plan = _typed(NsLevelPlan, plan_step(op_id))
        _run_layers(op_id, plan.vnf_layers, deploy_layer_step)
        finish_instantiate_step(op_id)
    except Exception as exc:
        fail_step(op_id, steps.problem_of(exc))


@DBOS.workflow(name="nfvo.terminate")
def terminate_wf(op_id: str) -> None:
    """Remove VNFs (reverse dependency order), then NS virtual links, then finish."""
    try:
        layers = layers_step(op_id)
        _run_layers(op_id, layers, terminate_layer_step)
        delete_vls_step(op_id)
        finish_terminate_step(op_id)
    except Exception as exc:
        fail_step(op_id, steps.problem_of(exc))


@DBOS.workflow(name="nfvo.modify")
def modify_wf(op_id: str) -> None:
    """SCALE / HEAL / UPDATE: apply the change set computed when the op was requested."""
    try:
        changes = _typed(ChangeSet, begin_modify_step(op_id))
        if changes.remove:
            terminate_layer_step(op_id, list(changes.remove))
        if changes.add:
            deploy_layer_step(op_id, list(changes.add))
        for vnf_id, sc in changes.scale.items():
            scale_vnf_step(op_id, vnf_id, sc.after)
            cancel_check_step(op_id)
        for vnf_id, heal in changes.heal.items():
            heal_vnf_step(op_id, vnf_id, heal.keys, heal.recreate)
            cancel_check_step(op_id)
        for vnf_id, state in changes.operate.items():
            operate_vnf_step(op_id, vnf_id, state)
        for vnf_id in changes.replace:  # CHANGE_VNF_DF: retire, then redeploy
            terminate_vnf_step(op_id, vnf_id)
            set_spec_step(op_id, vnf_id, "after")
            deploy_vnf_step(op_id, vnf_id)
        if actions.migrates(op_id):  # fixed at creation: the same answer on every replay
            migrate_vdus_step(op_id)
        finish_modify_step(op_id)
    except Exception as exc:
        fail_step(op_id, steps.problem_of(exc))


@DBOS.workflow(name="nfvo.rollback")
def rollback_wf(op_id: str) -> None:
    """Undo what the operation created (instantiate: every resource tagged with the NS;
    scale/update: the VNFs it added, the VDU counts it changed)."""
    try:
        if steps.operation_of(op_id) == OpType.INSTANTIATE:
            rollback_step(op_id)
        else:
            rollback_modify_step(op_id)
    except Exception as exc:
        fail_step(op_id, steps.problem_of(exc))


WORKFLOWS: dict[str, Callable[[str], None]] = {
    OpType.INSTANTIATE: instantiate_wf,
    OpType.TERMINATE: terminate_wf,
    OpType.SCALE: modify_wf,
    OpType.HEAL: modify_wf,
    OpType.UPDATE: modify_wf,
}


def workflow_id(op_id: str, generation: int, *, rollback: bool = False) -> str:
    """The durable workflow id of one attempt (or rollback) of an op occurrence."""
    return f"{op_id}:{'rollback' if rollback else 'run'}:{generation}"


@dataclass
class RecordedStep:
    """One checkpointed step of an op's workflow, as the engine recorded it."""

    name: str  # the step's registered name, e.g. "nfvo.deploy_layer"
    completed_at_ms: int | None
    error: str | None


def recorded_steps(op_id: str, generation: int, *, rollback: bool = False) -> list[RecordedStep]:
    """The steps the engine recorded for one attempt (or rollback) of an op occurrence, in
    order; empty when that workflow never ran. Read from the engine's own records."""
    out = []
    wf = workflow_id(op_id, generation, rollback=rollback)
    for info in DBOS.list_workflow_steps(wf, load_output=False):
        name = info["function_name"]
        if name.startswith("nfvo."):
            error = info.get("error")
            out.append(
                RecordedStep(name, info.get("completed_at_epoch_ms"), str(error) if error else None)
            )
    return out


def start(op_id: str, operation: str, generation: int, *, rollback: bool = False) -> None:
    """Start (durably) the workflow of an op occurrence; returns once it is recorded.

    ``all`` nodes run it at once; ``api`` nodes put it on the queue that ``worker`` nodes
    serve. The workflow id is unique per op and attempt, so it never runs twice at once.
    """
    wf = rollback_wf if rollback else WORKFLOWS[operation]
    with SetWorkflowID(workflow_id(op_id, generation, rollback=rollback)):
        if _runtime.role == "api" and _runtime.queue is not None:
            _runtime.queue.enqueue(wf, op_id)
        else:
            DBOS.start_workflow(wf, op_id)


def _system_db(url: str, data_dir: str) -> tuple[str, str]:
    """(DBOS system database URL, schema): beside nfvo's own tables."""
    if url.startswith("sqlite"):
        return f"sqlite:///{os.path.join(data_dir, 'workflows.db')}", "dbos"
    schema = "dbos"
    opts = parse_qs(urlsplit(url).query).get("options", [])
    for opt in opts:
        text = unquote(opt)
        if "search_path=" in text:
            schema = text.split("search_path=", 1)[1].split(",")[0].strip() + "_dbos"
    return url.replace("postgresql+psycopg://", "postgresql://"), schema


def _sqlite_set_up(dbapi_conn: Any, _record: Any) -> None:
    # as DBOS sets up its own SQLite connections (writers serialised by IMMEDIATE
    # transactions, a generous busy timeout, foreign keys), plus what nfvo's own database
    # has: write-ahead log, synced at checkpoints (an app crash loses nothing; a power loss
    # may lose the last commits of both files alike)
    dbapi_conn.isolation_level = "IMMEDIATE"
    dbapi_conn.execute("PRAGMA busy_timeout=30000")
    dbapi_conn.execute("PRAGMA foreign_keys=ON")
    dbapi_conn.execute("PRAGMA journal_mode=WAL")
    dbapi_conn.execute("PRAGMA synchronous=NORMAL")


def _sqlite_system_engine(url: str) -> sa.Engine:
    """The engine of DBOS's SQLite system database (DBOS's own one syncs the rollback
    journal at every commit, which costs each checkpoint an fsync). The file is created
    owner-only first, so its -wal and -shm are too."""
    db_file = sqlite_path(url)
    if db_file is not None:
        private_sqlite_file(db_file)
    engine = sa.create_engine(
        url,
        pool_size=20,
        max_overflow=0,
        pool_timeout=30,
        pool_pre_ping=True,
        connect_args={"check_same_thread": False},
    )
    sa.event.listen(engine, "connect", _sqlite_set_up)
    return engine


def launch(
    db_url: str,
    data_dir: str,
    context: steps.Context,
    *,
    role: str = "all",
    executor_id: str | None = None,
) -> None:
    """Configure and launch DBOS for this process (re-launching on another database).

    ``role``: ``all`` runs operations itself and serves the queue; ``api`` only enqueues;
    ``worker`` serves the queue. ``executor_id`` must be unique and stable per worker process
    (a restarted worker recovers the operations it was running); the default suits one node.
    """
    global _launched_url
    steps.set_context(context)
    with _lock:
        if _launched_url == db_url:
            return
        if _launched_url is not None:
            DBOS.destroy(destroy_registry=False)
        sys_url, schema = _system_db(db_url, data_dir)
        config: dict[str, Any] = {
            "name": "nfvo",
            "system_database_url": sys_url,
            "dbos_system_schema": schema,
            "application_version": __version__,
            "log_level": "WARNING",
        }
        if executor_id:
            config["executor_id"] = executor_id
        if _runtime.sys_engine is not None:
            _runtime.sys_engine.dispose()
            _runtime.sys_engine = None
        if sys_url.startswith("sqlite"):
            _runtime.sys_engine = config["system_database_engine"] = _sqlite_system_engine(sys_url)
        DBOS(config=config)  # type: ignore[arg-type]
        DBOS.listen_queues([] if role == "api" else [QUEUE_NAME])
        DBOS.launch()
        _runtime.role = role
        _runtime.queue = DBOS.register_queue(QUEUE_NAME, polling_interval_sec=1.0)
        _launched_url = db_url
