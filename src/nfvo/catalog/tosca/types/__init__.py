"""Built-in TOSCA type files: the normative TOSCA 1.3 types and the ETSI SOL001 NFV types.

Packages usually import the SOL001 types by their ETSI Forge URL; nfvo never fetches anything,
so such imports are mapped onto the project's own type files shipped in this folder. Each SOL001
file is one superset over the SOL001 editions 2.6.1 to 4.2.1, so every edition's URL maps to the
same logical file.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

NORMATIVE = "tosca_normative.yaml"

BUILTIN_FILES: dict[str, str] = {
    NORMATIVE: "tosca_normative.yaml",
    "sol001_common.yaml": "sol001_common.yaml",
    "sol001_vnfd.yaml": "sol001_vnfd.yaml",
    "sol001_nsd.yaml": "sol001_nsd.yaml",
    "sol001_pnfd.yaml": "sol001_pnfd.yaml",
}

# https://forge.etsi.org/rep/nfv/SOL001/raw/<ref>/etsi_nfv_sol001_<kind>_types.yaml, also with
# GitLab's "/-/raw/" form, plain http, and an optional query string or fragment.
_ETSI_URL = re.compile(
    r"https?://forge\.etsi\.org(?::443)?/rep/nfv/sol001/(?:-/)?raw/[^/?#]+/"
    r"etsi_nfv_sol001_(common|vnfd|nsd|pnfd)_types\.yaml(?:[?#].*)?",
    re.IGNORECASE,
)


def resolve_etsi_url(url: str) -> str | None:
    """Map an ETSI Forge SOL001 type-file URL (any edition) to a built-in logical name.

    Returns None for anything else, including bare file names: a package's own copy of
    ``etsi_nfv_sol001_*_types.yaml`` is an in-package import and takes precedence.
    """
    match = _ETSI_URL.fullmatch(url.strip())
    if match is None:
        return None
    return f"sol001_{match.group(1).lower()}.yaml"


@cache
def read_builtin(name: str) -> bytes:
    """Return the bytes of a built-in type file by logical name; KeyError if unknown."""
    filename = BUILTIN_FILES[name]
    return resources.files(__name__).joinpath(filename).read_bytes()
