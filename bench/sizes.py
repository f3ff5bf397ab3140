"""Function closure sizes: what each function's image installs.

A function's dependency set is the runtime's (``[project].dependencies`` in
pyproject.toml: what platform/eco2 needs) plus its own ``requirements.txt``,
resolved transitively over the packages installed from uv.lock (extras and
environment markers evaluated for this interpreter). A package's size is the
sum of the files its RECORD lists, as installed (no ``.pyc``: images compile
on first import or at build). The monolithic set is the runtime plus every
function's requirements: one image that could serve all eight.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from bench import ROOT
from eco2_tools import build
from eco2_tools.build import requirement_lines

MB = 1_000_000


def runtime_requirements() -> list[str]:
    return build.runtime_requirements(ROOT)


def closure(requirements: list[str]) -> dict[str, metadata.Distribution]:
    """Every installed distribution ``requirements`` pull in."""
    found: dict[str, metadata.Distribution] = {}
    extras_seen: dict[str, set[str]] = {}
    todo = [Requirement(r) for r in requirements]
    while todo:
        req = todo.pop()
        name = canonicalize_name(req.name)
        extras = set(req.extras)
        if name in found and extras <= extras_seen[name]:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            raise RuntimeError(f"{req} is not installed: run `make install`") from None
        found[name] = dist
        extras_seen.setdefault(name, set()).update(extras)
        for raw in dist.requires or []:
            sub = Requirement(raw)
            if sub.marker is None or any(sub.marker.evaluate({"extra": e}) for e in {"", *extras_seen[name]}):
                sub.marker = None
                todo.append(sub)
    return found


def dist_size(dist: metadata.Distribution) -> int:
    total = 0
    for file in dist.files or []:
        if "__pycache__" in file.parts:
            continue
        path = Path(dist.locate_file(file))
        if path.is_file():
            total += path.stat().st_size
    return total


def tree_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def run() -> dict[str, Any]:
    runtime = runtime_requirements()
    functions = sorted(p.parent.name for p in (ROOT / "functions").glob("*/function.yaml"))
    per_function: dict[str, Any] = {}
    everything: list[str] = list(runtime)
    sizes: dict[str, int] = {}

    def measure(reqs: list[str]) -> tuple[int, dict[str, int]]:
        dists = closure(reqs)
        for name, dist in dists.items():
            if name not in sizes:
                sizes[name] = dist_size(dist)
        return sum(sizes[n] for n in dists), {n: sizes[n] for n in dists}

    runtime_total, runtime_pkgs = measure(runtime)
    for name in functions:
        extra = requirement_lines(ROOT / "functions" / name / "requirements.txt")
        everything += extra
        total, pkgs = measure(runtime + extra)
        per_function[name] = {
            "requirements": extra,
            "packages": len(pkgs),
            "mb": round(total / MB, 1),
            "beyond_runtime_mb": round((total - runtime_total) / MB, 1),
        }
    mono_total, mono_pkgs = measure(everything)
    for entry in per_function.values():
        entry["ratio_to_monolithic"] = round(entry["mb"] * MB / mono_total, 3)
    largest = sorted(runtime_pkgs.items(), key=lambda kv: kv[1], reverse=True)[:8]
    return {
        "runtime_mb": round(runtime_total / MB, 1),
        "runtime_packages": len(runtime_pkgs),
        "runtime_largest_mb": {n: round(s / MB, 1) for n, s in largest},
        "monolithic_mb": round(mono_total / MB, 1),
        "monolithic_packages": len(mono_pkgs),
        "platform_eco2_mb": round(tree_size(ROOT / "platform" / "eco2") / MB, 2),
        "platform_eco2_data_mb": round(tree_size(ROOT / "platform" / "eco2" / "data") / MB, 2),
        "functions": per_function,
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2, ensure_ascii=False))
