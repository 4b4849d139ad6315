"""``nfvo op``: NS LCM operation occurrences and their tasks (retry, rollback, continue,
fail, cancel)."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, Any

import typer

from nfvo.cli.client.common import (
    DEFAULT_WAIT_TIMEOUT,
    OutputOpt,
    TimeoutOpt,
    WaitOpt,
    emit_one,
    op_id_of,
    open_session,
)
from nfvo.cli.client.errors import ApiError, format_problem, handled
from nfvo.cli.client.output import Format, details, emit, note, table, when
from nfvo.cli.client.progress import NS, OPS, wait_op
from nfvo.cli.client.session import ApiSession

op_app = typer.Typer(help="Operation occurrences: list, show, wait, retry, rollback, ...")

OpArg = Annotated[str, typer.Argument(help="Op occurrence id.")]

OP_COLUMNS = [
    ("ID", "id"),
    ("OPERATION", "lcmOperationType"),
    ("STATE", "operationState"),
    ("NS INSTANCE", "nsInstanceId"),
    ("STARTED", lambda o: when(o.get("startTime"))),
    ("STATE ENTERED", lambda o: when(o.get("statusEnteredTime"))),
]
OP_DETAILS = OP_COLUMNS + [
    ("AUTOMATIC", "isAutomaticInvocation"),
    ("CANCEL PENDING", "isCancelPending"),
    ("CANCEL MODE", "cancelMode"),
    ("PARAMS", "operationParams"),
    (
        "ERROR",
        lambda o: "\n".join(format_problem(o["error"], prefix="")) if o.get("error") else None,
    ),
]


_DONE = frozenset({"COMPLETED"})


class CancelMode(StrEnum):
    """SOL005 CancelModeType."""

    GRACEFUL = "GRACEFUL"
    FORCEFUL = "FORCEFUL"


def accepted(s: ApiSession, op_id: str, output: Format) -> None:
    """Report an operation the API accepted (202) without waiting for it."""
    op = s.get(f"{OPS}/{op_id}")
    emit(op, output, None)
    note(
        output,
        f"{op['lcmOperationType']} accepted: op occurrence {op_id} ({op['operationState']}). "
        f"Follow it with `nfvo op wait {op_id}`.",
    )


@op_app.command("list")
@handled
def op_list(
    ns: Annotated[
        str | None, typer.Option("--ns", help="Only the operations of this NS (id or name).")
    ] = None,
    state: Annotated[
        str | None, typer.Option(help="Only operations in this state (e.g. FAILED_TEMP).")
    ] = None,
    output: OutputOpt = Format.table,
) -> None:
    """Operation occurrences, oldest first."""
    filters = [f"(eq,operationState,{state})"] if state else []
    with open_session() as s:
        if ns:
            try:
                ns_id = s.find(NS, ns, ("nsInstanceName",))["id"]
            except ApiError as exc:
                if exc.status != 404:
                    raise
                ns_id = ns  # a deleted NS: its operations may still be listed
            filters.append(f"(eq,nsInstanceId,{ns_id})")
        rows = s.list(OPS, params={"filter": ";".join(filters)} if filters else None)
    emit(rows, output, table(rows, OP_COLUMNS, empty="no operations"))


@op_app.command("show")
@handled
def op_show(op: OpArg, output: OutputOpt = Format.table) -> None:
    """One operation occurrence, with its error when it failed."""
    emit_one(OPS, op, OP_DETAILS, output)


@op_app.command("wait")
@handled
def op_wait(
    op: OpArg,
    timeout: TimeoutOpt = DEFAULT_WAIT_TIMEOUT,
    output: OutputOpt = Format.table,
) -> None:
    """Follow an operation occurrence to its end (exit 1 unless it COMPLETED)."""
    with open_session() as s:
        item = wait_op(s, op, fmt=output, timeout=timeout)
    emit(item, output, None)


def follow(
    s: ApiSession,
    op_id: str,
    wait: bool,
    timeout: float,
    output: Format,
    see: Callable[[dict[str, Any]], str],
    success: frozenset[str] = _DONE,
) -> None:
    """An accepted operation: followed to its end (``--wait``; then ``see(op)`` is the dim
    note under the table), else reported accepted."""
    if not wait:
        accepted(s, op_id, output)
        return
    op = wait_op(s, op_id, fmt=output, timeout=timeout, success=success)
    emit(op, output, None)
    if output is Format.table:
        note(output, see(op), style="dim")


def _task(
    op: str,
    task: str,
    wait: bool,
    timeout: float,
    output: Format,
    success: frozenset[str],
    body: dict[str, Any] | None = None,
) -> None:
    with open_session() as s:
        r = s.post(f"{OPS}/{op}/{task}", body)
        op_id = op_id_of(r.headers.get("location")) if r.status_code == 202 else op
        follow(
            s,
            op_id,
            wait,
            timeout,
            output,
            lambda item: f"see `nfvo ns show {item.get('nsInstanceId')}`",
            success,
        )


def _task_command(task: str, success: frozenset[str], text: str) -> None:
    """Register ``nfvo op TASK OP`` (help ``text``), which ends well in a ``success`` state."""

    @op_app.command(task, help=text)
    @handled
    def command(
        op: OpArg,
        wait: WaitOpt = False,
        timeout: TimeoutOpt = DEFAULT_WAIT_TIMEOUT,
        output: OutputOpt = Format.table,
    ) -> None:
        _task(op, task, wait, timeout, output, success)


_task_command(
    "retry", _DONE, "Run a FAILED_TEMP operation again (finished steps are not repeated)."
)
_task_command(
    "rollback",
    frozenset({"ROLLED_BACK"}),
    "Undo what a FAILED_TEMP operation created (ends ROLLED_BACK).",
)
_task_command("continue", _DONE, "Continue a FAILED_TEMP operation past its failed step.")


@op_app.command("fail")
@handled
def op_fail(op: OpArg, output: OutputOpt = Format.table) -> None:
    """Mark a FAILED_TEMP operation FAILED (final; the NS keeps what was done)."""
    with open_session() as s:
        item = s.post(f"{OPS}/{op}/fail").json()
    emit(item, output, details(item, OP_DETAILS))


@op_app.command("cancel")
@handled
def op_cancel(
    op: OpArg,
    mode: Annotated[
        CancelMode, typer.Option("--mode", help="GRACEFUL: after the running step.")
    ] = CancelMode.GRACEFUL,
    wait: WaitOpt = False,
    timeout: TimeoutOpt = DEFAULT_WAIT_TIMEOUT,
    output: OutputOpt = Format.table,
) -> None:
    """Cancel a running operation (it ends FAILED_TEMP, or ROLLED_BACK if it had not
    started)."""
    _task(
        op,
        "cancel",
        wait,
        timeout,
        output,
        frozenset({"FAILED_TEMP", "ROLLED_BACK"}),
        {"cancelMode": mode.value},
    )
