"""No row PostgreSQL refuses is a 500, and its values stay out of the log (issue 11, item 4).

Before: a phone number in Arabic-Indic or mathematical digits passed the
pattern (``\\d`` is Unicode), broke the column's CHECK, and gave a 500 whose
log line held the failing row: user id, nickname, phone.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Iterator

import pytest

from eco2.testing import Client

from ..support import bearer, is_problem
from .conftest import BY_NAME, fresh_nickname, report

FIXTURE = Path(__file__).parent / "fixtures" / "integrity" / "main.py"
PREFIX = "/api/v1/integrity"

UNICODE_PHONES = {
    "Arabic-Indic digits": "٠١٠-١٢٣٤-٥٦٧٨",
    "extended Arabic-Indic digits": "۰۱۰۱۲۳۴۵۶۷۸",
    "mathematical digits": "𝟎𝟏𝟎-𝟏𝟐𝟑𝟒-𝟓𝟔𝟕𝟖",
    "full-width digits": "０１０-１２３４-５６７８",
    "Devanagari digits": "०१०१२३४५६७८",
    "ideographic spaces": "010\u30001234\u30005678",
}


def written(caplog: pytest.LogCaptureFixture) -> str:
    """The log lines eco2 wrote, as its formatter writes them (traces included)."""
    from eco2.logs import JsonFormatter

    return "\n".join(JsonFormatter().format(record) for record in caplog.records)


@pytest.fixture(scope="module")
def my(reliability_env: dict[str, str]) -> Iterator[Client]:
    client = Client(BY_NAME["my"].source, env=reliability_env)
    yield client
    client.close()


@pytest.fixture(scope="module")
def integrity(reliability_env: dict[str, str]) -> Iterator[Client]:
    client = Client(FIXTURE, env=reliability_env)
    yield client
    client.close()


def test_phone_numbers_in_other_digits_are_a_422(my: Client, mint, caplog) -> None:
    nickname = fresh_nickname()
    _, token = mint(nickname)
    assert my.patch("/api/v1/user/me", json={"phone_number": "010-1234-5678"}, headers=bearer(token)).status == 200
    wrong = []
    for name, phone in UNICODE_PHONES.items():
        result = my.patch("/api/v1/user/me", json={"phone_number": phone}, headers=bearer(token))
        if not is_problem(result, 422):
            wrong.append(f"{name}: {result.status} {result.body[:120]!r}")
    profile = my.get("/api/v1/user/me", headers=bearer(token)).json
    assert profile["phone_number"] == "010-1234-5678"  # nothing half-written
    log = written(caplog)
    assert nickname not in log and "1234" not in log and "١٢٣٤" not in log
    report(f"integrity: {len(UNICODE_PHONES)} phone numbers in non-ASCII digits or spaces; {len(wrong)} not a 422")
    assert wrong == []


def test_rows_the_database_refuses_are_4xx_and_their_values_stay_out_of_the_log(
        integrity: Client, mint, caplog) -> None:
    nickname = fresh_nickname()
    user_id, _ = mint(nickname)
    phone = "010-98７6-5432"  # one full-width digit: the CHECK's regex refuses it
    cases = {
        "CHECK (phone pattern)": ("/profiles", {"user_id": user_id, "nickname": nickname, "phone_number": phone}, 422),
        "CHECK (nickname length)": ("/profiles", {"user_id": user_id, "nickname": nickname * 3}, 422),
        "primary key twice": ("/profiles/twice", {"user_id": user_id, "nickname": nickname}, 409),
        "no such user (foreign key)": ("/profiles", {"user_id": str(uuid.uuid4()), "nickname": nickname}, 409),
    }
    seen = {}
    for name, (path, body, status) in cases.items():
        result = integrity.post(PREFIX + path, json=body)
        seen[name] = result.status
        assert is_problem(result, status), (name, result.status, result.body)
    out_of_range = integrity.get(f"{PREFIX}/int/99999999999")
    assert is_problem(out_of_range, 422), out_of_range.body
    log = written(caplog)
    assert "refused by the database" in log and "profiles_phone_number_check" in log
    for secret in (user_id, nickname, phone, "98７6", "99999999999"):
        assert secret not in log, secret
    report("integrity: rows PostgreSQL refuses -> " + ", ".join(f"{k} {v}" for k, v in seen.items())
           + ", int out of range 422; the log names the constraint, not the row")


def test_errors_of_our_own_sql_stay_500s_with_their_stack(integrity: Client, caplog) -> None:
    """Only SQLSTATEs a client's value can cause are 409/422; a division by zero,
    a bad parameter or regex or a NOT NULL our own INSERT breaks is a bug: 500, logged as an
    unhandled error with its stack (before: 422, a warning, no stack)."""
    seen = {}
    for kind in ("division", "parameter", "regex", "not-null"):
        caplog.clear()
        result = integrity.get(f"{PREFIX}/bug/{kind}")
        seen[kind] = result.status
        assert is_problem(result, 500), (kind, result.status, result.body)
        log = written(caplog)
        assert "unhandled error" in log and "refused by the database" not in log, kind
        assert "main.py" in log, kind  # the stack: the fixture's frame
    caplog.clear()
    assert is_problem(integrity.get(f"{PREFIX}/nul"), 422)  # psycopg's own NUL refusal is the client's
    report("integrity: our own SQL's errors -> " + ", ".join(f"{k} {v}" for k, v in seen.items()))


def test_a_database_error_in_an_exceptions_chain_is_logged_without_its_row(
        integrity: Client, mint, caplog) -> None:
    """A handler that fails while handling a refusal: its traceback would print
    the chained psycopg message (DETAIL: Failing row contains (...))."""
    nickname = fresh_nickname()
    user_id, _ = mint(nickname)
    phone = "010-98７6-5432"
    result = integrity.post(PREFIX + "/profiles/handled",
                            json={"user_id": user_id, "nickname": nickname, "phone_number": phone})
    assert is_problem(result, 500)
    log = written(caplog)
    assert "unhandled error" in log and "CheckViolation" in log and "RuntimeError" in log
    for secret in (user_id, nickname, phone, "98７6", "Failing row"):
        assert secret not in log, secret
