"""The security regression set, in one place, over every function:

- token attacks (tests/support.py's forgeries) on every ``auth=True`` route;
- oversized bodies (declared, chunked, lying Content-Length) and deeply nested JSON;
- SQL metacharacters (and NUL) in every string parameter of every operation,
  then the database checked whole;
- header injection through ``X-Request-Id``, on a real server socket;
- paths that do not route: always problem+json.
"""

from __future__ import annotations

import json
import re
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from eco2.testing import Client

from ..support import PROBLEM, Keys, b64, b64decode, bearer, claims, is_problem
from .conftest import BY_NAME, SPECS, report
from .live import head_of, raw, serve
from .openapi_inputs import conforms, send, string_inputs

REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def auth_routes(client: Client) -> list[tuple[str, str]]:
    """(method, concrete path) of every route that needs a token."""
    found = []
    for route in client.function.router.routes:
        if route.auth:
            path = re.sub(r"\{(\w+):int\}", "1", route.path)
            path = re.sub(r"\{(\w+)\}", "x", path)
            found.append((route.method, path))
    return found


# -- token attacks ---------------------------------------------------------------------


@pytest.fixture
def attacks(keys: Keys, mint, module_redis_url: str) -> dict[str, dict[str, str]]:
    """Name -> request headers carrying one forged, tampered or revoked token."""
    import redis

    from eco2 import config, tokens

    other = ec.generate_private_key(ec.SECP256R1())
    jwk_header = b64(json.dumps({"alg": "ES256", "typ": "JWT", "jwk": json.loads(
        jwt.algorithms.ECAlgorithm.to_jwk(other.public_key()))}).encode())
    jwk_payload = b64(json.dumps(claims()).encode())
    jwk_sig = jwt.encode(claims(), other, algorithm="ES256").split(".")[2]

    user_id, good = mint()
    head, payload, signature = good.split(".")
    data = json.loads(b64decode(payload))
    data["sub"] = str(uuid.uuid4())
    tampered = f"{head}.{b64(json.dumps(data).encode())}.{signature}"

    store = redis.Redis.from_url(module_redis_url)
    _, logged_out = mint()
    out_claims = jwt.decode(logged_out, options={"verify_signature": False})
    settings = config.load(environ={})
    tokens.deny(store, [(out_claims["jti"], out_claims["exp"])], settings)
    deleted_user, deleted = mint()
    tokens.revoke_all(store, deleted_user, settings)
    store.close()

    now = int(time.time())
    forged = {
        "alg none": keys.unsigned(),
        "HS256 with the public key as secret": keys.hs256_with_public_key(),
        "unknown kid": keys.forge(other, "someone-else"),
        "right kid, wrong key": keys.forge(other),
        "no kid": keys.forge(kid=None),
        "kid path traversal": keys.forge(other, "../../../../etc/passwd"),
        "embedded jwk": f"{jwk_header}.{jwk_payload}.{jwk_sig}",
        "signature stripped": f"{head}.{payload}.",
        "expired": keys.forge(exp=now - 3600),
        "not yet valid": keys.forge(nbf=now + 3600),
        "issued in the future": keys.forge(iat=now + 3600),
        "other issuer": keys.forge(iss="someone-else"),
        "other audience": keys.forge(aud="another-app"),
        "no sub": keys.forge(sub=None),
        "no jti": keys.forge(jti=None),
        "no exp": keys.forge(exp=None),
        "sub not a uuid": keys.forge(sub="' OR 1=1 --"),
        "tampered payload": tampered,
        "logged out (denylisted)": logged_out,
        "account deleted (revoked before)": deleted,
        "garbage": "a.b.c",
        "huge": "eyJ" + "A" * 60_000,
    }
    found = {name: bearer(token) for name, token in forged.items()}
    found["no token"] = {}
    found["bearer without a token"] = {"Authorization": "Bearer "}
    found["basic scheme"] = {"Authorization": "Basic " + b64(b"admin:admin")}
    found["tampered cookie"] = {"Cookie": f"s_access={tampered}"}
    found["alg none cookie"] = {"Cookie": f"s_access={forged['alg none']}"}
    return found


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_token_attacks_are_refused_by_every_route(spec, clients: dict[str, Client], attacks, mint) -> None:
    client = clients[spec.name]
    routes = auth_routes(client)
    assert routes, f"{spec.name} has no auth route (every function has {spec.prefix}/session)"
    _, good = mint()
    control = client.get(f"{spec.prefix}/session", headers=bearer(good))
    assert control.status == 200, control.body  # a good token passes, so a 401 below means refused

    accepted = []
    for name, headers in attacks.items():
        for method, path in routes:
            result = client.request(method, path, headers=headers)
            if not (is_problem(result, 401) and "Bearer" in result.headers.get("WWW-Authenticate", "")):
                accepted.append(f"{name}: {method} {path} -> {result.status} {result.body[:120]!r}")
    report(f"security {spec.name}: {len(attacks)} token attacks × {len(routes)} auth routes; "
           f"{len(accepted)} not refused with 401")
    assert accepted == []


# -- oversized and deeply nested bodies ----------------------------------------------------------


def body_routes(client: Client) -> list[tuple[str, str]]:
    found = []
    for route in client.function.router.routes:
        if route.body is not None:
            path = re.sub(r"\{(\w+):int\}", "1", route.path)
            found.append((route.method, re.sub(r"\{(\w+)\}", "x", path)))
    return found


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_oversized_and_deeply_nested_bodies(spec, clients: dict[str, Client], mint) -> None:
    client = clients[spec.name]
    limit = client.function.settings.max_body_bytes
    _, token = mint()
    headers = {**bearer(token), "Content-Type": "application/json"}
    targets = body_routes(client) + [("POST", f"{spec.prefix}/session"), ("PUT", f"{spec.prefix}/openapi.json")]
    wrong = []
    for method, path in targets:
        big = client.request(method, path, data=b'{"a": "' + b"x" * limit + b'"}', headers=headers)
        if not is_problem(big, 413):
            wrong.append(f"{method} {path} with {limit + 10} bytes -> {big.status}")
    for method, path in body_routes(client):
        for depth in (1_000, 100_000):
            for opener, closer in (("[", "]"), ('{"a":', "}")):
                body = (opener * depth + "1" + closer * depth).encode()
                if len(body) > limit:
                    continue
                result = client.request(method, path, data=body, headers=headers)
                if not is_problem(result, (400, 422)):
                    wrong.append(f"{method} {path} nested {opener} × {depth} -> {result.status} {result.body[:120]!r}")
        wide = json.dumps({f"k{i}": i for i in range(20_000)}).encode()
        result = client.request(method, path, data=wide, headers=headers)
        if result.status >= 500:
            wrong.append(f"{method} {path} with 20,000 keys -> {result.status}")
    report(f"security {spec.name}: oversized bodies on {len(targets)} routes, nested and wide JSON on "
           f"{len(body_routes(client))} body routes; {len(wrong)} wrong")
    assert wrong == []


def test_oversized_bodies_on_the_wire(reliability_env: dict[str, str]) -> None:
    """What only a socket can send: a chunked body with no length, a
    Content-Length far beyond what is sent, and a request smuggled in the
    unread rest of an oversized body. Each gets one 413 problem at once, the
    hidden request is never served, and the server keeps serving."""
    env = {**reliability_env, "ECO2_MAX_BODY_BYTES": "4096"}
    with serve("auth", env) as port:
        chunk = b"x" * 1000
        chunked = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(64)) + b"0\r\n\r\n"
        reply = raw(port, b"POST /api/v1/auth/dev/login HTTP/1.1\r\nHost: t\r\n"
                          b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked)
        status, headers = head_of(reply)
        assert status == 413 and ("Content-Type", PROBLEM) in headers, reply[:300]

        started = time.monotonic()
        reply = raw(port, b"POST /api/v1/auth/dev/login HTTP/1.1\r\nHost: t\r\n"
                          b"Content-Type: application/json\r\nContent-Length: 10737418240\r\n\r\n{\"a\": 1",
                    timeout=20)
        status, headers = head_of(reply)
        assert status == 413 and ("Content-Type", PROBLEM) in headers, reply[:300]
        assert time.monotonic() - started < 15  # answered without waiting for 10 GiB (not a speed check)

        # A request hidden in the unread rest of an oversized body is never served.
        hidden = b"GET /api/v1/auth/.well-known/jwks.json HTTP/1.1\r\nHost: t\r\n\r\n"
        body = b"x" * 4097 + hidden
        body += b"y" * (8000 - len(body))
        reply = raw(port, b"POST /api/v1/auth/dev/login HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                          b"Content-Length: %d\r\n\r\n" % len(body) + body, timeout=3)
        assert reply.count(b"HTTP/1.1 ") == 1 and head_of(reply)[0] == 413, reply[:600]

        reply = raw(port, b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        assert head_of(reply)[0] == 200
    report("security: chunked, lying Content-Length and smuggling bodies on a real server: 413 each, "
           "nothing smuggled, still serving")


# -- SQL metacharacters in every string parameter ---------------------------------------------------

METACHARACTERS = [
    "'", "''", '"', "\\", "`", ";", "--", "/*", "%", "_", "$$", "a'b", "x;--", "a%_\\b",
    "' OR '1'='1", "') OR ('a'='a", "1; SELECT pg_sleep(3)--", "'; DROP TABLE auth.users; --",
    "' UNION SELECT id, nickname FROM auth.users --", "＇ OR 1=1", "\\x27", "' || (SELECT 1) || '",
    "\x00", "a\x00b",
]


def stored_form(field: str, value: str) -> str:
    """What a string field reads back as: trimmed; a nickname also NFKC-normalized
    (eco2.my.profiles.Nickname), so "＇ OR 1=1" is stored as "' OR 1=1"."""
    import unicodedata

    return unicodedata.normalize("NFKC", value).strip() if field == "nickname" else value.strip()


@pytest.fixture(scope="module")
def integrity(database_url: str):
    """The database's tables and a canary row, to compare before and after."""
    import psycopg

    def snapshot() -> tuple[list[tuple[str, str]], int]:
        with psycopg.connect(database_url) as conn:
            tables = conn.execute(
                "SELECT table_schema, table_name FROM information_schema.tables "
                "WHERE table_schema IN ('auth','my','scan','character','location','info','chat') ORDER BY 1, 2"
            ).fetchall()
            (characters,) = conn.execute("SELECT count(*) FROM character.characters").fetchone()
        return tables, characters

    return snapshot


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_sql_metacharacters_in_every_string_parameter(spec, clients: dict[str, Client], mint, integrity) -> None:
    client = clients[spec.name]
    doc = client.get(f"{spec.prefix}/openapi.json").json
    targets = string_inputs(doc)
    before = integrity()
    user_id, token = mint("카나리아")
    wrong, sent, echoed = [], 0, 0
    for target in targets:
        for value in METACHARACTERS:
            headers = bearer(token)
            result = send(client, target, value, headers)
            sent += 1
            where = f"{target['method']} {target['path']} {target['where']}.{target['name']}={value!r}"
            if result.status >= 500:
                wrong.append(f"{where} -> {result.status} {result.body[:150]!r}")
                continue
            problem = conforms(doc, target, result)
            if problem:
                wrong.append(f"{where} -> {result.status}: {problem}")
            if (result.status == 200 and target["where"] == "body" and isinstance(result.json, dict)
                    and target["name"] in result.json):
                echoed += 1
                if result.json[target["name"]] != stored_form(target["name"], value):
                    wrong.append(f"{where} -> stored as {result.json[target['name']]!r}")
    after = integrity()
    assert after == before, "the schema or reference data changed under injection attempts"
    me = clients["auth"].get("/api/v1/auth/session", headers=bearer(token))
    assert me.status == 200 and me.json["user_id"] == user_id
    report(f"security {spec.name}: {len(targets)} string parameters × {len(METACHARACTERS)} SQL metacharacter "
           f"values = {sent} requests; {echoed} stored values read back; tables intact; {len(wrong)} wrong")
    assert wrong == []


def test_nul_in_dev_login_nickname_is_rejected(clients: dict[str, Client]) -> None:
    result = clients["auth"].post("/api/v1/auth/dev/login", json={"nickname": "ab\x00cd"})
    assert is_problem(result, (400, 422)), (result.status, result.body)


def test_nul_in_profile_nickname_is_rejected(clients: dict[str, Client], mint) -> None:
    _, token = mint()
    result = clients["my"].patch("/api/v1/user/me", json={"nickname": "ab\x00cd"},
                                 headers=bearer(token))
    assert is_problem(result, (400, 422)), (result.status, result.body)


# -- paths that do not route -----------------------------------------------------------------------


@pytest.mark.parametrize("spec", [BY_NAME["my"]], ids=["my"])
def test_unroutable_paths_are_problem_json(spec, clients: dict[str, Client]) -> None:
    client = clients[spec.name]
    wrong = []
    for path in ("/robots.txt", "/favicon.ico", f"{spec.prefix}/a%0Ab", "/healthz%0A"):
        result = client.get(path)
        if not is_problem(result, 404):
            wrong.append(f"GET {path} -> {result.status} {result.content_type}")
    assert wrong == []


# -- X-Request-Id --------------------------------------------------------------------------------------


def test_request_id_cannot_inject_headers(reliability_env: dict[str, str]) -> None:
    """Whatever arrives in X-Request-Id, the echoed one is a safe token: the
    client's own when it is one, else a fresh id; no header is added."""
    attempts = {
        "CRLF then a header": b"abc\r\nSet-Cookie: pwned=1",
        "obs-fold continuation": b"abc\r\n Set-Cookie: pwned=1",
        "LF only": b"abc\nSet-Cookie: pwned=1",
        "percent-encoded CRLF": b"abc%0d%0aSet-Cookie:%20pwned=1",
        "NUL": b"abc\x00pwned",
        "latin-1 bytes": b"abc\xff\xfepwned",
        "spaces and quotes": b"a b\"c' pwned",
        "too long": b"p" * 4096,
        "script": b"<script>pwned()</script>",
    }
    seen = {}
    with serve("character", reliability_env) as port:
        for name, value in attempts.items():
            reply = raw(port, b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\nX-Request-Id: "
                        + value + b"\r\n\r\n")
            assert reply, name
            status, headers = head_of(reply)
            head = reply.split(b"\r\n\r\n", 1)[0]
            assert b"pwned" not in head.lower(), (name, head)
            assert not any(n.lower() == "set-cookie" for n, _ in headers), (name, head)
            if status == 200:
                echoed = [v for n, v in headers if n.lower() == "x-request-id"]
                assert len(echoed) == 1 and REQUEST_ID.fullmatch(echoed[0]), (name, echoed)
            else:
                assert status == 400, (name, head)  # the server refused the malformed header line
            seen[name] = status
        reply = raw(port, b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\nX-Request-Id: ok-1.2:3\r\n\r\n")
        assert ("X-Request-Id", "ok-1.2:3") in head_of(reply)[1]
    report("security: X-Request-Id injection on a real server: " + ", ".join(f"{k} -> {v}" for k, v in seen.items()))


# -- personal answers are not cached ------------------------------------------------------------------


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_authenticated_answers_are_not_cached(spec, clients: dict[str, Client], mint) -> None:
    """Every answer of every auth=True route, with a token or without, success or
    not, carries Cache-Control: private, no-store (no route names its own)."""
    client = clients[spec.name]
    _, token = mint()
    wrong, answered = [], 0
    for method, path in auth_routes(client):
        for headers in (bearer(token), {}):
            result = client.request(method, path, headers=headers)
            answered += 1
            cache = ", ".join(result.headers.getlist("Cache-Control"))  # once, and only this
            if cache != "private, no-store":
                wrong.append(f"{method} {path} -> {result.status} Cache-Control {cache!r}")
    report(f"security {spec.name}: {answered} answers of auth routes; {len(wrong)} cacheable")
    assert wrong == []


def test_answers_that_set_cookies_are_not_cached(clients: dict[str, Client]) -> None:
    auth = clients["auth"]
    login = auth.post("/api/v1/auth/dev/login", json={"nickname": "캐시없음"})
    assert login.status == 200 and "Set-Cookie" in login.headers
    logout = auth.post("/api/v1/auth/logout")
    assert "Set-Cookie" in logout.headers, logout.headers
    for result in (login, logout):
        assert "no-store" in result.headers.get("Cache-Control", ""), result.headers


# -- X-Forwarded-For at the production setting ----------------------------------------------------


def test_spoofed_forwarded_for_cannot_reset_a_rate_limit(reliability_env: dict[str, str]) -> None:
    """At auth's production ECO2_TRUSTED_PROXY_HOPS (ALB -> Kourier -> queue-proxy,
    each appending one address), whatever a client writes into X-Forwarded-For
    itself, its requests count against its own address."""
    hops = BY_NAME["auth"].spec["env"]["ECO2_TRUSTED_PROXY_HOPS"]
    assert hops == "3"
    limit = 3
    client = Client(BY_NAME["auth"].source, env={**reliability_env, "ECO2_TRUSTED_PROXY_HOPS": hops,
                                                 "ECO2_RATE_LIMIT_PER_MINUTE": str(limit)})
    proxies = "10.0.1.5, 10.244.0.9"  # what Kourier's Envoy and queue-proxy append

    def login(client_ip: str, spoofed: str) -> int:
        chain = ", ".join(part for part in (spoofed, client_ip, proxies) if part)  # the ALB appends client_ip
        return client.post("/api/v1/auth/dev/login", json={"nickname": "한도시험"},
                           headers={"X-Forwarded-For": chain}).status

    try:
        attacker = "203.0.113.7"
        spoofs = ["", "198.51.100.1", "198.51.100.2, 198.51.100.3", "1.1.1.1, 2.2.2.2, 3.3.3.3, 4.4.4.4",
                  "garbage", "203.0.113.8"]
        statuses = [login(attacker, spoof) for spoof in spoofs]
        assert statuses == [200] * limit + [429] * (len(spoofs) - limit), statuses
        assert login("203.0.113.99", "") == 200  # another client has its own count
    finally:
        client.close()
    report(f"security: rate limit at ECO2_TRUSTED_PROXY_HOPS={hops}: {len(spoofs)} spoofed X-Forwarded-For "
           f"-> {statuses}")
