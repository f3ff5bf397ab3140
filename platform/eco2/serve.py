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

It reads the variables functions-framework reads: ``FUNCTION_TARGET``,
``FUNCTION_SOURCE``, ``PORT`` (Knative sets it), ``HOST``, ``WORKERS``,
``THREADS``. Imports are the command's own: nothing is added to a cold start.
"""

from __future__ import annotations

import os
import sys

from gunicorn.workers.gthread import ThreadWorker

DEFAULT_GRACEFUL_TIMEOUT = 30  # gunicorn's own default


def graceful_timeout(environ: os._Environ[str] | dict[str, str] = os.environ) -> int:
    raw = environ.get("ECO2_GRACEFUL_TIMEOUT_SECONDS", str(DEFAULT_GRACEFUL_TIMEOUT))
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if not 1 <= value <= 3600:
        # Named, never echoed beyond the variable: the same rule as eco2.config.
        sys.stderr.write("ECO2_GRACEFUL_TIMEOUT_SECONDS must be an integer from 1 to 3600\n")
        raise SystemExit(78)
    return value


class GracefulWorker(ThreadWorker):
    """gunicorn's threaded worker, closing its listening socket as soon as SIGTERM arrives."""

    def handle_exit(self, sig: int, frame: object) -> None:
        if self.alive:
            # Run in the worker's event loop, not in the signal handler.
            self.method_queue.defer(self._stop_listening)
        super().handle_exit(sig, frame)

    def _stop_listening(self) -> None:
        self.set_accept_enabled(False)
        for listener in self.sockets:
            listener.close()


def main() -> None:
    timeout = graceful_timeout()
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
    )
    server.run(os.environ.get("HOST", "0.0.0.0"), int(os.environ.get("PORT", "8080")))


if __name__ == "__main__":
    main()
