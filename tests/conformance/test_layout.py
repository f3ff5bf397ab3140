"""The layout rules of docs/architecture.md, checked on the source.

- ``platform/eco2/`` holds the runtime at its top level and one package per
  domain below it; ``functions/<fn>/main.py`` keeps its domain code in
  ``platform/eco2/<fn>/`` (info's is ``knowledge/``, the one exception).
- A domain package never imports the HTTP layer: ``eco2.app``, flask or
  werkzeug (imports under ``if TYPE_CHECKING:`` do not run, so they do not count).
- The runtime never imports a domain package. The one exception is
  ``eco2.seeds``: the migration loads the domains' shipped reference data in
  its own transaction, so it names their loaders (as strings, imported when
  the migration runs).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from eco2_tools.functions import discover

from ..support import ROOT

ECO2 = ROOT / "platform" / "eco2"
RUNTIME = {
    "__init__", "app", "body", "config", "cors", "db", "fetch", "kv", "logs", "migrate", "openapi",
    "pagination", "problems", "ratelimit", "routing", "seeds", "serve", "sse", "testing", "tokens",
    "tracking",
}
DOMAINS = {"auth", "character", "chat", "image", "knowledge", "location", "my", "scan"}
# A function whose domain package is not named after it.
PACKAGE_OF = {"info": "knowledge"}
# Runtime modules that may name a domain module, and why.
RUNTIME_EXCEPTIONS = {
    "seeds": "the migration loads the domains' shipped reference data",
    "fetch": "what scan and chat may fetch is the upload bucket's address (eco2.image.settings)",
}
HTTP = {"eco2.app", "flask", "werkzeug"}


def _imports(path: Path) -> set[str]:
    """Modules ``path`` imports when it runs (anywhere in it, but not under TYPE_CHECKING)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(n) for child in node.body for n in ast.walk(child))
    found = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            # `from eco2 import knowledge` imports the package eco2.knowledge
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _domain_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "eco2" and parts[1] in DOMAINS else None


def _names(path: Path) -> set[str]:
    """String constants naming an eco2 module (``"eco2.location.sites:sync"``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.value.split(":")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("eco2.")
    }


def test_the_top_level_is_the_runtime_and_the_domain_packages() -> None:
    modules = {p.stem for p in ECO2.glob("*.py")}
    packages = {p.parent.name for p in ECO2.glob("*/__init__.py")}
    assert modules == RUNTIME
    assert packages == DOMAINS


@pytest.mark.parametrize("spec", discover(), ids=lambda s: s.name)
def test_a_function_keeps_its_domain_code_in_its_own_package(spec) -> None:  # noqa: ANN001
    domains = {d for m in _imports(spec.source) if (d := _domain_of(m))}
    if not domains:
        return  # a skeleton: nothing of its own yet
    own = PACKAGE_OF.get(spec.name, spec.name)
    assert (ECO2 / own / "__init__.py").exists(), f"{spec.name} has domain code but no platform/eco2/{own}/"
    assert own in domains, f"{spec.name}'s main.py uses {sorted(domains)} but not its own eco2.{own}"


@pytest.mark.parametrize("domain", sorted(DOMAINS))
def test_a_domain_package_never_imports_the_http_layer(domain: str) -> None:
    wrong = {
        f"{path.relative_to(ECO2)}: {module}"
        for path in (ECO2 / domain).rglob("*.py")
        for module in _imports(path)
        if module in HTTP or module.startswith(("flask.", "werkzeug."))
    }
    assert wrong == set()


def test_the_runtime_never_imports_a_domain_package() -> None:
    wrong, excepted = set(), set()
    for name in RUNTIME:
        path = ECO2 / f"{name}.py"
        for module in _imports(path) | _names(path):
            if _domain_of(module):
                (excepted if name in RUNTIME_EXCEPTIONS else wrong).add(f"{name}: {module}")
    assert wrong == set()
    assert excepted, "the named exceptions no longer need to be exceptions: remove them"


def test_the_checks_see_an_import() -> None:
    """The AST walk finds what it should, and skips TYPE_CHECKING blocks."""
    tokens = _imports(ECO2 / "tokens.py")  # eco2.app only for its annotations
    assert "eco2.kv" in tokens and "eco2.app" not in tokens
    assert "eco2.knowledge" in _imports(ROOT / "functions" / "info" / "main.py")
