"""The router through functions-framework, with the fixture function in fixtures/routes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openapi_spec_validator import validate

from eco2.testing import Client

FIXTURE = Path(__file__).parent / "fixtures" / "routes" / "main.py"
PREFIX = "/api/v1/fixture"


@pytest.fixture(scope="module")
def client() -> Client:
    return Client(FIXTURE, env={"ECO2_ENV": "test", "ECO2_MAX_BODY_BYTES": "4096"})


def assert_problem(result, status: int) -> dict:
    assert result.status == status, result.body
    assert result.content_type == "application/problem+json"
    body = result.json
    assert body["status"] == status
    assert {"type", "title", "status"} <= set(body)
    return body


def test_json_body_validated_and_response_serialized(client: Client) -> None:
    result = client.post(f"{PREFIX}/items", json={"name": "can", "qty": 3})
    assert result.status == 201
    assert result.content_type == "application/json"
    assert result.json == {"id": 1, "name": "can", "qty": 3}


def test_validation_error_lists_fields(client: Client) -> None:
    body = assert_problem(client.post(f"{PREFIX}/items", json={"name": "", "qty": -1}), 422)
    locs = sorted(tuple(e["loc"]) for e in body["errors"])
    assert locs == [("body", "name"), ("body", "qty")]
    assert body["type"] == "urn:eco2:problem:validation"
    # the rejected input is not echoed back
    assert '"input"' not in json.dumps(body)


def test_missing_field_and_wrong_shape(client: Client) -> None:
    body = assert_problem(client.post(f"{PREFIX}/items", json={"name": "x"}), 422)
    assert body["errors"][0]["loc"] == ["body", "qty"]
    assert_problem(client.post(f"{PREFIX}/items", json=[1, 2]), 422)


@pytest.mark.parametrize("raw", [b"{", b"{'a': 1}", b"nul", b'{"name": "x", "qty": 1', b"\xff\xfe"])
def test_malformed_json_is_400(client: Client, raw: bytes) -> None:
    result = client.post(f"{PREFIX}/items", data=raw, headers={"Content-Type": "application/json"})
    body = assert_problem(result, 400)
    assert body["type"] == "urn:eco2:problem:malformed-json"


def test_empty_body_is_400(client: Client) -> None:
    assert_problem(client.post(f"{PREFIX}/items", data=b"", headers={"Content-Type": "application/json"}), 400)


def test_deeply_nested_json_is_a_client_error(client: Client) -> None:
    raw = b"[" * 100_000 + b"]" * 100_000
    result = client.post(f"{PREFIX}/items", data=raw[:4000], headers={"Content-Type": "application/json"})
    assert result.status in (400, 422)
    assert result.content_type == "application/problem+json"


def test_wrong_content_type_is_415(client: Client) -> None:
    result = client.post(f"{PREFIX}/items", data=b"name=x", headers={"Content-Type": "text/plain"})
    assert_problem(result, 415)
    assert_problem(client.post(f"{PREFIX}/items", data=b'{"name":"x","qty":1}'), 415)


def test_json_suffix_content_type_accepted(client: Client) -> None:
    result = client.post(
        f"{PREFIX}/items",
        data=b'{"name":"x","qty":1}',
        headers={"Content-Type": "application/merge-patch+json; charset=utf-8"},
    )
    assert result.status == 201


def test_body_over_limit_is_413(client: Client) -> None:
    result = client.post(f"{PREFIX}/items", data=b"x" * 5000, headers={"Content-Type": "application/json"})
    assert_problem(result, 413)
    assert result.headers["Connection"] == "close"


def test_chunked_body_over_limit_is_413(client: Client) -> None:
    """No Content-Length: the limit is enforced while reading. (gunicorn marks
    a chunked body as terminated; werkzeug's test client needs telling.)"""
    import io

    response = client._client.open(  # noqa: SLF001 - werkzeug client for a chunked upload
        f"{PREFIX}/items",
        method="POST",
        input_stream=io.BytesIO(b"x" * 5000),
        headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 413


def test_query_model(client: Client) -> None:
    result = client.get(f"{PREFIX}/items", query={"limit": "2", "name": "pet"})
    assert result.status == 200
    assert [i["name"] for i in result.json] == ["pet", "pet"]
    body = assert_problem(client.get(f"{PREFIX}/items", query={"limit": "0"}), 422)
    assert body["errors"][0]["loc"] == ["query", "limit"]
    assert_problem(client.get(f"{PREFIX}/items", query={"limit": "abc"}), 422)


def test_a_scalar_query_parameter_given_twice_is_a_422(client: Client) -> None:
    # Taking the first of two values would accept what the OpenAPI document refuses (fuzz: ST201).
    body = assert_problem(client.get(f"{PREFIX}/items?limit=2&limit=3"), 422)
    assert body["errors"][0]["loc"] == ["query", "limit"]


def test_path_parameters(client: Client) -> None:
    assert client.get(f"{PREFIX}/items/1").json["name"] == "one"
    assert_problem(client.get(f"{PREFIX}/items/2"), 404)
    # a non-integer id does not match the int route at all
    assert_problem(client.get(f"{PREFIX}/items/abc"), 404)
    assert client.get(f"{PREFIX}/tags/%ED%8E%98%ED%8A%B8").json == {"tag": "페트"}


def test_none_is_204(client: Client) -> None:
    result = client.delete(f"{PREFIX}/items/1")
    assert result.status == 204
    assert result.body == b""


def test_unknown_route_is_404(client: Client) -> None:
    body = assert_problem(client.get(f"{PREFIX}/nothing-here"), 404)
    assert body["instance"] == f"{PREFIX}/nothing-here"


def test_wrong_method_is_405_with_allow(client: Client) -> None:
    result = client.put(f"{PREFIX}/items/1", json={})
    assert_problem(result, 405)
    assert result.headers["Allow"] == "DELETE, GET, HEAD"


def test_head_answers_without_body(client: Client) -> None:
    result = client.request("HEAD", "/healthz")
    assert result.status == 200
    assert result.body == b""


def test_unhandled_error_is_generic_500_and_logged(client: Client, capfd: pytest.CaptureFixture) -> None:
    result = client.get(f"{PREFIX}/boom", headers={"X-Request-Id": "req-boom-1"})
    body = assert_problem(result, 500)
    assert "secret" not in result.body.decode()
    assert "Traceback" not in result.body.decode()
    out = capfd.readouterr().out
    error_lines = [json.loads(line) for line in out.splitlines() if '"unhandled error"' in line]
    assert error_lines and error_lines[0]["request_id"] == "req-boom-1"
    assert "secret internal detail" in error_lines[0]["exc"]
    assert body["type"] == "urn:eco2:problem:internal"


def test_response_that_breaks_its_model_is_500(client: Client) -> None:
    assert_problem(client.get(f"{PREFIX}/bad-response"), 500)


def test_auth_route_without_token_is_401(client: Client) -> None:
    result = client.get(f"{PREFIX}/private")
    assert_problem(result, 401)
    assert result.headers["WWW-Authenticate"] == "Bearer"


def test_request_id_echoed_or_generated(client: Client) -> None:
    assert client.get("/healthz", headers={"X-Request-Id": "abc.123"}).headers.getlist("X-Request-Id") == ["abc.123"]
    generated = client.get("/healthz").headers.getlist("X-Request-Id")
    assert len(generated) == 1 and len(generated[0]) == 32
    injected = client.get("/healthz", headers={"X-Request-Id": "x" * 500}).headers["X-Request-Id"]
    assert injected != "x" * 500


def test_one_log_line_per_request(client: Client, capfd: pytest.CaptureFixture) -> None:
    capfd.readouterr()
    client.get(f"{PREFIX}/items/1", headers={"X-Request-Id": "log-check"})
    lines = [json.loads(line) for line in capfd.readouterr().out.splitlines() if line.startswith("{")]
    requests = [line for line in lines if line["msg"] == "request"]
    assert len(requests) == 1
    line = requests[0]
    assert line["function"] == "fixture"
    assert line["method"] == "GET"
    assert line["route"] == f"{PREFIX}/items/{{item_id:int}}"
    assert line["status"] == 200
    assert line["request_id"] == "log-check"
    assert isinstance(line["latency_ms"], float)
    assert "cold_start" not in line


def test_cold_start_flag_only_on_first_request(capfd: pytest.CaptureFixture) -> None:
    fresh = Client(FIXTURE, env={"ECO2_ENV": "test"})
    out = capfd.readouterr().out
    start = [d for d in (json.loads(line) for line in out.splitlines() if line.startswith("{")) if d["msg"] == "start"]
    assert start and {"import_ms", "init_ms"} <= set(start[-1])
    fresh.get("/healthz")
    fresh.get("/healthz")
    lines = [json.loads(line) for line in capfd.readouterr().out.splitlines() if '"request"' in line]
    assert [line.get("cold_start", False) for line in lines] == [True, False]


def test_openapi_document_is_valid_and_complete(client: Client) -> None:
    result = client.get(f"{PREFIX}/openapi.json")
    assert result.status == 200
    doc = result.json
    validate(doc)
    assert doc["openapi"] == "3.1.0"
    ops = {(path, method) for path, item in doc["paths"].items() for method in item}
    assert (f"{PREFIX}/items", "post") in ops
    assert (f"{PREFIX}/items/{{item_id}}", "get") in ops  # converters are not OpenAPI syntax
    item_param = doc["paths"][f"{PREFIX}/items/{{item_id}}"]["get"]["parameters"][0]
    assert item_param["schema"]["type"] == "integer" and item_param["in"] == "path"
    create = doc["paths"][f"{PREFIX}/items"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/Item")
    assert "201" in create["responses"]
    listing = doc["paths"][f"{PREFIX}/items"]["get"]
    names = {p["name"] for p in listing["parameters"]}
    assert names == {"limit", "name"}
    assert doc["paths"][f"{PREFIX}/private"]["get"]["security"]
    assert "Problem" in doc["components"]["schemas"]


@pytest.fixture(scope="module")
def cors_client() -> Client:
    return Client(FIXTURE, env={"ECO2_ENV": "test", "ECO2_CORS_ORIGINS": "https://app.eco2.test, http://localhost:5173/"})


def test_cors_for_an_allowed_origin(cors_client: Client) -> None:
    result = cors_client.get(f"{PREFIX}/items/1", headers={"Origin": "https://app.eco2.test"})
    assert result.headers["Access-Control-Allow-Origin"] == "https://app.eco2.test"
    assert result.headers["Access-Control-Allow-Credentials"] == "true"
    assert "Origin" in result.headers["Vary"]
    local = cors_client.get("/healthz", headers={"Origin": "http://localhost:5173"})
    assert local.headers["Access-Control-Allow-Origin"] == "http://localhost:5173"
    for answer in (result, local):  # each once: a browser refuses "origin, origin"
        assert answer.headers.getlist("Access-Control-Allow-Origin") == [answer.headers["Access-Control-Allow-Origin"]]
        assert answer.headers.getlist("Access-Control-Allow-Credentials") == ["true"]
        assert answer.headers.getlist("Vary") == ["Origin"]


def test_cors_refuses_other_origins(cors_client: Client) -> None:
    result = cors_client.get(f"{PREFIX}/items/1", headers={"Origin": "https://evil.example"})
    assert result.status == 200  # the browser, not the server, withholds it
    assert "Access-Control-Allow-Origin" not in result.headers


def test_cors_preflight(cors_client: Client) -> None:
    headers = {"Origin": "https://app.eco2.test", "Access-Control-Request-Method": "POST",
               "Access-Control-Request-Headers": "content-type"}
    result = cors_client.request("OPTIONS", f"{PREFIX}/items", headers=headers)
    assert result.status == 204
    assert "POST" in result.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in result.headers["Access-Control-Allow-Headers"]
    assert result.headers.getlist("Access-Control-Allow-Origin") == ["https://app.eco2.test"]
    assert result.headers.getlist("Vary") == ["Origin"]
    other = cors_client.request("OPTIONS", f"{PREFIX}/items", headers={**headers, "Origin": "https://evil.example"})
    assert "Access-Control-Allow-Methods" not in other.headers
    # a plain OPTIONS (no preflight) is still a 405
    assert cors_client.request("OPTIONS", f"{PREFIX}/items").status == 405


def test_cors_preflight_of_the_released_apps_login(cors_client: Client) -> None:
    """The app's login call sends X-Frontend-Origin (Chromium asks for it in
    lower case), a retried scan an Idempotency-Key; scripts may read the paging,
    retry, request id and replay headers."""
    headers = {"Origin": "http://localhost:5173", "Access-Control-Request-Method": "GET",
               "Access-Control-Request-Headers": "x-frontend-origin,idempotency-key,x-idempotency-key"}
    result = cors_client.request("OPTIONS", f"{PREFIX}/items/1", headers=headers)
    assert result.status == 204
    allowed = {h.strip().lower() for h in result.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"x-frontend-origin", "idempotency-key", "x-idempotency-key"} <= allowed
    read = cors_client.get(f"{PREFIX}/items/1", headers={"Origin": "http://localhost:5173"})
    exposed = {h.strip().lower() for h in read.headers["Access-Control-Expose-Headers"].split(",")}
    assert {"link", "retry-after", "x-request-id", "idempotent-replayed"} <= exposed


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "loc"),
    [
        ("POST", "/items", {"json": {"name": "a\x00b", "qty": 1}}, ["body"]),
        ("GET", "/items", {"query": {"name": "a\x00b"}}, ["query", "name"]),
        ("GET", "/tags/a%00b", {}, ["path", "tag"]),
    ],
)
def test_nul_anywhere_is_422(client: Client, method: str, path: str, kwargs: dict, loc: list) -> None:
    body = assert_problem(client.request(method, PREFIX + path, **kwargs), 422)
    assert body["errors"][0]["loc"] == loc


def test_an_escaped_backslash_before_u0000_is_not_nul(client: Client) -> None:
    raw = b'{"name": "a\\\\u0000", "qty": 1}'  # the text a\u0000, no NUL in it
    result = client.post(f"{PREFIX}/items", data=raw, headers={"Content-Type": "application/json"})
    assert result.status == 201, result.body
    assert result.json["name"] == "a\\u0000"


@pytest.mark.parametrize("path", ["/robots.txt", "/favicon.ico", f"{PREFIX}/a%0Ab"])
def test_paths_flask_refuses_are_problem_json(client: Client, path: str) -> None:
    assert_problem(client.get(path), 404)


def test_a_domain_object_is_validated_from_its_attributes(client: Client) -> None:
    result = client.get(f"{PREFIX}/records/7")
    assert result.status == 200
    assert result.json == {"id": 7, "name": "record", "qty": 2}  # the model's fields, no more


def test_cache_control_etag_and_304(client: Client) -> None:
    first = client.get(f"{PREFIX}/records/7")
    assert first.headers["Cache-Control"] == "public, max-age=60"
    etag = first.headers["ETag"]
    assert etag.startswith('"') and etag.endswith('"')
    again = client.get(f"{PREFIX}/records/7", headers={"If-None-Match": etag})
    assert again.status == 304 and again.body == b""
    other = client.get(f"{PREFIX}/records/8", headers={"If-None-Match": etag})
    assert other.status == 200 and other.headers["ETag"] != etag
    assert "ETag" not in client.get(f"{PREFIX}/items/1").headers  # only where the route asks
    assert "304" in client.get(f"{PREFIX}/openapi.json").json["paths"][f"{PREFIX}/records/{{item_id}}"]["get"][
        "responses"]


def test_a_static_route_runs_its_handler_once(client: Client) -> None:
    route = next(r for r in client.function.router.routes if r.path == f"{PREFIX}/static")
    calls = route.handler.__globals__["STATIC_CALLS"]
    bodies = [client.get(f"{PREFIX}/static") for _ in range(3)]
    assert {b.status for b in bodies} == {200} and len({b.body for b in bodies}) == 1
    assert bodies[0].json == [{"id": 1, "name": "one", "qty": 1}, {"id": 2, "name": "two", "qty": 2}]
    assert bodies[0].headers["Cache-Control"] == "public, max-age=3600"
    assert len(calls) == 1


def test_a_memo_route_keeps_its_last_answers_by_path_and_query(client: Client) -> None:
    route = next(r for r in client.function.router.routes if r.path == f"{PREFIX}/memo/{{tag}}")
    calls = route.handler.__globals__["MEMO_CALLS"]
    calls.clear()
    first = client.get(f"{PREFIX}/memo/a", query={"limit": 2})
    assert first.json == [{"id": 0, "name": "a", "qty": 0}, {"id": 1, "name": "a", "qty": 1}]
    again = client.get(f"{PREFIX}/memo/a", query={"limit": 2})
    assert again.body == first.body and again.headers["ETag"] == first.headers["ETag"]
    assert again.headers["Cache-Control"] == "public, max-age=60" and again.headers["X-Request-Id"]
    assert calls == ["limit=2"]  # answered from the kept answer
    assert client.get(f"{PREFIX}/memo/a", query={"limit": 2}, headers={"If-None-Match": first.headers["ETag"]}).status == 304
    assert client.request("HEAD", f"{PREFIX}/memo/a?limit=2").body == b""
    assert client.get(f"{PREFIX}/memo/b", query={"limit": 2}).json[0]["name"] == "b"  # the path is in the key
    assert client.get(f"{PREFIX}/memo/a", query={"limit": 3}).status == 200
    assert calls == ["limit=2", "limit=2", "limit=3"] and len(route.answers) == 2
    assert client.get(f"{PREFIX}/memo/a", query={"limit": 2}).body == first.body
    assert calls[-1] == "limit=2" and len(calls) == 4  # bounded: the least recently used answer went
    for _ in range(2):  # a refusal is never kept: the handler is not reached, nothing is stored
        assert_problem(client.get(f"{PREFIX}/memo/a", query={"limit": 0}), 422)
    assert len(calls) == 4 and len(route.answers) == 2


def test_a_memo_answer_with_a_cookie_or_a_vary_is_not_kept(client: Client) -> None:
    route = next(r for r in client.function.router.routes if r.path == f"{PREFIX}/memo-varied")
    calls = route.handler.__globals__["MEMO_CALLS"]
    calls.clear()
    for _ in range(2):
        reply = client.get(f"{PREFIX}/memo-varied", query={"limit": 1})
        assert reply.status == 200 and reply.headers["Vary"] == "Accept-Language"
    assert calls == ["limit=1", "limit=1"] and len(route.answers) == 0


def test_a_memo_route_takes_no_body_and_no_token() -> None:
    from eco2 import Function

    fn = Function("memo-check", "/m")
    with pytest.raises(ValueError, match="memo route"):
        fn.post("/x", body=dict, memo=8)(lambda call: None)
    with pytest.raises(ValueError, match="memo route"):
        fn.get("/me", auth=True, memo=8)(lambda call: None)


def test_a_static_route_takes_no_input() -> None:
    from eco2 import Function

    fn = Function("static-check", "/s")
    with pytest.raises(ValueError, match="static route"):
        fn.get("/{code}", static=True)(lambda call: None)
    with pytest.raises(ValueError, match="static route"):
        fn.get("/me", static=True, auth=True)(lambda call: None)
