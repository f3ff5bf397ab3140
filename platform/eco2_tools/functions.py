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
    def prefixes(self) -> tuple[str, ...]:
        """The prefix, then the aliases: every path prefix the function answers under."""
        return (self.prefix, *self.spec.get("aliases", ()))

    @property
    def source(self) -> Path:
        return self.directory / self.spec["entry"]["source"]

    @property
    def target(self) -> str:
        return self.spec["entry"]["target"]

    @property
    def graceful_timeout(self) -> int | None:
        """Seconds in-flight requests get after SIGTERM (``terminationGracePeriodSeconds``):
        eco2.serve reads it as ECO2_GRACEFUL_TIMEOUT_SECONDS, in the cluster and in `eco2 dev`."""
        return self.spec.get("terminationGracePeriodSeconds")


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
    problems = _inconsistencies(spec)
    if problems:
        raise ValueError(f"{path}: {'; '.join(problems)}")
    return FunctionSpec(spec["name"], spec["prefix"], path.parent, spec)


def _inconsistencies(spec: dict[str, Any]) -> list[str]:
    """What a JSON schema cannot say: relations between fields."""
    problems = []
    scaling, timeout = spec["scaling"], spec["timeoutSeconds"]
    if scaling["minScale"] > scaling["maxScale"]:
        problems.append("scaling/minScale is above scaling/maxScale")
    if scaling.get("initialScale", 1) > scaling["maxScale"]:
        problems.append("scaling/initialScale is above scaling/maxScale")
    # Knative makes the pod's termination grace period equal to timeoutSeconds:
    # a longer drain would be cut short by SIGKILL.
    for key in ("responseStartTimeoutSeconds", "terminationGracePeriodSeconds"):
        if spec.get(key, 0) > timeout:
            problems.append(f"{key} is above timeoutSeconds ({timeout})")
    names = [s["env"] for s in spec.get("secrets", []) + spec.get("secretFiles", [])]
    names += list(spec.get("env", {})) + spec.get("settings", [])
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        problems.append(f"variables set twice: {', '.join(repeated)}")
    paths = [w["path"] for w in spec.get("writable", [])]
    if len(set(paths)) != len(paths):
        problems.append("writable paths repeat")
    return problems


def routes(functions: list[FunctionSpec]) -> list[tuple[str, FunctionSpec]]:
    """Every prefix and alias with its function, longest first, so that a nested
    prefix wins over its parent: the dev gateway's matching order and the ALB
    rules' priorities (eco2 render). A prefix two functions claim is refused."""
    owner: dict[str, FunctionSpec] = {}
    for fn in functions:
        for prefix in fn.prefixes:
            if owner.setdefault(prefix, fn).name != fn.name:
                raise ValueError(f"{prefix} is claimed by {owner[prefix].name} and {fn.name}")
    return sorted(owner.items(), key=lambda pair: (-len(pair[0]), pair[0]))


def discover(root: Path | None = None) -> list[FunctionSpec]:
    """Every functions/*/function.yaml under ``root``, sorted by name."""
    root = root or repo_root()
    return [load(p) for p in sorted((root / "functions").glob("*/function.yaml"))]
