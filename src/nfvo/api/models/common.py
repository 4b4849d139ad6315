"""Shapes shared by every API: ProblemDetails, links, key-value pairs."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

KeyValuePairs = dict[str, Any]


class Open(BaseModel):
    """A response shape: the attributes listed are typed; a newer server may add others."""

    model_config = ConfigDict(extra="allow")


class Closed(BaseModel):
    """A request shape: attributes not listed are refused."""

    model_config = ConfigDict(extra="forbid")


class ProblemDetails(Open):
    """RFC 7807 / SOL013 §6.3: every error the API answers."""

    type: str = Field("about:blank", description="URI of the problem type")
    title: str | None = Field(None, description="the status phrase")
    status: int = Field(description="the HTTP status code")
    detail: str = Field(description="what went wrong, for a human")
    instance: str | None = Field(None, description="the request path")
    field: str | list[str] | None = Field(None, description="the request attribute at fault")
    invalidParams: list[Any] | None = Field(None, description="the parameters at fault")


class Link(Open):
    """SOL013 Link: an absolute URI."""

    href: str


class Checksum(Open):
    """SOL005 Checksum."""

    algorithm: str
    hash: str


class ApiVersion(Open):
    """One version of a SOL005 API."""

    version: str
    isDeprecated: bool | None = None
    retirementDate: str | None = None


class ApiVersionInformation(Open):
    """SOL013 §9.3.3: the versions one API serves."""

    uriPrefix: str
    apiVersions: list[ApiVersion]


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def optional(description: str | None = None, **constraints: Any) -> Any:
    """An optional request attribute that may be omitted but not null."""
    return Field(None, description=description, json_schema_extra=_no_default, **constraints)
