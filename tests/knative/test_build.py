"""eco2 build: self-contained contexts, each with only its own dependency closure.

One representative context (info) is built into a fresh venv and served in
``make test``; every function is, with ECO2_TEST_EVERY_BUILD=1 (and in
``make bench``, which reports each closure's size).
"""

from __future__ import annotations

import json
import os
import shutil
import re
import subprocess
from pathlib import Path

import pytest
from eco2_tools import build as building
from eco2_tools.functions import discover, repo_root

from .support import free_port, get, start, wait_http

ROOT = repo_root()
FUNCTIONS = [fn.name for fn in discover(ROOT)]
# A real route per function that needs no database: the representative reads
# the knowledge base; every function serves its generated OpenAPI document.
ROUTES = {fn.name: f"{fn.prefix}/openapi.json" for fn in discover(ROOT)} | {
    "info": "/api/v1/info/categories"
}
HEAVY = {"onnxruntime", "openai", "boto3", "httpx"}


def own_heavy(name: str) -> set[str]:
    """The heavy packages a function's requirements.txt asks for."""
    path = ROOT / "functions" / name / "requirements.txt"
    lines = path.read_text().splitlines() if path.is_file() else []
    names = {re.split(r"[<>=!~\[; ]", line.strip(), maxsplit=1)[0].lower() for line in lines
             if line.strip() and not line.lstrip().startswith("#")}
    return HEAVY & names


@pytest.fixture(scope="module")
def contexts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, building.Context]:
    out = tmp_path_factory.mktemp("build")
    return {c.name: c for c in building.build_all(ROOT, out)}


def test_each_context_holds_only_its_closure(contexts) -> None:
    assert set(contexts) == set(FUNCTIONS) | {building.MIGRATE}
    assert own_heavy("auth") == {"httpx"} and own_heavy("info") == set()
    for name, context in contexts.items():
        assert {"functions-framework", "pydantic", "psycopg-binary", "cryptography"} <= set(
            context.packages
        )
        # Its own heavy packages, and no other function's.
        assert HEAVY & set(context.packages) == own_heavy(name), name
    # Every line is pinned with hashes, and only closure packages are listed.
    text = (contexts["info"].directory / "requirements.txt").read_text()
    entries = [
        line
        for line in text.splitlines()
        if line and not line[0].isspace() and not line.startswith("#")
    ]
    assert len(entries) == len(contexts["info"].packages)
    assert all("==" in e and e.endswith("\\") for e in entries)


def test_context_layout_and_containerfile(contexts) -> None:
    info = contexts["info"].directory
    assert (info / "function" / "main.py").is_file()
    assert not (info / "function" / "function.yaml").exists()
    data = info / "runtime" / "eco2" / "data"
    assert (data / "knowledge" / "categories.json").is_file()
    assert not (data / "characters.json").exists() and not (data / "locations").exists()
    assert (info / "runtime" / "eco2" / "migrations").is_dir()
    assert not list(info.rglob("__pycache__"))
    migrate = contexts[building.MIGRATE].directory
    assert (migrate / "runtime" / "eco2" / "data" / "locations" / "sites.jsonl").is_file()
    assert not (migrate / "function").exists()
    lines = (info / "Containerfile").read_text().splitlines()
    final = lines[max(i for i, line in enumerate(lines) if line.startswith("FROM ")) :]
    copies = [line for line in final if line.startswith("COPY")]
    assert ["/opt/venv" in copies[0], "/app/runtime" in copies[1], "/app/main" in copies[2]] == [
        True
    ] * 3
    text = "\n".join(lines)
    assert "--require-hashes" in text and "--invalidation-mode checked-hash" in text
    assert "USER 65532:65532" in text and 'CMD ["python", "-m", "eco2.serve"]' in text


def serve_context(name: str, context: Path, tmp_path: Path) -> None:
    """Copy the context away from the repository, install it, serve /healthz and a real route."""
    copy = tmp_path / "context"
    shutil.copytree(context, copy)
    venv = tmp_path / "venv"
    building.install_venv(ROOT, copy, venv)
    python = str(venv / "bin" / "python")
    # Only what the image sets: no repository path, no developer's variables.
    env = {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "PYTHONPATH": str(copy / "runtime"),
        "FUNCTION_TARGET": "handle",
        "FUNCTION_SOURCE": str(copy / "function" / "main.py"),
        "ECO2_ENV": "test",
        "HOST": "127.0.0.1",
    }
    where = subprocess.run(
        [
            python,
            "-c",
            "import eco2, json, importlib.util as u; "
            "print(json.dumps([eco2.__file__, u.find_spec('eco2_tools') is None]))",
        ],
        env=env,
        cwd=copy,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    eco2_file, no_tools = json.loads(where)
    assert eco2_file.startswith(str(copy)) and no_tools
    port = free_port()
    log = tmp_path / "server.log"
    process = start([python, "-m", "eco2.serve"], {**env, "PORT": str(port)}, copy, log)
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", process, log)
        status, body = get(f"http://127.0.0.1:{port}{ROUTES[name]}")
        assert status == 200 and json.loads(body), log.read_text()[-2000:]
    finally:
        process.terminate()
        process.wait(30)


def test_info_context_is_self_contained(contexts, tmp_path: Path) -> None:
    serve_context("info", contexts["info"].directory, tmp_path)


@pytest.mark.every_build
@pytest.mark.skipif(
    os.environ.get("ECO2_TEST_EVERY_BUILD") != "1",
    reason="slow: set ECO2_TEST_EVERY_BUILD=1 (make bench builds every context too)",
)
@pytest.mark.parametrize("name", [n for n in FUNCTIONS if n != "info"])
def test_every_context_is_self_contained(contexts, tmp_path: Path, name: str) -> None:
    serve_context(name, contexts[name].directory, tmp_path)
