"""Photo to category, disposal guide and missing steps: the one function scan and chat call.

::

    from eco2.scan import classifier

    result = classifier.classify(image_bytes, user_input="우유팩이에요", prepared=["rinsed"],
                                 settings=settings)          # ScanSettings
    result.category, result.confidence, result.candidates, result.source
    result.classification    # {"major_category", "middle_category", "minor_category"}
    result.missing_steps     # required step ids not done -> scan.scans.missing_steps
    result.correct           # no required step missing (what award_scan's `correct` is)
    result.as_dict()         # everything, JSON-ready

How a photo is decided, in order:

1. **model**: the ONNX classifier's class probabilities, summed per category by
   the mapping table. This is an ImageNet model mapped to waste categories,
   not one trained on waste photos. Below ``min_confidence`` the answer is
   미분류 with the top candidates.
2. **user_input**: when the image is unsure (confidence below ``steer_below``)
   and the text names an item or category of the knowledge base
   ("우유팩이에요"), that wins.
3. **vision**: when ``vision_model`` is set and the answer is still the
   model's with confidence below ``vision_below``, one OpenAI call; on any
   failure the local answer stands and ``vision_error`` says why.

Situation tags come from the vision model when it answered; otherwise only
미분류_전체 for an unclassified photo (the local model sees things, not their
state). Missing steps are the guide's required steps that the tags show
undone, plus, when ``prepared`` is given (a list, even empty), every required
step not in it: a client that asks the user to confirm steps gets a strict
check, the released app (which sends none) the original's visible-evidence rule.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from pathlib import Path
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Literal

from eco2 import knowledge
from eco2.knowledge import Category, Item
from eco2.scan import answer
from eco2.scan.decode import ImageError, decode, preview
from eco2.scan.mapping import Candidate, Mapping
from eco2.scan.model import Model, ModelError
from eco2.scan.settings import ScanSettings

Source = Literal["model", "user_input", "vision"]
UNCLASSIFIED = "unclassified"
UNSURE_TAG = "미분류_전체"
TOP = 3


class UnknownStep(ValueError):
    """``prepared`` names a step that is not in the vocabulary (422)."""

    status = 422
    code = "unknown-step"


@dataclass(frozen=True)
class Timings:
    decode_ms: float
    inference_ms: float
    vision_ms: float | None
    total_ms: float


@dataclass(frozen=True)
class Classification:
    category: Category
    item: Item | None  # the knowledge base's item, when known
    minor: str | None  # the minor category's name (the item's, or the vision model's words)
    confidence: float  # the model's summed probability for ``category`` (1.0 for user_input and vision)
    candidates: tuple[Candidate, ...]  # the model's top categories, best first
    source: Source
    situation_tags: tuple[str, ...]
    missing_steps: tuple[str, ...]  # required steps not done, guide order
    advice_steps: tuple[str, ...]  # advice-only steps the tags flag
    disposal_steps: dict[str, str]
    insufficiencies: tuple[str, ...]
    user_answer: str
    timings: Timings
    model: dict[str, str]  # name, version, sha256
    vision_error: str | None = None

    @property
    def correct(self) -> bool:
        """No required step missing: with a recyclable category, what earns the character."""
        return not self.missing_steps

    @property
    def classification(self) -> dict[str, str | None]:
        """The original's shape: a major without middles repeats itself as the middle."""
        return {
            "major_category": self.category.major,
            "middle_category": self.category.middle or self.category.major,
            "minor_category": self.minor,
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "category": {"code": self.category.code, "name": self.category.name},
            "classification": self.classification,
            "item": self.item.id if self.item else None,
            "confidence": round(self.confidence, 4),
            "candidates": [
                {"code": c.category.code, "name": c.category.name, "probability": round(c.probability, 4),
                 "item": c.item.id if c.item else None, "class": c.top_class}
                for c in self.candidates
            ],
            "source": self.source,
            "situation_tags": list(self.situation_tags),
            "missing_steps": list(self.missing_steps),
            "advice_steps": list(self.advice_steps),
            "correct": self.correct,
            "disposal_steps": dict(self.disposal_steps),
            "insufficiencies": list(self.insufficiencies),
            "user_answer": self.user_answer,
            "timings": {k: (None if v is None else round(v, 2)) for k, v in vars(self.timings).items()},
            "model": dict(self.model),
            "vision_error": self.vision_error,
        }


class Classifier:
    """The model and its mapping, for one configuration; one per process (:func:`get`)."""

    def __init__(self, settings: ScanSettings) -> None:
        self.settings = settings
        self.kb = knowledge.load()
        self.model = _model(settings.model_path, settings.threads)
        self.mapping = Mapping.load(settings.mapping_path, self.model.card.classes, self.kb)

    @property
    def info(self) -> dict[str, str]:
        card = self.model.card
        return {"name": card.name, "version": card.version, "sha256": card.sha256}

    def classify(self, image: bytes, *, user_input: str | None = None,
                 prepared: Iterable[str] | None = None) -> Classification:
        """Raises :class:`~eco2.scan.decode.ImageError` (415/422), :class:`UnknownStep`
        (422), or :class:`~eco2.scan.model.ModelError` for broken model files (503)."""
        *_, (_, result) = self.stages(image, user_input=user_input, prepared=prepared)
        return result

    def stages(self, image: bytes, *, user_input: str | None = None,
               prepared: Iterable[str] | None = None) -> Iterator[tuple[str, Any]]:
        """:meth:`classify` as it goes, for a stream: ``("decoded", {format, width,
        height, orientation, decode_ms})`` once the photo is decoded, then
        ``("classified", Classification)``. Raises what :meth:`classify` raises."""
        s = self.settings
        confirmed = self._prepared(prepared)
        start = time.perf_counter()
        decoded = decode(image, size=self.model.card.size, crop=self.model.card.crop,
                         max_pixels=s.max_pixels, max_full_pixels=s.max_full_pixels)
        decoded_at = time.perf_counter()
        yield "decoded", {"format": decoded.format, "width": decoded.width, "height": decoded.height,
                          "orientation": decoded.orientation, "decode_ms": round((decoded_at - start) * 1000, 2)}
        ranked = self.mapping.rank(self.model.probabilities(decoded.pixels))
        inferred_at = time.perf_counter()
        top = ranked[0]
        candidates = tuple(ranked[:TOP])
        source: Source = "model"
        category, item, confidence = top.category, top.item, top.probability
        minor = item.name if item else None
        tags: tuple[str, ...] = ()
        if confidence < s.min_confidence:
            category, item, minor = self.kb.category(UNCLASSIFIED), None, None
        named = self.kb.named_in(user_input) if user_input and top.probability < s.steer_below else None
        if named is not None:
            source, confidence = "user_input", 1.0
            if isinstance(named, Item):
                category, item, minor = self.kb.category(named.category), named, named.name
            else:
                category, item, minor = named, None, None
        vision_ms, vision_error = None, None
        if source == "model" and s.vision_model and top.probability < s.vision_below:
            from eco2.scan import vision

            v_start = time.perf_counter()
            try:
                jpeg = preview(image, max_pixels=s.max_pixels, max_full_pixels=s.max_full_pixels)
                seen = vision.refine(jpeg, user_input, s, self.kb)
            except vision.VisionError as exc:
                vision_error = exc.reason
            else:
                source, category, confidence, tags = "vision", seen.category, 1.0, seen.situation_tags
                minor = seen.minor
                item = self.kb.named_in(minor) if minor else None
                if not isinstance(item, Item) or item.category != category.code:
                    item = None
            vision_ms = (time.perf_counter() - v_start) * 1000
        if category.code == UNCLASSIFIED and not tags:
            tags = (UNSURE_TAG,)
        missing = set(self.kb.unmet_steps(category.code, tags))
        if confirmed is not None:
            missing |= {st.id for st in category.guide.steps if st.required and st.id not in confirmed}
        order = [st.id for st in category.guide.steps]
        missing_steps = tuple(i for i in order if i in missing)
        advice = self.kb.unmet_steps(category.code, tags, advice=True)
        unsure = category.code == UNCLASSIFIED
        end = time.perf_counter()
        yield "classified", Classification(
            category=category, item=item, minor=minor, confidence=confidence, candidates=candidates,
            source=source, situation_tags=tags, missing_steps=missing_steps, advice_steps=advice,
            disposal_steps=answer.disposal_steps(category),
            insufficiencies=tuple(answer.insufficiencies(category.guide.steps, missing_steps, advice)),
            user_answer=answer.user_answer(
                category, item, unsure=unsure, missing=len(missing_steps),
                candidates=[c.category for c in candidates] if unsure else (),
            ),
            timings=Timings(
                decode_ms=(decoded_at - start) * 1000, inference_ms=(inferred_at - decoded_at) * 1000,
                vision_ms=vision_ms, total_ms=(end - start) * 1000,
            ),
            model=self.info, vision_error=vision_error,
        )

    def _prepared(self, prepared: Iterable[str] | None) -> frozenset[str] | None:
        if prepared is None:
            return None
        steps = frozenset(prepared)
        unknown = steps - set(self.kb.steps)
        if unknown:
            raise UnknownStep(f"unknown preparation steps: {', '.join(sorted(unknown))}")
        return steps


_lock = threading.Lock()
_classifiers: dict[str, Classifier] = {}
_models: dict[tuple[Path, int], Model] = {}


def _model(path: Path, threads: int) -> Model:
    """One model (one ONNX session) per file and thread count, per process."""
    with _lock:
        if (path, threads) not in _models:
            _models[(path, threads)] = Model(path, threads=threads)
        return _models[(path, threads)]


def get(settings: ScanSettings | None = None) -> Classifier:
    """The process's classifier for ``settings`` (from the environment when None).
    Made on first call: reads the model card and the mapping (a few ms); the
    ONNX session itself starts on the first photo (:meth:`Model.load`)."""
    from eco2 import config

    settings = settings or config.load(ScanSettings)
    key = settings.model_dump_json()  # settings hold lists: not hashable
    with _lock:
        found = _classifiers.get(key)
    if found is None:
        found = Classifier(settings)
        with _lock:
            found = _classifiers.setdefault(key, found)
    return found


def classify(image: bytes, *, user_input: str | None = None, prepared: Iterable[str] | None = None,
             settings: ScanSettings | None = None) -> Classification:
    """:meth:`Classifier.classify` with the process's classifier."""
    return get(settings).classify(image, user_input=user_input, prepared=prepared)


@contextmanager
def as_problems() -> Iterator[None]:
    """The classifier's errors as the problems a route answers with (scan's and
    chat's): a photo's own fault keeps its status (415, 422), a broken model is
    a 503 to retry later."""
    from eco2.problems import Problem, unavailable

    try:
        yield
    except (ImageError, UnknownStep) as exc:
        raise Problem(exc.status, str(exc), slug=exc.code) from None
    except ModelError:
        raise unavailable("The classifier cannot run right now.", retry_after=30) from None


__all__ = ["Classification", "Classifier", "ImageError", "Timings", "UnknownStep", "as_problems", "classify", "get"]
