"""SOL013 query conventions: filter grammar and semantics, attribute selectors, paging markers."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nfvo.api.sol013 import (
    OPERATORS,
    Filter,
    QueryError,
    Selector,
    Term,
    decode_marker,
    encode_marker,
    link_header,
    parse_filter,
    parse_selectors,
    query_fingerprint,
    quote_value,
    select_fields,
)

NS = {
    "id": "ns-1",
    "nsInstanceName": "core, east",
    "nsState": "INSTANTIATED",
    "priority": 10,
    "weight": 2.5,
    "enabled": True,
    "tags": ["gold", "edge"],
    "description": None,
    "vnfInstance": [
        {"id": "v1", "vnfProductName": "fw", "instantiatedVnfInfo": {"vnfState": "STARTED"}},
        {"id": "v2", "vnfProductName": "lb", "instantiatedVnfInfo": {"vnfState": "STOPPED"}},
    ],
    "nsScaleStatus": [{"nsScalingAspectId": "a1", "nsScaleLevelId": "l1"}],
    "_links": {"self": {"href": "/nslcm/v2/ns_instances/ns-1"}},
}


def matches(expr: str, obj: dict = NS) -> bool:
    return parse_filter(expr).matches(obj)


# ------------------------------------------------------------------------------ filter parsing


def test_parse_single_term() -> None:
    f = parse_filter("(eq,nsState,INSTANTIATED)")
    assert f.terms == (Term("eq", ("nsState",), ("INSTANTIATED",), 1),)


def test_parse_conjunction_nested_path_and_positions() -> None:
    f = parse_filter("(eq,a,1);(in,vnfInstance/instantiatedVnfInfo/vnfState,X,Y)")
    assert [t.op for t in f.terms] == ["eq", "in"]
    assert f.terms[1].path == ("vnfInstance", "instantiatedVnfInfo", "vnfState")
    assert f.terms[1].values == ("X", "Y")
    assert f.terms[1].position == 10
    assert f.attributes() == {("a",), ("vnfInstance", "instantiatedVnfInfo", "vnfState")}


@pytest.mark.parametrize(
    ("expr", "value"),
    [
        ("(eq,a,'x,y')", "x,y"),
        ("(eq,a,'x)y')", "x)y"),
        ("(eq,a,'it''s')", "it's"),
        ("(eq,a,'''')", "'"),
        ("(eq,a,'')", ""),
        ("(eq,a,'a''b'',c)')", "a'b',c)"),
        ("(eq,a,with space)", "with space"),
        ("(eq,a,x(y;z)", "x(y;z"),
        ("(eq,a,ünï©ødé)", "ünï©ødé"),
    ],
)
def test_quoted_and_bare_values(expr: str, value: str) -> None:
    assert parse_filter(expr).terms[0].values == (value,)


def test_quoted_values_mixed_in_a_list() -> None:
    f = parse_filter("(in,a,'x,1',plain,'y''s')")
    assert f.terms[0].values == ("x,1", "plain", "y's")


def test_every_operator_parses() -> None:
    for op in OPERATORS:
        assert parse_filter(f"({op},a,1)").terms[0].op == op


@pytest.mark.parametrize(
    ("expr", "fragment", "position"),
    [
        ("eq,a,1", "expected '(' to start a term, found 'e'", 1),
        ("(eqq,a,1)", "unknown operator 'eqq'", 2),
        ("(EQ,a,1)", "unknown operator 'EQ'", 2),
        ("(,a,1)", "missing operator", 2),
        ("(eq)", "expected ',' and an attribute name after operator 'eq'", 4),
        ("(eq", "expected ',' and an attribute name after operator 'eq'", 4),
        ("(eq,,1)", "empty attribute name", 5),
        ("(eq,a//b,1)", "empty attribute name", 7),
        ("(eq,a/,1)", "empty attribute name", 7),
        ("(eq,a b,1)", "invalid character ' ' in attribute name", 6),
        ("(eq,a;b,1)", "invalid character ';' in attribute name", 6),
        ("(eq,a)", "operator 'eq' needs at least one value", 6),
        ("(eq,a", "missing ')' closing the term opened at position 1", 6),
        ("(eq,a,1", "missing ')' closing the term opened at position 1", 8),
        ("(eq,a,1);(eq,b,2", "missing ')' closing the term opened at position 10", 17),
        ("(eq,a,1,", "empty value", 9),
        ("(eq,a,)", "empty value (write '' for an empty string)", 7),
        ("(eq,a,1,,2)", "empty value", 9),
        ("(eq,a,'x)", "unbalanced quote: quoted value is never closed", 7),
        ("(eq,a,'x'')", "unbalanced quote", 7),
        ("(eq,a,'x'y)", "expected ',' or ')' after a quoted value, found 'y'", 10),
        ("(eq,a,O'Brien)", "single quote inside an unquoted value", 8),
        ("(gt,a,1,2)", "operator 'gt' takes exactly one value, found several", 9),
        ("(lte,a,1,2,3)", "operator 'lte' takes exactly one value", 10),
        ("(eq,a,1))", "unbalanced ')' with no matching '('", 9),
        ("(eq,a,1)x", "expected ';' or end of filter after ')', found 'x'", 9),
        ("(eq,a,1);", "empty term after ';'", 10),
        ("(eq,a,1);;(eq,b,2)", "expected '(' to start a term, found ';'", 10),
        ("((eq,a,1))", "unknown operator '(eq'", 2),
    ],
)
def test_filter_errors_name_problem_and_position(expr: str, fragment: str, position: int) -> None:
    with pytest.raises(QueryError) as info:
        parse_filter(expr)
    err = info.value
    assert err.param == "filter"
    assert fragment in err.message
    assert err.position == position
    assert f"at position {position}" in err.message
    assert str(err).startswith("filter: ")


def test_empty_filter_is_an_error() -> None:
    with pytest.raises(QueryError, match="empty filter expression"):
        parse_filter("")


def test_query_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        parse_filter("(x,a,1)")


def test_unknown_operator_message_lists_valid_ones() -> None:
    with pytest.raises(QueryError, match="expected one of eq, neq, in, nin, gt"):
        parse_filter("(like,a,1)")


def test_check_attributes_names_unknown_path() -> None:
    f = parse_filter("(eq,id,1);(eq,vnfInstance/nope,2)")
    f.check_attributes({("id",), ("vnfInstance", "id")} | {("vnfInstance", "nope")})
    with pytest.raises(QueryError) as info:
        f.check_attributes({("id",), ("vnfInstance", "id")})
    assert "unknown attribute 'vnfInstance/nope'" in info.value.message
    assert info.value.position == 11


def test_str_gives_canonical_expression() -> None:
    expr = "(eq,a/b,'x,y','it''s',z);(gt,n,5)"
    assert str(parse_filter(expr)) == expr


# ---------------------------------------------------------------------------- filter semantics


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("(eq,nsState,INSTANTIATED)", True),
        ("(eq,nsState,instantiated)", False),
        ("(eq,nsState,NOT_INSTANTIATED,INSTANTIATED)", True),
        ("(in,nsState,A,B)", False),
        ("(neq,nsState,INSTANTIATED)", False),
        ("(neq,nsState,A,B)", True),
        ("(nin,nsState,A,INSTANTIATED)", False),
        ("(eq,nsInstanceName,'core, east')", True),
        ("(cont,nsInstanceName,', e')", True),
        ("(cont,nsInstanceName,west,core)", True),
        ("(ncont,nsInstanceName,west)", True),
        ("(ncont,nsInstanceName,east)", False),
        ("(gt,nsState,HALTED)", True),
        ("(lt,nsState,HALTED)", False),
        ("(eq,id,ns-1);(eq,nsState,INSTANTIATED)", True),
        ("(eq,id,ns-1);(eq,nsState,OTHER)", False),
    ],
)
def test_string_semantics(expr: str, expected: bool) -> None:
    assert matches(expr) is expected


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("(eq,priority,10)", True),
        ("(eq,priority,10.0)", True),
        ("(eq,priority,1e1)", True),
        ("(gt,priority,9)", True),
        ("(gt,priority,10)", False),
        ("(gte,priority,10)", True),
        ("(lt,priority,100)", True),  # numeric, although "100" < "10" lexically is False
        ("(lt,priority,9.5)", False),
        ("(lte,priority,+10)", True),
        ("(gt,priority,-3)", True),
        ("(gt,priority,abc)", False),
        ("(neq,priority,abc)", True),
        ("(gt,weight,2.25)", True),
        ("(lt,weight,3)", True),
        ("(eq,weight,2.5)", True),
        ("(cont,priority,1)", False),
    ],
)
def test_numeric_semantics(expr: str, expected: bool) -> None:
    assert matches(expr) is expected


def test_numeric_versus_lexical_ordering() -> None:
    assert matches("(gt,v,9)", {"v": 10})
    assert not matches("(gt,v,9)", {"v": "10"})


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("(eq,enabled,true)", True),
        ("(eq,enabled,false)", False),
        ("(neq,enabled,false)", True),
        ("(eq,enabled,True)", False),
        ("(eq,enabled,1)", False),
    ],
)
def test_boolean_semantics(expr: str, expected: bool) -> None:
    assert matches(expr) is expected


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("(eq,tags,edge)", True),
        ("(eq,tags,silver)", False),
        ("(neq,tags,edge)", False),  # an element matches, so neq fails
        ("(neq,tags,silver,bronze)", True),
        ("(nin,tags,silver,gold)", False),
        ("(cont,tags,dg)", True),
        ("(ncont,tags,ol)", False),
        ("(eq,vnfInstance/vnfProductName,lb)", True),
        ("(neq,vnfInstance/vnfProductName,lb)", False),
        ("(eq,vnfInstance/instantiatedVnfInfo/vnfState,STOPPED)", True),
        ("(eq,vnfInstance/instantiatedVnfInfo/vnfState,PAUSED)", False),
        ("(eq,_links/self/href,/nslcm/v2/ns_instances/ns-1)", True),
        ("(eq,vnfInstance/id,v1);(eq,vnfInstance/vnfProductName,lb)", True),
    ],
)
def test_array_and_nested_semantics(expr: str, expected: bool) -> None:
    assert matches(expr) is expected


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("(eq,missing,x)", False),
        ("(neq,missing,x)", True),
        ("(eq,description,null)", False),
        ("(neq,description,x)", True),
        ("(eq,id/deeper,x)", False),
        ("(eq,_links,x)", False),  # a complex attribute never equals a value
        ("(gt,vnfInstance,a)", False),
    ],
)
def test_absent_null_and_complex_attributes(expr: str, expected: bool) -> None:
    assert matches(expr) is expected


def test_nested_arrays_are_flattened() -> None:
    obj = {"a": [[{"b": 1}], [{"b": [2, 3]}]]}
    assert matches("(eq,a/b,3)", obj)
    assert not matches("(eq,a/b,4)", obj)
    assert matches("(nin,a/b,4,5)", obj)


def test_empty_array_matches_only_negations() -> None:
    assert not matches("(eq,tags,x)", {"tags": []})
    assert matches("(neq,tags,x)", {"tags": []})


# --------------------------------------------------------------------- filter properties


values_text = st.text(min_size=0, max_size=30)


@given(values_text)
def test_quoting_then_parsing_returns_the_value(value: str) -> None:
    f = parse_filter(f"(eq,attr,{quote_value(value)})")
    assert f.terms[0].values == (value,)


@given(st.lists(values_text, min_size=1, max_size=5))
def test_quoted_value_lists_round_trip(values: list[str]) -> None:
    expr = "(in,a/b," + ",".join(quote_value(v) for v in values) + ")"
    assert parse_filter(expr).terms[0].values == tuple(values)


@given(values_text.filter(bool), values_text.filter(bool))
def test_eq_matches_object_containing_value(value: str, other: str) -> None:
    obj = {"outer": [{"x": other}, {"x": value}]}
    quoted = quote_value(value)
    assert parse_filter(f"(eq,outer/x,{quoted})").matches(obj)
    assert not parse_filter(f"(neq,outer/x,{quoted})").matches(obj)
    assert parse_filter(f"(cont,outer/x,{quoted})").matches(obj)


@given(st.integers(-(10**12), 10**12), st.integers(-(10**12), 10**12))
def test_integer_comparisons_agree_with_python(a: int, b: int) -> None:
    obj = {"n": a}
    assert parse_filter(f"(gt,n,{b})").matches(obj) is (a > b)
    assert parse_filter(f"(gte,n,{b})").matches(obj) is (a >= b)
    assert parse_filter(f"(lt,n,{b})").matches(obj) is (a < b)
    assert parse_filter(f"(lte,n,{b})").matches(obj) is (a <= b)
    assert parse_filter(f"(eq,n,{b})").matches(obj) is (a == b)


@given(
    st.floats(allow_nan=False, allow_infinity=False),
    st.floats(allow_nan=False, allow_infinity=False),
)
def test_float_comparisons_agree_with_python(a: float, b: float) -> None:
    assert parse_filter(f"(lt,n,{b!r})").matches({"n": a}) is (a < b)


names = st.text(alphabet="abcXYZ_09-", min_size=1, max_size=6)
terms = st.builds(
    lambda op, path, vals: Term(
        op, tuple(path), tuple(vals[:1] if op in {"gt", "gte", "lt", "lte"} else vals)
    ),
    st.sampled_from(OPERATORS),
    st.lists(names, min_size=1, max_size=3),
    st.lists(values_text, min_size=1, max_size=3),
)


@given(st.lists(terms, min_size=1, max_size=4))
def test_str_then_parse_gives_same_terms(term_list: list[Term]) -> None:
    parsed = parse_filter(str(Filter(tuple(term_list))))
    assert [(t.op, t.path, t.values) for t in parsed.terms] == [
        (t.op, t.path, t.values) for t in term_list
    ]


@given(st.text(alphabet="(),;'/ab eqnt", max_size=25))
def test_garbage_raises_only_query_error(expr: str) -> None:
    try:
        parse_filter(expr)
    except QueryError as err:
        assert err.param == "filter"


# ----------------------------------------------------------------------- attribute selectors

DEFAULT_EXCLUDED = [("vnfInstance",), ("nsScaleStatus",)]
MANDATORY = [("id",), ("_links",)]


def select(**kwargs: object) -> dict:
    args: dict = {
        "all_fields": False,
        "fields": None,
        "exclude_fields": None,
        "exclude_default": False,
        "default_excluded": DEFAULT_EXCLUDED,
        "mandatory": MANDATORY,
    }
    args.update(kwargs)
    return select_fields(NS, **args)


def test_all_fields_keeps_everything() -> None:
    assert select(all_fields=True) == NS


def test_no_parameter_means_exclude_default() -> None:
    out = select()
    assert out == select(exclude_default=True)
    assert "vnfInstance" not in out and "nsScaleStatus" not in out
    assert out["tags"] == NS["tags"] and out["_links"] == NS["_links"]


def test_fields_keeps_simple_and_listed_complex_only() -> None:
    out = select(fields=[("vnfInstance",)])
    assert out["vnfInstance"] == NS["vnfInstance"]
    assert "nsScaleStatus" not in out and "tags" not in out  # unlisted complex attributes
    assert out["_links"] == NS["_links"]  # mandatory
    assert out["priority"] == 10 and out["nsState"] == "INSTANTIATED"


def test_fields_nested_path_prunes_inside_arrays() -> None:
    out = select(fields=[("vnfInstance", "instantiatedVnfInfo")])
    assert out["vnfInstance"][0] == NS["vnfInstance"][0]
    out = select_fields(
        {"a": [{"b": {"c": 1}, "d": {"e": 2}, "f": 3}]},
        all_fields=False,
        fields=[("a", "b")],
        exclude_fields=None,
        exclude_default=False,
        default_excluded=(),
    )
    assert out == {"a": [{"b": {"c": 1}, "f": 3}]}


def test_fields_with_exclude_default_reincludes_listed() -> None:
    out = select(fields=[("nsScaleStatus",)], exclude_default=True)
    assert out["nsScaleStatus"] == NS["nsScaleStatus"]
    assert "vnfInstance" not in out
    assert out["tags"] == NS["tags"]  # not default-excluded, so kept


def test_exclude_fields_removes_listed_only() -> None:
    out = select(exclude_fields=[("tags",), ("vnfInstance", "instantiatedVnfInfo")])
    assert "tags" not in out
    assert out["vnfInstance"] == [
        {"id": "v1", "vnfProductName": "fw"},
        {"id": "v2", "vnfProductName": "lb"},
    ]
    assert out["nsScaleStatus"] == NS["nsScaleStatus"]  # exclude_default not implied


def test_exclude_fields_with_exclude_default_removes_both() -> None:
    out = select(exclude_fields=[("tags",)], exclude_default=True)
    assert "tags" not in out and "vnfInstance" not in out


def test_mandatory_attributes_are_never_removed() -> None:
    out = select(exclude_fields=[("_links",), ("id",), ("_links", "self")])
    assert out["_links"] == NS["_links"] and out["id"] == "ns-1"
    nested = select_fields(
        {"a": {"b": 1, "c": {"x": 1}}},
        all_fields=False,
        fields=None,
        exclude_fields=[("a",)],
        exclude_default=False,
        default_excluded=(),
        mandatory=[("a", "b")],
    )
    assert nested == {"a": {"b": 1, "c": {"x": 1}}}


def test_selection_does_not_mutate_input() -> None:
    before = repr(NS)
    select(exclude_fields=[("vnfInstance", "id")])
    select(fields=[("vnfInstance", "instantiatedVnfInfo")])
    assert repr(NS) == before


def test_parse_selectors_reads_query() -> None:
    sel = parse_selectors(
        {"fields": "vnfInstance/instantiatedVnfInfo,nsScaleStatus", "exclude_default": None},
        default_excluded=DEFAULT_EXCLUDED,
        mandatory=MANDATORY,
    )
    assert sel == Selector(
        fields=(("vnfInstance", "instantiatedVnfInfo"), ("nsScaleStatus",)),
        exclude_default=True,
        default_excluded=tuple(DEFAULT_EXCLUDED),
        mandatory=tuple(MANDATORY),
    )
    assert sel.apply(NS)["vnfInstance"] == NS["vnfInstance"]


def test_parse_selectors_empty_query_excludes_default() -> None:
    sel = parse_selectors({"filter": "(eq,a,1)"}, default_excluded=DEFAULT_EXCLUDED)
    assert "vnfInstance" not in sel.apply(NS)
    assert parse_selectors({"all_fields": ""}, default_excluded=DEFAULT_EXCLUDED).apply(NS) == NS


@pytest.mark.parametrize(
    ("params", "param", "fragment"),
    [
        ({"all_fields": None, "fields": "a"}, "all_fields", "cannot be combined with fields"),
        ({"all_fields": None, "exclude_default": None}, "all_fields", "with exclude_default"),
        (
            {"all_fields": None, "exclude_fields": "a", "exclude_default": ""},
            "all_fields",
            "with exclude_fields, exclude_default",
        ),
        ({"fields": "a", "exclude_fields": "b"}, "fields", "'fields' and 'exclude_fields'"),
        ({"all_fields": "yes"}, "all_fields", "is a flag and takes no value, got 'yes'"),
        ({"exclude_default": "false"}, "exclude_default", "takes no value"),
        ({"fields": ""}, "fields", "needs a comma-separated list"),
        ({"fields": None}, "fields", "needs a comma-separated list"),
        ({"exclude_fields": "a,,b"}, "exclude_fields", "empty attribute name at position 3"),
        ({"fields": "a/b,c//d"}, "fields", "empty attribute name at position 5"),
    ],
)
def test_selector_errors(params: dict, param: str, fragment: str) -> None:
    with pytest.raises(QueryError) as info:
        parse_selectors(params, default_excluded=DEFAULT_EXCLUDED)
    assert info.value.param == param
    assert fragment in info.value.message


def test_select_fields_checks_combinations_too() -> None:
    with pytest.raises(QueryError, match="cannot be combined"):
        select(all_fields=True, exclude_default=True)
    with pytest.raises(QueryError, match="cannot be combined"):
        select(fields=[("a",)], exclude_fields=[("b",)])


# ---------------------------------------------------------------------------------- paging


def test_marker_round_trip_and_url_safety() -> None:
    fh = query_fingerprint("(eq,a,1)")
    marker = encode_marker(("2026-01-01T00:00:00Z", "ns-42"), filter_hash=fh)
    assert set(marker) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert decode_marker(marker, filter_hash=fh) == ("2026-01-01T00:00:00Z", "ns-42")
    assert decode_marker(encode_marker("ns-9", filter_hash=fh), filter_hash=fh) == "ns-9"


def test_marker_for_other_filter_is_rejected() -> None:
    marker = encode_marker("k", filter_hash=query_fingerprint("(eq,a,1)"))
    with pytest.raises(QueryError) as info:
        decode_marker(marker, filter_hash=query_fingerprint("(eq,a,2)"))
    assert info.value.param == "nextpage_opaque_marker"
    assert "different filter" in info.value.message


@pytest.mark.parametrize(
    ("marker", "fragment"),
    [
        ("", "malformed marker"),
        ("abc$def", "malformed marker"),
        ("a", "malformed marker"),  # one base64 character cannot decode
        ("AAAAAAAAAAAAAAAA", "checksum mismatch"),
        ("aGVsbG8gd29ybGQ", "checksum mismatch"),
    ],
)
def test_garbage_markers_are_rejected(marker: str, fragment: str) -> None:
    with pytest.raises(QueryError) as info:
        decode_marker(marker, filter_hash="h")
    assert info.value.param == "nextpage_opaque_marker"
    assert fragment in info.value.message


def _forge(payload: bytes) -> str:
    """A marker with a valid checksum around arbitrary content."""
    checksum = hashlib.sha256(payload).digest()[:6]
    return base64.urlsafe_b64encode(checksum + payload).rstrip(b"=").decode()


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        (b"not json", "unreadable content"),
        (b"\xff\xfe", "unreadable content"),
        (b"5", "unreadable content"),
        (b"[1,2]", "unreadable content"),
        (b'[2,"h","k"]', "marker format 2 is not supported"),
    ],
)
def test_well_formed_but_wrong_markers_are_rejected(payload: bytes, fragment: str) -> None:
    with pytest.raises(QueryError) as info:
        decode_marker(_forge(payload), filter_hash="h")
    assert fragment in info.value.message
    assert decode_marker(_forge(b'[1,"h","k"]'), filter_hash="h") == "k"


def test_tampered_marker_is_rejected() -> None:
    marker = encode_marker("ns-1", filter_hash="h")
    flipped = marker[:-3] + ("A" if marker[-3] != "A" else "B") + marker[-2:]
    with pytest.raises(QueryError, match="nextpage_opaque_marker"):
        decode_marker(flipped, filter_hash="h")


def test_marker_key_must_be_json_scalars() -> None:
    with pytest.raises(TypeError):
        encode_marker(({"a": 1},), filter_hash="h")  # type: ignore[arg-type]


def test_fingerprint_is_stable_and_distinguishes() -> None:
    assert query_fingerprint("(eq,a,1)") == query_fingerprint("(eq,a,1)")
    assert query_fingerprint("(eq,a,1)") != query_fingerprint("(eq,a,2)")
    assert query_fingerprint(None) != query_fingerprint("")


scalars = st.one_of(st.text(), st.integers(-(2**53), 2**53), st.none())


@given(st.one_of(st.text(), st.tuples(scalars, scalars)), st.text(max_size=20))
def test_marker_round_trip_property(key: object, fh: str) -> None:
    marker = encode_marker(key, filter_hash=fh)  # type: ignore[arg-type]
    assert decode_marker(marker, filter_hash=fh) == key
    with pytest.raises(QueryError):
        decode_marker(marker, filter_hash=fh + "x")


@given(st.text(max_size=40))
def test_random_markers_are_rejected(marker: str) -> None:
    with pytest.raises(QueryError):
        decode_marker(marker, filter_hash="h")


def test_link_header_carries_params_and_marker() -> None:
    header = link_header(
        "https://nfvo.example/nslcm/v2/ns_instances",
        {
            "filter": "(eq,nsInstanceName,'a b&c')",
            "exclude_default": None,
            "nextpage_opaque_marker": "old",
        },
        "NEW-marker_1",
    )
    assert header.endswith('>; rel="next"') and header.startswith("<https://nfvo.example/")
    url = header[1 : header.index(">")]
    assert " " not in url and "&c" not in url
    query = parse_qs(urlsplit(url).query, keep_blank_values=True)
    assert query["filter"] == ["(eq,nsInstanceName,'a b&c')"]
    assert query["nextpage_opaque_marker"] == ["NEW-marker_1"]
    assert "exclude_default" in urlsplit(url).query.split("&")


def test_link_header_appends_to_existing_query() -> None:
    header = link_header("http://h/x?a=1", {}, "m")
    assert header == '<http://h/x?a=1&nextpage_opaque_marker=m>; rel="next"'
    assert link_header("http://h/x", {}, "m") == '<http://h/x?nextpage_opaque_marker=m>; rel="next"'


def test_filter_term_and_value_counts_are_bounded() -> None:
    """Thousands of terms once reached SQLite as an expression tree deeper than it takes (a
    500); the filter is refused with a 400 naming the limit instead."""
    from nfvo.api.sol013 import MAX_FILTER_TERMS, MAX_FILTER_VALUES

    assert len(parse_filter(";".join(["(eq,id,x)"] * MAX_FILTER_TERMS)).terms) == MAX_FILTER_TERMS
    with pytest.raises(QueryError, match=f"more than {MAX_FILTER_TERMS} terms") as err:
        parse_filter(";".join(["(eq,id,x)"] * 3000))
    assert err.value.param == "filter" and err.value.position == 10 * MAX_FILTER_TERMS + 1
    values = ",".join(str(i) for i in range(MAX_FILTER_VALUES))
    assert len(parse_filter(f"(in,id,{values})").terms[0].values) == MAX_FILTER_VALUES
    with pytest.raises(QueryError, match=f"more than {MAX_FILTER_VALUES} values"):
        parse_filter(f"(in,id,{values},x)")
    with pytest.raises(QueryError, match="values"):
        parse_filter(f"(in,id,{values[:3000]});(in,id,{values})")


def test_huge_integer_filter_values_compare_without_error() -> None:
    """An integer value of 5,000 digits once raised Python's int-size ValueError (a 500)."""
    huge = "9" * 5000
    assert not Term("eq", ("n",), (huge,)).matches({"n": 1})
    assert Term("lt", ("n",), (huge,)).matches({"n": 10**300})
    assert Term("gt", ("n",), ("-" + huge,)).matches({"n": -5})
    assert Term("eq", ("n",), ("12",)).matches({"n": 12})
