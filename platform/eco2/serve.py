"""Serve a function the way its image does: ``python -m eco2.serve``.

functions-framework's own command (``python -m functions_framework``) runs the
same gunicorn, but offers no way to set gunicorn's ``graceful_timeout``: after
SIGTERM (Knative scaling a pod away) in-flight requests get gunicorn's default
30 s, whatever the function's timeout. This entry point is that command plus
``ECO2_GRACEFUL_TIMEOUT_SECONDS`` (rendered from function.yaml's
``terminationGracePeriodSeconds``): on SIGTERM requests in flight get up to
that long to finish, then the process exits.

It also refuses new connections at once. gunicorn's threaded worker (27.x)
stops accepting on SIGTERM but keeps its copy of the listening socket open
until the last request is done: a client that connects meanwhile sits in the
kernel's backlog, unanswered, and is reset at the end (tests/knative/
test_graceful.py saw it). ``GracefulWorker`` closes the socket when SIGTERM
arrives, so such a client is refused straight away and can go elsewhere.

It bounds what a client can make a thread wait for. gunicorn's threaded
worker hands a connection to a thread as soon as its first byte arrives, and
the thread then reads the request line and headers with no deadline: a client
sending one header byte at a time would hold the thread for as long as it
likes. ``GracefulWorker`` gives the head of every request
``ECO2_HEADER_TIMEOUT_SECONDS`` (default 10) from then; a connection that has
not sent it all by then is shut, which frees its thread. The body's own
deadline is the application's (eco2.body). gunicorn's limits are set here
rather than left to functions-framework, which lifts the request line's:
a request line of at most 8190 bytes, at most 100 header fields of at most
8190 bytes each, 2 s of keep-alive, and a worker that stops answering its
arbiter for 30 s is replaced (docs/runtime.md).

These override internals of gunicorn 27's threaded worker: pyproject.toml
pins gunicorn 27.x, and :func:`check_gunicorn` stops the server at start-up
(exit 70, naming what is missing) if they are not there.

It reads the variables functions-framework reads: ``FUNCTION_TARGET``,
``FUNCTION_SOURCE``, ``PORT`` (Knative sets it), ``HOST``, ``WORKERS``,
``THREADS``. Imports are the command's own: nothing is added to a cold start.
"""

from __future__ import annotations

import contextlib
import functools
import os
import selectors
import socket
import sys
import threading
import time

from gunicorn import util
from gunicorn.workers.gthread import ThreadWorker

DEFAULT_GRACEFUL_TIMEOUT = 30  # gunicorn's own default
DEFAULT_HEADER_TIMEOUT = 10
LINGER = 2.0  # seconds a closing connection reads what its client still sends (gunicorn's own figure)

# gunicorn's settings, explicit (functions-framework sets limit_request_line to
# 0, no limit, and timeout to 0, never): what a request's head may hold, how
# long an idle kept-alive connection stays, and how long a worker whose main
# loop stops answering lives before the arbiter replaces it.
LIMITS = {
    "limit_request_line": 8190,
    "limit_request_fields": 100,
    "limit_request_field_size": 8190,
    "keepalive": 2,
    "timeout": 30,
}


def _seconds(environ: os._Environ[str] | dict[str, str], name: str, default: int) -> int:
    raw = environ.get(name, str(default))
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if not 1 <= value <= 3600:
        # Named, never echoed beyond the variable: the same rule as eco2.config.
        sys.stderr.write(f"{name} must be an integer from 1 to 3600\n")
        raise SystemExit(78)
    return value


def graceful_timeout(environ: os._Environ[str] | dict[str, str] = os.environ) -> int:
    return _seconds(environ, "ECO2_GRACEFUL_TIMEOUT_SECONDS", DEFAULT_GRACEFUL_TIMEOUT)


def header_timeout(environ: os._Environ[str] | dict[str, str] = os.environ) -> int:
    return _seconds(environ, "ECO2_HEADER_TIMEOUT_SECONDS", DEFAULT_HEADER_TIMEOUT)


# What GracefulWorker overrides or calls of gunicorn's threaded worker, with
# the parameters it relies on: internals, not API, so a gunicorn that changed
# them (pyproject pins 27.x) must stop the server at start-up, not misbehave.
_OVERRIDDEN = {
    "handle": ("conn",),
    "handle_request": ("req", "conn"),
    "finish_request": ("conn", "fs"),
    "enqueue_req": ("conn",),
    "murder_pending": (),
    "handle_exit": ("sig", "frame"),
    "set_accept_enabled": ("enabled",),
    "load_wsgi": (),
}


def check_gunicorn() -> None:
    """Exit (70) naming what is missing if gunicorn's gthread worker no longer
    has the internals GracefulWorker overrides (or TConn its ``close(graceful)``)."""
    import inspect

    import gunicorn
    from gunicorn.workers.gthread import TConn

    missing = []
    for name, params in {**{f"ThreadWorker.{k}": v for k, v in _OVERRIDDEN.items()},
                         "TConn.close": ("graceful",)}.items():
        owner, attr = name.split(".")
        method = getattr(ThreadWorker if owner == "ThreadWorker" else TConn, attr, None)
        if method is None or tuple(inspect.signature(method).parameters)[1:] != params:
            missing.append(f"{name}({', '.join(params)})")
    if not gunicorn.__version__.startswith("27.") or missing:
        sys.stderr.write(f"eco2.serve needs gunicorn 27.x's threaded worker; gunicorn {gunicorn.__version__} "
                         f"lacks: {', '.join(missing) or 'nothing, but it is not 27.x'}\n")
        raise SystemExit(70)


class GracefulWorker(ThreadWorker):
    """gunicorn's threaded worker, closing its listening socket as soon as SIGTERM
    arrives, and shutting a connection whose request head is overdue."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.header_timeout = header_timeout()
        # Connections handed to a thread whose head has not been read yet, with
        # their deadlines; the lock makes "overdue, so shut" and "read, so
        # served" exclusive.
        self._heads: dict[object, float] = {}
        self._heads_lock = threading.Lock()
        self._lingering: dict[socket.socket, float] = {}  # closing connections, by deadline (main loop only)

    def load_wsgi(self) -> None:
        super().load_wsgi()
        self.wsgi = _closing(self.wsgi)
        from eco2.app import worker_started

        worker_started()

    def enqueue_req(self, conn) -> None:  # noqa: ANN001 - gunicorn's TConn
        conn.close = functools.partial(self._close, conn)
        super().enqueue_req(conn)

    def handle(self, conn):  # noqa: ANN001, ANN201 - gunicorn's signature; runs in a thread
        # The deadline runs from when a thread takes the connection, not from
        # when it was queued for one.
        with self._heads_lock:
            self._heads[conn] = time.monotonic() + self.header_timeout
        return super().handle(conn)

    def _close(self, conn, graceful: bool = False) -> None:  # noqa: ANN001
        """gunicorn's close, but lingering in the event loop.

        gunicorn 27 closes a connection gracefully (RFC 9112 section 9.6: send
        FIN, read what the client still sends until it closes, at most 2 s) in
        its main loop, blocking: while a client that keeps its end open is
        waited for, nothing else is accepted or dispatched. Here the reading
        is done by the poller, and the socket closed when the client closes or
        LINGER passes.
        """
        if not graceful:
            util.close(conn.sock)
            return
        sock = conn.sock
        try:
            sock.shutdown(socket.SHUT_WR)
            sock.setblocking(False)
            self.poller.register(sock, selectors.EVENT_READ, self._drain)
        except (OSError, ValueError, KeyError):
            util.close(sock)
            return
        self._lingering[sock] = time.monotonic() + LINGER

    def _drain(self, sock: socket.socket) -> None:
        try:
            data = sock.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._end_linger(sock)

    def _end_linger(self, sock: socket.socket) -> None:
        self._lingering.pop(sock, None)
        with contextlib.suppress(OSError, ValueError, KeyError):
            self.poller.unregister(sock)
        util.close(sock)

    def handle_request(self, req, conn):  # noqa: ANN001, ANN201 - gunicorn's signature
        with self._heads_lock:
            self._heads.pop(conn, None)  # the head is read: the body's deadline is the application's
        return super().handle_request(req, conn)

    def finish_request(self, conn, fs) -> None:  # noqa: ANN001
        with self._heads_lock:
            self._heads.pop(conn, None)
        super().finish_request(conn, fs)

    def murder_pending(self) -> None:
        """gunicorn's sweep of idle connections (every loop, at least once a
        second), and of overdue heads: shutting the socket ends the thread's
        blocked read (gunicorn sees the client gone and closes it)."""
        super().murder_pending()
        now = time.monotonic()
        for sock in [s for s, deadline in self._lingering.items() if deadline <= now]:
            self._end_linger(sock)
        with self._heads_lock:
            for conn in [c for c, deadline in self._heads.items() if deadline <= now]:
                del self._heads[conn]
                with contextlib.suppress(OSError):
                    conn.sock.shutdown(socket.SHUT_RDWR)

    def handle_exit(self, sig: int, frame: object) -> None:
        if self.alive:
            # Run in the worker's event loop, not in the signal handler.
            self.method_queue.defer(self._stop_listening)
        super().handle_exit(sig, frame)

    def _stop_listening(self) -> None:
        self.set_accept_enabled(False)
        for listener in self.sockets:
            listener.close()


def _closing(app):  # noqa: ANN001, ANN202 - a WSGI application
    """``app``, whose ``Connection: close`` closes the connection.

    gunicorn drops hop-by-hop headers a WSGI application sends (PEP 3333
    forbids them) and keeps the connection alive; then, to find the next
    request, it reads the rest of a body the application chose not to read,
    at the client's pace (up to 5 s a request). eco2.body answers such a
    request with ``Connection: close``; this tells gunicorn's response.
    """

    def closing_app(environ, start_response):  # noqa: ANN001, ANN202
        def start(status, headers, exc_info=None):  # noqa: ANN001, ANN202
            response = getattr(start_response, "__self__", None)  # gunicorn's Response
            if response is not None and any(
                name.lower() == "connection" and value.lower() == "close" for name, value in headers
            ):
                response.force_close()
            return start_response(status, headers, exc_info)

        return app(environ, start)

    return closing_app


def main() -> None:
    check_gunicorn()
    timeout = graceful_timeout()
    header_timeout()  # checked before anything is served
    from functions_framework import create_app
    from functions_framework._http import create_server

    app = create_app(os.environ["FUNCTION_TARGET"], os.environ.get("FUNCTION_SOURCE"), "http")
    # No control socket: gunicorn 27 opens one under $HOME for its `gunicornc`
    # tool, which fails (and logs an error) on a read-only root filesystem and
    # would let anything in the pod resize or stop the server.
    server = create_server(
        app,
        False,
        graceful_timeout=timeout,
        worker_class="eco2.serve.GracefulWorker",
        control_socket_disable=True,
        **LIMITS,
    )
    server.run(os.environ.get("HOST", "0.0.0.0"), int(os.environ.get("PORT", "8080")))


if __name__ == "__main__":
    main()
