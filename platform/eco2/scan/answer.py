"""The answer in words, composed from the knowledge base in 이코's voice:
numbered disposal steps, the missing steps as friendly sentences, and a short
spoken answer. No model writes these: the same category always gets the same
words, and they never contradict the guide."""

from __future__ import annotations

from typing import Iterable, Sequence

from eco2.knowledge import Category, GuideStep, Item

UNSURE = "사진만으로는 무엇인지 확실하지 않아요."


def _has_final(word: str) -> bool:
    """Whether the last Hangul syllable has a final consonant (받침)."""
    last = word.strip()[-1:] or " "
    return "가" <= last <= "힣" and (ord(last) - 0xAC00) % 28 != 0


def _subject(word: str) -> str:
    return word + ("이" if _has_final(word) else "가")


def _is(word: str) -> str:
    """word + 이네요/네요: "맥주병이네요", "피자 상자네요"."""
    return word + ("이네요" if _has_final(word) else "네요")


def _topic(word: str) -> str:
    """word + 은/는: "우유팩은", "피자 상자는"."""
    return word + ("은" if _has_final(word) else "는")


def _towards(word: str) -> str:
    """word + 으로/로 (로 after a vowel or ㄹ)."""
    last = word.strip()[-1:]
    rieul = "가" <= last <= "힣" and (ord(last) - 0xAC00) % 28 == 8
    return word + ("으로" if _has_final(word) and not rieul else "로")


def disposal_steps(category: Category) -> dict[str, str]:
    """``{"단계1": ..., ...}``: the guide's steps, then how to put it out."""
    guide = category.guide
    lines = [step.text for step in guide.steps] + list(guide.put_out)
    return {f"단계{n}": line for n, line in enumerate(lines, 1)}


def insufficiencies(steps: Sequence[GuideStep], missing: Iterable[str], advice: Iterable[str]) -> list[str]:
    """One sentence per missing step, then per advice-only step the tags flag."""
    by_id = {s.id: s for s in steps}
    out = [f"{_subject(by_id[i].title)} 아직 안 된 것 같아요. {by_id[i].text}" for i in missing]
    out += [f"{by_id[i].title}도 해 두면 좋아요. {by_id[i].text}" for i in advice]
    return out


def user_answer(category: Category, item: Item | None, *, unsure: bool, missing: int,
                candidates: Sequence[Category] = (), seen: bool = True) -> str:
    """Two or three short sentences: what it is and where it goes, then what is left.

    ``seen``: the item was recognised in a photo ("우유팩이네요!"); otherwise it was
    named in words, and the answer only says where it goes ("우유팩은 ...")."""
    guide = category.guide
    if unsure:
        maybe = ", ".join(c.name for c in candidates)
        hint = f" {maybe} 중 하나일 수도 있어요." if maybe else ""
        return f"{UNSURE}{hint} {guide.summary}"
    thing = item.name if item else category.name
    where = category.middle or category.name
    if thing == where:
        first = f"{_towards(where)} 분리배출해요."
    else:
        first = f"{_is(thing)}! {_towards(where)} 버려요." if seen else f"{_topic(thing)} {_towards(where)} 버려요."
    if missing:
        return f"{first} {guide.summary} 아직 {missing}가지 준비가 남았어요."
    return f"{first} {guide.summary}"
