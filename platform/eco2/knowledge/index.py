"""Search over categories, items and FAQ: BM25 on character n-grams, in SQLite FTS5.

Every category, item and FAQ entry is one row of an in-memory FTS5 table with
two columns: ``title`` (names and synonyms, or the FAQ question) and ``body``
(guide text, item note, FAQ answer). FTS5 ranks with its built-in ``bm25()``,
the title column weighing three times the body. A document whose name or
synonym is exactly what the query names (:func:`~eco2.knowledge.tokens.subjects`)
gets a bonus, so that "건전지" ranks the battery guide above a FAQ that
mentions it, and "페트병 어떻게 버려요?" clear PET (synonym 페트병) above 유색 페트병.

Why FTS5: it is BM25 in C inside the standard library's sqlite3, so search
ships nothing. bm25s, used before, brought numpy: 57.6 MB of info's image and
~165 ms of import on the first search, for the same first hits. The table is
built on the first search (~12 ms), not when the knowledge base loads: most
requests and functions never search.

FTS5 never sees text, only our tokens (:mod:`eco2.knowledge.tokens`): a row
is its tokens joined by spaces. The tokens hold only Hangul, ``a-z``, digits
and ``_``, and the tokenizer is unicode61 with ``_`` made a token character (it
would split ``pet_bottle`` otherwise) and no diacritic folding, so it splits
at the spaces and nowhere else (tests/info/test_search.py compares the FTS5
vocabulary with our tokens). A query is an OR of its tokens, each a quoted
FTS5 string, so nothing a user types is read as FTS5 syntax (``NEAR``, ``*``,
``^``, ``-``, parentheses, column filters).
"""

from __future__ import annotations

import functools
import re
import sqlite3
import threading
from dataclasses import dataclass
from typing import Iterator, Literal

from eco2.knowledge.base import KnowledgeBase, load
from eco2.knowledge.model import Category
from eco2.knowledge.tokens import normalize, subjects, tokens

Kind = Literal["category", "item", "faq"]
# bm25() column weights. Swept on tests/info/search_eval.json: title at 2–3×
# body gives precision@1 0.976 and the same first hit as bm25s on every query.
TITLE, BODY = 3.0, 1.0
EXACT_BONUS = 0.5  # times the best BM25 score of the query
TOKENIZER = "unicode61 remove_diacritics 0 tokenchars '_'"
_KIND_ORDER = {"category": 0, "item": 1, "faq": 2}
CACHED_QUERIES = 1024  # distinct normalized queries whose results are kept (Index._ranked)
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


def _all(texts: list[str], *, joined: bool = True) -> list[str]:
    return [token for text in texts for token in tokens(text, joined=joined)]


def _documents(kb: KnowledgeBase) -> Iterator[tuple[_Doc, list[str], list[str]]]:
    """Every document with its title and body tokens."""
    for c in kb.categories:
        names = [c.name, c.name_en, c.middle or c.major, *c.synonyms]
        body = [c.guide.title, c.guide.summary, *c.guide.includes]
        doc = _Doc("category", c.code, c.name, c.code, frozenset(map(_compact, names)))
        yield doc, _all(names), _all(body, joined=False)
    for i in kb.items:
        names = [i.name, *i.labels, *i.aliases]
        doc = _Doc("item", i.id, i.name, i.category, frozenset(map(_compact, names)))
        yield doc, _all(names), _all([i.note or ""], joined=False)
    for f in kb.faq:
        # A question's name is the thing it asks about ("치킨 뼈는 어디에 버리나요?": 치킨뼈).
        doc = _Doc("faq", f.id, f.question, f.goes_to or f.category, subjects(f.question))
        yield doc, tokens(f.question), tokens(f.answer, joined=False)


def _quoted(token: str) -> str:
    """``token`` as an FTS5 string: quoted, an inner quote doubled."""
    return '"' + token.replace('"', '""') + '"'


class Index:
    """The FTS5 index over one knowledge base."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.docs: list[_Doc] = []
        rows: list[tuple[int, str, str]] = []
        for doc, title, body in _documents(kb):
            rows.append((len(self.docs), " ".join(title), " ".join(body)))
            self.docs.append(doc)
        # One connection for all the server's threads; the lock keeps them from
        # using it at once (a query takes well under a millisecond).
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        self._lock = threading.Lock()
        self._db.execute(
            f"CREATE VIRTUAL TABLE docs USING fts5(title, body, content='', tokenize=\"{TOKENIZER}\")"
        )
        self._db.executemany("INSERT INTO docs(rowid, title, body) VALUES (?, ?, ?)", rows)
        # Results by normalized query: the index never changes while the
        # process runs, and the app's users send the same few queries over and
        # over. Bounded, least recently used first out.
        self._ranked = functools.lru_cache(maxsize=CACHED_QUERIES)(self._rank)

    def search(self, query: str, limit: int = 10) -> list[Hit]:
        """Hits for ``query``, best first; at most ``limit``, none that share no token."""
        toks = tokens(query)
        if not toks or limit < 1:
            return []
        return list(self._ranked(tuple(toks), subjects(query) | {_compact(query)}, limit))

    def _rank(self, toks: tuple[str, ...], exact: frozenset[str], limit: int) -> tuple[Hit, ...]:
        """The hits for a normalized query: its tokens, and the compact forms
        that earn a name's exact bonus (the query as typed, and the thing it
        names without its question: "페트병 어떻게 버려요?" is 페트병)."""
        match = " OR ".join(map(_quoted, toks))
        with self._lock:
            # bm25() is lower for better matches; negated, it is the usual score.
            rows = self._db.execute(
                "SELECT rowid, -bm25(docs, ?, ?) FROM docs WHERE docs MATCH ?", (TITLE, BODY, match)
            ).fetchall()
        if not rows:
            return ()
        best = max(score for _, score in rows)
        ranked = []
        for rowid, score in rows:
            doc = self.docs[rowid]
            if not exact.isdisjoint(doc.names):
                score += EXACT_BONUS * best
            ranked.append((score, doc))
        # Ties: categories before items before FAQ, then by id, so results are stable.
        ranked.sort(key=lambda pair: (-pair[0], _KIND_ORDER[pair[1].kind], pair[1].id))
        return tuple(
            Hit(doc.kind, doc.id, doc.title, round(score, 4), self.kb.category(doc.category))
            for score, doc in ranked[:limit]
        )


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
