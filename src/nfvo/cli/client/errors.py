"""What can go wrong in a client command, how it is told to the user, and its exit code.

Why it exists: a command line used from scripts needs stable exit codes and errors that
say what to do next; a user needs the server's ProblemDetails, never a Python traceback
(unless ``--debug``). Every client command runs under :func:`handled`.
"""

from __future__ import annotations

import functools
import sys
import traceback
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import httpx
import typer

from nfvo.cli.client import context

EXIT_OK = 0
EXIT_API = 1  # the API refused the request, or the operation waited for did not succeed
EXIT_USAGE = 2  # bad arguments (also click's own usage errors)
EXIT_CONNECTION = 3  # the server could not be reached
EXIT_AUTH = 4  # not logged in, or the token expired and no credentials are at hand
EXIT_TIMEOUT = 5  # --wait gave up before the operation finished
EXIT_INTERRUPTED = 130

# ProblemDetails members shown in the first line (the rest are listed below it).
_HEAD = ("type", "title", "status", "detail")

P = ParamSpec("P")
R = TypeVar("R")


class CliError(Exception):
    """An error the user can act on; ``lines()`` is what goes to stderr."""

    exit_code = EXIT_API

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def lines(self) -> list[str]:
        out = [f"error: {self.message}"]
        if self.hint:
            out.append(f"hint: {self.hint}")
        return out


class UsageError(CliError):
    """The command line does not make sense (exit 2, like click's usage errors)."""

    exit_code = EXIT_USAGE


class ConnectionFailed(CliError):
    """No answer from the server at the URL in use."""

    exit_code = EXIT_CONNECTION


class NotAuthenticated(CliError):
    """The server wants a token and none can be had without the user."""

    exit_code = EXIT_AUTH


class WaitTimeout(CliError):
    """``--wait`` ran out of time; the operation goes on on the server."""

    exit_code = EXIT_TIMEOUT


class ApiError(CliError):
    """The API answered 4xx/5xx; ``problem`` is its ProblemDetails (or one made up for a
    body that is not one)."""

    def __init__(self, problem: dict[str, Any], hint: str | None = None) -> None:
        self.problem = problem
        self.status = int(problem.get("status") or 0)
        super().__init__(str(problem.get("detail") or problem.get("title") or "error"), hint)

    @classmethod
    def from_response(cls, r: httpx.Response, hint: str | None = None) -> ApiError:
        """The ProblemDetails of a failed response (RFC 7807 body or a synthetic one)."""
        try:
            body = r.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or "status" not in body:
            text = r.text.strip()[:500] if r.text else ""
            body = {
                "title": r.reason_phrase or "HTTP error",
                "status": r.status_code,
                "detail": text or f"{r.request.method} {r.request.url} answered {r.status_code}",
            }
        return cls(body, hint)

    def lines(self) -> list[str]:
        out = format_problem(self.problem)
        if self.hint:
            out.append(f"hint: {self.hint}")
        return out


class OperationFailed(CliError):
    """An operation waited for ended in a state other than the one asked for."""

    def __init__(self, what: str, state: str, problem: dict[str, Any] | None, hint: str) -> None:
        super().__init__(f"{what} ended {state}", hint)
        self.state = state
        self.problem = problem

    def lines(self) -> list[str]:
        out = [f"error: {self.message}"]
        if self.problem:
            out += ["  " + line for line in format_problem(self.problem, prefix="")]
        if self.hint:
            out.append(f"hint: {self.hint}")
        return out


def format_problem(problem: dict[str, Any], prefix: str = "error: ") -> list[str]:
    """A ProblemDetails as text lines: title, status and detail first, then the field and
    any other member (VIM error, VNF, VDU...), then the invalid parameters."""
    title = problem.get("title") or "Error"
    status = problem.get("status")
    head = f"{title} ({status})" if status else str(title)
    detail = problem.get("detail")
    out = [f"{prefix}{head}: {detail}" if detail else f"{prefix}{head}"]
    for key, value in problem.items():
        if key in _HEAD or key == "invalidParams" or value in (None, "", [], {}):
            continue
        out.append(f"  {key}: {_flat(value)}")
    for p in problem.get("invalidParams") or []:
        if isinstance(p, dict):
            out.append(f"  invalid: {p.get('field', p.get('name', '?'))}: {p.get('reason', '')}")
        else:
            out.append(f"  invalid: {p}")
    if problem.get("type") not in (None, "about:blank"):
        out.append(f"  type: {problem['type']}")
    return out


def _flat(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}={_flat(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_flat(v) for v in value)
    return str(value)


def report(lines: list[str]) -> None:
    """Print error lines to stderr (plain text: no markup, safe for any content)."""
    for line in lines:
        print(line, file=sys.stderr)


def handled(func: Callable[P, R]) -> Callable[P, R]:
    """Run a command: :class:`CliError` and transport errors become a message on stderr and
    an exit code; anything else too, with the traceback only under ``--debug``."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except CliError as exc:
            if context.STATE.debug:
                traceback.print_exc()
            report(exc.lines())
            raise typer.Exit(exc.exit_code) from None
        except httpx.TimeoutException as exc:
            if context.STATE.debug:
                traceback.print_exc()
            report([f"error: the server did not answer in time ({exc.__class__.__name__})"])
            raise typer.Exit(EXIT_CONNECTION) from None
        except KeyboardInterrupt:
            report(["interrupted (an operation already accepted goes on on the server)"])
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except Exception as exc:  # noqa: BLE001 - the last line of defence for the user
            if context.STATE.debug:
                traceback.print_exc()
            report(
                [
                    f"error: {exc.__class__.__name__}: {exc}",
                    "hint: run with --debug (nfvo --debug ...) for the traceback",
                ]
            )
            raise typer.Exit(EXIT_API) from None

    return wrapper
