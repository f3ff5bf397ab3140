"""``POST /api/v1/scan/classify``: the photo from any of its three forms, then
classify, record and reward, as one answer or as a stream of stages.

- JSON ``{image_url, user_input?, prepared?}`` (the released app's way): the
  URL must name an uploaded object (:func:`eco2.image.settings.is_upload_url`)
  and is fetched by :mod:`eco2.fetch`;
- ``multipart/form-data`` with the file in the part ``image`` (and the fields
  ``user_input``, ``prepared``, repeated), or a raw ``image/jpeg|png|webp``
  body (with ``?user_input=&prepared=a,b``): one request instead of three.

An ``Idempotency-Key`` (or the original's ``X-Idempotency-Key``) makes a retry
get the first answer again: per user and key, checked before any work, and
again by the unique index when two arrive at once (the loser replays the
winner's). A key is tied to what its first request asked for (the photo and
the options): reused for another, it is a 422. A scan that fails stores nothing: the photo is classified before the
one transaction that writes the scan, its points and its character.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterator

from pydantic import BaseModel, Field

from eco2 import body, fetch, logs, sse
from eco2.problems import Problem, from_validation_error
from eco2.scan import records

if TYPE_CHECKING:
    from eco2.app import Call
    from eco2.scan.classifier import Classification
    from eco2.scan.settings import ScanSettings

_LOG = logs.get("scan")
IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp")
MULTIPART = "multipart/form-data"
PART = "image"  # a multipart body's file part (the route's part=, the OpenAPI's name)
# A multipart body carries its part headers and boundaries beside the photo.
MULTIPART_OVERHEAD = 64 << 10
_KEY = re.compile(r"[\x21-\x7e]{1,255}")  # visible ASCII: what a header may carry and a log may show
REPLAYED = "Idempotent-Replayed"


class Options(BaseModel):
    user_input: str | None = Field(None, max_length=500, description="The user's words, e.g. 우유팩이에요")
    prepared: list[str] | None = Field(
        None, max_length=32, description="Preparation step ids the user confirms (label_removed, rinsed …)"
    )


class RawQuery(BaseModel):
    """The options of a photo sent as the whole body (image/jpeg, png or webp)."""

    user_input: str | None = Field(None, max_length=500, description="The user's words, e.g. 우유팩이에요")
    prepared: str | None = Field(None, max_length=2048, description="Preparation step ids, comma-separated: "
                                 "label_removed,rinsed (a photo in the body only)")


class ClassifyRequest(Options):
    image_url: str = Field(min_length=1, max_length=2048, description="The cdn_url the image function handed out")


@dataclass(frozen=True)
class Photo:
    image: bytes | None  # the bytes, when they came with the request
    url: str | None  # else where to fetch them
    options: Options

    def fingerprint(self) -> str:
        """What the request asks for, as a SHA-256: the photo (its bytes' hash,
        or its URL) and the options. The same photo by URL and in the body are
        two requests."""
        import hashlib
        import json

        photo = {"sha256": hashlib.sha256(self.image).hexdigest()} if self.image is not None else {"url": self.url}
        asked = {"photo": photo, **self.options.model_dump()}
        return hashlib.sha256(json.dumps(asked, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


_warming: list[threading.Thread] = []
# How long a photo waits for the warm-up: it takes about a second (docs/scan.md),
# mostly while the request's token and body are checked; one still running
# after this is stuck, and photos go on without it (the classifier's own locks
# still load everything once). It counts in the worst case function.yaml's
# responseStartTimeoutSeconds must outlast.
WARM_UP_WAIT = 3.0


def warm_up(settings: "ScanSettings") -> None:
    """Start the classifier (its libraries, card, mapping and ONNX session) on a
    thread of the serving worker, while the first request checks its token and
    connects to PostgreSQL; the first photo waits for it (numpy imported from
    two threads at once can be seen half made). Readiness waits for none of it.
    A failure is logged (its class) and left for the first photo to meet again
    and report."""

    def start() -> None:
        from eco2.scan import classifier

        try:
            found = classifier.get(settings)
            found.model.load()
            # One small JPEG through the decoder, the model and the mapping (not
            # the vision refinement): their first run is slower than the next.
            import io

            from PIL import Image

            from eco2.scan.decode import decode

            jpeg = io.BytesIO()
            Image.new("RGB", (64, 48), (128, 128, 128)).save(jpeg, "JPEG")
            card = found.model.card
            found.mapping.rank(found.model.probabilities(decode(jpeg.getvalue(), size=card.size,
                                                                 crop=card.crop).pixels))
        except Exception as exc:  # noqa: BLE001 - the first photo raises it again, as a problem
            logs.event(_LOG, "scan warm-up failed", logging.WARNING, error=type(exc).__name__)

    thread = threading.Thread(target=start, name="scan-warm-up", daemon=True)
    _warming.append(thread)
    thread.start()


def await_warm_up() -> None:
    """Wait for the warm-up, at most :data:`WARM_UP_WAIT`, and only until it ends
    or that has passed once: later photos do not wait."""
    for thread in list(_warming):
        thread.join(WARM_UP_WAIT)
        if thread.is_alive():
            logs.event(_LOG, "scan warm-up still running", logging.WARNING, waited_s=WARM_UP_WAIT)
        with contextlib.suppress(ValueError):  # another request's wait removed it first
            _warming.remove(thread)


def body_limit(settings: "ScanSettings") -> int:
    """The route's body limit: the largest photo, and a multipart's overhead."""
    return settings.max_bytes + MULTIPART_OVERHEAD


def classify(call: "Call") -> Any:
    """The route's handler (see the module's docstring)."""
    started = time.perf_counter()
    settings: ScanSettings = call.settings  # type: ignore[assignment]
    photo = _photo(call, settings)
    key = _idempotency_key(call)
    asked = photo.fingerprint() if key is not None else None
    user_id = str(call.user.id)
    if key is not None:
        with call.db.read() as conn:
            first = _first(conn, user_id, key, asked)
        if first is not None:
            return _replay(call, first)
    image, fetch_ms = photo.image, None
    if image is None:
        image, fetch_ms = _fetch(photo.url or "", settings)
    await_warm_up()
    from eco2.scan import classifier  # Pillow, numpy, the knowledge base: only for a photo

    stages = _checked(classifier.get(settings).stages(
        image, user_input=photo.options.user_input, prepared=photo.options.prepared))
    decoded = next(stages)  # a bad photo is still an ordinary problem, stream or not

    def finish(result: "Classification") -> tuple[dict[str, Any], bool]:
        t = result.timings
        timings = {"fetch_ms": fetch_ms, "decode_ms": round(t.decode_ms, 2), "inference_ms": round(t.inference_ms, 2),
                   "vision_ms": None if t.vision_ms is None else round(t.vision_ms, 2),
                   "total_ms": round((time.perf_counter() - started) * 1000, 2)}
        return _save(call, user_id, key, asked, result, timings)

    if sse.wanted(call.request):
        return sse.stream(call, _events(decoded, stages, finish))
    *_, (_, result) = stages
    doc, replayed = finish(result)
    if replayed:
        call.headers[REPLAYED] = "true"
    return doc


def _events(decoded: tuple[str, Any], stages: Iterator[tuple[str, Any]], finish: Any) -> Iterator[tuple[str, Any]]:
    """decoded, classified, guide, reward, done (the whole answer)."""
    yield decoded
    *_, (_, result) = stages
    yield "classified", records.classified(result)
    yield "guide", records.guide(result)
    doc, _ = finish(result)
    yield "reward", {"reward": doc["reward"], "points": doc["points"]}
    yield "done", doc


def _photo(call: "Call", settings: "ScanSettings") -> Photo:
    """The photo and the options, from whichever form the request took."""
    request = call.request
    if call.raw is None:  # JSON
        sent: ClassifyRequest = call.body
        return Photo(None, sent.image_url, Options(user_input=sent.user_input, prepared=sent.prepared))
    if request.mimetype == MULTIPART:
        # Parsed in memory (a part over 500 kB would otherwise go to /tmp, a 64 Mi emptyDir).
        form, files = body.multipart(request, call.raw)
        part = files.get(PART)
        if part is None:
            raise Problem(422, f"A multipart request carries the photo in a file part named {PART}.",
                          slug="validation", errors=[{"loc": ["body", PART], "msg": "Field required",
                                                      "type": "missing"}])
        image = part.read(settings.max_bytes + 1)
        fields = {"user_input": form.get("user_input"), "prepared": form.getlist("prepared") or None}
    else:
        image = call.raw
        query: RawQuery = call.query
        fields = {"user_input": query.user_input,
                  "prepared": [p for p in query.prepared.split(",") if p] if query.prepared is not None else None}
    if len(image) > settings.max_bytes:
        raise fetch.too_large(settings.max_bytes)
    from pydantic import ValidationError

    try:
        options = Options.model_validate(fields)
    except ValidationError as exc:
        raise from_validation_error(exc, "query" if request.mimetype != MULTIPART else "body") from None
    return Photo(image, None, options)


def _idempotency_key(call: "Call") -> str | None:
    headers = call.request.headers
    key = headers.get("Idempotency-Key") or headers.get("X-Idempotency-Key")
    if key is None:
        return None
    if not _KEY.fullmatch(key):
        raise Problem(422, "Idempotency-Key must be 1-255 visible ASCII characters.", slug="validation",
                      errors=[{"loc": ["header", "Idempotency-Key"], "msg": "1-255 visible ASCII characters",
                               "type": "value_error"}])
    return key


def _fetch(url: str, settings: "ScanSettings") -> tuple[bytes, float]:
    started = time.perf_counter()
    got = fetch.upload(url, settings)
    return got.data, round((time.perf_counter() - started) * 1000, 2)


def _checked(stages: Iterator[tuple[str, Any]]) -> Iterator[tuple[str, Any]]:
    """The classifier's stages, its errors as problems."""
    from eco2.scan import classifier

    with classifier.as_problems():
        yield from stages


def _first(conn: Any, user_id: str, key: str, asked: str | None) -> dict[str, Any] | None:
    """The answer to this user's first request with ``key``; a 422 when that
    request asked for something else (another photo, other options): replaying
    its answer would say this photo was scanned (IETF Idempotency-Key draft)."""
    found = records.replay(conn, user_id, key)
    if found is None:
        return None
    answer, first_asked = found
    if first_asked is not None and first_asked != asked:
        raise Problem(422, "This Idempotency-Key was used with another photo or other options.",
                      slug="idempotency-key-reused",
                      errors=[{"loc": ["header", "Idempotency-Key"], "msg": "already used for another request",
                               "type": "value_error"}])
    return answer


def _save(call: "Call", user_id: str, key: str | None, asked: str | None, result: "Classification",
          timings: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """Record and reward in one transaction: (answer, whether it is a replay of
    a concurrent request's with the same key)."""
    scan_id = str(uuid.uuid4())
    with call.db.transaction() as conn:
        doc = records.record(conn, user_id, scan_id, result, key=key, timings=timings, request_hash=asked)
    if doc is not None:
        return doc, False
    with call.db.read() as conn:  # the winner committed before our insert gave way
        first = _first(conn, user_id, key or "", asked)
    if first is None:
        raise Problem(409, "A request with this Idempotency-Key is still in progress.", slug="conflict")
    return first, True


def _replay(call: "Call", first: dict[str, Any]) -> Any:
    """The first answer again: as it was, or as a stream's last event."""
    call.headers[REPLAYED] = "true"
    return sse.stream(call, iter([("done", first)])) if sse.wanted(call.request) else first


def task(call: "Call") -> dict[str, Any]:
    """The owner's scan by id; 404 for anyone else's, as for one that does not exist."""
    from eco2.problems import not_found

    try:
        scan_id = str(uuid.UUID(call.params["task_id"]))
    except ValueError:
        raise not_found("No such scan.") from None
    with call.db.read() as conn:
        found = records.task(conn, str(call.user.id), scan_id)
    if found is None:
        raise not_found("No such scan.")
    return found


def categories(call: "Call") -> list[dict[str, Any]]:
    from eco2 import knowledge

    return records.categories(knowledge.load())


__all__ = ["ClassifyRequest", "IMAGE_TYPES", "MULTIPART", "PART", "RawQuery", "body_limit", "categories", "classify", "task"]
