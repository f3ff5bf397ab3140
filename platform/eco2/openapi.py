"""The function's OpenAPI 3.1 document, generated from its routes.

Built on the first request to ``<prefix>/openapi.json``, never at start-up.
Schemas come from pydantic (``TypeAdapter.json_schemas``), so the document
and the validation that routes apply cannot drift apart.
"""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from pydantic import TypeAdapter

from eco2.problems import PROBLEM_JSON
from eco2.tokens import ACCESS_COOKIE

if TYPE_CHECKING:
    from eco2.app import Function
    from eco2.routing import Route

REF = "#/components/schemas/{model}"
_CONVERTER = re.compile(r":[a-z]+\}")

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details.",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 100, "maximum": 599},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["loc", "msg", "type"],
                "properties": {
                    "loc": {"type": "array", "items": {"type": ["string", "integer"]}},
                    "msg": {"type": "string"},
                    "type": {"type": "string"},
                },
            },
        },
        # The original backend's error shape, as extension members.
        "success": {"const": False},
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
        },
    },
}


_BINARY = {"type": "string", "format": "binary"}


def _media_schema(route: "Route", media: str) -> dict[str, Any]:
    """A media body: binary, or a multipart form with the route's file ``part``."""
    if media != "multipart/form-data":
        return _BINARY
    if route.part is None:
        return {"type": "object"}
    return {"type": "object", "properties": {route.part: _BINARY}, "required": [route.part]}


def _problem_response(status: int) -> dict[str, Any]:
    return {
        "description": HTTPStatus(status).phrase,
        "content": {PROBLEM_JSON: {"schema": {"$ref": REF.format(model="Problem")}}},
    }


def document(fn: "Function") -> dict[str, Any]:
    routes = fn.router.routes
    inputs: list[tuple[Any, str, TypeAdapter[Any]]] = []
    for route in routes:
        for key, mode, model in (
            ("body", "validation", route.body),
            ("query", "validation", route.query),
            ("response", "serialization", route.response),
        ):
            if model is not None:
                inputs.append(((id(route), key), mode, TypeAdapter(model)))
    schemas, defs = TypeAdapter.json_schemas(inputs, ref_template=REF) if inputs else ({}, {})
    components = dict(defs.get("$defs", {}))
    components["Problem"] = PROBLEM_SCHEMA

    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        path = _CONVERTER.sub("}", route.path)  # OpenAPI templates have no converters
        paths.setdefault(path, {})[route.method.lower()] = _operation(route, schemas, components)
    return {
        "openapi": "3.1.0",
        "info": {"title": f"eco2 {fn.name}", "version": fn.version},
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "cookie": {"type": "apiKey", "in": "cookie", "name": ACCESS_COOKIE},
            },
        },
    }


def _operation(route: "Route", schemas: dict[Any, Any], components: dict[str, Any]) -> dict[str, Any]:
    key = id(route)
    op: dict[str, Any] = {"operationId": route.operation_id, "tags": list(route.tags)}
    if route.summary:
        op["summary"] = route.summary
    parameters = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "integer", "minimum": 0} if kind == "int" else {"type": "string"},
        }
        for name, kind in route.params.items()
    ]
    if route.query is not None:
        query = schemas[((key, "query"), "validation")]
        if "$ref" in query:
            query = components[query["$ref"].rsplit("/", 1)[1]]
        required = set(query.get("required", []))
        for name, schema in query.get("properties", {}).items():
            parameters.append(
                {"name": name, "in": "query", "required": name in required, "schema": schema}
            )
    if parameters:
        op["parameters"] = parameters
    if route.body is not None:
        op["requestBody"] = {
            "required": not route.optional_body,
            "content": {"application/json": {"schema": schemas[((key, "body"), "validation")]}},
        }
        for media in route.media:
            op["requestBody"]["content"][media] = {"schema": _media_schema(route, media)}
    responses: dict[str, Any] = {}
    if route.response is not None:
        responses[str(route.status)] = {
            "description": HTTPStatus(route.status).phrase,
            "content": {
                "application/json": {"schema": schemas[((key, "response"), "serialization")]}
            },
        }
    else:
        responses[str(route.status)] = {"description": HTTPStatus(route.status).phrase}
    if route.etag:
        responses["304"] = {"description": "Not Modified: the If-None-Match ETag is current"}
    if route.auth:
        op["security"] = [{"bearer": []}, {"cookie": []}]
        responses["401"] = _problem_response(401)
    if route.body is not None or route.query is not None or route.params:
        responses["422"] = _problem_response(422)
    responses["default"] = {
        "description": "An error, as RFC 9457 problem details.",
        "content": {PROBLEM_JSON: {"schema": {"$ref": REF.format(model="Problem")}}},
    }
    op["responses"] = responses
    return op
