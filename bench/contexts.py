"""Each function's build context as its image would install it (eco2 build).

For every function (and the migration Job) it writes the context with
``eco2_tools.build``, installs it into a fresh venv from its requirements.txt
alone (offline, from uv's cache: the same wheels pip would fetch in the image),
and reports what an image carries: the installed dependency closure (files
under site-packages, no ``.pyc``), the vendored runtime with the function's
data, and the function's code, in MB (10^6 bytes), with the seconds the install
took. bench/sizes.py measures the same closures from the installed dists'
RECORDs; the two agree when the lock export and the RECORD walk agree.

Run by ``make bench`` (bench/domain.py) or alone: ``python -m bench.contexts``.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from eco2_tools import build as building
from eco2_tools.functions import repo_root

MB = 1_000_000


def tree_mb(path: Path, digits: int = 1) -> float:
    total = sum(
        p.stat().st_size
        for p in path.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and not p.is_symlink()
    )
    return round(total / MB, digits)


def run() -> dict[str, Any]:
    root = repo_root()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for context in building.build_all(root, Path(tmp) / "build"):
            venv = Path(tmp) / "venvs" / context.name
            started = time.perf_counter()
            building.install_venv(root, context.directory, venv)
            site = next((venv / "lib").glob("python3*/site-packages"))
            results[context.name] = {
                "packages": len(context.packages),
                "closure_mb": tree_mb(site),
                "runtime_mb": tree_mb(context.directory / "runtime", 2),
                "function_mb": tree_mb(context.directory / "function", 3)
                if (context.directory / "function").exists()
                else 0.0,
                "install_seconds": round(time.perf_counter() - started, 2),
            }
    return results


if __name__ == "__main__":
    figures = run()
    for name, f in figures.items():
        print(
            f"{name:<10} {f['packages']:>3} packages  closure {f['closure_mb']:>5} MB  "
            f"runtime+data {f['runtime_mb']} MB  code {f['function_mb']} MB  "
            f"install {f['install_seconds']} s"
        )
    text = json.dumps(figures)
    if os.environ.get("ECO2_BENCH_JSON"):
        Path(os.environ["ECO2_BENCH_JSON"]).write_text(text)
    print(text)
