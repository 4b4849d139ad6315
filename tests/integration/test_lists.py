"""Every list of the API pages in SQL: each row exactly once and in order, filters evaluated in
SQL give what the SOL013 in-memory evaluation gives, markers are bound to their filter, and
tenants see only their rows across pages. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.support.live import LiveApi, start_live
from tests.support.pgschema import pg_schema_url

from nfvo.api.sol013 import OPERATORS, parse_filter, quote_value
from nfvo.inventory.models import (
    CatalogPackage,
    LccnSubscriptionRow,
    NsInstance,
    NsLcmOpOcc,
    NsVl,
    SdnController,
    Tenant,
    VimAccount,
)

NS = "/nslcm/v2/ns_instances"
OPS = "/nslcm/v2/ns_lcm_op_occs"
VNF = "/vnfpkgm/v2/vnf_packages"
NSD = "/nsd/v2/ns_descriptors"
PNFD = "/nsd/v2/pnf_descriptors"
SUBS = "/nslcm/v2/subscriptions"
VIMS = "/admin/v1/vim_accounts"
SDNS = "/admin/v1/sdn_controllers"
TENANTS = "/admin/v1/tenants"
# text that SQL could compare differently from Python: case, LIKE wildcards, quotes, filter
# delimiters, non-ASCII, digits, the empty string
WORDS = [
    "alpha",
    "Alpha",
    "ALPHA",
    "al%pha",
    "al_pha",
    "a'b",
    "x,y",
    "x)y",
    "",
    "ü-édge",
    "zeta",
    "Zeta",
    "10",
    "9",
    "true",
    "née",
]
T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
PG_ENV = "NFVO_TEST_DATABASE_URL"


def _id(kind: int, i: int) -> str:
    return str(uuid.UUID(int=(kind << 96) + i))


def _at(i: int) -> datetime:
    return T0 + timedelta(microseconds=i // 3)  # three rows per timestamp: the id breaks ties


def seed(live: LiveApi, owners: list[str | None], n: int = 30) -> None:
    """Rows of every listed table, straight into the inventory, owned in turn by ``owners``."""
    rows: list[Any] = []
    for i in range(n):
        owner, word = owners[i % len(owners)], WORDS[i % len(WORDS)]
        # VIM account and SDN controller names are unique across tenants
        unique_name = word if i < len(WORDS) else f"{word}#{i}"
        rows.append(
            NsInstance(
                id=_id(1, i),
                tenant_id=owner,
                nsd_info_id=_id(9, i % 4),
                nsd_id=WORDS[(i * 7) % len(WORDS)],
                name=word,
                description=None if i % 4 == 0 else f"d{i % 5}",
                ns_state=("NOT_INSTANTIATED", "INSTANTIATED", "FAILED_TEMP")[i % 3],
                flavour_id="default" if i % 3 == 1 else None,
                plan=None,
                scale_status={},
                created_at=_at(i),
                updated_at=T0,
            )
        )
        if i % 2:  # an NS virtual link on one VIM: part of virtualLinkInfo
            rows.append(
                NsVl(
                    ns_instance_id=_id(1, i),
                    vl_id=f"vl-{i % 3}",
                    vim_account_id="vim",
                    network_id=f"net-{i}",
                    subnet_id=None,
                )
            )
        rows.append(
            NsLcmOpOcc(
                id=_id(2, i),
                ns_instance_id=_id(1, i % 7),
                tenant_id=owner,
                operation=("INSTANTIATE", "SCALE", "HEAL", "TERMINATE")[i % 4],
                state=("COMPLETED", "FAILED", "PROCESSING", "FAILED_TEMP", "ROLLED_BACK")[i % 5],
                is_automatic_invocation=i % 3 == 0,
                params={"k": word},
                error=None,
                changes={},
                cancel_pending=i % 4 == 0,
                cancel_mode="GRACEFUL" if i % 6 == 0 else None,
                start_time=_at(i),
                state_entered_time=T0,
            )
        )
        for k, (kind, field) in enumerate(
            (("vnf", "vnfdId"), ("nsd", "nsdId"), ("pnfd", "pnfdId"))
        ):
            onboarded = i % 3 == 1
            descriptor = WORDS[(i * 5) % len(WORDS)] if onboarded else None
            rows.append(
                CatalogPackage(
                    id=_id(3, i * 3 + k),
                    kind=kind,
                    tenant_id=owner,
                    descriptor_id=descriptor,
                    onboarding_state=("CREATED", "ONBOARDED", "ERROR")[i % 3],
                    operational_state="ENABLED" if i % 2 else "DISABLED",
                    usage_state="IN_USE" if i % 5 == 0 else "NOT_IN_USE",
                    info={field: descriptor} if onboarded else {},
                    user_defined_data={"n": i},
                    created_at=_at(i),
                    updated_at=T0,
                )
            )
        rows.append(
            VimAccount(
                id=_id(4, i),
                tenant_id=owner,
                name=unique_name,
                vim_type=("sim", "openstack")[i % 2],
                vim_url=None if i % 3 else f"http://vim-{word}",
                description=None if i % 2 else word,
                config={},
                operational_state=("ENABLED", "ERROR", "PROCESSING")[i % 3],
                detailed_status=None if i % 4 else word,
                vim_info={},
                created_at=_at(i),
                updated_at=T0,
            )
        )
        rows.append(
            SdnController(
                id=_id(5, i),
                tenant_id=owner,
                name=unique_name,
                sdn_type=("onos", "odl")[i % 2],
                url=None if i % 2 else f"http://sdn/{word}",
                user=None if i % 3 else word,
                config={},
                operational_state=("ENABLED", "ERROR")[i % 2],
                created_at=_at(i),
                updated_at=T0,
            )
        )
        rows.append(
            LccnSubscriptionRow(
                id=_id(6, i),
                tenant_id=owner,
                callback_uri=f"http://cb/{word}",
                filter={},
                verbosity=("FULL", "SHORT")[i % 2],
                fingerprint=f"fp-{i}",
                created_at=_at(i),
            )
        )
    with live.services.db.session() as s:
        s.add_all(rows)
        for i in range(4):
            s.add(Tenant(id=_id(7, i), name=WORDS[i] or "none", created_at=_at(i)))


def walk(c: httpx.Client, path: str, params: dict[str, str] | None = None) -> list[dict]:
    """Every item of a list, following the Link headers; asserts each page is 200."""
    out: list[dict] = []
    r = c.get(path, params=params)
    while True:
        assert r.status_code == 200, r.text
        out += r.json()
        link = r.headers.get("link")
        if not link:
            return out
        assert len(out) <= 10_000, "paging does not end"
        r = c.get(link.split(";")[0].strip("<>"))  # the link carries every parameter


def ids(items: list[dict], key: str = "id") -> list[str]:
    return [item[key] for item in items]


@contextmanager
def _database(kind: str, tmp: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp / 'nfvo.db'}"
        return
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"PostgreSQL tests need {PG_ENV}")
    yield from pg_schema_url(base)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def seeded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveApi]:
    """One server with the seeded rows, shared by the tests that only read (a server start
    is the slow part of these tests)."""
    tmp = tmp_path_factory.mktemp("lists")
    with _database(request.param, tmp) as url:
        live = start_live(tmp / "data", url)
        try:
            seed(live, [None])
            yield live
        finally:
            live.close()


# ------------------------------------------------------------------- order and exactly once

COLLECTIONS = {NS: 1, OPS: 2, VIMS: 4, SDNS: 5, SUBS: 6}


def test_paging_returns_every_row_once_in_order(seeded: LiveApi) -> None:
    for path, kind in COLLECTIONS.items():
        expected = [_id(kind, i) for i in range(30)]  # created in id order, ties included
        for size in (1, 2, 7, 29, 30, 31, 1000):
            seeded.services.settings.page_size = size
            got = ids(walk(seeded.client, path))
            assert got == expected, (path, size)
    seeded.services.settings.page_size = 4
    for path in (VNF, NSD, PNFD):
        got = ids(walk(seeded.client, path))
        assert len(got) == len(set(got)) == 30 and got == sorted(got), path


def test_link_only_when_more_rows_exist(seeded: LiveApi) -> None:
    seeded.services.settings.page_size = 10
    r = seeded.client.get(NS, params={"filter": "(eq,nsState,INSTANTIATED)"})
    assert len(r.json()) == 10 and "link" not in r.headers  # exactly ten match: no next page
    r = seeded.client.get(NS, params={"filter": "(eq,nsState,FAILED_TEMP)"})
    assert len(r.json()) == 10 and "link" not in r.headers
    r = seeded.client.get(NS)
    assert len(r.json()) == 10 and 'rel="next"' in r.headers["link"]


def test_residual_filter_fills_pages_across_chunks(seeded: LiveApi) -> None:
    # virtualLinkInfo is built from the records, not a column: evaluated on rendered rows,
    # reading further chunks until a page is full
    flt = "(eq,virtualLinkInfo/id,vl-1);(neq,nsState,NOT_INSTANTIATED)"
    seeded.services.settings.page_size = 1000
    everything = walk(seeded.client, NS, {"all_fields": ""})
    expected = [ns["id"] for ns in everything if parse_filter(flt).matches(ns)]
    assert expected
    for size in (1, 2, 3):
        seeded.services.settings.page_size = size
        items = walk(seeded.client, NS, {"filter": flt, "fields": "virtualLinkInfo"})
        assert ids(items) == expected, size
        assert all("virtualLinkInfo" in ns for ns in items)
    assert all("virtualLinkInfo" not in ns for ns in seeded.client.get(NS).json())


# ------------------------------------------------------------------------ filter pushdown

# attributes each list maps to columns, plus some it evaluates in memory
ATTRIBUTES = {
    NS: ["id", "nsInstanceName", "nsdId", "nsdInfoId", "nsState", "nsInstanceDescription"],
    OPS: [
        "id",
        "nsInstanceId",
        "operationState",
        "lcmOperationType",
        "isAutomaticInvocation",
        "isCancelPending",
        "cancelMode",
    ],
    VNF: ["id", "vnfdId", "onboardingState", "operationalState", "usageState", "_links/self/href"],
    NSD: ["id", "nsdId", "nsdOnboardingState", "nsdOperationalState", "nsdUsageState"],
    PNFD: ["id", "pnfdId", "pnfdOnboardingState", "pnfdUsageState"],
    VIMS: [
        "_id",
        "name",
        "description",
        "tenant_id",
        "vim_type",
        "vim_url",
        "vim_user",
        "_admin/operationalState",
        "_admin/detailed-status",
    ],
    SDNS: ["id", "name", "type", "url", "user", "_admin/operationalState"],
    SUBS: ["id", "callbackUri", "verbosity"],
    TENANTS: ["id", "name", "description"],
}
EXTRA_VALUES = ["true", "false", "TRUE", "1", "INSTANTIATED", "COMPLETED", "ENABLED", "a", "z"]


def _leaf_values(items: list[dict], attr: str) -> list[str]:
    out = []
    for item in items:
        node: Any = item
        for name in attr.split("/"):
            node = node.get(name) if isinstance(node, dict) else None
        if isinstance(node, str | bool):
            out.append(str(node).lower() if isinstance(node, bool) else node)
    return out


@st.composite
def terms(draw: st.DrawFn, attrs: list[str], pool: dict[str, list[str]]) -> str:
    attr = draw(st.sampled_from(attrs))
    op = draw(st.sampled_from(OPERATORS))
    values = st.sampled_from(sorted(set(pool[attr] + WORDS + EXTRA_VALUES)))
    count = 1 if op in ("gt", "gte", "lt", "lte") else draw(st.integers(1, 3))
    chosen = [draw(values) for _ in range(count)]
    return f"({op},{attr},{','.join(quote_value(v) for v in chosen)})"


def _agree_on_filters(live: LiveApi, path: str, attrs: list[str]) -> None:
    """Random filters on ``attrs``: the list's pages give what the SOL013 evaluation of each
    rendered resource gives (the reference: every resource with all its attributes)."""
    live.services.settings.page_size = 1000
    # subscription lists take no attribute selectors (SOL005): they show every attribute
    everything = walk(live.client, path, {} if path == SUBS else {"all_fields": ""})
    assert len(everything) >= 4, path
    pool = {a: _leaf_values(everything, a) for a in attrs}
    key = "_id" if path == VIMS else "id"

    @settings(max_examples=40, deadline=None, database=None)
    @given(st.lists(terms(attrs, pool), min_size=1, max_size=2))
    def check(parts: list[str]) -> None:
        flt = ";".join(parts)
        expected = [i[key] for i in everything if parse_filter(flt).matches(i)]
        live.services.settings.page_size = 7
        assert ids(walk(live.client, path, {"filter": flt}), key) == expected, (path, flt)

    check()


@pytest.mark.parametrize("path", list(ATTRIBUTES))
def test_filters_in_sql_match_the_in_memory_evaluation(seeded: LiveApi, path: str) -> None:
    _agree_on_filters(seeded, path, ATTRIBUTES[path])


# --------------------------------------------------------------------------------- markers


def test_marker_is_bound_to_its_filter(seeded: LiveApi) -> None:
    seeded.services.settings.page_size = 2
    r = seeded.client.get(OPS, params={"filter": "(eq,isCancelPending,false)"})
    link = r.headers["link"]
    marker = link.split("nextpage_opaque_marker=")[1].split(">")[0]
    for other in ({"filter": "(eq,isCancelPending,true)"}, {}):
        r = seeded.client.get(OPS, params={**other, "nextpage_opaque_marker": marker})
        assert r.status_code == 400, r.text
        assert "nextpage_opaque_marker" in r.json()["detail"]
    r = seeded.client.get(
        OPS, params={"filter": "(eq,isCancelPending,false)", "nextpage_opaque_marker": marker}
    )
    assert r.status_code == 200 and len(r.json()) == 2


@pytest.mark.parametrize("marker", ["garbage", "A" * 40, "", "%%%", "eyJ4IjoxfQ"])
def test_malformed_markers_are_refused(seeded: LiveApi, marker: str) -> None:
    r = seeded.client.get(NS, params={"nextpage_opaque_marker": marker})
    if marker == "":  # an empty marker is no marker: the first page
        assert r.status_code == 200
        return
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith("application/problem+json")


def test_a_deleted_marker_row_does_not_break_paging(live: LiveApi) -> None:
    seed(live, [None])
    live.services.settings.page_size = 5
    r = live.client.get(SUBS)
    last = r.json()[-1]["id"]
    assert live.client.delete(f"{SUBS}/{last}").status_code == 204
    r = live.client.get(r.headers["link"].split(";")[0].strip("<>"))
    assert ids(r.json()) == [_id(6, i) for i in range(5, 10)]


def test_client_page_size_parameters_are_refused(seeded: LiveApi) -> None:
    # SOL013 leaves the page size to the server; a parameter the list does not define is a
    # 400 naming it, not silently ignored
    seeded.services.settings.page_size = 3
    for params in ({"page_size": "100"}, {"limit": "0"}, {"size": "-1"}):
        r = seeded.client.get(NS, params=params)
        assert r.status_code == 400, r.text
        name = next(iter(params))
        assert r.json()["invalidParams"] == [name] and f"'{name}'" in r.json()["detail"]


# ----------------------------------------------------------------------- tenant isolation


def _tenant_reader(live: LiveApi, name: str) -> tuple[str, httpx.Client]:
    r = live.client.post(TENANTS, json={"name": name})
    assert r.status_code == 201, r.text
    tenant = r.json()["id"]
    r = live.client.post(
        "/admin/v1/users",
        json={
            "clientId": f"reader-{name}",
            "role": "reader",
            "tenantId": tenant,
            "clientSecret": "reader-secret-1",
        },
    )
    assert r.status_code == 201, r.text
    return tenant, live.client_for(f"reader-{name}", "reader-secret-1")


def test_tenants_see_only_their_rows_across_pages(live: LiveApi) -> None:
    a, reader_a = _tenant_reader(live, "ta")
    b, _ = _tenant_reader(live, "tb")
    seed(live, [a, b, None], n=45)
    owner = {i: [a, b, None][i % 3] for i in range(45)}
    own = {NS: 1, OPS: 2, SUBS: 6}  # Scope.owns: own rows only
    shared = {VIMS: 4, SDNS: 5}  # Scope.sees: own and shared rows
    for size in (1, 4, 1000):
        live.services.settings.page_size = size
        for path, kind in own.items():
            got = ids(walk(reader_a, path))
            assert got == [_id(kind, i) for i in range(45) if owner[i] == a], (path, size)
        for path, kind in shared.items():
            got = ids(walk(reader_a, path))
            assert got == [_id(kind, i) for i in range(45) if owner[i] in (a, None)], path
        for path in (VNF, NSD, PNFD):
            got = walk(reader_a, path, {"all_fields": ""})
            assert len(got) == 30 and len(set(ids(got))) == 30  # 15 own + 15 shared
        assert ids(walk(reader_a, TENANTS)) == [a]
        assert len(walk(live.client, NS)) == 45
    # a marker of the admin's list does not open other tenants' rows to the reader
    live.services.settings.page_size = 3
    link = live.client.get(NS).headers["link"].split(";")[0].strip("<>")
    rest = reader_a.get(link).json()
    assert rest and all(ns["id"] in {_id(1, i) for i in owner if owner[i] == a} for ns in rest)
