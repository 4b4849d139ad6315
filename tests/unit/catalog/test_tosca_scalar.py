"""Scalar-unit and version parsing, including property-based round trips."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nfvo.catalog.errors import PackageError
from nfvo.catalog.tosca import load_template
from nfvo.catalog.tosca.scalar import (
    SCALAR_KINDS,
    parse_scalar,
    parse_version,
    scalar_in,
)


@pytest.mark.parametrize(
    ("text", "kind", "base"),
    [
        ("8 GB", "scalar-unit.size", 8e9),
        ("8 GiB", "scalar-unit.size", 8 * 1024**3),
        ("512MiB", "scalar-unit.size", 512 * 1024**2),
        ("10 s", "scalar-unit.time", 10.0),
        ("250 ms", "scalar-unit.time", 0.25),
        ("2.4 GHz", "scalar-unit.frequency", 2.4e9),
        ("1 Gbps", "scalar-unit.bitrate", 1e9),
    ],
)
def test_known_scalars(text: str, kind: str, base: float):
    assert parse_scalar(text, kind).base == pytest.approx(base)


@pytest.mark.parametrize("bad", ["8", "GB", "8 parsecs", 8, None, "8 GB extra"])
def test_bad_scalars(bad: object):
    with pytest.raises(ValueError):
        parse_scalar(bad, "scalar-unit.size")


@given(
    kind=st.sampled_from(sorted(SCALAR_KINDS)),
    number=st.integers(min_value=0, max_value=10**9),
    data=st.data(),
    spaced=st.booleans(),
)
def test_scalar_round_trip(kind: str, number: int, data: st.DataObject, spaced: bool):
    unit = data.draw(st.sampled_from(sorted(SCALAR_KINDS[kind])))
    text = f"{number}{' ' if spaced else ''}{unit.upper() if data.draw(st.booleans()) else unit}"
    parsed = parse_scalar(text, kind)
    assert parsed.number == number
    assert parse_scalar(str(parsed), kind) == parsed
    assert scalar_in(text, kind, unit) == pytest.approx(number)


@given(st.tuples(st.integers(0, 999), st.integers(0, 999), st.integers(0, 999)))
def test_version_round_trip(parts: tuple[int, int, int]):
    assert parse_version(".".join(map(str, parts)))[:3] == parts


def test_duplicate_package_type_is_an_error_but_identical_one_is_not():
    head = b"tosca_definitions_version: tosca_simple_yaml_1_3\n"
    one = head + b"node_types:\n  my.N:\n    derived_from: tosca.nodes.Root\n"
    two = head + b"node_types:\n  my.N:\n    derived_from: tosca.nodes.Compute\n"
    main = head + b"imports: [a.yaml, b.yaml]\n"
    load_template({"m.yaml": main, "a.yaml": one, "b.yaml": one}, "m.yaml")
    with pytest.raises(PackageError) as info:
        load_template({"m.yaml": main, "a.yaml": one, "b.yaml": two}, "m.yaml")
    assert info.value.cause == "DUPLICATE_TYPE"
    assert info.value.file == "b.yaml"
