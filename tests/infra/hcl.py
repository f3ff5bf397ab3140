"""terraform/ read with python-hcl2, and the few references the tests follow.

`resolve` follows `${var.x}` from a module to the module block that calls it,
up to the root variable's default, and `${local.a.b}` within a module:
enough to check a value that the defaults produce, without `terraform plan`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import hcl2
from hcl2 import SerializationOptions

from tests.infra.tools import ROOT

TERRAFORM = ROOT / "terraform"
OPTIONS = SerializationOptions(
    with_comments=False, explicit_blocks=False, strip_string_quotes=True, preserve_heredocs=False
)
_VAR = re.compile(r"^\$\{(?:tostring\()?var\.([a-z0-9_]+)\)?\}$")
_LOCAL = re.compile(r"^\$\{local\.([a-z0-9_.]+)\}$")


@dataclass
class Module:
    """One directory of .tf files, merged."""

    key: str  # "" for the root, else "modules/<name>"
    blocks: dict[str, list[Any]] = field(default_factory=dict)

    def named(self, kind: str) -> dict[str, dict[str, Any]]:
        """`variable`/`output`/`module` blocks by name."""
        return {name: body for block in self.blocks.get(kind, []) for name, body in block.items()}

    def typed(self, kind: str) -> dict[str, dict[str, dict[str, Any]]]:
        """`resource`/`data` blocks: type -> name -> body."""
        out: dict[str, dict[str, dict[str, Any]]] = {}
        for block in self.blocks.get(kind, []):
            for type_, named in block.items():
                out.setdefault(type_, {}).update(named)
        return out

    def resources(self, type_: str) -> dict[str, dict[str, Any]]:
        return self.typed("resource").get(type_, {})

    def locals(self) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for block in self.blocks.get("locals", []):
            merged.update(block)
        return merged


@cache
def modules() -> dict[str, Module]:
    """Every module under terraform/, keyed by its path relative to it."""
    found: dict[str, Module] = {}
    for tf in sorted(TERRAFORM.rglob("*.tf")):
        if ".terraform" in tf.parts:
            continue
        key = "" if tf.parent == TERRAFORM else tf.parent.relative_to(TERRAFORM).as_posix()
        module = found.setdefault(key, Module(key))
        parsed = hcl2.loads(tf.read_text(), serialization_options=OPTIONS)
        for kind, blocks in parsed.items():
            module.blocks.setdefault(kind, []).extend(blocks)
    return found


def root() -> Module:
    return modules()[""]


def module(name: str) -> Module:
    return modules()[f"modules/{name}"]


def _call_of(key: str) -> tuple[str, dict[str, Any]]:
    """The module that calls terraform/<key>, and its `module` block."""
    for caller_key, caller in modules().items():
        base = hcl_dir(caller_key)
        for body in caller.named("module").values():
            if (base / body["source"]).resolve() == hcl_dir(key).resolve():
                return caller_key, body
    raise LookupError(f"no module block calls {key}")


def hcl_dir(key: str) -> Path:
    return TERRAFORM / key if key else TERRAFORM


def resolve(key: str, value: Any) -> Any:
    """`value` (an attribute of module `key`) with var/local references followed to a constant."""
    if not isinstance(value, str):
        return value
    if match := _VAR.match(value):
        name = match.group(1)
        if key == "":
            variable = root().named("variable")[name]
            if "default" not in variable:
                raise LookupError(f"var.{name} has no default")
            return variable["default"]
        caller_key, call = _call_of(key)
        return resolve(caller_key, call[name])
    if match := _LOCAL.match(value):
        node: Any = modules()[key].locals()
        for part in match.group(1).split("."):
            node = node[part]
        return resolve(key, node)
    return value


def block(body: dict[str, Any], name: str) -> dict[str, Any]:
    """The single nested block `name` of a body (hcl2 gives blocks as one-item lists)."""
    found = body.get(name)
    assert isinstance(found, list) and len(found) == 1, f"expected one {name} block, got {found!r}"
    return found[0]
