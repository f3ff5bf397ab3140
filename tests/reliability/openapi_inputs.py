"""Walking a function's OpenAPI document for its inputs: every string
parameter of every operation, with valid values for the others; sending a
value through one; and checking a response against the document."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from eco2.testing import Client

from ..support import PROBLEM


def _resolve(schema: dict[str, Any], doc: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _is_string(schema: dict[str, Any], doc: dict[str, Any]) -> bool:
    schema = _resolve(schema, doc)
    if schema.get("type") == "string":
        return True
    return any(_is_string(s, doc) for s in schema.get("anyOf", []) + schema.get("oneOf", []))


def _valid(schema: dict[str, Any], doc: dict[str, Any]) -> Any:
    """A value the schema accepts, for the parameters not under test."""
    schema = _resolve(schema, doc)
    for option in schema.get("anyOf", []):
        if _resolve(option, doc).get("type") != "null":
            return _valid(option, doc)
    kind = schema.get("type")
    if kind in ("number", "integer"):
        low, high = schema.get("minimum", 1), schema.get("maximum", 1)
        value = (low + high) / 2
        return int(value) if kind == "integer" else value
    if kind == "boolean":
        return False
    return "테스트"


def string_inputs(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Every string parameter of every operation, with valid values for the others."""
    found = []
    for path, item in doc["paths"].items():
        for method, op in item.items():
            params = op.get("parameters", [])
            required = {p["name"]: _valid(p["schema"], doc) for p in params
                        if p.get("required") and p["in"] == "query"}
            path_values = {p["name"]: _valid(p["schema"], doc) for p in params if p["in"] == "path"}
            for p in params:
                if _is_string(p["schema"], doc):
                    found.append({"method": method.upper(), "path": path, "where": p["in"], "name": p["name"],
                                  "query": required, "path_values": path_values})
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            if body:
                body = _resolve(body, doc)
                required_body = {n: _valid(s, doc) for n, s in body.get("properties", {}).items()
                                 if n in body.get("required", [])}
                for name, schema in body.get("properties", {}).items():
                    if _is_string(schema, doc):
                        found.append({"method": method.upper(), "path": path, "where": "body", "name": name,
                                      "query": required, "path_values": path_values, "body": required_body})
    return found


def send(client: Client, target: dict[str, Any], value: str, headers: dict[str, str]):  # noqa: ANN202
    path_values = {k: str(v) for k, v in target["path_values"].items()}
    query = dict(target["query"])
    body = dict(target.get("body", {})) if target["where"] == "body" else None
    if target["where"] == "path":
        path_values[target["name"]] = value
    elif target["where"] == "query":
        query[target["name"]] = value
    elif target["where"] == "body":
        body[target["name"]] = value
    path = target["path"]
    for name, v in path_values.items():
        path = path.replace("{" + name + "}", quote(v, safe=""))
    return client.request(target["method"], path, query=query or None, json=body, headers=headers)


def _schema_of(doc: dict[str, Any], target: dict[str, Any], status: int) -> dict[str, Any] | None:
    responses = doc["paths"][target["path"]][target["method"].lower()]["responses"]
    entry = responses.get(str(status)) or responses.get("default")
    content = (entry or {}).get("content", {})
    media = content.get("application/json") or content.get(PROBLEM)
    return media.get("schema") if media else None


def conforms(doc: dict[str, Any], target: dict[str, Any], result) -> str | None:  # noqa: ANN001
    """None when the response matches its documented content type and schema."""
    import jsonschema

    schema = _schema_of(doc, target, result.status)
    if schema is None or result.status in (204, 304):
        return None
    expected = PROBLEM if result.status >= 400 else "application/json"
    if not result.content_type.startswith(expected):
        return f"content type {result.content_type}, expected {expected}"
    try:
        # The document's components beside the schema: its "#/components/..." refs resolve.
        jsonschema.Draft202012Validator({**schema, "components": doc["components"]}).validate(result.json)
    except jsonschema.ValidationError as exc:
        return f"does not conform: {exc.message[:200]}"
    return None
