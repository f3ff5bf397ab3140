"""eco2.db's pool: what a connection is configured with, on a real PostgreSQL."""

from __future__ import annotations

import json

from eco2.config import Settings, load
from eco2.db import Database

# Non-ASCII text, escapes, big and negative integers, floats, exponents, nesting,
# nulls and a key given twice: json_build_object and a literal json value.
DOCUMENT = (
    '{"이름": "페트병 \\"투명\\"\\n", "n": 12345678901234567890, "neg": -7, "f": 0.1, "e": 1e-7,'
    ' "list": [true, false, null, {"k": []}], "dup": 1, "dup": 2, "u": "\\u00e9\\ud83d\\ude00"}'
)


def test_json_columns_parse_to_the_values_the_json_module_gives(database_url: str) -> None:
    """Pool connections parse json and jsonb with pydantic-core (faster); the values must not change."""
    db = Database(load(Settings, {"DATABASE_URL": database_url}))
    try:
        with db.read() as conn:
            as_json, as_jsonb, built = conn.execute(
                "SELECT %s::json, %s::jsonb, json_build_object('at', now(), 'rows', json_agg(g)) "
                "FROM generate_series(1, 3) g",
                (DOCUMENT, DOCUMENT),
            ).fetchone()
            jsonb_text, built_text = conn.execute(
                "SELECT %s::jsonb::text, json_build_object('at', now(), 'rows', json_agg(g))::text "
                "FROM generate_series(1, 3) g",
                (DOCUMENT,),
            ).fetchone()
    finally:
        db.close()
    assert as_json == json.loads(DOCUMENT) and as_json["dup"] == 2
    assert as_jsonb == json.loads(jsonb_text)
    assert built["rows"] == [1, 2, 3] and set(built) == set(json.loads(built_text))
    assert as_json["u"] == "é😀" and as_json["n"] == 12345678901234567890
