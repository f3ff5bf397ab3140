"""Schemathesis against each function's own OpenAPI document, in-process.

Every operation of every function gets generated requests, valid ones
(positive) and invalid ones (negative: wrong types, missing fields, out of
range), with a valid bearer token (a fresh user for the operations that end
the token: logout, account deletion). The checks: no 5xx, every response's
content type and body conform to the document (problem+json for errors), and
invalid input is rejected with a 4xx.

``make test`` runs ECO2_FUZZ_EXAMPLES (default 25) examples per operation and
mode with a fixed seed, so a run is repeatable; ``make fuzz`` runs many more
with a random seed, printed so that a finding can be replayed
(ECO2_FUZZ_SEED=<seed>).
"""

from __future__ import annotations

import os
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.errors import Unsatisfiable

from eco2.testing import Client

from ..support import bearer
from .conftest import SPECS, report

pytestmark = pytest.mark.timeout(600)

EXAMPLES = int(os.environ.get("ECO2_FUZZ_EXAMPLES", "25"))
# A function with few operations gets more examples per operation, so that every
# function sees a few hundred requests (those with no input at all cannot: there
# is only so much to vary in GET /healthz).
PER_FUNCTION = int(os.environ.get("ECO2_FUZZ_PER_FUNCTION", "400"))
SEED = os.environ.get("ECO2_FUZZ_SEED")  # unset: derandomized (make test); "random": a new one (make fuzz)
if SEED == "random":
    SEED = str(random.randrange(2**32))

# Operations that end the caller's token: each call gets a user of its own.
DESTRUCTIVE = {("DELETE", "/api/v1/user/me"), ("POST", "/api/v1/auth/logout")}


@dataclass
class Tally:
    requests: int = 0
    statuses: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)


def _attempt(operation: Any, mode: str, checks: list[Any], destructive: bool, token: str, mint: Any,
             tally: Tally) -> Any:
    """One generated request: sent, tallied, checked; a failure is recorded, not raised."""

    def attempt(case: Any) -> None:
        response = case.call(headers=bearer(mint()[1] if destructive else token))
        tally.requests += 1
        tally.statuses[response.status_code] += 1
        try:
            case.validate_response(response, checks=checks)
        except BaseException as exc:  # schemathesis' FailureGroup is a BaseExceptionGroup
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            text = str(exc)
            tally.failures.append(f"{operation.label} [{mode}]: {text[:1500]}"
                                  + (" [...]" if len(text) > 1500 else ""))

    return attempt


def _fuzz(client: Client, prefix: str, token: str, mint: Any) -> tuple[Tally, int, int]:
    import schemathesis
    from schemathesis import GenerationMode
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        negative_data_rejection,
        response_schema_conformance,
        status_code_conformance,
    )

    schema = schemathesis.openapi.from_wsgi(f"{prefix}/openapi.json", client.app)
    tally = Tally()
    operations = 0
    total = sum(1 for _ in schema.get_all_operations())
    examples = max(EXAMPLES, -(-PER_FUNCTION // (2 * max(total, 1))))
    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        destructive = (operation.method.upper(), operation.path) in DESTRUCTIVE
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            mode_checks = checks + ([negative_data_rejection] if mode == GenerationMode.NEGATIVE else [])

            attempt = _attempt(operation, mode.value, mode_checks, destructive, token, mint, tally)
            test = given(case=operation.as_strategy(generation_mode=mode))(attempt)
            test = settings(
                max_examples=examples,
                deadline=None,
                database=None,
                derandomize=SEED is None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )(test)
            if SEED is not None:
                test = seed(int(SEED))(test)
            try:
                test()
            except Unsatisfiable:
                pass  # nothing to make invalid (no parameters): the positive run covers it
    return tally, operations, examples


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_fuzz(spec, clients: dict[str, Client], mint) -> None:
    client = clients[spec.name]
    _, token = mint("퍼저")
    tally, operations, examples = _fuzz(client, spec.prefix, token, mint)
    statuses = ", ".join(f"{code}: {n}" for code, n in sorted(tally.statuses.items()))
    report(
        f"fuzz {spec.name}: {tally.requests} requests over {operations} operations "
        f"(up to {examples} per operation and mode, seed {SEED or 'fixed'}); statuses {statuses}; "
        f"{len(tally.failures)} failures"
    )
    assert tally.failures == [], "\n\n".join(tally.failures[:5])


def test_dev_login_nickname_length_matches_its_schema(clients: dict[str, Client]) -> None:
    padded = " " * 10 + "초록이" + " " * 10  # 23 characters: the document says at most 20
    schema = clients["auth"].get("/api/v1/auth/openapi.json").json["components"]["schemas"]["DevLogin"]
    assert schema["properties"]["nickname"]["maxLength"] == 20
    result = clients["auth"].post("/api/v1/auth/dev/login", json={"nickname": padded})
    assert result.status == 422, result.status
