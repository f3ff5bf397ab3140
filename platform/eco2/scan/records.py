"""A scan's record: its answer in the app's shape, written with its reward in one transaction.

The answer is what the released app renders (``task_id``, ``status``,
``message``, ``pipeline_result`` with the classification, the disposal rule and
the final answer, ``reward`` or an explicit null) plus eco2's own fields beside
them (``scan_id``, ``confidence``, ``candidates``, ``source``, ``points``,
``model``, ``timings``). It is stored with the scan (``scan.scans.answer``):
the owner reads it back by id, and a repeated ``Idempotency-Key`` gets it again.

The parts are separate functions because the stream sends them as stages
(``classified``, ``guide``, ``reward``) before the whole (``done``).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from eco2 import db
from eco2.character import catalog
from eco2.scan.rewards import RECYCLABLE, ScanReward, award_scan

if TYPE_CHECKING:
    from eco2.db import Connection
    from eco2.knowledge import KnowledgeBase
    from eco2.scan.classifier import Classification

COMPLETED = "classification completed"  # the original's message
NO_DETAILS = "세부 분류 정보 없음"  # the original's instruction for a category without items


def classified(result: "Classification") -> dict[str, Any]:
    """What the photo was taken for, and how sure and by what."""
    whole = result.as_dict()
    return {
        "classification": result.classification,
        "situation_tags": list(result.situation_tags),
        "confidence": whole["confidence"],
        "candidates": whole["candidates"],
        "source": result.source,
        "model": whole["model"],
    }


def guide(result: "Classification") -> dict[str, Any]:
    """The matched rule and the answer in words (the original's ``disposal_rules``
    and ``final_answer``)."""
    category = result.category
    rules = category.guide
    return {
        "disposal_rules": {
            "key": category.code,
            "category": category.middle or category.major,
            "title": rules.title,
            "summary": rules.summary,
            "steps": [{"id": s.id, "title": s.title, "text": s.text, "required": s.required} for s in rules.steps],
            "put_out": list(rules.put_out),
            "tips": list(rules.tips),
        },
        "final_answer": {
            "disposal_steps": dict(result.disposal_steps),
            "insufficiencies": list(result.insufficiencies),
            "user_answer": result.user_answer,
        },
    }


def rewarded(result: "Classification", reward: ScanReward) -> dict[str, Any]:
    """The original's ``reward`` (null unless a character matches a correct
    recyclable: received when this scan granted it, already_owned otherwise)
    and eco2's ``points``."""
    middle = result.classification["middle_category"]
    match = catalog.for_category(middle) if result.category.major == RECYCLABLE and result.correct else None
    character = None
    if match is not None:
        character = {
            "received": reward.character is not None,
            "already_owned": reward.character is None,
            "name": match.name,
            "dialog": match.dialog,
            "match_reason": match.match,
            "character_type": match.type,
            "type": match.type,
            "code": match.code,
        }
    return {
        "reward": character,
        "points": {
            "awarded": reward.points + reward.character_points,
            "scan": reward.points,
            "character": reward.character_points,
            "daily_cap_reached": reward.capped,
        },
    }


def answer(scan_id: str, result: "Classification", reward: ScanReward, timings: dict[str, float | None]) -> dict[str, Any]:
    """The whole answer (see the module's docstring)."""
    parts = classified(result)
    return {
        "task_id": scan_id,
        "scan_id": scan_id,
        "status": "completed",
        "message": COMPLETED,
        "pipeline_result": {
            "classification_result": {
                "classification": parts.pop("classification"),
                "situation_tags": parts.pop("situation_tags"),
            },
            **guide(result),
        },
        **rewarded(result, reward),
        **parts,
        "timings": timings,
    }


def record(conn: "Connection", user_id: str, scan_id: str, result: "Classification", *,
           key: str | None, timings: dict[str, float | None],
           request_hash: str | None = None) -> dict[str, Any] | None:
    """Write the scan, award it and store its answer, inside the caller's
    transaction; None when ``key`` was already used by this user (the caller
    then replays that answer: :func:`replay`). ``request_hash`` is what the
    request with ``key`` asked for (its retries must ask the same)."""
    category = result.category
    inserted = conn.execute(
        """INSERT INTO scan.scans (id, user_id, major_category, middle_category, item, recyclable,
                                   correct, missing_steps, idempotency_key, request_hash)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
           ON CONFLICT (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
           RETURNING id""",
        (scan_id, user_id, category.major, category.middle, result.item.id if result.item else None,
         category.recyclable, result.correct, list(result.missing_steps), key, request_hash),
    ).fetchone()
    if inserted is None:
        return None
    reward = award_scan(conn, user_id, scan_id, major=category.major, middle=category.middle,
                        correct=result.correct)
    doc = answer(scan_id, result, reward, timings)
    conn.execute(
        "UPDATE scan.scans SET points = %s, character_code = %s, answer = %s::jsonb WHERE id = %s",
        (reward.points + reward.character_points, reward.character.code if reward.character else None,
         json.dumps(doc, ensure_ascii=False), scan_id),
    )
    return doc


def replay(conn: "Connection", user_id: str, key: str) -> tuple[dict[str, Any], str | None] | None:
    """The answer of this user's scan made with ``key``, and the hash of the
    request that made it (None before it was kept), if there was one."""
    found = db.row(
        conn,
        """SELECT answer, request_hash FROM scan.scans
           WHERE user_id = %s AND idempotency_key = %s AND answer IS NOT NULL""",
        (user_id, key),
    )
    return (found["answer"], found["request_hash"]) if found else None


def task(conn: "Connection", user_id: str, scan_id: str) -> dict[str, Any] | None:
    """The owner's scan in the original's task shape (its answer, plus
    ``category`` and ``completed_at``); None for anyone else's or none."""
    found = db.row(
        conn,
        """SELECT answer, major_category, created_at FROM scan.scans
            WHERE id = %s AND user_id = %s AND answer IS NOT NULL""",
        (scan_id, user_id),
    )
    if found is None:
        return None
    return {**found["answer"], "category": found["major_category"],
            "completed_at": found["created_at"].isoformat()}


def categories(kb: "KnowledgeBase") -> list[dict[str, Any]]:
    """The major categories in the original's shape: ``{id, name, display_name,
    instructions}``, an instruction per middle category ("종이: 신문, 책…") or,
    for a major without middles, its items."""
    out = []
    majors = [c for c in kb.categories if c.parent is None]
    for number, major in enumerate(majors, 1):
        middles = kb.children(major.code)
        lines = [
            f"{m.name}: {', '.join(i.name for i in kb.items_in(m.code))}" for m in middles if kb.items_in(m.code)
        ]
        if not middles and kb.items_in(major.code):
            lines = [", ".join(i.name for i in kb.items_in(major.code))]
        out.append({"id": number, "name": major.name, "display_name": major.name,
                    "instructions": lines or [NO_DETAILS]})
    return out
