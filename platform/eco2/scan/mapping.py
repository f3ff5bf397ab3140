"""From a model's classes to the knowledge base's categories.

The table is a JSON file (``data/scan/imagenet_mapping.json``, docs/scan.md):
per category code, the model's classes that stand for it, each by output
index and class name, with the knowledge base's item it stands for when there
is one. A category's score is the sum of its classes' probabilities; classes
not in the table count for nothing. Loading checks the table against the
model's class names (so a table written for another model is refused) and
against the knowledge base.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from eco2.knowledge import Category, Item, KnowledgeBase

if TYPE_CHECKING:
    import numpy as np


class MappingError(ValueError):
    """The table does not fit the model or the knowledge base."""


@dataclass(frozen=True)
class Candidate:
    """One category's summed probability, and the item of its strongest class."""

    category: Category
    probability: float
    item: Item | None
    top_class: str


@dataclass(frozen=True)
class _Entry:
    category: Category
    indices: tuple[int, ...]
    items: tuple[Item | None, ...]


class Mapping:
    def __init__(self, entries: Sequence[_Entry], classes: Sequence[str]) -> None:
        import numpy as np

        self.entries = tuple(entries)
        self.classes = tuple(classes)
        self._indices = [np.asarray(e.indices, dtype=np.intp) for e in self.entries]

    @classmethod
    def load(cls, path: Path, classes: Sequence[str], kb: KnowledgeBase) -> "Mapping":
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            groups = raw["categories"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise MappingError(f"{path}: {exc}") from None
        entries, seen = [], set()
        for group in groups:
            category = kb.category(group["category"])
            if category is None:
                raise MappingError(f"{path}: unknown category {group['category']!r}")
            indices, items = [], []
            for row in group["classes"]:
                index, name = row["index"], row["class"]
                if not (isinstance(index, int) and 0 <= index < len(classes)) or classes[index] != name:
                    raise MappingError(f"{path}: class {index} {name!r} is not the model's")
                if index in seen:
                    raise MappingError(f"{path}: class {index} {name!r} is mapped twice")
                seen.add(index)
                item = kb.item(row["item"]) if "item" in row else None
                if "item" in row and (item is None or item.category != category.code):
                    raise MappingError(f"{path}: item {row['item']!r} is not in {category.code}")
                indices.append(index)
                items.append(item)
            entries.append(_Entry(category, tuple(indices), tuple(items)))
        return cls(entries, classes)

    def rank(self, probabilities: "np.ndarray") -> list[Candidate]:
        """Every category of the table with its summed probability, best first."""
        out = []
        for entry, idx in zip(self.entries, self._indices, strict=True):
            p = probabilities[idx]
            best = int(p.argmax())
            out.append(Candidate(entry.category, float(p.sum()), entry.items[best], self.classes[idx[best]]))
        out.sort(key=lambda c: -c.probability)
        return out
