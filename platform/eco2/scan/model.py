"""The image classifier: an ONNX file, its model card, one onnxruntime session per process.

A model is two files side by side: ``<name>.onnx`` and its card ``<name>.json``
(written by ``tools/model/export.py``): name, version, the ONNX file's sha256,
the input's name, shape and crop, and the file with the output's class names.
The card is read when the :class:`Model` is made (a few hundred bytes); the
ONNX file only when the first image is classified, when its sha256 is checked
before onnxruntime sees it. onnxruntime is imported there too, so that a
process that never classifies (or a route that only lists categories) never
pays for it. Measured in ``bench/scan.py`` (docs/scan.md): made at import,
the session holds up readiness by ~0.5 s and the first answer comes no sooner.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np


class ModelError(RuntimeError):
    """The model files are unusable: a missing card, a bad card, a wrong hash.
    A deployment fault, not the client's (503 in the route)."""


@dataclass(frozen=True)
class ModelCard:
    name: str
    version: str
    sha256: str
    file: Path
    input_name: str
    size: int  # the input is [1, size, size, 3] uint8 RGB
    crop: float  # the centre square's share of the short side
    classes: tuple[str, ...]  # output index -> class name

    @classmethod
    def read(cls, onnx_path: Path) -> "ModelCard":
        card_path = onnx_path.with_suffix(".json")
        try:
            raw: dict[str, Any] = json.loads(card_path.read_text(encoding="utf-8"))
            shape = raw["input"]["shape"]
            if len(shape) != 4 or shape[0] != 1 or shape[3] != 3 or shape[1] != shape[2]:
                raise ValueError(f"input shape {shape} is not [1, n, n, 3]")
            classes = json.loads(
                (onnx_path.parent / raw["output"]["classes"]).read_text(encoding="utf-8")
            )
            return cls(
                name=raw["name"], version=raw["version"], sha256=raw["sha256"].lower(), file=onnx_path,
                input_name=raw["input"]["name"], size=int(shape[1]),
                crop=float(raw["input"].get("crop", 1.0)), classes=tuple(classes),
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ModelError(f"model card {card_path}: {exc}") from None


class Model:
    """One model, its session created on first use (thread-safe)."""

    def __init__(self, path: Path, *, threads: int = 1) -> None:
        self.card = ModelCard.read(path)
        self.threads = threads
        self._session: Any = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._session is not None

    def load(self) -> None:
        """Read the ONNX file, check its sha256, start the session (once)."""
        if self._session is not None:
            return
        with self._lock:
            if self._session is not None:
                return
            data = self.card.file.read_bytes()
            digest = hashlib.sha256(data).hexdigest()
            if digest != self.card.sha256:
                raise ModelError(
                    f"{self.card.file.name}: sha256 {digest} is not the card's {self.card.sha256}"
                )
            import onnxruntime as ort

            options = ort.SessionOptions()
            options.intra_op_num_threads = self.threads
            options.inter_op_num_threads = 1
            options.log_severity_level = 3  # errors only: no warnings on stderr
            self._session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])

    def probabilities(self, pixels: "np.ndarray") -> "np.ndarray":
        """Class probabilities (one row) for one decoded image."""
        self.load()
        return self._session.run(None, {self.card.input_name: pixels})[0][0]
