"""`eco2 build`: a self-contained build context per function, under build/<name>/.

A context holds everything its image needs and nothing from outside it:

    build/<name>/Containerfile
    build/<name>/requirements.txt   this function's locked dependency closure, with hashes
    build/<name>/runtime/eco2/      platform/eco2, vendored, with only the data the function lists
    build/<name>/function/main.py   the function's code

The closure is the runtime's dependencies (pyproject's [project].dependencies)
plus the function's requirements.txt, walked through uv.lock's dependency graph
(extras included; environment markers are kept on the lines, so pip evaluates
them in the image). The pinned lines and hashes come from ``uv export`` of the
same lock, so a context installs exactly what the tests ran with. ``migrate``
is one more context: the runtime with every data file, for the migration Job.

``eco2 build --image`` then runs ``buildah build`` on a context.
"""

from __future__ import annotations

import shutil
import subprocess
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from eco2_tools import serve
from eco2_tools.functions import FunctionSpec, discover, repo_root

MIGRATE = "migrate"
# The base image of both stages: Debian slim with the Python the lock was tested on.
BASE_IMAGE = "docker.io/library/python:3.11-slim-bookworm"
UID = 65532  # render.RUN_AS: the Service's runAsUser must be this user


@dataclass(frozen=True)
class Context:
    name: str
    directory: Path
    packages: list[str]


def uv_binary(root: Path) -> str:
    found = shutil.which("uv") or (
        str(root / ".tools/bin/uv") if (root / ".tools/bin/uv").exists() else None
    )
    if not found:
        raise RuntimeError("uv is not installed: run `make install`")
    return found


def requirement_lines(path: Path) -> list[str]:
    """The requirements in a requirements.txt, without comments or options."""
    lines = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            lines.append(line)
    return lines


def runtime_requirements(root: Path) -> list[str]:
    return tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "dependencies"
    ]


def locked_closure(root: Path, requirements: Iterable[str]) -> dict[str, set[str]]:
    """Every locked package ``requirements`` reach (name -> versions), extras followed.

    Markers are not evaluated: a dependency that only some platform needs stays
    in the set, and its exported line carries the marker that pip checks.
    Raises ValueError when a requirement is not locked, or its locked version
    does not satisfy it.
    """
    lock = tomllib.loads((root / "uv.lock").read_text(encoding="utf-8"))
    by_name: dict[str, list[dict]] = {}
    for package in lock["package"]:
        by_name.setdefault(canonicalize_name(package["name"]), []).append(package)

    found: dict[str, set[str]] = {}
    seen: set[tuple[str, frozenset[str]]] = set()
    todo: list[tuple[str, frozenset[str]]] = []
    for raw in requirements:
        req = Requirement(raw)
        name = canonicalize_name(req.name)
        versions = [p["version"] for p in by_name.get(name, [])]
        if not versions:
            raise ValueError(
                f"{raw}: not in uv.lock (add it to the `functions` group and run uv lock)"
            )
        if not any(req.specifier.contains(v, prereleases=True) for v in versions):
            raise ValueError(f"{raw}: uv.lock has {', '.join(versions)}")
        todo.append((name, frozenset(req.extras)))
    while todo:
        name, extras = todo.pop()
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        for package in by_name[name]:
            found.setdefault(name, set()).add(package["version"])
            deps = list(package.get("dependencies", []))
            for extra in extras:
                deps += package.get("optional-dependencies", {}).get(extra, [])
            for dep in deps:
                todo.append((canonicalize_name(dep["name"]), frozenset(dep.get("extra", []))))
    return found


def export_lines(root: Path) -> dict[str, str]:
    """uv export of the runtime and the functions group: package name -> its pinned entry."""
    command = [
        uv_binary(root),
        "export",
        "--frozen",
        "--format",
        "requirements.txt",
        "--no-emit-project",
        "--no-default-groups",
        "--group",
        "functions",
        "--no-header",
        "--no-annotate",
    ]
    text = subprocess.run(command, cwd=root, check=True, capture_output=True, text=True).stdout
    entries: dict[str, list[str]] = {}
    current: list[str] = []
    for line in text.splitlines():
        if line and not line[0].isspace():  # "name==version ; marker \": a new entry
            current = entries.setdefault(canonicalize_name(line.split("==", 1)[0]), [])
        current.append(line)
    return {name: "\n".join(lines) for name, lines in entries.items()}


def requirements_for(
    root: Path, extra: list[str], exported: dict[str, str] | None = None
) -> tuple[str, list[str]]:
    """The locked requirements.txt for the runtime plus ``extra``, and its package names."""
    closure = locked_closure(root, runtime_requirements(root) + extra)
    exported = exported if exported is not None else export_lines(root)
    names = sorted(n for n in closure if n in exported)
    header = "# Locked by `eco2 build` from uv.lock (uv export): this function's closure only.\n"
    return header + "\n".join(exported[n] for n in names) + "\n", names


def containerfile(command: list[str], function_layer: bool, wheels: bool = False) -> str:
    """Multi-stage: dependencies, then the vendored runtime, then the function, each its own layer.

    With ``wheels`` pip installs from the context's wheels/ only (no index).
    """
    cmd = ", ".join(f'"{part}"' for part in command)
    source = "COPY wheels/ /tmp/wheels/\n" if wheels else ""
    no_index = " --no-index --find-links /tmp/wheels" if wheels else ""
    copy_function = "COPY function/ /app/main/\n" if function_layer else ""
    final_function = (
        "COPY --from=build --chown=root:root /app/main /app/\n" if function_layer else ""
    )
    return f"""\
# Written by `eco2 build`: the context is self-contained (see platform/eco2_tools/build.py).
# BASE: a Debian slim image with CPython 3.11 as `python` (a mirror's copy, or your own).
ARG BASE={BASE_IMAGE}
FROM ${{BASE}} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
# Only wheels, only these versions, only these hashes: nothing is resolved here.
COPY requirements.txt /tmp/requirements.txt
{source}RUN /opt/venv/bin/pip install --no-cache-dir --no-compile --require-hashes --no-deps \\
        --only-binary=:all:{no_index} -r /tmp/requirements.txt
COPY runtime/ /app/runtime/
{copy_function}\
# Compiled once here, checked against the source's hash at import (no mtimes in an image).
RUN python -m compileall -q --invalidation-mode checked-hash /opt/venv/lib /app

FROM ${{BASE}}
RUN groupadd --system --gid {UID} eco2 \\
    && useradd --system --uid {UID} --gid {UID} --no-create-home --shell /usr/sbin/nologin eco2
COPY --from=build --chown=root:root /opt/venv /opt/venv
COPY --from=build --chown=root:root /app/runtime /app/
{final_function}\
ENV PATH=/opt/venv/bin:$PATH \\
    PYTHONPATH=/app \\
    PYTHONDONTWRITEBYTECODE=1 \\
    PYTHONUNBUFFERED=1 \\
    FUNCTION_TARGET=handle \\
    FUNCTION_SOURCE=/app/main.py
WORKDIR /app
USER {UID}:{UID}
EXPOSE 8080
CMD [{cmd}]
"""


def _ignore_pycache(directory: str, names: list[str]) -> list[str]:
    return [n for n in names if n == "__pycache__" or n.endswith(".pyc")]


def vendor_runtime(root: Path, target: Path, data: list[str] | None) -> None:
    """Copy platform/eco2 to ``target``/eco2 with the listed data only (None: all of it)."""
    source = root / "platform" / "eco2"
    destination = target / "eco2"
    shutil.copytree(
        source,
        destination,
        ignore=lambda d, names: _ignore_pycache(d, names) + (["data"] if Path(d) == source else []),
    )
    if data is None:
        shutil.copytree(source / "data", destination / "data", ignore=_ignore_pycache)
        return
    for entry in data:
        item = source / "data" / entry
        if not item.exists():
            raise ValueError(f"data {entry!r} is not under platform/eco2/data")
        out = destination / "data" / entry
        out.parent.mkdir(parents=True, exist_ok=True)
        if item.is_dir():
            shutil.copytree(item, out, ignore=_ignore_pycache)
        else:
            shutil.copy2(item, out)


def download_wheels(requirements: Path, target: Path) -> None:
    """The context's wheels for linux/amd64 CPython 3.11, hash-checked, into ``target``.

    For a build that cannot reach a package index (or should not): the
    Containerfile then installs from these files only. Markers are dropped for
    the download (pip would judge them by this interpreter, not the image's:
    async-timeout is needed below Python 3.11.3, as in Debian's 3.11.2); the
    image's pip judges them again when it installs.
    """
    import re
    import sys
    import tempfile

    target.mkdir(parents=True, exist_ok=True)
    unmarked = re.sub(
        r"^(\S+==\S+)\s*;[^\\\n]*", r"\1 ", requirements.read_text(encoding="utf-8"), flags=re.M
    )
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as listing:
        listing.write(unmarked)
    subprocess.run(
        [
            sys.executable if _has_pip(sys.executable) else "python3",
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--only-binary=:all:",
            "--require-hashes",
            "--python-version",
            "3.11",
            "--implementation",
            "cp",
            "--platform",
            "manylinux_2_28_x86_64",
            "--platform",
            "manylinux2014_x86_64",
            "--platform",
            "manylinux_2_17_x86_64",
            "--platform",
            "linux_x86_64",
            "-r",
            listing.name,
            "-d",
            str(target),
        ],
        check=True,
    )
    Path(listing.name).unlink()


def _has_pip(python: str) -> bool:
    return subprocess.run([python, "-m", "pip", "--version"], capture_output=True).returncode == 0


def build_context(
    name: str,
    root: Path | None = None,
    out: Path | None = None,
    exported: dict[str, str] | None = None,
    wheels: bool = False,
) -> Context:
    """Write build/<name>/ (or ``out``/<name>/) afresh and return what it holds."""
    root = root or repo_root()
    directory = (out or root / "build") / name
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    if name == MIGRATE:
        spec: FunctionSpec | None = None
        extra: list[str] = []
    else:
        specs = {fn.name: fn for fn in discover(root)}
        if name not in specs:
            raise ValueError(f"no function {name!r} (known: {', '.join(sorted(specs))}, {MIGRATE})")
        spec = specs[name]
        extra = requirement_lines(spec.directory / spec.spec["requirements"])
    text, packages = requirements_for(root, extra, exported)
    (directory / "requirements.txt").write_text(text, encoding="utf-8")
    vendor_runtime(root, directory / "runtime", spec.spec.get("data", []) if spec else None)
    if spec is not None:
        shutil.copytree(
            spec.directory,
            directory / "function",
            ignore=lambda d, names: (
                _ignore_pycache(d, names)
                + [n for n in names if n in ("function.yaml", "requirements.txt")]
            ),
        )
        command = ["python", "-m", serve.MODULE]
    else:
        command = ["python", "-m", "eco2.migrate"]
    if wheels:
        download_wheels(directory / "requirements.txt", directory / "wheels")
    (directory / "Containerfile").write_text(
        containerfile(command, spec is not None, wheels), encoding="utf-8"
    )
    return Context(name, directory, packages)


def build_all(
    root: Path | None = None, out: Path | None = None, wheels: bool = False
) -> list[Context]:
    root = root or repo_root()
    exported = export_lines(root)
    names = [fn.name for fn in discover(root)] + [MIGRATE]
    return [build_context(name, root, out, exported, wheels) for name in names]


def install_venv(root: Path, context: Path, venv: Path) -> None:
    """A fresh venv from a context's requirements.txt alone, as the
    Containerfile's pip makes it: pinned, hashed, binary wheels, no resolution.

    Offline from uv's cache first: `make install` cached every wheel of the
    same lock. uv's offline mode also needs each package's index page, which
    `uv sync` (installing from the lock's URLs) never fetches, so on a machine
    where nothing else did, the install goes to the index for what is missing.
    """
    import sys

    uv = uv_binary(root)
    subprocess.run([uv, "venv", "-q", "--python", sys.executable, str(venv)], check=True)
    install = [
        uv,
        "pip",
        "install",
        "-q",
        "--python",
        str(venv / "bin" / "python"),
        "--require-hashes",
        "--no-deps",
        "--only-binary",
        ":all:",
        "-r",
        str(context / "requirements.txt"),
    ]
    if subprocess.run([*install, "--offline"], capture_output=True).returncode != 0:
        subprocess.run(install, check=True)


def build_image(context: Context, tag: str, base: str | None = None) -> None:
    """``buildah build`` the context into a local OCI image named ``tag``.

    The build stage's pip reaches the package index, so RUN shares the host's
    network; ``base`` replaces the base image (``--build-arg BASE=...``).
    """
    buildah = shutil.which("buildah")
    if not buildah:
        raise RuntimeError("buildah is not installed (apt-get install buildah)")
    command = [buildah, "build", "--layers", "--network", "host", "-f", "Containerfile", "-t", tag]
    if base:
        command += ["--build-arg", f"BASE={base}"]
    subprocess.run([*command, "."], cwd=context.directory, check=True)
