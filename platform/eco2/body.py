"""Reading a request's body: the one place that waits on a client's bytes.

A thread that reads a body waits for the client, and a function has only
``THREADS`` of them (8): a client that sends its headers and then one byte
a minute would hold one for as long as it likes. So the runtime reads a body
only once the request has earned it (its route exists and allows the method,
its token is valid: :meth:`eco2.app.Function.handle`), and :func:`read` bounds
what it reads three ways:

- bytes: more than ``limit`` is a 413, a declared ``Content-Length`` over it
  before any byte is read;
- time: the whole body must arrive within ``timeout`` seconds of the first
  read, else 408 (a deadline, not a per-read timeout, which a client could
  reset with one byte at a time);
- threads: at most :func:`readers` requests read a body at once; one more
  waits :data:`SLOT_WAIT` for a slot, then gets 503 with ``Retry-After``, so
  that two threads always remain for the requests that do not wait on a
  client (``/healthz``, every GET).

A request whose body is not read (an early refusal, a route that takes none)
is answered with ``Connection: close`` (:func:`unread`): the server would
otherwise read the rest, however slowly it came, to find the next request.

The runtime calls :func:`read`, not the routes (:meth:`eco2.app.Function._dispatch`):
the limit is the function's, or a ``media=`` route's ``max_body`` for a body of
its own media; the timeout is the function's ``ECO2_BODY_TIMEOUT_SECONDS`` for
every route. A body whose framing the server cannot parse (chunked) is a 400.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import Any

from werkzeug.sansio.utils import get_content_length
from werkzeug.wrappers import Request

from eco2.problems import Problem, unavailable

_CHUNK = 64 << 10
# How long a request waits for a reader slot before its 503: long enough that
# requests whose bodies are already here (read in microseconds) never collide
# under ordinary load, short enough not to hold a thread for slow clients.
SLOT_WAIT = 0.1
_SLOTS: threading.BoundedSemaphore | None = None
_SLOTS_LOCK = threading.Lock()


def readers(environ: dict[str, str] | os._Environ[str] = os.environ) -> int:
    """How many requests may read a body at once: the server's threads less two
    (at least one). ``THREADS`` is functions-framework's variable, and its
    default (4 per CPU) is repeated here because it is not exported."""
    threads = int(environ.get("THREADS") or (os.cpu_count() or 1) * 4)
    return max(1, threads - 2)


def _slots() -> threading.BoundedSemaphore:
    global _SLOTS
    with _SLOTS_LOCK:
        if _SLOTS is None:
            _SLOTS = threading.BoundedSemaphore(readers())
        return _SLOTS


def length(request: Request) -> int | None:
    """The declared ``Content-Length`` (None when absent or chunked): what
    werkzeug's ``request.content_length`` gives, from the environ directly.
    Its header lookups raise and catch a KeyError for each header that is not
    there, as on every GET: 2.5 µs a request."""
    environ = request.environ
    return get_content_length(environ.get("CONTENT_LENGTH"), environ.get("HTTP_TRANSFER_ENCODING"))


def announced(request: Request) -> bool:
    """Whether the request carries a body (a length above 0, or chunked), read or not."""
    declared = length(request)
    if declared is not None:
        return declared > 0
    return "chunked" in request.environ.get("HTTP_TRANSFER_ENCODING", "").lower()


def unread(request: Request) -> bool:
    """Mark the body as read without reading it; True if there was one to skip.

    functions-framework reads the whole body after every response (so that
    the client is not cut off mid-send); an empty cache stops it. The caller
    answers with ``Connection: close`` when this returns True.
    """
    if "_cached_data" in request.__dict__:
        return False
    request._cached_data = b""  # noqa: SLF001 - werkzeug's documented body cache
    return announced(request)


def read(request: Request, *, limit: int, timeout: float) -> bytes:
    """The request's body: at most ``limit`` bytes, arriving within ``timeout``
    seconds, while a reader slot is free (see the module's docstring).

    A request without a body (no length, or 0, and not chunked) reads as
    ``b""`` without waiting. The bytes are kept as
    werkzeug's body cache, so ``request.get_data()`` returns them afterwards.
    """
    if "_cached_data" in request.__dict__:
        return request._cached_data  # noqa: SLF001
    if not announced(request):  # no length and not chunked: no body (RFC 9112 section 6.3)
        request._cached_data = b""  # noqa: SLF001
        return b""
    declared = length(request)
    if declared is not None and declared > limit:
        _refuse(request, too_large(limit))
    slots = _slots()
    if not slots.acquire(timeout=SLOT_WAIT):
        _refuse(request, busy())
    try:
        data = _read_within(request, limit, timeout)
    finally:
        slots.release()
    request._cached_data = data  # noqa: SLF001
    return data


def _read_within(request: Request, limit: int, timeout: float) -> bytes:
    from werkzeug.exceptions import ClientDisconnected

    # gunicorn hands the connection's socket to the application; its timeout
    # bounds each read, and setting it to what is left of the deadline before
    # each one bounds them all. Without a socket (the in-process test client)
    # there is nothing to wait on.
    sock = request.environ.get("gunicorn.socket")
    deadline = time.monotonic() + timeout
    chunks: list[bytes] = []
    size = 0
    try:
        while size <= limit:
            if sock is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError
                sock.settimeout(left)
            chunk = request.stream.read(min(_CHUNK, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except (TimeoutError, ClientDisconnected, OSError):
        # werkzeug reports a timed-out read as a disconnection; the clock tells them apart.
        _refuse(request, too_slow(timeout) if time.monotonic() >= deadline else incomplete())
    except Exception as exc:
        if not _unparsable(exc):
            raise
        _refuse(request, malformed())
    finally:
        if sock is not None:
            sock.settimeout(None)  # gunicorn's worker expects a blocking socket
    if size > limit:
        _refuse(request, too_large(limit))
    return b"".join(chunks)


def multipart(request: Request, raw: bytes) -> tuple[Any, Any]:
    """``(form, files)`` of a ``multipart/form-data`` body already read, parsed in
    memory. ``request.form``/``request.files`` would parse it again and spool a
    part over 500 kB to a temporary file (/tmp: a small emptyDir in a pod).
    werkzeug's parser and the request's limits (500 kB of fields, 1,000 parts:
    else a 413), with a memory stream per part."""
    import io

    from werkzeug.formparser import FormDataParser

    parser = FormDataParser(stream_factory=lambda *_args, **_kw: io.BytesIO(),
                            max_form_memory_size=request.max_form_memory_size,
                            max_form_parts=request.max_form_parts, cls=request.parameter_storage_class)
    _, form, files = parser.parse(io.BytesIO(raw), request.mimetype, len(raw), request.mimetype_params)
    return form, files


def _unparsable(exc: Exception) -> bool:
    """Whether ``exc`` is the server's parser refusing the body's framing (a
    chunk size that is not hex, a chunk without its CRLF): gunicorn's
    ParseException, not an OSError. Looked up, not imported: only a body
    gunicorn parses can raise it, and then its module is loaded."""
    errors = sys.modules.get("gunicorn.http.errors")
    return errors is not None and isinstance(exc, errors.ParseException)


def _refuse(request: Request, problem: Problem) -> None:
    """Raise ``problem`` for a body left partly unread: nothing more is read of it,
    and the connection closes after the reply (its rest is never parsed as a request)."""
    request._cached_data = b""  # noqa: SLF001
    problem.headers["Connection"] = "close"
    raise problem


def too_large(limit: int) -> Problem:
    return Problem(413, f"The body is larger than {limit} bytes.", slug="body-too-large")


def too_slow(timeout: float) -> Problem:
    return Problem(408, f"The body did not arrive within {timeout:g} seconds.", slug="body-timeout")


def incomplete() -> Problem:
    return Problem(400, "The connection ended before the whole body arrived.", slug="body-incomplete")


def malformed() -> Problem:
    return Problem(400, "The body's chunked framing is malformed.", slug="body-malformed")


def busy() -> Problem:
    return unavailable("Too many requests are sending a body right now; try again shortly.")
