"""Errors raised while reading, verifying and parsing packages.

One exception type carries everything an operator needs to fix a package:
a stable machine-readable ``cause`` code, a human ``detail``, and where the
problem is (file inside the package, line, TOSCA path).
"""

from __future__ import annotations


class PackageError(Exception):
    """A package (CSAR) or descriptor is invalid; names what and where.

    ``cause`` is a short upper-snake code (e.g. ``ZIP_SLIP``, ``HASH_MISMATCH``,
    ``UNKNOWN_NODE_TYPE``) that tests and clients can match on.
    """

    def __init__(
        self,
        cause: str,
        detail: str,
        *,
        file: str | None = None,
        line: int | None = None,
        tosca_path: str | None = None,
    ) -> None:
        self.cause = cause
        self.detail = detail
        self.file = file
        self.line = line
        self.tosca_path = tosca_path
        super().__init__(self.message())

    def message(self) -> str:
        """One line: ``file:line: tosca.path: detail [CAUSE]``."""
        where = ""
        if self.file:
            where = self.file + (f":{self.line}" if self.line else "") + ": "
        if self.tosca_path:
            where += self.tosca_path + ": "
        return f"{where}{self.detail} [{self.cause}]"

    def to_dict(self) -> dict[str, object]:
        """Fields for a ProblemDetails body / onboardingFailureDetails."""
        out: dict[str, object] = {"cause": self.cause, "detail": self.message()}
        if self.file:
            out["file"] = self.file
        if self.line:
            out["line"] = self.line
        if self.tosca_path:
            out["toscaPath"] = self.tosca_path
        return out
