"""TOSCA.meta and SOL004 manifest parsing."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nfvo.catalog.errors import PackageError
from nfvo.catalog.manifest import (
    canonical_algorithm,
    is_external,
    parse_manifest,
    parse_tosca_meta,
)

H1 = "27bbdb25d8f4ed6d07d6f6581b86515e8b2f0059b236ef7b6f50d6674b34f02a"
H2 = "8115e59f56044a44f472964312f0f0770f465f5c734d70ea7061bdf0b5f28ca1"
META = (
    "TOSCA-Meta-File-Version: 1.0\nCSAR-Version: 1.1\nCreated-by: someone\n"
    "Entry-Definitions: Definitions/top.yaml\n"
)


def perr(fn, data: str | bytes, *args) -> PackageError:
    raw = data.encode() if isinstance(data, str) else data
    with pytest.raises(PackageError) as info:
        fn(raw, *args)
    return info.value


def test_full_vnf_manifest():
    text = (
        "metadata:\n"
        "  vnf_product_name: Demo\n"
        "  vnf_provider_id: Acme\n"
        "  vnf_package_version: 1.0\n"
        "  vnf_release_date_time: 2024-01-01T10:00:00+08:00\n"
        "  compatible_specification_versions: 2.6.1\n"
        "  compatible_specification_versions: 3.3.1\n"
        "  vnfm_info: etsivnfm:v2.3.1\n\n"
        f"Source: Scripts/install.sh\nAlgorithm: SHA-256\nHash: {H1}\n"
        "Signature: Scripts/install.sh.sig.cms\nCertificate: Scripts/cert.pem\n\n"
        "non_mano_artifact_sets:\n"
        "  onap_ves_events:\n    Source: Files/Events/ves.yaml\n"
        "  prv.acme.tests:\n    Source: Tests/a.txt\n    Source: Tests/b.txt\n\n"
        "-----BEGIN CMS-----\nMIIabc\ndef==\n-----END CMS-----\n"
    )
    mf = parse_manifest(text.encode(), "m.mf")
    assert mf.metadata["vnf_provider_id"] == "Acme"
    assert mf.metadata["compatible_specification_versions"] == "2.6.1, 3.3.1"
    assert mf.kind == "vnf"
    (src,) = mf.sources
    assert (src.path, src.algorithm, src.hash) == ("Scripts/install.sh", "SHA-256", H1)
    assert (src.signature, src.certificate) == ("Scripts/install.sh.sig.cms", "Scripts/cert.pem")
    assert src.line == 10
    assert mf.non_mano == {
        "onap_ves_events": ["Files/Events/ves.yaml"],
        "prv.acme.tests": ["Tests/a.txt", "Tests/b.txt"],
    }
    assert mf.cms_signature == "-----BEGIN CMS-----\nMIIabc\ndef==\n-----END CMS-----"


def test_nsd_and_pnfd_kinds():
    ns = parse_manifest(b"metadata:\n  nsd_designer: x\n  nsd_invariant_id: y\n", "a.mf")
    pnf = parse_manifest(b"metadata:\n  pnfd_provider: x\n", "b.mf")
    assert (ns.kind, pnf.kind) == ("ns", "pnf")
    assert ns.sources == []


def test_hash_glued_to_next_source_is_split():
    text = f"Source: a.sh\nAlgorithm: SHA-256\nHash: {H1}Source: b.yaml\nAlgorithm: SHA-256\n"
    text += f"Hash: {H2}"
    mf = parse_manifest(text.encode(), "m.mf")
    assert [(s.path, s.hash) for s in mf.sources] == [("a.sh", H1), ("b.yaml", H2)]


def test_crlf_no_blank_lines_and_no_final_newline():
    text = f"Source: a.sh\r\nAlgorithm: SHA-256\r\nHash: {H1}\r\nSource: b\r\nAlgorithm: SHA-512"
    mf = parse_manifest(text.encode(), "m.mf")
    assert [(s.path, s.hash) for s in mf.sources] == [("a.sh", H1), ("b", None)]


def test_manifest_errors_name_file_and_line():
    err = perr(parse_manifest, "Source: a\nthis line has no colon\n", "m.mf")
    assert (err.cause, err.file, err.line) == ("INVALID_MANIFEST", "m.mf", 2)
    err = perr(parse_manifest, "Algorithm: SHA-256\nSource: a\n", "m.mf")
    assert (err.cause, err.line) == ("INVALID_MANIFEST", 1)
    err = perr(parse_manifest, f"Source: a\nHash: {H1}\nHash: {H2}\n", "m.mf")
    assert (err.cause, err.line) == ("INVALID_MANIFEST", 3)
    err = perr(parse_manifest, "-----BEGIN CMS-----\nabc\n", "m.mf")
    assert err.cause == "INVALID_MANIFEST"
    err = perr(parse_manifest, b"metadata:\n  vnf_provider_id: \xff\n", "m.mf")
    assert (err.cause, err.file, err.line) == ("NOT_UTF8", "m.mf", 2)


def test_tosca_meta_keys_and_name_blocks():
    text = (
        META + "ETSI-Entry-Manifest: manifest.mf\nETSI-Entry-Certificate: Files/c.cert\n"
        "Name: Scripts/install.sh\nContent-Type: test-data\nAlgorithm: SHA-256\nHash: " + H1 + "\n"
        "\n\nName: Files/images/x.img\nContent-type: application/x-iso9066-image\n"
    )
    meta, entries = parse_tosca_meta(text.encode())
    assert meta["Created-By"] == "someone"  # "Created-by" canonicalised
    assert meta["ETSI-Entry-Manifest"] == "manifest.mf"
    assert meta["ETSI-Entry-Certificate"] == "Files/c.cert"
    assert [(e.path, e.algorithm, e.content_type, e.origin) for e in entries] == [
        ("Scripts/install.sh", "SHA-256", "test-data", "tosca_meta"),
        ("Files/images/x.img", None, "application/x-iso9066-image", "tosca_meta"),
    ]


def test_tosca_meta_errors():
    err = perr(parse_tosca_meta, "TOSCA-Meta-File-Version, 1.0\nCSAR-Version, 1.1\n")
    assert (err.cause, err.line) == ("INVALID_TOSCA_META", 1)
    err = perr(parse_tosca_meta, META.replace("Entry-Definitions", "Entry-Definition"))
    assert err.cause == "MISSING_META_KEY" and "Entry-Definitions" in err.detail
    err = perr(parse_tosca_meta, META.replace("someone", ""))
    assert (err.cause, err.line) == ("EMPTY_VALUE", 3)
    err = perr(parse_tosca_meta, META + "CSAR-Version: 2\n")
    assert (err.cause, err.line) == ("INVALID_TOSCA_META", 5)
    err = perr(parse_tosca_meta, "\n\n")
    assert err.cause == "INVALID_TOSCA_META"


def test_algorithm_spellings_and_external_sources():
    assert canonical_algorithm("sha-256") == "SHA-256"
    assert canonical_algorithm("SHA256") == "SHA-256"
    assert canonical_algorithm(" SHA_384 ") == "SHA-384"
    assert canonical_algorithm("sha-512") == "SHA-512"
    assert canonical_algorithm("SHA-255") is None
    assert canonical_algorithm("MD5") is None
    assert is_external("https://x/y.img") and is_external("HTTP://x")
    assert not is_external("Files/http.txt")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_parsers_fail_only_with_package_errors(data):
    for parse in (lambda d: parse_manifest(d, "m.mf"), parse_tosca_meta):
        try:
            parse(data)
        except PackageError:
            pass


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_./-]{0,30}", fullmatch=True),
            st.sampled_from(["SHA-256", "SHA-384", "sha512"]),
            st.from_regex(r"[0-9a-f]{64}", fullmatch=True),
        ),
        max_size=5,
    ),
    st.booleans(),
)
def test_manifest_round_trip(entries, crlf):
    nl = "\r\n" if crlf else "\n"
    text = nl.join(f"Source: {p}{nl}Algorithm: {a}{nl}Hash: {h}{nl}" for p, a, h in entries)
    mf = parse_manifest(text.encode(), "m.mf")
    assert [(s.path, s.algorithm, s.hash) for s in mf.sources] == entries


# -- metadata layouts (SOL004 §4.3.2 writes the entries at column 0) ------------------------
_ENTRIES = (
    ("vnf_provider_id", "MyCompany"),
    ("vnf_product_name", "SunshineDB"),
    ("vnf_release_date_time", "2017-01-01T10:00+03:00"),
    ("vnf_package_version", "1.0"),
)
_WANT = dict(_ENTRIES)


def _manifest(indent: str, blank_after: bool = True, eol: str = "\n") -> str:
    lines = ["metadata:", *(f"{indent}{k}: {v}" for k, v in _ENTRIES)]
    if blank_after:
        lines.append("")
    lines += [
        "Source: Definitions/MRF.yaml",
        "Algorithm: SHA-256",
        f"Hash: {H1}",
        "",
        "Source: Files/image.qcow2",
        "Algorithm: SHA-256",
        f"Hash: {H2}",
    ]
    return eol.join(lines) + eol


@pytest.mark.parametrize("indent", ["", "  ", "    ", "\t", " \t", "\t\t"])
@pytest.mark.parametrize("eol", ["\n", "\r\n"])
def test_metadata_at_column_0_or_indented(indent: str, eol: str) -> None:
    m = parse_manifest(_manifest(indent, eol=eol).encode(), "MRF.mf")
    assert m.metadata == _WANT
    assert m.kind == "vnf"
    assert [s.path for s in m.sources] == ["Definitions/MRF.yaml", "Files/image.qcow2"]
    assert m.sources[0].line == 7


@pytest.mark.parametrize("indent", ["", "  ", "\t"])
def test_metadata_followed_directly_by_source(indent: str) -> None:
    m = parse_manifest(_manifest(indent, blank_after=False).encode(), "x.mf")
    assert m.metadata == _WANT
    assert [s.path for s in m.sources] == ["Definitions/MRF.yaml", "Files/image.qcow2"]


def test_column_0_metadata_ends_at_blank_line() -> None:
    text = "metadata:\nvnf_provider_id: A\n\nvnf_product_name: B\n"
    err = perr(parse_manifest, text, "x.mf")
    assert err.cause == "INVALID_MANIFEST"
    assert err.line == 4
    assert "vnf_product_name" in err.detail and "metadata:" in err.detail


def test_metadata_layout_bad_line_names_line() -> None:
    for text in ("metadata:\nvnf_provider_id A\n", "metadata:\n\tvnf_provider_id A\n"):
        err = perr(parse_manifest, text, "x.mf")
        assert (err.cause, err.file, err.line) == ("INVALID_MANIFEST", "x.mf", 2)


def test_column_0_metadata_with_non_mano_sets_and_comments() -> None:
    text = (
        "# written by hand\nmetadata:\n# a comment\nnsd_designer: ACME\nnsd_invariant_id: x\n"
        "non_mano_artifact_sets:\n  onap_ves_events:\n    Source: Artifacts/ves.yaml\n"
    )
    m = parse_manifest(text.encode(), "ns.mf")
    assert m.metadata == {"nsd_designer": "ACME", "nsd_invariant_id": "x"}
    assert m.kind == "ns"
    assert m.non_mano == {"onap_ves_events": ["Artifacts/ves.yaml"]}


def test_mixed_metadata_layout_and_blank_lines_inside_an_indented_block() -> None:
    text = (
        "metadata:\n  vnf_provider_id: A\nvnf_product_name: B\n\n  vnf_package_version: 1.0\n"
        "\nSource: x.yaml\nAlgorithm: SHA-256\nHash: " + H1 + "\n"
    )
    m = parse_manifest(text.encode(), "x.mf")
    assert m.metadata == {
        "vnf_provider_id": "A",
        "vnf_product_name": "B",
        "vnf_package_version": "1.0",
    }
    assert [s.path for s in m.sources] == ["x.yaml"]
