"""The dependency rules of the house, checked on the source: the API layer and the GUI reach the
inventory and the VIM drivers only through services, the LCM hands VNFs to the VNFM contract
(never to the generic VNFM's internals), and only the inventory reads or writes an NS's
records. Imports under ``if TYPE_CHECKING:`` (type hints only) are not dependencies."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "nfvo"


def _runtime_imports(path: Path) -> set[str]:
    """Modules a file imports when it runs (``if TYPE_CHECKING`` blocks left out)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped |= {id(n) for child in node.body for n in ast.walk(child)}
    out = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
            out |= {f"{node.module}.{a.name}" for a in node.names}
    return out


def _files(package: str) -> list[Path]:
    return sorted((SRC / package).rglob("*.py"))


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("api", ("nfvo.inventory", "nfvo.vim")),
        ("ui", ("nfvo.inventory", "nfvo.vim", "dbos")),
        ("lcm", ("nfvo.vnfm.generic",)),
        ("inventory", ("nfvo.api", "nfvo.lcm", "nfvo.catalog", "nfvo.resources", "nfvo.vim")),
        ("vim", ("nfvo.lcm", "nfvo.api", "nfvo.inventory", "nfvo.vnfm")),
        ("optimizer", ("nfvo.inventory", "nfvo.vim", "nfvo.lcm")),
    ],
)
def test_dependency_direction(package: str, forbidden: tuple[str, ...]) -> None:
    offenders = {
        f"{path.relative_to(SRC)}: {name}"
        for path in _files(package)
        for name in _runtime_imports(path)
        if any(name == f or name.startswith(f + ".") for f in forbidden)
    }
    assert not offenders, sorted(offenders)


def test_only_the_inventory_touches_stored_ns_records() -> None:
    # the JSON documents an NS used to be kept in must not come back outside the inventory
    words = ("vnf_records", "vl_records")
    offenders = [
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if "inventory" not in path.relative_to(SRC).parts
        and any(w in path.read_text() for w in words)
    ]
    assert offenders == []


def test_the_rule_catches_a_violation(tmp_path: Path) -> None:
    sample = tmp_path / "m.py"
    sample.write_text(
        "from typing import TYPE_CHECKING\n"
        "from nfvo.inventory.db import Database\n"
        "if TYPE_CHECKING:\n    from nfvo.vim.base import VimDriver\n"
    )
    found = _runtime_imports(sample)
    assert "nfvo.inventory.db" in found and "nfvo.vim.base" not in found
