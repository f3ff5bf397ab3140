"""RFC 9457 problem details: the one error shape every function returns."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:eco2:problem:"
# Slugs whose code in the original backend's error shape is not their own name.
ORIGINAL_CODES = {"validation": "VALIDATION_ERROR", "internal": "INTERNAL_SERVER_ERROR"}


class Problem(Exception):
    """An error that reaches the client as ``application/problem+json``.

    ``slug`` names the problem type (``urn:eco2:problem:<slug>``); without it the
    type is ``about:blank`` and the title is the status phrase, as RFC 9457 says.
    ``errors`` carries field-level details for validation problems.

    Every body also carries two extension members (RFC 9457 section 3.2) in
    the original backend's error shape, which its released app was written
    against: ``success: false`` and ``error: {code, message}``.
    """

    def __init__(
        self,
        status: int,
        detail: str | None = None,
        *,
        slug: str | None = None,
        title: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail or title or HTTPStatus(status).phrase)
        self.status = status
        self.detail = detail
        self.slug = slug
        self.title = title or HTTPStatus(status).phrase
        self.errors = errors
        self.headers = headers or {}

    def body(self, instance: str | None = None) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "type": TYPE_PREFIX + self.slug if self.slug else "about:blank",
            "title": self.title,
            "status": self.status,
        }
        if self.detail:
            doc["detail"] = self.detail
        if instance:
            doc["instance"] = instance
        if self.errors is not None:
            doc["errors"] = self.errors
        doc["success"] = False
        doc["error"] = {"code": self.code, "message": self.detail or self.title}
        return doc

    @property
    def code(self) -> str:
        """The original's error code: the slug, or else the status phrase, in
        upper snake case (``invalid-state`` -> ``INVALID_STATE``, 404 -> ``NOT_FOUND``);
        the original's own names where they differ."""
        if self.slug in ORIGINAL_CODES:
            return ORIGINAL_CODES[self.slug]
        name = self.slug or HTTPStatus(self.status).phrase
        return "_".join(name.replace("-", " ").replace("'", "").upper().split())

    def to_json(self, instance: str | None = None) -> bytes:
        return json.dumps(self.body(instance), ensure_ascii=False).encode()


def unauthorized(detail: str = "A valid access token is required.") -> Problem:
    return Problem(401, detail, slug="unauthorized", headers={"WWW-Authenticate": "Bearer"})


def not_found(detail: str = "No such resource.") -> Problem:
    return Problem(404, detail, slug="not-found")


def user_gone() -> Problem:
    """A valid token whose user has since been deleted."""
    return not_found("The user no longer exists.")


def no_route(path: str, detail: str | None = None) -> Problem:
    """Nothing answers at ``path`` (the function's router, Flask's own routes,
    the dev gateway)."""
    return Problem(404, detail or f"No route for {path}.", slug="no-route")


def unavailable(detail: str, retry_after: int = 1) -> Problem:
    return Problem(503, detail, slug="unavailable", headers={"Retry-After": str(retry_after)})


def from_validation_error(exc: Any, where: str) -> Problem:
    """422 from a pydantic ValidationError, with one entry per failing field.

    Only the location, message and error type are passed on: pydantic's
    ``input`` and ``ctx`` may echo large or sensitive input back.
    """
    errors = [
        {"loc": [where, *err["loc"]], "msg": err["msg"], "type": err["type"]}
        for err in exc.errors(include_url=False, include_input=False, include_context=False)
    ]
    if any(err["type"] == "json_invalid" for err in errors):
        return Problem(400, "The request body is not valid JSON.", slug="malformed-json")
    return Problem(
        422, "The request did not validate.", slug="validation", errors=errors
    )
