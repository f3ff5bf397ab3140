"""The guard that keeps the instructions and secrets out of answers, on its own."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from eco2.chat import prompt
from eco2.chat.grounding import guide_block, retrieve
from eco2.knowledge import load

SECRET = "sk-test-0123456789abcdefghijklmnop"
GUARD = prompt.Guard([SECRET, "http://127.0.0.1:9/v1"])


def test_the_knowledge_bases_own_words_are_never_taken_for_a_leak() -> None:
    """Whatever a model quotes from the reference text must pass."""
    kb = load()
    texts = [guide_block(c) for c in kb.categories] + [f.answer for f in kb.faq] + [f.question for f in kb.faq]
    assert [t for t in texts if GUARD.leaks(t)] == []
    assert not GUARD.leaks(retrieve("우유팩 버리는 법").text)


def test_answers_that_do_what_the_instructions_say_are_not_leaks() -> None:
    """A model following its instructions echoes some of their words: that must pass."""
    for answer in (
        "저는 분리배출, 재활용, 쓰레기 줄이기에 관한 질문에만 답할 수 있어요. 버리려는 물건을 알려 주세요.",
        "참고 자료에는 없는 내용이라 잘 모르겠어요. 지역 구청이나 주민센터의 안내를 확인해 보세요.",
        "사진 분류 결과를 보니 아직 안 된 준비가 있어요. 라벨을 떼어 주세요.",
        "I only answer questions about recycling. What would you like to throw away?",
    ):
        assert not GUARD.leaks(answer), answer
        assert stream(answer, list(range(0, len(answer), 4))) == (answer, False)


def stream(answer: str, cuts: list[int]) -> tuple[str, bool]:
    """What conversation.stream would send of ``answer`` cut into pieces at ``cuts``, and whether it stopped."""
    text, sent, start = "", 0, 0
    for end in sorted({*cuts, len(answer)}):
        piece = answer[start:end]
        start = end
        if not piece:
            continue
        text += piece
        if GUARD.leaks_at_end(text, piece):
            return text[:sent], True
        sent = max(sent, len(text) - GUARD.held_back(text))
    return text, False


@settings(max_examples=200, deadline=None)
@given(before=st.text(max_size=40), start=st.integers(0, len(prompt.INSTRUCTIONS) - 40),
       length=st.integers(prompt.WINDOW + 4, 60), cuts=st.lists(st.integers(0, 140), max_size=30))
def test_no_streamed_prefix_ever_holds_a_leak(before: str, start: int, length: int, cuts: list[int]) -> None:
    answer = before + prompt.INSTRUCTIONS[start:start + length]
    sent, stopped = stream(answer, cuts)
    assert stopped == GUARD.leaks(answer)
    assert not GUARD.leaks(sent)


@settings(max_examples=100, deadline=None)
@given(before=st.text(max_size=30), cuts=st.lists(st.integers(0, 80), max_size=20))
def test_a_secret_is_caught_before_it_is_whole(before: str, cuts: list[int]) -> None:
    sent, stopped = stream(before + " 키: " + SECRET + " 끝", cuts)
    assert stopped and SECRET not in sent


def test_an_ordinary_answer_streams_whole() -> None:
    answer = "투명 페트병은 라벨을 떼고 찌그러뜨려서 뚜껑을 닫아 내놓아요."
    assert stream(answer, list(range(0, len(answer), 3))) == (answer, False)


def test_a_placeholder_key_is_no_secret() -> None:
    """A local model server takes any key ("x", "EMPTY", "ollama"): guarding it would withhold every
    answer that happens to hold those letters."""
    guard = prompt.Guard(["x", "EMPTY", "ollama"])
    answer = "상자는 펼쳐서 (2x2로 접어) 내놓고, EMPTY 표시가 된 병은 비운 거예요. ollama"
    assert not guard.leaks(answer) and guard.held_back(answer) == 0
