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
