"""Every function honours the runtime contract (docs/runtime.md, docs/architecture.md).

Parametrized over functions/*/function.yaml, so a new function is checked as
soon as it exists.
"""

from __future__ import annotations

import ast

import pytest
from openapi_spec_validator import validate

from eco2.testing import Client
from eco2_tools.functions import FunctionSpec, discover

SPECS = discover()
LIMIT = 4096


@pytest.fixture(scope="module", params=SPECS, ids=[s.name for s in SPECS])
def spec(request: pytest.FixtureRequest) -> FunctionSpec:
    return request.param


@pytest.fixture(scope="module")
def client(spec: FunctionSpec, database_url: str, redis_server: str, key_env: dict[str, str]) -> Client:
    env = {"ECO2_ENV": "test", "DATABASE_URL": database_url, "REDIS_URL": redis_server,
           "ECO2_MAX_BODY_BYTES": str(LIMIT), **key_env}
    return Client(spec.source, env=env)


def is_problem(result, status: int) -> bool:
    return (
        result.status == status
        and result.content_type == "application/problem+json"
        and result.json["status"] == status
    )


def test_the_eight_functions_exist() -> None:
    assert [s.name for s in SPECS] == ["auth", "character", "chat", "image", "info", "location", "my", "scan"]


def test_prefix_matches_function_yaml(spec: FunctionSpec, client: Client) -> None:
    assert client.function.name == spec.name
    assert client.function.prefix == spec.prefix
    # Each alias the gateway routes here is one main.py serves (absolute routes).
    paths = [route.path for route in client.function.router.routes]
    for alias in spec.prefixes[1:]:
        assert any(p.startswith(alias + "/") for p in paths), f"{spec.name} serves nothing under {alias}"


def test_main_is_thin(spec: FunctionSpec) -> None:
    """main.py imports nothing heavy at module level (cold start)."""
    tree = ast.parse(spec.source.read_text())
    top = {
        (node.module or "") if isinstance(node, ast.ImportFrom) else alias.name
        for node in tree.body
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
    }
    assert not {m.split(".")[0] for m in top} & {
        "openai", "onnxruntime", "kubernetes", "psycopg", "redis", "boto3", "botocore"}


PROBES = ("/healthz", "/readyz", "/health", "/ready")  # the last two: the original backend's paths


def test_health_and_readiness(client: Client) -> None:
    for path in PROBES:
        result = client.get(path)
        assert result.status == 200
        assert result.json["function"] == client.function.name


def test_openapi_document_is_valid(spec: FunctionSpec, client: Client) -> None:
    result = client.get(f"{spec.prefix}/openapi.json")
    assert result.status == 200
    doc = result.json
    validate(doc)
    assert doc["openapi"].startswith("3.1")
    assert f"{spec.prefix}/openapi.json" in doc["paths"]
    for path in doc["paths"]:
        assert path in PROBES or path.startswith(spec.prefix)


def test_unknown_route_is_404_problem(spec: FunctionSpec, client: Client) -> None:
    assert is_problem(client.get(f"{spec.prefix}/no/such/route"), 404)


def test_wrong_method_is_405(spec: FunctionSpec, client: Client) -> None:
    result = client.delete(f"{spec.prefix}/openapi.json")
    assert is_problem(result, 405)
    assert "GET" in result.headers["Allow"]


def test_oversized_body_is_413(spec: FunctionSpec, client: Client) -> None:
    result = client.post(f"{spec.prefix}/openapi.json", data=b"{" + b" " * LIMIT + b"}",
                         headers={"Content-Type": "application/json"})
    assert is_problem(result, 413)


def test_malformed_json_is_rejected(spec: FunctionSpec, client: Client, make_user) -> None:
    doc = client.get(f"{spec.prefix}/openapi.json").json
    body_routes = [
        (path, method)
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if "requestBody" in op and "{" not in path
    ]
    if not body_routes:
        pytest.skip(f"{spec.name} has no JSON body route yet")
    _, token = make_user()  # a valid token, so that auth routes reach the body
    for path, method in body_routes:
        result = client.request(method.upper(), path, data=b'{"broken": ',
                                headers={"Content-Type": "application/json",
                                         "Authorization": f"Bearer {token}"})
        assert result.status == 400, (path, result.status, result.body)
        assert result.content_type == "application/problem+json"


def test_request_id_is_echoed(client: Client) -> None:
    assert client.get("/healthz", headers={"X-Request-Id": "conf-1"}).headers["X-Request-Id"] == "conf-1"
