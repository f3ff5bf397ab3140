"""Warm instructions per request: a count the machine's load does not move.

The CPU timers of these shared two-core machines moved by ±40 % from one run to
the next; valgrind's callgrind counts the instructions a process executes, the
same in every run within 0.1 %. Each route is served in process through
functions-framework's WSGI app (the function loaded by ``create_app``, as
``eco2.serve`` loads it; no gunicorn, no sockets on the client side), against
the bench's embedded PostgreSQL and Redis with a bench user; after 200 warm-up
requests, the figure is the difference between two runs of ``--low`` and
``--high`` requests, divided by the difference: start-up and warm-up cancel.
What it leaves out: gunicorn's share of a request, and every system call's
kernel time (a write, a socket read), which callgrind does not see.

    python -m bench.instructions [--low 100] [--high 300] [--routes hello,character:catalog,my:profile]

Not part of `make bench`: it needs valgrind (Debian's ``valgrind``), and each
route takes about a minute under it. Routes are named as in ``bench.run``'s
``--routes`` (``function:label``).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import shutil
import subprocess
import sys
from typing import Any
from urllib.parse import urlsplit

from bench import PY, ROOT
from bench.server import function_source

DEFAULT_ROUTES = "hello,character:catalog,my:profile,my:points history,character:analysis"
_COLLECTED = re.compile(r"Collected : (\d+)")


def _child(spec: dict[str, Any], n: int) -> None:
    """Serve ``n`` requests of ``spec`` in process, after 200 warm ones (run under valgrind)."""
    import functools

    import functions_framework
    import werkzeug.test

    os.environ.update(spec["env"])
    os.chdir(os.path.dirname(spec["source"]))
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - the request log lines
    app = functions_framework.create_app(target="handle", source=spec["source"])
    url = urlsplit(spec["path"])
    environ = werkzeug.test.EnvironBuilder(path=url.path, query_string=url.query, method=spec["method"],
                                           headers=spec["headers"], data=spec["body"] or None).get_environ()
    body = spec["body"].encode()

    def call(_: Any = None, __: Any = None) -> None:
        statuses: list[str] = []
        b"".join(app({**environ, "wsgi.input": io.BytesIO(body)}, lambda s, h, e=None: statuses.append(s)))
        if not statuses[0].startswith(str(spec["status"])):
            raise SystemExit(f"{spec['path']}: {statuses[0]}")

    for _ in range(200):
        call()
    functools.reduce(call, range(n), None)


def _count(spec: dict[str, Any], n: int) -> int:
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", PY, "-m", "bench.instructions",
         "--child", json.dumps(spec), str(n)],
        # The function's environment from the start: its PYTHONPATH (this checkout's
        # platform/) must come before the virtualenv's own path to the runtime.
        cwd=ROOT, capture_output=True, text=True, env={**spec["env"], "PYTHONHASHSEED": "0"},
    )
    found = _COLLECTED.search(done.stderr)
    if done.returncode != 0 or found is None:
        raise RuntimeError(f"{spec['path']}: valgrind failed\n{done.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--routes", default=DEFAULT_ROUTES)
    parser.add_argument("--low", type=int, default=100)
    parser.add_argument("--high", type=int, default=300)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args()
    if args.child:
        _child(json.loads(args.child), int(rest[0]))
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (Debian: apt-get install valgrind)")

    from bench.run import all_routes
    from bench.stack import stack
    from bench.users import make_users

    wanted = [name.strip() for name in args.routes.split(",") if name.strip()]
    routes = {f"{r.function}:{r.label}": r for r in all_routes()}
    routes["hello"] = routes.pop("hello:hello")
    unknown = [name for name in wanted if name not in routes or routes[name].kind == "refresh"]
    if unknown:
        known = sorted(name for name, route in routes.items() if route.kind != "refresh")
        raise SystemExit(f"unknown routes {unknown} (a refresh token rotates once); known: {known}")
    with stack() as st:
        user = make_users(st, 1, 0).users[0]
        rows = []
        for name in wanted:
            route = routes[name]
            headers = {"X-Forwarded-For": "10.0.0.1"}
            if route.kind == "user":
                headers["Authorization"] = f"Bearer {user.access_token}"
            if route.body:
                headers["Content-Type"] = "application/json"
            spec = {"env": st.env(), "source": str(function_source(route.function)), "method": route.method,
                    "path": route.path, "headers": headers, "body": route.body or "", "status": route.status}
            low, high = _count(spec, args.low), _count(spec, args.high)
            per = (high - low) / (args.high - args.low)
            rows.append((name, per))
            print(f"{name}: {per / 1000:,.1f} thousand instructions per request", flush=True)
    hello = dict(rows).get("hello")
    print("\n| route | thousand instructions per request | × hello |\n|---|--:|--:|")
    for name, per in rows:
        print(f"| {name} | {per / 1000:,.1f} | {per / hello:.2f} |" if hello else f"| {name} | {per / 1000:,.1f} | |")


if __name__ == "__main__":
    main()
