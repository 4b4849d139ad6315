"""Bounds on the sizes inside request bodies (docs/security-contract.md lists them).

The whole JSON body has its own limit; these bound the counts and lengths inside it, so that
a request that fits the body limit still cannot make one list, name or free-form map large
enough to slow every later read or notification.
"""

from __future__ import annotations

import json
from typing import Any

from nfvo.errors import BadRequest

MAX_NAME = 255  # names: nsName, vnfInstanceName, nsInstanceNames[] ...
MAX_DESCRIPTION = 4096  # descriptions
MAX_ID = 255  # identifiers in requests and filters
MAX_LIST = 100  # entries of any array in a request (ids in a filter, VNFs in an operation)
MAX_MAP_BYTES = 64 * 1024  # a free-form map (userDefinedData, additionalParams...) as JSON
MAX_URI = 2048  # callbackUri, addressInformation


def check_list(value: Any, field: str, limit: int = MAX_LIST) -> None:
    """400 naming ``field`` when ``value`` is an array of more than ``limit`` entries."""
    if isinstance(value, list) and len(value) > limit:
        raise BadRequest(f"{field} has {len(value)} entries; the limit is {limit}", field=field)


def check_string(value: Any, field: str, limit: int) -> None:
    """400 naming ``field`` when ``value`` is a string longer than ``limit`` characters."""
    if isinstance(value, str) and len(value) > limit:
        raise BadRequest(
            f"{field} is {len(value)} characters long; the limit is {limit}", field=field
        )


def check_map(value: Any, field: str, limit: int = MAX_MAP_BYTES) -> None:
    """400 naming ``field`` when ``value`` serialises to more than ``limit`` bytes of JSON."""
    if value is None:
        return
    size = len(json.dumps(value, separators=(",", ":")))
    if size > limit:
        raise BadRequest(f"{field} is {size} bytes as JSON; the limit is {limit}", field=field)


def check_object(value: Any, field: str) -> None:
    """400 naming ``field`` unless ``value`` is absent (None) or a JSON object."""
    if value is not None and not isinstance(value, dict):
        raise BadRequest(f"{field} must be a JSON object", field=field)


def check_array(value: Any, field: str, limit: int = MAX_LIST) -> list[Any]:
    """``value`` as a list (absent: empty); 400 naming ``field`` unless it is a bounded array."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadRequest(f"{field} must be an array", field=field)
    check_list(value, field, limit)
    return value


# -- structural checks ---------------------------------------------------------------------
# A shape is STRING, INTEGER, OBJECT (any JSON object), ANY, a dict (an object whose listed
# attributes have these shapes; others are free) or a one-element list (an array of that shape).
STRING = "string"
INTEGER = "integer"
OBJECT = "object"
ANY = "any"
Shape = str | dict[str, Any] | list[Any]


def check_shape(value: Any, shape: Shape, field: str) -> None:
    """400 naming the first attribute of ``value`` that is null, of another JSON type than
    ``shape`` says, or beyond its bound (arrays: MAX_LIST; strings: MAX_DESCRIPTION; objects:
    MAX_MAP_BYTES as JSON)."""
    if shape == ANY:
        return
    if value is None:
        raise BadRequest(f"{field} cannot be null; omit it instead", field=field)
    if shape == STRING:
        if not isinstance(value, str):
            raise BadRequest(f"{field} must be a string", field=field)
        check_string(value, field, MAX_DESCRIPTION)
    elif shape == INTEGER:
        if not isinstance(value, int) or isinstance(value, bool):
            raise BadRequest(f"{field} must be an integer", field=field)
    elif isinstance(shape, list):
        for i, entry in enumerate(check_array(value, field)):
            check_shape(entry, shape[0], f"{field}[{i}]")
    else:
        if not isinstance(value, dict):
            raise BadRequest(f"{field} must be a JSON object", field=field)
        check_map(value, field)
        if isinstance(shape, dict):
            for key, inner in shape.items():
                if key in value:
                    check_shape(value[key], inner, f"{field}.{key}")


def check_body(body: dict[str, Any], shape: dict[str, Shape]) -> None:
    """:func:`check_shape` on the attributes of a request body (named without a prefix)."""
    for key, inner in shape.items():
        if key in body:
            check_shape(body[key], inner, key)
