"""Reference data the runtime ships (catalogs, sites), loaded after migrations.

Each loader upserts its rows, so running it again changes nothing; a loader is
named ``"module:function"`` and takes an open connection inside the migration
transaction (under its advisory lock).
"""

from __future__ import annotations

import importlib
from typing import Any

LOADERS: tuple[str, ...] = (
    "eco2.character.catalog:sync",
    "eco2.location.sites:sync",
)


def apply(conn: Any) -> None:
    for spec in LOADERS:
        module, _, name = spec.partition(":")
        getattr(importlib.import_module(module), name)(conn)
