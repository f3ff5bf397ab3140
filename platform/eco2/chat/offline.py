"""An answer without a model, composed from the reference text.

Used when no API key is configured (``model: "offline"``), and as the
degraded answer when the model fails (``degraded: true``). The words are
the knowledge base's: a photo's classification as scan words it, a FAQ
entry's answer, or an item's category and guide summary, then the guide's
first steps. With nothing found it says what 이코 can help with.
"""

from __future__ import annotations

from eco2 import knowledge
from eco2.chat.grounding import Grounding, faq
from eco2.scan.answer import user_answer

MODEL = "offline"
STEPS = 3  # a guide's first steps, in one line
NOTHING_FOUND = (
    "저는 분리배출을 돕는 이코예요. 버리려는 물건의 이름(예: 페트병, 우유팩, 건전지)을 알려 주시면 "
    "버리는 방법을 알려 드릴게요."
)
DEGRADED = "지금은 답변 모델을 쓸 수 없어서, 분리배출 안내에서 찾은 내용으로 답해요."


def compose(grounding: Grounding) -> str:
    kb = knowledge.load()
    first = next((s for s in grounding.sources if s.kind != "category"), None)
    category = None
    if grounding.photo:
        category = grounding.photo.category
        parts = [grounding.photo.answer]
    elif first is not None and first.kind == "faq":
        return faq(first.id).answer
    elif first is not None:
        category = kb.category(first.category)
        parts = [user_answer(category, kb.item(first.id), unsure=False, missing=0, seen=False)]
    elif grounding.categories:
        category = grounding.categories[0]
        parts = [user_answer(category, None, unsure=False, missing=0, seen=False)]
    else:
        return NOTHING_FOUND
    steps = category.guide.steps[:STEPS]
    if steps:
        parts.append("준비: " + " ".join(f"{n}) {s.text}" for n, s in enumerate(steps, 1)))
    return " ".join(parts)
