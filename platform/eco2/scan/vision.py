"""Optional refinement by an OpenAI vision model, for photos the local model is unsure of.

Used only when ``ECO2_SCAN_VISION_MODEL`` is set (e.g. ``gpt-4o-mini``) and
the local answer's confidence is below ``ECO2_SCAN_VISION_BELOW``. One call to
``/v1/chat/completions`` with a downsized JPEG of the photo and a strict JSON
schema: a category code of the knowledge base, the item if it can tell, and
situation tags from the project's vocabulary (the original app's tags).

The client is the runtime's (:mod:`eco2.openai_client`, chat's too), with no
retries and ``ECO2_SCAN_VISION_TIMEOUT_SECONDS`` as the deadline of the whole
call, from connecting to the answer's last byte: an answer that trickles is cut
there, not held one read timeout per byte. Any failure (timeout, 429, 5xx, a
malformed or off-vocabulary answer) raises :class:`VisionError` and the caller
keeps the local answer. ``openai`` is imported on this path only.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from eco2 import openai_client
from eco2.knowledge import Category, KnowledgeBase
from eco2.scan import tags as vocabulary

if TYPE_CHECKING:
    from eco2.scan.settings import ScanSettings


class VisionError(RuntimeError):
    """The vision model gave no usable answer; ``reason`` is short and safe to log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class VisionAnswer:
    category: Category
    minor: str | None
    situation_tags: tuple[str, ...]


def _schema(kb: KnowledgeBase) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["category", "minor_category", "situation_tags"],
        "properties": {
            "category": {"type": "string", "enum": [c.code for c in kb.categories]},
            "minor_category": {"type": ["string", "null"]},
            "situation_tags": {"type": "array", "items": {"type": "string", "enum": list(vocabulary.vocabulary())}},
        },
    }


def _instructions(kb: KnowledgeBase) -> str:
    categories = "\n".join(
        f"- {c.code}: {c.major}" + (f" > {c.middle}" if c.middle else "") for c in kb.categories
    )
    return (
        "너는 한국의 분리배출 기준으로 사진 속 폐기물을 분류한다. 사진에 보이는 주된 물건 하나를 "
        "아래 category 코드 중 하나로 고른다. 재활용품은 가장 구체적인 중분류 코드를 고르고, "
        "물건이 여러 개이거나 판단할 수 없으면 unclassified를 고른다.\n"
        f"{categories}\n"
        "minor_category는 물건의 이름(예: 맥주병, 우유팩)이고 모르면 null이다. situation_tags는 "
        "사진에서 실제로 보이는 상태만, 주어진 목록에서 고른다. 사용자의 말은 참고만 한다."
    )


def refine(jpeg: bytes, user_input: str | None, settings: "ScanSettings", kb: KnowledgeBase) -> VisionAnswer:
    """Ask the vision model once. Raises :class:`VisionError` on any failure."""
    if not settings.openai_api_key:
        raise VisionError("no API key")  # the openai client refuses to start without one
    import openai

    image_url = "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")
    content: list[dict[str, Any]] = [{"type": "image_url", "image_url": {"url": image_url, "detail": "low"}}]
    if user_input:
        content.insert(0, {"type": "text", "text": f"사용자의 말: {user_input[:500]}"})
    client = openai_client.client(
        base_url=settings.openai_base_url,
        api_key=settings.openai_api_key,
        timeout=settings.vision_timeout_seconds, connect_timeout=settings.vision_timeout_seconds,
        max_retries=0)
    try:
        response = client.chat.completions.create(
            model=settings.vision_model,
            messages=[
                {"role": "system", "content": _instructions(kb)},
                {"role": "user", "content": content},
            ],
            response_format={
                "type": "json_schema",
                "json_schema": {"name": "scan_classification", "strict": True, "schema": _schema(kb)},
            },
            temperature=0,
        )
    except openai.OpenAIError as exc:
        raise VisionError(openai_client.reason(exc)) from None
    try:
        raw = json.loads(response.choices[0].message.content or "")
        category = kb.category(raw["category"])
        minor, tags = raw["minor_category"], raw["situation_tags"]  # the schema requires both
        if category is None or not isinstance(tags, list) or not (minor is None or isinstance(minor, str)):
            raise ValueError(raw)
    except (ValueError, KeyError, TypeError, IndexError, AttributeError):
        raise VisionError("invalid answer") from None
    return VisionAnswer(category, minor.strip()[:100] if minor else None, vocabulary.known(tags))
