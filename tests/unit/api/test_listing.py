"""List machinery: SOL013 terms translated to column tests, keyset chunks in SQL, markers,
which attributes a page needs, the page size setting, and the token check it relies on."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import jwt
import pytest
from cryptography.fernet import Fernet
from sqlalchemy.dialects import postgresql, sqlite
from starlette.requests import Request

from nfvo.api.listing import Column, ListQuery, _marker_key, _sort_key, parse_list, translate
from nfvo.api.security import ClientService, Principal, Role, TokenService
from nfvo.api.sol013 import QueryError, parse_filter, parse_selectors
from nfvo.config import MAX_PAGE_SIZE, Settings, SettingsError
from nfvo.inventory.db import Database
from nfvo.inventory.models import NsInstance
from nfvo.inventory.paging import ColumnTest, PageQuery, fetch_after, owned_by, sql_condition
from nfvo.resources.vault import Vault

COLUMNS = {
    ("nsState",): Column("ns_state"),
    ("auto",): Column("is_automatic_invocation", bool),
    ("count",): Column("count", int),
}


def _term(expr: str):  # noqa: ANN202 - a sol013.Term
    return parse_filter(expr).terms[0]


# ------------------------------------------------------------------------------ translation


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("(eq,nsState,A)", ColumnTest("ns_state", "in", ("A",))),
        ("(in,nsState,A,B)", ColumnTest("ns_state", "in", ("A", "B"))),
        ("(neq,nsState,A)", ColumnTest("ns_state", "in", ("A",), True)),
        ("(nin,nsState,A,B)", ColumnTest("ns_state", "in", ("A", "B"), True)),
        ("(gt,nsState,A)", ColumnTest("ns_state", "gt", ("A",))),
        ("(lte,nsState,A)", ColumnTest("ns_state", "lte", ("A",))),
        ("(cont,nsState,A,b)", ColumnTest("ns_state", "contains", ("A", "b"))),
        ("(ncont,nsState,A)", ColumnTest("ns_state", "contains", ("A",), True)),
        # booleans become the set of values that satisfy the positive operator
        ("(eq,auto,true)", ColumnTest("is_automatic_invocation", "in", (True,))),
        ("(neq,auto,true)", ColumnTest("is_automatic_invocation", "in", (True,), True)),
        ("(gt,auto,false)", ColumnTest("is_automatic_invocation", "in", (True,))),
        ("(lte,auto,true)", ColumnTest("is_automatic_invocation", "in", (True, False))),
        ("(eq,auto,TRUE)", ColumnTest("is_automatic_invocation", "in", ())),
        ("(cont,auto,t)", ColumnTest("is_automatic_invocation", "in", ())),
    ],
)
def test_terms_on_mapped_attributes_translate(expr: str, expected: ColumnTest) -> None:
    assert translate(_term(expr), COLUMNS) == expected


@pytest.mark.parametrize(
    "expr",
    ["(eq,nsStat,A)", "(eq,nsState/x,A)", "(eq,count,1)", "(eq,nsState,'a\x00b')"],
)
def test_other_terms_stay_in_memory(expr: str) -> None:
    assert translate(_term(expr), COLUMNS) is None


def test_sql_text_order_and_containment_per_dialect() -> None:
    pg, lite = postgresql.dialect(), sqlite.dialect()
    gt = sql_condition(NsInstance, ColumnTest("name", "gt", ("a",)), "postgresql")
    assert 'COLLATE "C"' in str(gt.compile(dialect=pg))
    gt = sql_condition(NsInstance, ColumnTest("name", "gt", ("a",)), "sqlite")
    assert "COLLATE" not in str(gt.compile(dialect=lite))
    cont = sql_condition(NsInstance, ColumnTest("name", "contains", ("a",)), "postgresql")
    assert "strpos" in str(cont.compile(dialect=pg)) and "LIKE" not in str(cont.compile())
    cont = sql_condition(NsInstance, ColumnTest("name", "contains", ("a",), True), "sqlite")
    text = str(cont.compile(dialect=lite))
    assert "instr" in text and "IS NULL" in text


# ----------------------------------------------------------------------------------- markers


def test_marker_keys_are_utc_and_round_trip() -> None:
    naive = datetime(2024, 1, 2, 3, 4, 5, 678901)  # SQLite hands back naive UTC
    at, ident = _marker_key((naive, "x"))
    assert at == "2024-01-02T03:04:05.678901+00:00" and ident == "x"
    assert _sort_key((at, ident)) == (naive.replace(tzinfo=UTC), "x")
    assert _sort_key(("2024-01-02T05:04:05+02:00", "y")) == (
        datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
        "y",
    )
    local = datetime(2024, 1, 2, 5, 4, 5, tzinfo=UTC).astimezone(timezone(timedelta(hours=2)))
    assert _marker_key((local, "y"))[0] == "2024-01-02T05:04:05+00:00"


@pytest.mark.parametrize(
    "raw",
    [
        "2024-01-01T00:00:00+00:00|id",
        ("2024-01-01T00:00:00", "id"),
        ("x", "id"),
        (1, 2),
        # forged (the checksum is public): these reached PostgreSQL and answered 500
        ("9999-12-31T23:59:59.999999-23:59", "id"),
        ("2024-01-01T00:00:00+00:00", "a\x00b"),
        ("2024-01-01T00:00:00+00:00", "i" * 256),
    ],
)
def test_markers_without_our_sort_key_are_refused(raw: object) -> None:
    with pytest.raises(QueryError, match="stale marker"):
        _sort_key(raw)  # type: ignore[arg-type]


def _request(query: str) -> Request:
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/x",
        "query_string": query.encode(),
        "headers": [(b"host", b"h")],
        "scheme": "http",
        "server": ("h", 80),
        "root_path": "",
    }
    return Request(scope)


@pytest.mark.parametrize(
    ("query", "needed"),
    [
        ("", False),
        ("exclude_default", False),
        ("all_fields", True),
        ("fields=vnfInstance/vnfdId", True),
        ("exclude_fields=vnfInstance/vnfdId", True),
        ("exclude_fields=nsState", True),  # exclude_fields alone keeps the default-excluded
        ("filter=(eq,vnfInstance/vnfdId,x)", True),
        ("filter=(eq,nsState,x)", False),
    ],
)
def test_a_page_needs_default_excluded_attributes_only_when_asked(query: str, needed: bool) -> None:
    q = parse_list(
        _request(query), page_size=10, default_excluded=[("vnfInstance",)], mandatory=[("id",)]
    )
    assert isinstance(q, ListQuery) and q.needs("vnfInstance") is needed


def test_selectors_still_shape_resources_the_same_way() -> None:
    body = {"id": "1", "a": {"b": 1, "c": 2}, "d": [1], "e": 3}
    sel = parse_selectors({"exclude_fields": "a/b,e"}, default_excluded=[("d",)])
    assert sel.apply(body) == {"id": "1", "a": {"c": 2}, "d": [1]}
    sel = parse_selectors({}, default_excluded=[("d",), ("a", "c")], mandatory=[("a",)])
    assert sel.apply(body) == {"id": "1", "a": {"b": 1, "c": 2}, "e": 3}
    assert body == {"id": "1", "a": {"b": 1, "c": 2}, "d": [1], "e": 3}  # not modified


# ------------------------------------------------------------------------- keyset in SQL


def _ns(i: int, tenant: str | None) -> NsInstance:
    return NsInstance(
        id=f"ns-{i:03d}",
        tenant_id=tenant,
        nsd_info_id="nsd",
        nsd_id="nsd",
        name=f"n{i}",
        ns_state="INSTANTIATED" if i % 2 else "NOT_INSTANTIATED",
        plan={"big": "x" * 100},
        scale_status={},
        created_at=datetime(2024, 1, 1, tzinfo=UTC) + timedelta(microseconds=i // 4),
    )


def test_keyset_chunks_cover_every_visible_row_once(db_url: str) -> None:
    db = Database(db_url)
    db.migrate()
    with db.session() as s:
        s.add_all(_ns(i, "t1" if i % 3 == 0 else None) for i in range(50))
    sort = (NsInstance.created_at, NsInstance.id)
    for tenant, expected in ((None, range(50)), ("t1", range(0, 50, 3))):
        for limit in (1, 3, 50):
            seen, after = [], None
            while True:
                with db.session() as s:
                    rows = fetch_after(
                        s,
                        NsInstance,
                        sort,
                        PageQuery(after, (), limit),
                        visible=owned_by(NsInstance, tenant),
                        without=("plan",),
                    )
                seen += [r.id for r in rows]
                if len(rows) < limit:
                    break
                after = (rows[-1].created_at, rows[-1].id)
                assert rows[-1].plan is None  # not read
            assert seen == [f"ns-{i:03d}" for i in expected], (tenant, limit)
    with db.session() as s:
        test = ColumnTest("ns_state", "in", ("INSTANTIATED",), True)
        rows = fetch_after(s, NsInstance, sort, PageQuery(None, (test,), 100))
        assert [r.id for r in rows] == [f"ns-{i:03d}" for i in range(0, 50, 2)]
        assert rows[0].plan == {"big": "x" * 100}  # ORM objects when nothing is left out
    db.dispose()


# ------------------------------------------------------------------------------- page size


def test_page_size_out_of_range_is_refused_at_start(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert Settings(data_dir=tmp_path).page_size == 100
    for bad in (0, -1, MAX_PAGE_SIZE + 1):
        with pytest.raises(SettingsError, match="between 1 and 1000"):
            Settings(data_dir=tmp_path, page_size=bad).validate()
    for raw, ok in (("1", True), ("1000", True), ("0", False), ("1001", False), ("ten", False)):
        monkeypatch.setenv("NFVO_PAGE_SIZE", raw)
        if ok:
            assert Settings.from_env(data_dir=tmp_path).page_size == int(raw)
        else:
            with pytest.raises(SettingsError, match="NFVO_PAGE_SIZE"):
                Settings.from_env(data_dir=tmp_path)


def test_services_do_not_start_with_a_bad_page_size(tmp_path: Path) -> None:
    from nfvo.runtime import build_services

    settings = Settings(data_dir=tmp_path, database_url="sqlite://", page_size=5000)
    with pytest.raises(SettingsError):
        build_services(settings)
    assert not (tmp_path / "tmp").exists()  # refused before touching anything


# ------------------------------------------------------------------------ token checking


def test_a_remembered_token_is_still_refused_once_expired(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'tokens.db'}")
    db.migrate()
    tokens = TokenService(db, ttl_seconds=1, vault=Vault(Fernet.generate_key()))
    client = ClientService(db, tokens).create("c1", "secret-c1", Role.operator, "t")
    token, _ = tokens.issue(client)
    assert tokens.verify(token) == Principal("c1", Role.operator, "t")
    assert tokens.verify(token) == Principal("c1", Role.operator, "t")  # remembered
    head, body, signature = token.split(".")
    forged = f"{head}.{body}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
    with pytest.raises(jwt.InvalidTokenError):
        tokens.verify(forged)
    time.sleep(2.1)  # the token's exp passes (whole seconds)
    with pytest.raises(jwt.ExpiredSignatureError):
        tokens.verify(token)
    db.dispose()
