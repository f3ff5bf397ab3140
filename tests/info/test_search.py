"""Korean-aware search: spacing, partial words, particles, English synonyms."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eco2 import knowledge
from eco2.knowledge import index
from eco2.knowledge.tokens import subjects, tokens

EVAL = json.loads((Path(__file__).parent / "search_eval.json").read_text(encoding="utf-8"))["queries"]
PRECISION_FLOOR = 0.95  # bench/info_search.py reports the figure; this only guards against regressions


def top(query: str) -> str | None:
    hits = knowledge.search(query, 1)
    return hits[0].category.code if hits else None


def test_the_evaluation_set() -> None:
    assert len(EVAL) >= 60
    right = sum(top(e["q"]) in (e["expected"], *e.get("also", ())) for e in EVAL)
    assert right / len(EVAL) >= PRECISION_FLOOR


@pytest.mark.parametrize(
    ("query", "category"),
    [
        ("피자 박스", "paper"), ("피자박스", "paper"),  # spacing either way
        ("페트병라벨", "vinyl"),  # a compound of two words: the label itself goes to 비닐류
        ("투명페트병은 어떻게 버리나요", "clear_pet"),  # particles and endings
        # The thing named, without the question, earns a name's exact bonus:
        # "페트병" is clear PET's own synonym, so 유색 페트병 no longer comes first.
        ("페트병 어떻게 버려요?", "clear_pet"), ("페트병은 어떻게 버리나요?", "clear_pet"),
        ("건전지는요?", "battery"),
        ("건전지", "battery"),
        ("스팸캔", "metal"),  # an unseen compound still meets its head noun, 캔
        ("pet bottle", "clear_pet"), ("PET Bottles", "clear_pet"), ("batteries", "battery"),
        ("ｐｅｔ　ｂｏｔｔｌｅ", "clear_pet"),  # full-width input
    ],
)
def test_queries(query: str, category: str) -> None:
    assert top(query) == category


def test_hits_carry_category_and_guide() -> None:
    hits = knowledge.search("우유팩", 5)
    assert hits[0].category.code == "paper_pack"
    assert [s.id for s in hits[0].category.guide.steps][:2] == ["emptied", "parts_removed"]
    assert {h.kind for h in hits} <= {"category", "item", "faq"}
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_limit_and_nothing_found() -> None:
    assert len(knowledge.search("플라스틱", 3)) == 3
    assert knowledge.search("?!", 10) == []
    assert knowledge.search("zzqxj", 10) == []
    assert knowledge.search("캔", 0) == []


def test_subjects() -> None:
    assert subjects("페트병 어떻게 버려요?") == {"페트병"}
    assert subjects("페트병은 어떻게 버리나요?") == {"페트병은", "페트병"}
    assert subjects("건전지는요~") == {"건전지는요", "건전지는", "건전지"}
    assert subjects("종이") == {"종이", "종"}  # the name as typed stays among them
    assert subjects("어떻게 버려요?") == frozenset()


def test_tokens() -> None:
    assert set(tokens("피자박스")) <= set(tokens("피자 박스"))
    assert {"페트", "트병", "페트병", "라벨"} <= set(tokens("페트병라벨"))
    assert "캔" in tokens("참치캔") and "캔" in tokens("캔")
    assert tokens("PET Bottles") == ["pet", "bottle", "pet_bottle"]
    assert "병라" not in tokens("페트병 라벨", joined=False)  # long text: no n-grams across words
    # Asking words are no evidence of the thing asked about.
    assert tokens("투명페트병은 어떻게 버리나요") == tokens("투명페트병은")
    assert "은" not in tokens("투명페트병은")  # a particle is no head noun
    assert "법랑" in tokens("법랑 냄비 버리는 법")  # 법 is asking only as a word of its own


def test_fts5_indexes_every_token_intact() -> None:
    """FTS5 holds exactly our tokens: its tokenizer splits none (pet_bottle) and merges none."""
    kb = knowledge.load()
    built = index.Index(kb)
    built._db.execute("CREATE VIRTUAL TABLE temp.vocab USING fts5vocab(main, docs, row)")
    indexed = {term for (term,) in built._db.execute("SELECT term FROM temp.vocab")}
    ours = {t for _, title, body in index._documents(kb) for t in title + body}
    assert indexed == ours and "pet_bottle" in indexed


SYNTAX = ['"', '"페트병', 'pet" OR "can', "pet*", "NEAR(pet bottle)", 'NEAR("pet" "can", 2)', "-캔",
          "^캔", "(캔", "캔)", "pet AND NOT bottle", "title:캔", "{title body}: 캔", "body : pet", "+캔", "캔'",
          "'; DROP TABLE docs; --", "\\", "*"]


@pytest.mark.parametrize("query", SYNTAX)
def test_fts5_syntax_in_the_query_is_only_text(query: str) -> None:
    assert isinstance(knowledge.search(query, 5), list)


def test_every_token_is_quoted(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tokens that are FTS5 syntax (were the tokenizer to let them through) are only strings.

    Unquoted, most of these queries are FTS5 syntax errors (unterminated string,
    no such column, syntax error near "AND"); ``bott*`` would be a prefix query."""
    built = index.Index(knowledge.load())
    monkeypatch.setattr(index, "tokens", lambda text, **_: text.split())
    for query in SYNTAX:
        assert isinstance(built.search(query, 5), list)
    assert built.search("bott*", 5) == []  # a quoted * is no prefix query: nothing is "bott"


def test_results_are_cached_by_normalized_query() -> None:
    idx = index.index()
    first = knowledge.search("페트병 라벨", limit=5)
    before = idx._ranked.cache_info()  # noqa: SLF001
    # The same query with other spacing is one entry.
    again = knowledge.search("  페트병   라벨 ", limit=5)
    after = idx._ranked.cache_info()  # noqa: SLF001
    assert again == first and again is not first
    assert after.hits == before.hits + 1 and after.currsize == before.currsize
    assert knowledge.search("페트병 라벨", limit=2) == first[:2]  # the limit is part of the key
    assert after.maxsize == index.CACHED_QUERIES
