"""Error reporting of the client: ProblemDetails as text, exit codes, no traceback unless
--debug."""

from __future__ import annotations

import pytest
import typer

from nfvo.cli.client import context
from nfvo.cli.client.errors import (
    EXIT_API,
    EXIT_CONNECTION,
    EXIT_USAGE,
    ApiError,
    ConnectionFailed,
    OperationFailed,
    UsageError,
    format_problem,
    handled,
)


def test_problem_lines_name_the_field_and_extras() -> None:
    lines = format_problem(
        {
            "type": "about:blank",
            "title": "Bad Request",
            "status": 400,
            "detail": "nsFlavourId is required",
            "instance": "/nslcm/v2/ns_instances/1/instantiate",
            "field": "nsFlavourId",
            "invalidParams": [{"field": "nsFlavourId", "reason": "missing"}],
        }
    )
    assert lines == [
        "error: Bad Request (400): nsFlavourId is required",
        "  instance: /nslcm/v2/ns_instances/1/instantiate",
        "  field: nsFlavourId",
        "  invalid: nsFlavourId: missing",
    ]
    vim = format_problem(
        {"title": "VIM error", "status": 500, "detail": "boom", "vimError": "VimUnavailable"},
        prefix="",
    )
    assert vim == ["VIM error (500): boom", "  vimError: VimUnavailable"]
    typed = format_problem({"type": "urn:x", "title": "T", "status": 409})
    assert typed == ["error: T (409)", "  type: urn:x"]


def test_operation_failed_nests_the_problem() -> None:
    exc = OperationFailed(
        "SCALE shop (op 7)",
        "FAILED_TEMP",
        {"title": "VNF operation failed", "status": 500, "detail": "no room", "vduId": "web"},
        "nfvo op retry 7 --wait",
    )
    assert exc.lines() == [
        "error: SCALE shop (op 7) ended FAILED_TEMP",
        "  VNF operation failed (500): no room",
        "    vduId: web",
        "hint: nfvo op retry 7 --wait",
    ]
    assert exc.exit_code == EXIT_API


def _run(func: object) -> int:
    try:
        func()  # type: ignore[operator]
    except typer.Exit as exc:
        return exc.exit_code
    return 0


@pytest.mark.parametrize(
    ("error", "code", "text"),
    [
        (ApiError({"title": "Not Found", "status": 404, "detail": "no NS x"}), 1, "Not Found"),
        (UsageError("bad option", hint="try --help"), EXIT_USAGE, "hint: try --help"),
        (ConnectionFailed("cannot reach", hint="NFVO_URL"), EXIT_CONNECTION, "cannot reach"),
        (RuntimeError("kaput"), EXIT_API, "RuntimeError: kaput"),
    ],
)
def test_handled_errors_exit_with_their_code_and_no_traceback(
    error: Exception, code: int, text: str, capsys: pytest.CaptureFixture[str]
) -> None:
    context.reset(debug=False)

    @handled
    def command() -> None:
        raise error

    assert _run(command) == code
    err = capsys.readouterr().err
    assert text in err and "Traceback" not in err


def test_debug_shows_the_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    context.reset(debug=True)
    try:

        @handled
        def command() -> None:
            raise ApiError({"title": "Conflict", "status": 409, "detail": "busy"})

        assert _run(command) == EXIT_API
        err = capsys.readouterr().err
        assert "Traceback" in err and "error: Conflict (409): busy" in err
    finally:
        context.reset()


def test_handled_keeps_the_signature_for_typer() -> None:
    import inspect

    def command(name: str, count: int = 1) -> None:
        """Doc."""

    wrapped = handled(command)
    assert list(inspect.signature(wrapped).parameters) == ["name", "count"]
    assert wrapped.__doc__ == "Doc."
