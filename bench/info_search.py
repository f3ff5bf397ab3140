"""Knowledge-base search: precision@1 and latency on the evaluation set.

    python -m bench.info_search [--repeat N]     (run by `make bench`, bench/domain.py)

Reports, all measured in this run:
- precision@1 of eco2.knowledge.search (BM25 on character n-grams, SQLite FTS5) on
  tests/info/search_eval.json, and of a brute-force baseline that ranks by
  substring matches of names and synonyms;
- warm p50/p95 per query for both, the search with its result cache emptied before
  each query (and, apart, with the cache: every query repeated);
- cold costs in fresh interpreters: loading the knowledge base, and the first
  search (importing sqlite3 and the index module, building the index, answering).

The figures go, as one JSON object, to the file named by ECO2_BENCH_JSON, or
are printed as the last line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

from bench.stats import emit

ROOT = Path(__file__).resolve().parents[1]
EVAL = ROOT / "tests" / "info" / "search_eval.json"


def brute_force() -> Callable[[str], str | None]:
    """The obvious thing: the category of the first name or synonym that contains
    the query, or that the query contains (longest first), spaces ignored."""
    from eco2 import knowledge

    kb = knowledge.load()
    names: list[tuple[str, str]] = []
    for c in kb.categories:
        names += [(n, c.code) for n in (c.name, c.name_en, *c.synonyms)]
    for i in kb.items:
        names += [(n, i.category) for n in (i.name, *i.labels, *i.aliases)]
    names = [("".join(n.lower().split()), code) for n, code in names]
    names.sort(key=lambda pair: -len(pair[0]))

    def top(query: str) -> str | None:
        q = "".join(query.lower().split())
        return next((code for n, code in names if q in n or n in q), None)

    return top


def measure(
    top: Callable[[str], str | None], queries: list[dict], repeat: int
) -> tuple[float, list[float]]:
    right = sum(top(e["q"]) in (e["expected"], *e.get("also", ())) for e in queries)
    times = []
    for _ in range(repeat):
        for e in queries:
            started = time.perf_counter()
            top(e["q"])
            times.append((time.perf_counter() - started) * 1000)
    return right / len(queries), times


def cold(snippet: str, setup: str = "from eco2 import knowledge", runs: int = 5) -> float:
    """Median ms of ``snippet`` in fresh interpreters, after an untimed ``setup``."""
    code = f"import time\n{setup}\nt = time.perf_counter()\n{snippet}\n"
    code += "print((time.perf_counter() - t) * 1000)"
    runs_ms = [
        float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
        for _ in range(runs)
    ]
    return statistics.median(runs_ms)


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20, help="timed passes over the evaluation set")
    args = parser.parse_args()
    queries = json.loads(EVAL.read_text(encoding="utf-8"))["queries"]

    from eco2 import knowledge

    def search_top(q: str) -> str | None:
        hits = knowledge.search(q, 1)
        return hits[0].category.code if hits else None

    search_top("warm up")  # import and index outside the timed loop
    p_search, t_search = measure(search_top, queries, args.repeat)  # repeated queries: from the cache
    from eco2.knowledge.index import index

    cache = index()._ranked  # noqa: SLF001 - the result cache, emptied to time the search itself
    t_uncached = []
    for _ in range(args.repeat):
        for e in queries:
            cache.cache_clear()
            started = time.perf_counter()
            search_top(e["q"])
            t_uncached.append((time.perf_counter() - started) * 1000)
    baseline = brute_force()
    p_base, t_base = measure(baseline, queries, args.repeat)
    load_ms = cold("knowledge.load()")
    first_ms = cold("knowledge.search('페트병 라벨')", setup="from eco2 import knowledge; knowledge.load()")
    index_ms = cold("knowledge.search('페트병 라벨')",
                    setup="from eco2 import knowledge; import eco2.knowledge.index; knowledge.load()")

    print(f"info search: {len(queries)} queries, {args.repeat} timed passes")
    print(f"  precision@1   BM25 n-gram {p_search:.3f}   brute-force substring {p_base:.3f}"
          f"   (+{(p_search - p_base) * 100:.1f} points)")
    p50, base_p50 = statistics.median(t_search), statistics.median(t_base)
    uncached_p50 = statistics.median(t_uncached)
    print(f"  p50 latency   BM25 n-gram {uncached_p50:.3f} ms (cached {p50:.3f} ms)   brute-force {base_p50:.3f} ms"
          f"   (x{uncached_p50 / base_p50:.1f})")
    print(f"  p95 latency   BM25 n-gram {pct(t_uncached, 95):.3f} ms (cached {pct(t_search, 95):.3f} ms)"
          f"   brute-force {pct(t_base, 95):.3f} ms")
    print(f"  cold: knowledge.load() {load_ms:.1f} ms; first search {first_ms:.1f} ms, of which "
          f"{first_ms - index_ms:.1f} ms importing sqlite3 and the index module and {index_ms:.1f} ms "
          "building the index")
    misses = [e["q"] for e in queries if search_top(e["q"]) not in (e["expected"], *e.get("also", ()))]
    print(f"  misses: {', '.join(misses) or '-'}")
    emit({
        "queries": len(queries), "precision_at_1": round(p_search, 3),
        "baseline_precision_at_1": round(p_base, 3), "p50_ms": round(uncached_p50, 3),
        "p95_ms": round(pct(t_uncached, 95), 3), "cached_p50_ms": round(p50, 3),
        "cached_p95_ms": round(pct(t_search, 95), 3), "baseline_p50_ms": round(base_p50, 3),
        "load_ms": round(load_ms, 1),
        "first_search_ms": round(first_ms, 1), "misses": misses,
    })


if __name__ == "__main__":
    main()
