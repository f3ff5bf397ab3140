"""The functions of the repository, as their function.yaml files describe them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

SCHEMA = Path(__file__).parent / "schemas" / "function.schema.json"


def repo_root() -> Path:
    """The checkout this tool runs from (platform/eco2_tools/ is two levels down)."""
    return Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    prefix: str
    directory: Path
    spec: dict[str, Any]

    @property
    def source(self) -> Path:
        return self.directory / self.spec["entry"]["source"]

    @property
    def target(self) -> str:
        return self.spec["entry"]["target"]


@lru_cache(maxsize=1)
def _validator() -> Any:
    import jsonschema

    return jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text()))


def load(path: Path) -> FunctionSpec:
    """Read and validate one function.yaml; a bad file raises ValueError naming it."""
    import yaml

    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    errors = sorted(_validator().iter_errors(spec), key=lambda e: list(e.path))
    if errors:
        details = "; ".join(f"{'/'.join(map(str, e.path)) or '(root)'}: {e.message}" for e in errors)
        raise ValueError(f"{path}: {details}")
    if spec["name"] != path.parent.name:
        raise ValueError(f"{path}: name {spec['name']!r} differs from its folder {path.parent.name!r}")
    return FunctionSpec(spec["name"], spec["prefix"], path.parent, spec)


def discover(root: Path | None = None) -> list[FunctionSpec]:
    """Every functions/*/function.yaml under ``root``, sorted by name."""
    root = root or repo_root()
    return [load(p) for p in sorted((root / "functions").glob("*/function.yaml"))]
