"""``--wait``: follow an operation to its end, with a live display on a terminal.

Why it exists: NS operations, package onboarding and VIM checks run asynchronously on the
server; ``--wait`` polls the resource that tells their state (the op occurrence, the package,
the VIM account) and shows the operation, its state, how many VNFs are done (from the NS
instance: instantiated VNFs against the planned ones) and the elapsed time. On a terminal
this is a rich progress line redrawn in place; otherwise (logs, pipes, ``-o json``) one plain
line is printed per change. The end state decides the exit code: anything but the expected
state raises :class:`~nfvo.cli.client.errors.OperationFailed` carrying the ProblemDetails.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from nfvo.cli.client.errors import ApiError, OperationFailed, WaitTimeout
from nfvo.cli.client.output import Format, console, state_style
from nfvo.cli.client.session import ApiSession

OPS = "/nslcm/v2/ns_lcm_op_occs"
NS = "/nslcm/v2/ns_instances"
RUNNING_OP = frozenset({"STARTING", "PROCESSING", "ROLLING_BACK"})
DEFAULT_TIMEOUT = 3600.0


@dataclass
class Snapshot:
    """What one poll saw."""

    state: str
    finished: bool
    label: str = ""  # what the counter counts ("VNFs deployed")
    done: int | None = None
    total: int | None = None
    extra: str = ""  # e.g. "VNFCs 4"

    def counter(self) -> str:
        if self.done is None or self.total is None:
            return ""
        return f"{self.label} {self.done}/{self.total}"

    def key(self) -> tuple[Any, ...]:
        return (self.state, self.done, self.total)


class LiveDisplay:
    """A rich progress line redrawn in place (terminals only)."""

    def __init__(self, title: str) -> None:
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TextColumn("{task.fields[state]}"),
            BarColumn(bar_width=24),
            TextColumn("{task.fields[counter]}"),
            TimeElapsedColumn(),
            console=console(),
            refresh_per_second=8,
        )
        self.task = self.progress.add_task(
            f"[bold]{escape(title)}[/bold]", total=None, state="", counter=""
        )
        self.progress.start()

    def update(self, snap: Snapshot, elapsed: float) -> None:
        style = state_style(snap.state) or "default"
        fields = {"state": f"[{style}]{snap.state}[/]", "counter": escape(_counter(snap))}
        if snap.total:
            self.progress.update(self.task, total=snap.total, completed=snap.done or 0, **fields)
        else:
            self.progress.update(self.task, **fields)

    def close(self) -> None:
        self.progress.stop()


class LineDisplay:
    """One plain line per change of state or counter (logs, pipes, ``-o json``)."""

    def __init__(self, title: str, stderr: bool) -> None:
        self.title = title
        self.out = console(stderr=stderr)
        self.last: tuple[Any, ...] | None = None

    def update(self, snap: Snapshot, elapsed: float) -> None:
        if snap.key() == self.last:
            return
        self.last = snap.key()
        parts = [f"{elapsed:6.1f}s  {self.title}: {snap.state}"]
        if _counter(snap):
            parts.append(_counter(snap))
        self.out.print("  ".join(parts), markup=False, highlight=False, soft_wrap=True)

    def close(self) -> None:
        pass


def _counter(snap: Snapshot) -> str:
    return "  ".join(p for p in (snap.counter(), snap.extra) if p)


def follow(
    title: str,
    poll: Callable[[], Snapshot],
    *,
    fmt: Format,
    timeout: float = DEFAULT_TIMEOUT,
    interval: float = 0.1,
    on_timeout: str = "",
) -> tuple[Snapshot, float]:
    """Poll until ``poll`` says finished; (last snapshot, seconds waited)."""
    live = fmt is Format.table and console().is_terminal
    display: LiveDisplay | LineDisplay = (
        LiveDisplay(title) if live else LineDisplay(title, stderr=fmt is not Format.table)
    )
    start = time.monotonic()
    try:
        while True:
            snap = poll()
            elapsed = time.monotonic() - start
            display.update(snap, elapsed)
            if snap.finished:
                return snap, elapsed
            if elapsed > timeout:
                raise WaitTimeout(f"{title} still {snap.state} after {timeout:.0f} s", on_timeout)
            # quick polls first (most operations take seconds), then at most one per second
            time.sleep(min(1.0, interval + elapsed / 10))
    finally:
        display.close()


def done_line(fmt: Format, title: str, state: str, elapsed: float) -> None:
    """The final line: what ended, how, in how long."""
    out = console(stderr=fmt is not Format.table)
    style = state_style(state) or "bold"
    out.print(
        f"{escape(title)}: [{style}]{state}[/] in {elapsed:.1f} s", highlight=False, soft_wrap=True
    )


# -- NS operations -------------------------------------------------------------------------
def _vnf_snapshot(op: dict[str, Any], ns: dict[str, Any] | None, baseline: list[int]) -> Snapshot:
    state = op["operationState"]
    snap = Snapshot(state=state, finished=state not in RUNNING_OP)
    vnfs = (ns or {}).get("vnfInstance") or []
    kind = op.get("lcmOperationType")
    if not vnfs:
        if kind == "TERMINATE" and baseline and state != "ROLLING_BACK":
            snap.label, snap.done, snap.total = "VNFs removed", baseline[0], baseline[0]
        return snap
    up = sum(1 for v in vnfs if v.get("instantiationState") == "INSTANTIATED")
    vnfcs = sum(
        len((v.get("instantiatedVnfInfo") or {}).get("vnfcResourceInfo") or []) for v in vnfs
    )
    if not baseline:
        baseline.append(up)
    if kind == "TERMINATE" and state != "ROLLING_BACK":
        snap.label, snap.done, snap.total = "VNFs removed", baseline[0] - up, baseline[0]
    elif kind == "INSTANTIATE" and state != "ROLLING_BACK":
        snap.label, snap.done, snap.total = "VNFs deployed", up, len(vnfs)
    else:
        snap.label, snap.done, snap.total = "VNFs up", up, len(vnfs)
    snap.extra = f"VNFCs {vnfcs}"
    return snap


def op_failure_hint(op_id: str, state: str) -> str:
    """What to do about an op occurrence that ended ``state``."""
    if state == "FAILED_TEMP":
        return (
            f"fix the cause, then `nfvo op retry {op_id} --wait`; or undo it with "
            f"`nfvo op rollback {op_id} --wait`, or give up with `nfvo op fail {op_id}`"
        )
    if state == "ROLLED_BACK":
        return f"the operation's changes were undone; details: `nfvo op show {op_id}`"
    return f"details: `nfvo op show {op_id}`"


def wait_op(
    session: ApiSession,
    op_id: str,
    *,
    fmt: Format,
    timeout: float = DEFAULT_TIMEOUT,
    success: frozenset[str] = frozenset({"COMPLETED"}),
) -> dict[str, Any]:
    """Follow op occurrence ``op_id`` to its end; the final op, or OperationFailed."""
    first = session.get(f"{OPS}/{op_id}")
    ns_id = first["nsInstanceId"]
    try:
        name = session.get(f"{NS}/{ns_id}").get("nsInstanceName") or ns_id
    except ApiError:
        name = ns_id
    title = f"{first['lcmOperationType']} {name}"
    baseline: list[int] = []
    last: dict[str, Any] = {"op": first}

    def poll() -> Snapshot:
        op = session.get(f"{OPS}/{op_id}")
        last["op"] = op
        try:
            ns = session.get(f"{NS}/{ns_id}")
        except ApiError:
            ns = None  # the NS may be gone (deleted by another client); the op still tells
        return _vnf_snapshot(op, ns, baseline)

    snap, elapsed = follow(
        title,
        poll,
        fmt=fmt,
        timeout=timeout,
        on_timeout=f"it goes on on the server: `nfvo op show {op_id}`",
    )
    op = last["op"]
    if snap.state not in success:
        raise OperationFailed(
            f"{title} (op {op_id})",
            snap.state,
            op.get("error"),
            op_failure_hint(op_id, snap.state),
        )
    done_line(fmt, title, snap.state, elapsed)
    return op


# -- packages and VIM accounts -------------------------------------------------------------
def wait_state(
    title: str,
    fetch: Callable[[], dict[str, Any]],
    state_of: Callable[[dict[str, Any]], str],
    *,
    running: frozenset[str],
    success: str,
    problem_of: Callable[[dict[str, Any]], dict[str, Any] | None],
    hint: str,
    fmt: Format,
    timeout: float = DEFAULT_TIMEOUT,
) -> dict[str, Any]:
    """Follow a resource whose state field leaves ``running`` at the end (packages, VIMs)."""
    last: dict[str, Any] = {}

    def poll() -> Snapshot:
        last["item"] = fetch()
        state = state_of(last["item"])
        return Snapshot(state=state, finished=state not in running)

    snap, elapsed = follow(title, poll, fmt=fmt, timeout=timeout)
    if snap.state != success:
        raise OperationFailed(title, snap.state, problem_of(last["item"]), hint)
    done_line(fmt, title, snap.state, elapsed)
    return last["item"]
