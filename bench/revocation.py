"""The window between a logout and the first refused request on another function.

auth and my run as servers (as in the throughput runs). Each round signs a
user in through auth's dev login, reads my's profile with the token a few
times (so my holds the token's revocation keys in process: eco2.tracking),
logs out through auth, and then, as soon as the logout's answer is in, reads
my's profile with the same token until it is refused. A request answered 200
after the logout's answer would be a stale one; the figures are how many there
were, and the time from the logout's answer to the first 401.
"""

from __future__ import annotations

import http.client
import json
import time
from typing import Any, Callable

from bench.server import Server
from bench.stats import log, median


def _client(port: int) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", port, timeout=10)


def _call(conn: http.client.HTTPConnection, method: str, path: str, token: str | None = None,
          body: dict[str, Any] | None = None) -> tuple[int, bytes]:
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    response = conn.getresponse()
    return response.status, response.read()


def run(env_for: Callable[[str], dict[str, str]], logdir: Any, rounds: int = 50) -> dict[str, Any]:
    servers = {name: Server(name, env_for(name), log_path=logdir / f"revocation-{name}.log") for name in ("auth", "my")}
    try:
        for server in servers.values():
            server.start()
        for server in servers.values():
            server.wait_ready()
        auth, my = _client(servers["auth"].port), _client(servers["my"].port)
        stale, windows_us, refusals = 0, [], []
        for i in range(rounds):
            status, raw = _call(auth, "POST", "/api/v1/auth/dev/login", body={"nickname": f"revoke{i:04d}"})
            if status != 200:
                raise RuntimeError(f"dev login: {status} {raw[:200]!r}")
            token = json.loads(raw)["access_token"]
            for _ in range(3):  # read, then answered from what my keeps in process
                status, raw = _call(my, "GET", "/api/v1/user/me", token)
                if status != 200:
                    raise RuntimeError(f"profile: {status} {raw[:200]!r}")
            status, raw = _call(auth, "POST", "/api/v1/auth/logout", token)
            if status != 200:
                raise RuntimeError(f"logout: {status} {raw[:200]!r}")
            answered = time.perf_counter()
            for tries in range(1, 10001):
                status, _ = _call(my, "GET", "/api/v1/user/me", token)
                if status == 401:
                    windows_us.append((time.perf_counter() - answered) * 1e6)
                    refusals.append(tries)
                    break
                stale += 1
            else:
                raise RuntimeError("a logged-out token was never refused")
        figures = {
            "rounds": rounds,
            "stale_answers_after_logout": stale,
            "first_request_refused": sum(1 for t in refusals if t == 1),
            "logout_to_first_401_p50_us": round(median(windows_us) or 0),
            "logout_to_first_401_max_us": round(max(windows_us)),
        }
        log(f"revocation: {figures}")
        return figures
    finally:
        for server in servers.values():
            server.stop()
