"""The attribute trees that SOL013 filters and selectors are checked against."""

from __future__ import annotations

import pytest

from nfvo.api import shapes


def test_notation_parses_nested_and_free_form_attributes() -> None:
    tree = shapes.parse("{a b{c d{e}} f{*}}")
    assert tree == {"a": None, "b": {"c": None, "d": {"e": None}}, "f": shapes.ANY}


@pytest.mark.parametrize(
    ("path", "unknown"),
    [
        (("id",), None),
        (("softwareImages", "checksum", "hash"), None),
        (("userDefinedData", "any", "depth"), None),
        (("bogus",), "bogus"),
        (("softwareImages", "nope"), "softwareImages/nope"),
        (("id", "below"), "id/below"),  # a simple attribute has nothing below it
    ],
)
def test_unknown_part_names_the_first_unknown_name(
    path: tuple[str, ...], unknown: str | None
) -> None:
    assert shapes.unknown_part(shapes.VNF_PKG_INFO, path) == unknown


def test_every_resource_tree_has_its_identity_and_links() -> None:
    for tree in (
        shapes.VNF_PKG_INFO,
        shapes.NSD_INFO,
        shapes.PNFD_INFO,
        shapes.NS_INSTANCE,
        shapes.NS_LCM_OP_OCC,
        shapes.PKGM_SUBSCRIPTION,
        shapes.NSDM_SUBSCRIPTION,
        shapes.LCCN_SUBSCRIPTION,
    ):
        assert isinstance(tree, dict) and "id" in tree and "_links" in tree


@pytest.mark.parametrize("text", ["{a", "{a}}", "a b", "{a{b}"])
def test_malformed_notation_is_refused(text: str) -> None:
    with pytest.raises((ValueError, IndexError)):
        shapes.parse(text)
