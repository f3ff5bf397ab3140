"""The docs name what exists: links resolve, and docs/architecture.md's code map
lists every module, Redis key and migration (files and text only, no server)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support import ROOT

DOCS = sorted(
    [ROOT / "README.md", ROOT / "knative" / "README.md", ROOT / "data" / "sources" / "README.md",
     *(ROOT / "docs").glob("*.md"), *(ROOT / "bench").glob("*.md")]
)
ARCHITECTURE = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
RUNTIME = ROOT / "platform" / "eco2"
LINK = re.compile(r"\]\(([^)\s]+)\)")


def _anchors(path: Path) -> set[str]:
    """The heading anchors GitHub makes: lower case, punctuation dropped, spaces to hyphens."""
    headings = re.findall(r"^#{1,6} (.+)$", path.read_text(encoding="utf-8"), flags=re.M)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


def _row(section: str, table_key: str) -> str:
    """The line of architecture.md's table under ``### <section>`` whose first
    cell is ``table_key``, or ""."""
    text = ARCHITECTURE.split(f"\n### {section}", 1)[-1].split("\n#", 1)[0]
    rows = [line for line in text.splitlines() if line.startswith(f"| `{table_key}` |")]
    return rows[0] if len(rows) == 1 else ""


def _modules(package: Path) -> list[str]:
    return sorted(p.stem for p in package.glob("*.py") if p.stem != "__init__")


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(doc: Path) -> None:
    broken = []
    for target in LINK.findall(doc.read_text(encoding="utf-8")):
        if re.match(r"[a-z]+:", target):  # https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        linked = (doc.parent / path) if path else doc
        if not linked.exists():
            broken.append(target)
        elif anchor and linked.suffix == ".md" and anchor not in _anchors(linked):
            broken.append(target)
    assert not broken, f"{doc.relative_to(ROOT)}: {broken}"


def test_the_code_map_lists_every_runtime_and_domain_module() -> None:
    missing = [m for m in _modules(RUNTIME) if not _row("The runtime", m)]
    domains = [p for p in RUNTIME.iterdir() if (p / "__init__.py").exists()]
    assert domains
    for package in domains:
        row = _row("The domains", f"{package.name}/")
        missing += [f"{package.name}.{m}" for m in _modules(package) if f"`{m}`" not in row]
    assert not missing, missing


def test_the_code_map_lists_every_tools_module() -> None:
    tools = ROOT / "platform" / "eco2_tools"
    names = _modules(tools) + [p.name for p in tools.iterdir() if (p / "__init__.py").exists()]
    missing = [n for n in names if not (_row("The tools", n) or _row("The tools", f"{n}/")
                                          or f"`{n}`" in _row("The tools", "cli"))]
    assert not missing, missing


def test_the_code_map_lists_every_redis_key_and_migration() -> None:
    kv = (RUNTIME / "kv.py").read_text(encoding="utf-8")
    prefixes = set(re.findall(r'"(eco2:[a-z:-]+?):?[{"]', kv))
    assert prefixes
    numbers = [p.name[:4] for p in (RUNTIME / "migrations").glob("*.sql")]
    assert numbers
    missing = [p for p in prefixes if f"`{p}:" not in ARCHITECTURE]
    schemas = ARCHITECTURE.split("\n## Database schemas", 1)[-1].split("\n## ", 1)[0]
    missing += [f"migration {n}" for n in numbers if n not in schemas]
    assert not missing, missing


def test_the_readme_lists_every_doc() -> None:
    row = next(line for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
               if line.startswith("| `docs/` |"))
    assert not [p.name for p in (ROOT / "docs").glob("*.md") if f"(docs/{p.name})" not in row]
