"""Tokens against a real server, on SQLite and PostgreSQL: lifetime, revocation (client deleted,
disabled, secret changed, tokens revoked), signing-key rotation and storage, forged and
malformed tokens, and the brute-force guard of ``POST /oauth2/token``."""

from __future__ import annotations

import base64
import json
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy import text
from tests.support.live import ADMIN_PASSWORD, LiveApi, start_live

from nfvo.api.security import hash_secret, verify_secret
from nfvo.inventory.repositories import ClientRepository

PKGS = "/vnfpkgm/v2/vnf_packages"
USERS = "/admin/v1/users"


def _login(live: LiveApi, user: str, secret: str, **headers: str) -> httpx.Response:
    return httpx.post(
        f"{live.base_url}/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(user, secret),
        headers=headers,
    )


def _get(live: LiveApi, token: str, path: str = PKGS) -> httpx.Response:
    value = f"Bearer {token}".encode("latin-1")  # latin-1: the tests send odd bytes too
    return httpx.get(live.base_url + path, headers={"Authorization": value})


def _user(live: LiveApi, cid: str, role: str = "admin", **extra: Any) -> str:
    secret = f"{cid}-secret-1"
    body = {"clientId": cid, "clientSecret": secret, "role": role, **extra}
    r = live.client.post(USERS, json=body)
    assert r.status_code == 201, r.text
    return live.token(cid, secret)


def _refused(r: httpx.Response, why: str) -> None:
    assert r.status_code == 401, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert why in r.json()["detail"], r.json()["detail"]


def test_expired_token_is_refused(db_url: str, tmp_path: Path) -> None:
    live = start_live(tmp_path / "d", db_url, token_ttl_seconds=4)
    try:
        tok = live.token("admin", ADMIN_PASSWORD)
        h = {"Authorization": f"Bearer {tok}"}
        assert httpx.get(live.base_url + "/vnfpkgm/v2/vnf_packages", headers=h).status_code == 200
        time.sleep(4.5)
        r = httpx.get(live.base_url + "/vnfpkgm/v2/vnf_packages", headers=h)
        assert r.status_code == 401 and "expired" in r.json()["detail"]
        # the secret is stored as a salted slow hash, never in clear
        with live.services.db.session() as s:
            stored = ClientRepository(s).get("admin").secret_hash
        assert ADMIN_PASSWORD not in stored and stored.startswith("scrypt$")
    finally:
        live.close()


def test_secret_hashes_are_salted() -> None:
    a, b = hash_secret("same-secret"), hash_secret("same-secret")
    assert a != b
    assert verify_secret("same-secret", a) and verify_secret("same-secret", b)
    assert not verify_secret("other", a)
    assert not verify_secret("same-secret", "garbage")


# ---------------------------------------------------------------------------- revocation


def test_a_deleted_clients_token_stops_at_once_and_cannot_create_users(live: LiveApi) -> None:
    tok = _user(live, "temp-admin")
    assert _get(live, tok).status_code == 200
    assert live.client.delete(f"{USERS}/temp-admin").status_code == 204
    _refused(_get(live, tok), "no longer exists")
    r = httpx.post(
        live.base_url + USERS,
        json={"clientId": "evil", "role": "admin"},
        headers={"Authorization": f"Bearer {tok}"},
    )
    _refused(r, "no longer exists")
    assert "evil" not in {u["clientId"] for u in live.client.get(USERS).json()}
    # a new client of the same name does not revive the old token
    _user(live, "temp-admin")
    _refused(_get(live, tok), "revoked")


def test_disabling_a_client_ends_its_tokens_and_enabling_does_not_revive_them(
    live: LiveApi,
) -> None:
    tok = _user(live, "ops", role="operator")
    r = live.client.patch(f"{USERS}/ops", json={"disabled": True})
    assert r.status_code == 200 and r.json()["disabled"] is True
    _refused(_get(live, tok), "disabled")
    assert _login(live, "ops", "ops-secret-1").status_code == 401
    assert live.client.patch(f"{USERS}/ops", json={"disabled": False}).json()["disabled"] is False
    _refused(_get(live, tok), "revoked")
    assert _get(live, live.token("ops", "ops-secret-1")).status_code == 200


def test_a_new_secret_ends_the_tokens_and_the_old_secret(live: LiveApi) -> None:
    tok = _user(live, "bot", role="reader")
    r = live.client.patch(f"{USERS}/bot", json={"clientSecret": "bot-secret-2"})
    assert r.status_code == 200 and "clientSecret" not in r.json()
    _refused(_get(live, tok), "revoked")
    assert _login(live, "bot", "bot-secret-1").status_code == 401
    assert _get(live, live.token("bot", "bot-secret-2")).status_code == 200


def test_revoking_tokens_ends_them_and_new_ones_work(live: LiveApi) -> None:
    tok = _user(live, "bot", role="reader")
    other = _user(live, "other", role="reader")
    assert live.client.post(f"{USERS}/bot/revoke_tokens").status_code == 204
    _refused(_get(live, tok), "revoked")
    assert _get(live, other).status_code == 200  # only that client's tokens
    assert _get(live, live.token("bot", "bot-secret-1")).status_code == 200
    assert live.client.post(f"{USERS}/nobody/revoke_tokens").status_code == 404


def test_user_changes_keep_the_tenant_admin_rules(live: LiveApi) -> None:
    g = live.client
    ta = g.post("/admin/v1/tenants", json={"name": "alpha"}).json()["id"]
    tb = g.post("/admin/v1/tenants", json={"name": "beta"}).json()["id"]
    a_tok = _user(live, "a-adm", tenantId=ta)
    _user(live, "a-read", role="reader", tenantId=ta)
    _user(live, "b-read", role="reader", tenantId=tb)
    a = httpx.Client(base_url=live.base_url, headers={"Authorization": f"Bearer {a_tok}"})
    try:
        # another tenant's client and the global admin look absent
        for target in ("b-read", "admin"):
            assert a.patch(f"{USERS}/{target}", json={"disabled": True}).status_code == 404
            assert a.post(f"{USERS}/{target}/revoke_tokens").status_code == 404
        r = a.patch(f"{USERS}/a-read", json={"clientSecret": "a-read-secret-2"})
        assert r.status_code == 200 and r.json()["tenantId"] == ta
        # only these fields, well typed; never oneself disabled
        for body, field in (
            ({"role": "admin"}, "role"),
            ({"tenantId": None}, "tenantId"),
            ({"disabled": "yes"}, "disabled"),
            ({"disabled": None}, "disabled"),
            ({"clientSecret": "short"}, "clientSecret"),
            ({"clientSecret": None}, "clientSecret"),
            ({}, "body"),
        ):
            r = a.patch(f"{USERS}/a-read", json=body)
            assert r.status_code == 400 and r.json()["field"] == field, (body, r.text)
        assert a.patch(f"{USERS}/a-adm", json={"disabled": True}).status_code == 409
        assert a.get("/admin/v1/signing_keys").status_code == 403
        assert a.post("/admin/v1/signing_keys/rotate").status_code == 403
        reader = live.client_for("a-read", "a-read-secret-2")
        assert reader.patch(f"{USERS}/a-read", json={"disabled": True}).status_code == 403
        assert reader.post(f"{USERS}/a-read/revoke_tokens").status_code == 403
        reader.close()
    finally:
        a.close()


# ------------------------------------------------------------------------------- signing keys


def _kid(token: str) -> str:
    return jwt.get_unverified_header(token)["kid"]


def test_rotation_without_grace_ends_every_token_at_once(live: LiveApi) -> None:
    old = live.token("admin", ADMIN_PASSWORD)
    r = live.client.post("/admin/v1/signing_keys/rotate")
    assert r.status_code == 200 and r.json()["signing"] is True
    new_kid = r.json()["kid"]
    _refused(_get(live, old), "rotated out")
    fresh = live.token("admin", ADMIN_PASSWORD)
    assert _kid(fresh) == new_kid and _get(live, fresh).status_code == 200
    keys = httpx.get(
        live.base_url + "/admin/v1/signing_keys", headers={"Authorization": f"Bearer {fresh}"}
    ).json()
    assert [k["signing"] for k in keys] == [False, True]
    assert all(set(k) == {"kid", "signing", "createdAt", "retiredAt", "expiresAt"} for k in keys)


def test_rotation_with_grace_keeps_old_tokens_until_it_ends(db_url: str, tmp_path: Path) -> None:
    live = start_live(tmp_path / "d", db_url, token_ttl_seconds=60)
    try:
        old = live.token("admin", ADMIN_PASSWORD)
        h = {"Authorization": f"Bearer {old}"}
        for bad in (-1, 61, "5", True, 1.5):
            r = httpx.post(
                live.base_url + "/admin/v1/signing_keys/rotate",
                json={"gracePeriodSeconds": bad},
                headers=h,
            )
            assert r.status_code == 400 and r.json()["field"] == "gracePeriodSeconds", bad
        r = httpx.post(
            live.base_url + "/admin/v1/signing_keys/rotate",
            json={"gracePeriodSeconds": 2},
            headers=h,
        )
        assert r.status_code == 200
        fresh = live.token("admin", ADMIN_PASSWORD)
        assert _kid(fresh) == r.json()["kid"] != _kid(old)
        assert _get(live, old).status_code == 200  # within the grace period
        time.sleep(2.5)
        _refused(_get(live, old), "rotated out")
        assert _get(live, fresh).status_code == 200
    finally:
        live.close()


def test_the_signing_key_is_not_stored_in_clear(live: LiveApi) -> None:
    key = live.services.tokens.keys.current()
    with live.services.db.engine.connect() as c:
        stored = [
            str(v)
            for table in ("jwt_signing_keys", "server_settings")
            for row in c.execute(text(f"SELECT * FROM {table}")).all()
            for v in row
        ]
    assert stored, "the key table is empty"
    secret = key.secret.decode()
    assert not any(secret in v for v in stored)
    assert not any(base64.urlsafe_b64encode(key.secret).decode()[:20] in v for v in stored)


def test_a_plaintext_key_of_an_older_release_is_dropped_at_start(
    db_url: str, tmp_path: Path
) -> None:
    first = start_live(tmp_path / "d", db_url)
    legacy = "legacy-plaintext-signing-key-0123456789abcdef"
    with first.services.db.session() as s:
        s.execute(
            text("INSERT INTO server_settings (key, value) VALUES ('jwt_signing_key', :v)"),
            {"v": legacy},
        )
    with first.services.db.session() as s:
        gen = ClientRepository(s).get("admin").token_generation
    first.close()
    live = start_live(tmp_path / "d", db_url)  # the next start of the same database
    try:
        with live.services.db.engine.connect() as c:
            values = [r[0] for r in c.execute(text("SELECT value FROM server_settings")).all()]
        assert legacy not in values
        minted = jwt.encode(
            {
                "iss": "nfvo",
                "sub": "admin",
                "role": "admin",
                "tenant": None,
                "gen": gen,
                "iat": int(time.time()),
                "exp": int(time.time()) + 600,
            },
            legacy,
            algorithm="HS256",
        )
        _refused(_get(live, minted), "invalid")
    finally:
        live.close()


# ------------------------------------------------------------------- forged and malformed


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _raw(header: Any, payload: Any, key: bytes = b"") -> str:
    """A JWT assembled by hand (to send what PyJWT would refuse to build)."""
    import hashlib
    import hmac

    h = _b64(json.dumps(header).encode())
    p = _b64(json.dumps(payload).encode())
    sig = hmac.new(key, f"{h}.{p}".encode(), hashlib.sha256).digest() if key else b""
    return f"{h}.{p}.{_b64(sig)}"


@pytest.fixture
def forge(live: LiveApi) -> Iterator[Any]:
    """Mint tokens with the server's own current key for the reader client ``r1``."""
    _user(live, "r1", role="reader")
    with live.services.db.session() as s:
        gen = ClientRepository(s).get("r1").token_generation
    key = live.services.tokens.keys.current()
    now = int(time.time())
    good = {
        "iss": "nfvo",
        "sub": "r1",
        "role": "reader",
        "tenant": None,
        "gen": gen,
        "iat": now,
        "exp": now + 600,
    }

    def make(drop: tuple[str, ...] = (), header: dict | None = None, **claims: Any) -> str:
        payload = {k: v for k, v in {**good, **claims}.items() if k not in drop}
        return _raw(header or {"alg": "HS256", "typ": "JWT", "kid": key.kid}, payload, key.secret)

    yield make


MALFORMED: list[tuple[str, dict[str, Any]]] = [
    ("role a number", {"role": 7}),
    ("role a list", {"role": ["admin"]}),
    ("role an object", {"role": {"name": "admin"}}),
    ("role unknown", {"role": "root"}),
    ("role null", {"role": None}),
    ("sub missing", {"drop": ("sub",)}),
    ("sub a number", {"sub": 12}),
    ("sub empty", {"sub": ""}),
    ("sub another client", {"sub": "admin"}),
    ("sub unknown", {"sub": "ghost"}),
    ("tenant a number", {"tenant": 5}),
    ("tenant a list", {"tenant": ["t"]}),
    ("gen missing", {"drop": ("gen",)}),
    ("gen wrong", {"gen": "0000"}),
    ("gen a number", {"gen": 0}),
    ("exp missing", {"drop": ("exp",)}),
    ("exp a string", {"exp": "tomorrow"}),
    ("exp huge", {"exp": 10**400}),
    ("exp past", {"exp": 1000}),
    ("iat missing", {"drop": ("iat",)}),
    ("iat a string", {"iat": "now"}),
    ("iss wrong", {"iss": "someone-else"}),
    ("iss missing", {"drop": ("iss",)}),
    ("alg none", {"header": {"alg": "none", "typ": "JWT"}}),
    ("alg HS512", {"header": {"alg": "HS512", "kid": "x"}}),
    ("alg RS256", {"header": {"alg": "RS256", "kid": "x"}}),
    ("kid missing", {"header": {"alg": "HS256"}}),
    ("kid a number", {"header": {"alg": "HS256", "kid": 1}}),
    ("kid a list", {"header": {"alg": "HS256", "kid": ["a"]}}),
    ("kid unknown", {"header": {"alg": "HS256", "kid": "0123456789abcdef"}}),
    ("kid path", {"header": {"alg": "HS256", "kid": "../../etc/passwd"}}),
    ("kid huge", {"header": {"alg": "HS256", "kid": "k" * 3000}}),
]


@pytest.mark.parametrize(("case", "change"), MALFORMED, ids=[c for c, _ in MALFORMED])
def test_a_malformed_or_forged_claim_is_a_401(
    live: LiveApi, forge: Any, case: str, change: dict[str, Any]
) -> None:
    change = dict(change)
    token = forge(drop=change.pop("drop", ()), header=change.pop("header", None), **change)
    r = _get(live, token)
    assert r.status_code == 401, (case, r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.headers["www-authenticate"].startswith("Bearer")


def test_broken_tokens_are_a_401(live: LiveApi, forge: Any) -> None:
    good = forge()
    assert _get(live, good).status_code == 200  # the forge itself is right
    head, body, sig = good.split(".")
    cases = [
        "garbage",
        "a.b.c",
        "..",
        f"{head}.{body}",
        f"{head}.{body}.{sig}.extra",
        f"{head}.{body}.{_b64(b'x' * 32)}",  # wrong signature
        _raw({"alg": "HS256", "kid": jwt.get_unverified_header(good)["kid"]}, [1, 2], b"k"),
        f"{_b64(b'[1,2]')}.{body}.{sig}",  # header not an object
        f"{_b64(b'not json')}.{body}.{sig}",
        f"{head}.{_b64(b'not json')}.{sig}",
        f"{head}.{body}.{sig}" + "A" * 6000,  # huge
        "é" * 10,
        jwt.encode({"sub": "r1"}, "another-key-of-32-bytes-or-more-0123", algorithm="HS256"),
    ]
    for token in cases:
        r = _get(live, token)
        assert r.status_code == 401, (token[:60], r.status_code, r.text)


def test_the_live_client_row_decides_the_role_not_the_claim(live: LiveApi, forge: Any) -> None:
    # even signed with the real key, a token claiming more than its client has gets nothing
    token = forge(role="admin")
    assert _get(live, token).status_code == 200
    r = _get(live, token, USERS)
    assert r.status_code == 403 and "reader" in r.json()["detail"]


# -------------------------------------------------------------------------- brute force


@pytest.fixture
def guarded(db_url: str, tmp_path: Path) -> Iterator[LiveApi]:
    live = start_live(
        tmp_path / "d", db_url, login_failures_per_client=3, login_failures_per_address=6
    )
    try:
        yield live
    finally:
        live.close()


def _too_many(r: httpx.Response) -> int:
    assert r.status_code == 429, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["status"] == 429
    wait = int(r.headers["retry-after"])
    assert 1 <= wait <= 60
    return wait


def test_failures_of_one_client_id_are_limited_others_still_log_in(guarded: LiveApi) -> None:
    live = guarded
    _user(live, "victim", role="reader")
    _user(live, "bystander", role="reader")
    for _ in range(3):
        assert _login(live, "victim", "wrong-secret").status_code == 401
    _too_many(_login(live, "victim", "wrong-secret"))
    _too_many(_login(live, "victim", "victim-secret-1"))  # no secret is checked meanwhile
    # X-Forwarded-For from an untrusted peer changes nothing
    _too_many(_login(live, "victim", "wrong-secret", **{"X-Forwarded-For": "203.0.113.9"}))
    assert _login(live, "bystander", "bystander-secret-1").status_code == 200


def test_failures_from_one_address_are_limited(guarded: LiveApi) -> None:
    live = guarded
    _user(live, "bystander", role="reader")
    for i in range(6):  # a different unknown id each time: only the address adds up
        assert _login(live, f"guess-{i}", "wrong-secret").status_code == 401
    _too_many(_login(live, "guess-new", "wrong-secret"))
    _too_many(_login(live, "bystander", "bystander-secret-1"))


def test_behind_a_trusted_proxy_the_forwarded_address_counts(db_url: str, tmp_path: Path) -> None:
    live = start_live(
        tmp_path / "d",
        db_url,
        login_failures_per_client=50,
        login_failures_per_address=2,
        trusted_proxies=("127.0.0.0/8",),
    )
    try:
        _user(live, "bystander", role="reader")
        one, two = {"X-Forwarded-For": "198.51.100.1"}, {"X-Forwarded-For": "198.51.100.2"}
        for i in range(2):
            assert _login(live, f"g{i}", "wrong-secret", **one).status_code == 401
        _too_many(_login(live, "g", "wrong-secret", **one))
        assert _login(live, "bystander", "bystander-secret-1", **two).status_code == 200
    finally:
        live.close()


def test_unknown_and_existing_client_ids_take_the_same_time(db_url: str, tmp_path: Path) -> None:
    live = start_live(
        tmp_path / "d", db_url, login_failures_per_client=1000, login_failures_per_address=1000
    )
    try:
        _user(live, "known", role="reader")
        client = httpx.Client(base_url=live.base_url)
        times: dict[str, list[float]] = {"known": [], "unknown": []}
        for i in range(16):  # interleaved, so load on the machine hits both alike
            for who in ("known", "unknown"):
                cid = "known" if who == "known" else f"unknown-{i}"
                t0 = time.perf_counter()
                r = client.post(
                    "/oauth2/token",
                    data={"grant_type": "client_credentials"},
                    auth=(cid, "wrong-secret"),
                )
                times[who].append(time.perf_counter() - t0)
                assert r.status_code == 401
        client.close()
        known, unknown = statistics.median(times["known"]), statistics.median(times["unknown"])
        assert 0.5 < known / unknown < 2.0, (known, unknown)
        assert unknown > 0.01  # the decoy hash ran (scrypt takes tens of ms)
    finally:
        live.close()


def test_concurrent_attempts_do_not_overshoot_the_limit(guarded: LiveApi) -> None:
    from concurrent.futures import ThreadPoolExecutor

    _user(guarded, "victim", role="reader")
    with ThreadPoolExecutor(20) as pool:
        codes = list(
            pool.map(lambda i: _login(guarded, "victim", f"guess-{i}").status_code, range(20))
        )
    assert codes.count(401) == 3 and codes.count(429) == 17, codes
