"""chat: its cold start to the first streamed token, the latency it adds to the model's, and
what its code costs the other functions.

    python -m bench.chat [--cold N] [--repeat N]     (run by `make bench`, bench/domain.py)

Reports, all measured in this run on this machine, against the tests' fake
OpenAI server (tests/fakes/openai_server.py: a real HTTP server on loopback,
answering at once, a fixed answer in chunks of 8 characters):

- cold, spawn (``python -m eco2.serve``, as the image runs it) to: ready, the
  first streamed ``delta`` and the ``done`` event with a key (the openai client
  imported on that request), and the first offline answer without one; the
  baseline is the hello world's spawn to its first 200, interleaved with them;
- warm, per message: chat's answer (JSON, and a stream's first ``delta`` and
  ``done``) against the same completion asked of the fake directly with the
  openai client (the fake's own latency plus the client's): the difference is
  what chat adds (token check, rate limit and session in Redis, search, prompt,
  the guard, the response);
- the other functions: what each one's main.py and a /healthz import, in a
  fresh interpreter, and which of openai, onnxruntime, PIL, urllib3 and
  eco2.chat are among them: chat's code (openai, eco2.chat) must be in no
  other function's start, and chat must load none of the others for /healthz
  or an offline answer.

The figures go, as one JSON object, to the file named by ECO2_BENCH_JSON, or
are printed as the last line.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Iterator

from bench import PLATFORM, PY, ROOT
from bench.server import Server, request
from bench.stats import emit, log, percentile, ratio

ANSWER = ("투명 페트병은 내용물을 비우고 물로 헹군 뒤 라벨을 떼어 내요. 병을 눌러 찌그러뜨리고 뚜껑을 닫아서 "
          "투명 페트병 전용 수거함에 내놓으면 돼요. 라벨은 비닐류로 따로 버려 주세요.")
MESSAGE = "투명 페트병은 어떻게 버려요?"
HEAVY = ("openai", "onnxruntime", "PIL", "urllib3", "eco2.chat")


@contextlib.contextmanager
def backing() -> Iterator[dict[str, str]]:
    """Redis and a signing key: the domain run's (its environment), or a stack of our own."""
    if os.environ.get("REDIS_URL") and os.environ.get("ECO2_JWKS_FILE"):
        yield dict(os.environ)
        return
    from bench.stack import stack

    with stack() as st:
        yield st.env()


def token(env: dict[str, str]) -> str:
    from eco2 import config
    from eco2.auth.signing import Signer

    pem = Path(env["ECO2_JWT_SIGNING_KEY_FILE"]).read_bytes()
    return Signer(config.load(environ=env), pem).issue(str(uuid.uuid4()), 7200)[0]


def post(port: int, bearer: str, stream: bool, session: str | None = None, timeout: float = 30) -> dict[str, float]:
    """One message (in ``session``, or a new one); milliseconds to the response's head, the first delta and the end."""
    headers = {"Authorization": f"Bearer {bearer}", "Content-Type": "application/json",
               "Accept": "text/event-stream" if stream else "application/json"}
    body = json.dumps({"message": MESSAGE, **({"session_id": session} if session else {})}).encode()
    start = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", "/api/v1/chat/messages", body=body, headers=headers)
        response = conn.getresponse()
        head = time.perf_counter()
        first, events = None, []
        if stream:
            while line := response.readline():
                if line.startswith(b"event: "):
                    events.append(line[7:].strip().decode())
                    if first is None and events[-1] == "delta":
                        first = time.perf_counter()
        else:
            response.read()
        end = time.perf_counter()
        expected = 201 if not stream else 200
        if response.status != expected or (stream and events[-1:] != ["done"]):
            raise RuntimeError(f"chat answered {response.status}, events {events[-3:]}")
    finally:
        conn.close()
    ms = lambda t: (t - start) * 1000  # noqa: E731
    return {"head_ms": ms(head), "first_delta_ms": ms(first) if first else None, "end_ms": ms(end)}


def wait_ready(server: Server, path: str) -> float:
    """Spawn to the first 200 of ``path``, polled as Knative's activator probes."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.proc is not None and server.proc.poll() is not None:
            raise RuntimeError(f"{server.name} exited: {server.output_tail()}")
        with contextlib.suppress(OSError):
            if request(server.port, "GET", path, timeout=2)[0] == 200:
                return (time.perf_counter() - server.started) * 1000
        time.sleep(0.005)
    raise TimeoutError(server.name)


def med(values: list[float | None]) -> float | None:
    found = [v for v in values if v is not None]
    return round(statistics.median(found), 1) if found else None


def cold(env: dict[str, str], online: dict[str, str], reps: int) -> dict[str, Any]:
    runs: dict[str, list[dict[str, float]]] = {"hello": [], "chat_stream": [], "chat_offline": []}
    for n in range(reps + 1):  # the first round is discarded: it compiles the .pyc files
        for mode in runs:  # interleaved: the same machine load on each
            name = "hello" if mode == "hello" else "chat"
            server = Server(name, {**env, **(online if mode == "chat_stream" else {})}).start()
            try:
                ready = wait_ready(server, "/" if name == "hello" else "/readyz")
                row = {"ready_ms": ready}
                if name == "chat":
                    since = (time.perf_counter() - server.started) * 1000
                    answer = post(server.port, token(env), stream=mode == "chat_stream")
                    row.update({k: v + since for k, v in answer.items() if v is not None})
            finally:
                server.stop()
            if n:
                runs[mode].append(row)
    hello = med([r["ready_ms"] for r in runs["hello"]])
    out: dict[str, Any] = {"runs_each": reps, "hello_spawn_to_first_200_ms": hello}
    for mode in ("chat_stream", "chat_offline"):
        rows = runs[mode]
        figures = {k: med([r.get(k) for r in rows]) for k in ("ready_ms", "first_delta_ms", "end_ms")}
        figures = {k: v for k, v in figures.items() if v is not None}
        figures["x_hello"] = {k: ratio(v, hello) for k, v in figures.items()}
        out[mode] = figures
    return out


def timed(fn: Any, n: int) -> dict[str, float]:
    fn()  # warm
    runs = [fn() for _ in range(n)]
    return {"p50_ms": round(statistics.median(runs), 2), "p90_ms": round(percentile(runs, 90) or 0, 2), "n": n}


def warm(env: dict[str, str], online: dict[str, str], fake: Any, repeat: int) -> dict[str, Any]:
    import openai

    from eco2.chat import grounding, prompt, sessions
    from eco2.chat.settings import ChatSettings

    # The prompt chat sends once its session is full: the same history, so the
    # difference is chat's work, not a longer request to the fake.
    history = [sessions.Turn(MESSAGE, ANSWER)] * ChatSettings.model_fields["history_turns"].default
    messages = prompt.messages(grounding.retrieve(MESSAGE), history, MESSAGE)
    direct = openai.OpenAI(api_key="sk-bench", base_url=fake.base_url, max_retries=0)

    def direct_json() -> float:
        start = time.perf_counter()
        direct.chat.completions.create(model="gpt-4o-mini", messages=messages, max_tokens=400)
        return (time.perf_counter() - start) * 1000

    def direct_stream(first: bool) -> float:
        start = time.perf_counter()
        for chunk in direct.chat.completions.create(model="gpt-4o-mini", messages=messages, stream=True):
            if first and chunk.choices and chunk.choices[0].delta.content:
                return (time.perf_counter() - start) * 1000
        return (time.perf_counter() - start) * 1000

    server = Server("chat", {**env, **online}).start()
    try:
        wait_ready(server, "/readyz")
        bearer = token(env)
        # One conversation: its history grows to ECO2_CHAT_HISTORY_TURNS and is sent with each message.
        via = {
            "json": timed(lambda: post(server.port, bearer, False, "bench")["end_ms"], repeat),
            "stream_first_delta": timed(lambda: post(server.port, bearer, True, "bench")["first_delta_ms"], repeat),
            "stream_done": timed(lambda: post(server.port, bearer, True, "bench")["end_ms"], repeat),
        }
    finally:
        server.stop()
    alone = {
        "json": timed(direct_json, repeat),
        "stream_first_delta": timed(lambda: direct_stream(True), repeat),
        "stream_done": timed(lambda: direct_stream(False), repeat),
    }
    return {
        "via_chat": via,
        "fake_directly": alone,
        "added_p50_ms": {k: round(via[k]["p50_ms"] - alone[k]["p50_ms"], 2) for k in via},
        "note": "the session grows to ECO2_CHAT_HISTORY_TURNS turns over the run, as a conversation would",
    }


IMPORTS = r"""
import json, sys, time
start = time.perf_counter()
from eco2.testing import Client
client = Client(sys.argv[1], env=json.loads(sys.argv[2]))
assert client.get("/healthz").status == 200
took = (time.perf_counter() - start) * 1000
watched = json.loads(sys.argv[3])
out = {"import_and_healthz_ms": took, "heavy": sorted(m for m in watched if m in sys.modules)}
if len(sys.argv) > 4:  # chat: and after an offline answer
    answer = client.post("/api/v1/chat/messages", json={"message": "페트병"},
                         headers={"Authorization": "Bearer " + sys.argv[4]})
    assert answer.status == 201 and answer.json["model"] == "offline", answer.body
    out["heavy_after_offline_answer"] = sorted(m for m in watched if m in sys.modules)
print(json.dumps(out))
"""


def others(env: dict[str, str], reps: int) -> dict[str, Any]:
    from eco2_tools.functions import discover

    out: dict[str, Any] = {}
    for spec in discover():
        rows = []
        extra = [token(env)] if spec.name == "chat" else []
        for _ in range(reps):
            done = subprocess.run([PY, "-c", IMPORTS, str(spec.source), json.dumps(env), json.dumps(HEAVY), *extra],
                                  capture_output=True, text=True, check=True, cwd=ROOT,
                                  env={**env, "PYTHONPATH": str(PLATFORM), "ECO2_LOG_LEVEL": "ERROR"})
            rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
        own = {"eco2.chat"} if spec.name == "chat" else set()  # chat's own package, of course
        out[spec.name] = {"import_and_healthz_ms": med([r["import_and_healthz_ms"] for r in rows]),
                          "heavy_modules_loaded": [m for m in rows[-1]["heavy"] if m not in own]}
        if extra:
            out[spec.name]["heavy_after_offline_answer"] = [
                m for m in rows[-1]["heavy_after_offline_answer"] if m not in own]
    # What chat's code could add to another function's start: openai or eco2.chat.
    moved = [name for name, v in out.items() if name != "chat" and {"openai", "eco2.chat"} & set(v["heavy_modules_loaded"])]
    chat = out["chat"]["heavy_modules_loaded"] + out["chat"]["heavy_after_offline_answer"]
    out["verdict"] = (
        ("no other function loads openai or eco2.chat for /healthz" if not moved
         else f"chat's code is in the start of: {', '.join(moved)}")
        + ("; chat loads none of " + ", ".join(HEAVY[:-1]) + " for /healthz or an offline answer" if not chat
           else f"; chat loads {', '.join(sorted(set(chat)))} for /healthz or an offline answer")
    )
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    # Defaults sized for make bench's 180 s per domain benchmark on a loaded 2-core machine.
    parser.add_argument("--cold", type=int, default=3, help="fresh servers per mode")
    parser.add_argument("--repeat", type=int, default=30, help="warm messages per measure")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))  # tests.fakes: the fake OpenAI server
    from tests.fakes.openai_server import FakeOpenAI, Reply

    started = time.perf_counter()
    with backing() as env, FakeOpenAI() as fake:
        fake.default = Reply(content=ANSWER, chunk_size=8)
        env = {**env, "ECO2_LOG_LEVEL": "WARNING", "ECO2_CHAT_RATE_LIMIT": "10000", "PYTHONPATH": str(PLATFORM)}
        env.pop("OPENAI_API_KEY", None)
        online = {"OPENAI_API_KEY": "sk-bench", "OPENAI_BASE_URL": fake.base_url}
        log("chat: cold starts")
        figures: dict[str, Any] = {"load_average_at_start": round(os.getloadavg()[0], 2),
                                   "cold": cold(env, online, args.cold)}
        log("chat: warm messages")
        figures["warm"] = warm(env, online, fake, args.repeat)
        log("chat: the other functions' imports")
        figures["other_functions"] = others(env, 2)
    figures["seconds"] = round(time.perf_counter() - started, 1)
    emit(figures)


if __name__ == "__main__":
    main()
