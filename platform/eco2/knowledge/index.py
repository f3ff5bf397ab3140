"""Search over categories, items and FAQ: BM25 on character n-grams (bm25s).

Every category, item and FAQ entry is one document. Its tokens
(:mod:`eco2.knowledge.tokens`) are weighted by field by repeating them: names
and synonyms count three times, questions twice, body text once. bm25s scores
the query against every document (a few hundred, so there is nothing to
prune), and a document whose name or synonym is exactly the query gets a
bonus, so that "건전지" ranks the battery guide above a FAQ that mentions it.

bm25s and numpy are imported, and the index built, on the first search, not
when the knowledge base loads: most requests and functions never search.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from eco2.knowledge.base import KnowledgeBase, load
from eco2.knowledge.model import Category
from eco2.knowledge.tokens import normalize, tokens

if TYPE_CHECKING:
    import bm25s

Kind = Literal["category", "item", "faq"]
NAME, QUESTION, BODY = 3, 2, 1  # field weights, as token repetitions
EXACT_BONUS = 0.5  # times the best BM25 score of the query
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Hit:
    kind: Kind
    id: str
    title: str
    score: float
    category: Category


@dataclass(frozen=True)
class _Doc:
    kind: Kind
    id: str
    title: str
    category: str
    names: frozenset[str]  # normalized, space-free names that match exactly


def _compact(text: str) -> str:
    return _SPACE.sub("", normalize(text))


def _weighted(*fields: tuple[int, list[str]]) -> list[str]:
    return [token for weight, field in fields for token in field * weight]


class Index:
    """The BM25 index over one knowledge base."""

    def __init__(self, kb: KnowledgeBase) -> None:
        import bm25s

        self.kb = kb
        self.docs: list[_Doc] = []
        corpus: list[list[str]] = []

        def add(doc: _Doc, toks: list[str]) -> None:
            self.docs.append(doc)
            corpus.append(toks)

        for c in kb.categories:
            names = [c.name, c.name_en, c.middle or c.major, *c.synonyms]
            body = [c.guide.title, c.guide.summary, *c.guide.includes]
            add(
                _Doc("category", c.code, c.name, c.code, frozenset(map(_compact, names))),
                _weighted((NAME, _all(names)), (BODY, _all(body, joined=False))),
            )
        for i in kb.items:
            names = [i.name, *i.labels, *i.aliases]
            add(
                _Doc("item", i.id, i.name, i.category, frozenset(map(_compact, names))),
                _weighted((NAME, _all(names)), (BODY, _all([i.note or ""], joined=False))),
            )
        for f in kb.faq:
            add(
                _Doc("faq", f.id, f.question, f.goes_to or f.category, frozenset()),
                _weighted((QUESTION, tokens(f.question)), (BODY, tokens(f.answer, joined=False))),
            )
        self._bm25: bm25s.BM25 = bm25s.BM25()
        self._bm25.index(corpus, show_progress=False)

    def search(self, query: str, limit: int = 10) -> list[Hit]:
        """Hits for ``query``, best first; at most ``limit``, none that share no token."""
        toks = tokens(query)
        if not toks or limit < 1:
            return []
        scores = self._bm25.get_scores(toks)
        best = float(scores.max())
        if best <= 0:
            return []
        exact = _compact(query)
        ranked = []
        for n, doc in enumerate(self.docs):
            score = float(scores[n])
            if score <= 0:
                continue
            if exact in doc.names:
                score += EXACT_BONUS * best
            ranked.append((score, doc))
        # Ties: categories before items before FAQ, then by id, so results are stable.
        order = {"category": 0, "item": 1, "faq": 2}
        ranked.sort(key=lambda pair: (-pair[0], order[pair[1].kind], pair[1].id))
        return [
            Hit(doc.kind, doc.id, doc.title, round(score, 4), self.kb.category(doc.category))
            for score, doc in ranked[:limit]
        ]


def _all(texts: list[str], *, joined: bool = True) -> list[str]:
    return [token for text in texts for token in tokens(text, joined=joined)]


_lock = threading.Lock()
_index: Index | None = None


def index() -> Index:
    """The index of the shipped knowledge base, built on first use."""
    global _index
    if _index is None:
        with _lock:
            if _index is None:
                _index = Index(load())
    return _index


def search(query: str, limit: int = 10) -> list[Hit]:
    return index().search(query, limit)
