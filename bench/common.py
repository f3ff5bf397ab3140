"""What every benchmark shares: the backing services, the functions' environment,
function server processes, bench users, and statistics.

Nothing here touches the developer's `.eco2/`: the benchmarks start their own
embedded PostgreSQL and Redis in a temporary directory and stop them after.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

ROOT = Path(__file__).resolve().parents[1]
PLATFORM = ROOT / "platform"
PY = sys.executable
HELLO = ROOT / "bench" / "fixtures" / "hello" / "main.py"
MAX_RATE = "10000"  # ECO2_RATE_LIMIT_PER_MINUTE's upper bound: one client IP makes every request


def log(text: str) -> None:
    sys.stderr.write(f"bench | {text}\n")
    sys.stderr.flush()


def free_port() -> int:
    from eco2_tools.embedded import free_port as _free

    return _free()


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def percentile(values: list[float], q: float) -> float | None:
    """The ``q``-th percentile (0-100) by nearest rank."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, int(round(q / 100 * len(ordered) + 0.5)) - 1))
    return ordered[rank]


def ratio(value: float | None, base: float | None) -> float | None:
    if value is None or not base:
        return None
    return round(value / base, 3)


def cpus() -> list[int]:
    return sorted(os.sched_getaffinity(0))


def pin(pid: int, cpu: int | None) -> None:
    """Pin a process (its later children inherit it) to one CPU, as a pod's
    ``limits.cpu: 1`` bounds it to one CPU's worth of time."""
    if cpu is None:
        return
    with contextlib.suppress(OSError):
        os.sched_setaffinity(pid, {cpu})


def machine() -> dict[str, Any]:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_gib = None
    with contextlib.suppress(OSError, ValueError, IndexError):
        kb = int(Path("/proc/meminfo").read_text().split("MemTotal:")[1].split()[0])
        mem_gib = round(kb / 1024 / 1024, 1)
    load = None
    with contextlib.suppress(OSError):
        load = [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    import platform

    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_gib": mem_gib,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "loadavg_at_start": load,
    }


# -- backing services --------------------------------------------------------------


class Stack:
    """An embedded PostgreSQL (migrated, with the shipped reference data) and
    Redis, and a signing key, in ``workdir``; the environment functions get."""

    def __init__(self, workdir: Path) -> None:
        from eco2_tools.embedded import EmbeddedPostgres, EmbeddedRedis

        self.workdir = workdir
        self.pg = EmbeddedPostgres(workdir / "postgres", durable=False)
        self.redis = EmbeddedRedis(workdir / "redis", persist=False)
        self.keys = workdir / "keys"

    def start(self) -> "Stack":
        from eco2 import migrate
        from eco2_tools.keys import generate

        self.pg.start()
        self.redis.start()
        migrate.apply(self.pg.url)
        generate(self.keys)
        return self

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.redis.stop()
        with contextlib.suppress(Exception):
            self.pg.destroy()

    @property
    def database_url(self) -> str:
        return self.pg.url

    @property
    def redis_url(self) -> str:
        return self.redis.url

    def env(self, **extra: str) -> dict[str, str]:
        """A function's environment: as `eco2 dev` gives it (ECO2_ENV=dev), on
        these servers, with the rate limit out of the way (one client IP)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ECO2_", "DATABASE_URL", "REDIS_URL"))}
        for name in ("THREADS", "WORKERS", "PYTHONPROFILEIMPORTTIME"):
            env.pop(name, None)
        env.update(
            {
                "PYTHONPATH": str(PLATFORM),
                "PYTHONUNBUFFERED": "1",
                "ECO2_ENV": "dev",
                "ECO2_LOG_LEVEL": "INFO",
                "DATABASE_URL": self.database_url,
                "REDIS_URL": self.redis_url,
                "ECO2_JWT_SIGNING_KEY_FILE": str(self.keys / "signing.pem"),
                "ECO2_JWKS_FILE": str(self.keys / "jwks.json"),
                "ECO2_RATE_LIMIT_PER_MINUTE": MAX_RATE,
                # The load generator sends X-Forwarded-For as a proxy would, so that
                # one machine can be many clients of the per-address rate limits.
                "ECO2_TRUSTED_PROXY_HOPS": "1",
                "ECO2_ACCESS_TTL_SECONDS": "7200",
            }
        )
        env.update(extra)
        return env


@contextlib.contextmanager
def stack() -> Iterator[Stack]:
    with tempfile.TemporaryDirectory(prefix="eco2-bench-") as tmp:
        started = Stack(Path(tmp))
        try:
            yield started.start()
        finally:
            started.stop()


# -- function processes ----------------------------------------------------------------


def function_source(name: str) -> Path:
    return HELLO if name == "hello" else ROOT / "functions" / name / "main.py"


def command(source: Path, port: int, *python_flags: str) -> list[str]:
    return [PY, *python_flags, "-m", "functions_framework", "--target", "handle",
            "--source", str(source), "--host", "127.0.0.1", "--port", str(port)]


@dataclass
class Server:
    """One function served by functions-framework (gunicorn inside), in its own
    process group, started the way `eco2 dev` and the cluster start it."""

    name: str
    env: dict[str, str]
    cpu: int | None = None
    python_flags: tuple[str, ...] = ()
    log_path: Path | None = None  # None: output is captured as lines
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None
    started: float = 0.0
    lines: list[tuple[float, str]] = field(default_factory=list)
    _reader: threading.Thread | None = None
    _log: Any = None

    @property
    def source(self) -> Path:
        return function_source(self.name)

    def start(self) -> "Server":
        if self.log_path is not None:
            self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
            out: Any = self._log
        else:
            out = subprocess.PIPE
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            command(self.source, self.port, *self.python_flags),
            env=self.env,
            cwd=self.source.parent,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        pin(self.proc.pid, self.cpu)
        if self.log_path is None:
            self._reader = threading.Thread(target=self._read, daemon=True)
            self._reader.start()
        return self

    def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for raw in self.proc.stdout:
            self.lines.append((time.perf_counter(), raw.decode(errors="replace").rstrip("\n")))

    def json_lines(self) -> list[tuple[float, dict[str, Any]]]:
        found = []
        for at, line in list(self.lines):
            if line.startswith("{"):
                with contextlib.suppress(ValueError):
                    found.append((at, json.loads(line)))
        return found

    def wait_for_line(self, predicate: Any, timeout: float = 5.0) -> tuple[float, dict[str, Any]] | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for at, doc in self.json_lines():
                if predicate(doc):
                    return at, doc
            time.sleep(0.005)
        return None

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}: {self.output_tail()}")
            try:
                status, _ = request(self.port, "GET", "/readyz" if self.name != "hello" else "/", timeout=2)
                if status == 200:
                    return
            except OSError:
                time.sleep(0.01)
        raise TimeoutError(f"{self.name} not ready in {timeout} s: {self.output_tail()}")

    def output_tail(self) -> str:
        if self.log_path is not None and self.log_path.exists():
            return self.log_path.read_text(errors="replace")[-2000:]
        return "\n".join(line for _, line in self.lines[-20:])

    def cpu_seconds(self) -> float:
        """User + system CPU time so far of the server's processes (the
        gunicorn master and its workers: the process group)."""
        if self.proc is None:
            return 0.0
        total = 0
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            with contextlib.suppress(OSError, ValueError, IndexError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                if int(fields[2]) == self.proc.pid:  # the process group is the master's pid
                    total += int(fields[11]) + int(fields[12])
        return total / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGKILL)  # a worker must not outlive its master
        if self._reader is not None:
            self._reader.join(2)
        if self._log is not None:
            self._log.close()
            self._log = None


def request(port: int, method: str, path: str, *, headers: dict[str, str] | None = None,
            body: bytes | None = None, timeout: float = 30) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


# -- routes and users ----------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    """A representative request of a function. ``kind``: ``plain`` (the same
    request), ``user`` (each request as another bench user, with a bearer token),
    ``refresh`` (a chain of refresh-token rotations). ``paths`` cycles through
    several paths (search queries, positions)."""

    function: str
    label: str
    method: str
    path: str
    kind: str = "plain"
    paths: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.function}:{self.label}"

    def all_paths(self) -> tuple[str, ...]:
        return self.paths or (self.path,)


@dataclass
class User:
    user_id: str
    access_token: str
    refresh_token: str


@dataclass
class Users:
    """Bench users (from dev login), each with points history and scans, plus a
    supply of unused refresh tokens (each one may be rotated exactly once)."""

    users: list[User]
    spare_refresh: list[str]

    def take_refresh(self, n: int) -> list[str]:
        if len(self.spare_refresh) < n:
            raise RuntimeError("out of bench refresh tokens")
        taken, self.spare_refresh = self.spare_refresh[:n], self.spare_refresh[n:]
        return taken


SCAN_MIX = (  # (major, middle, correct): what a week of scanning looks like
    ("재활용폐기물", "무색페트병", True),
    ("재활용폐기물", "종이", True),
    ("재활용폐기물", "캔류", False),
    ("재활용폐기물", "비닐류", True),
    ("일반종량제폐기물", None, True),
    ("재활용폐기물", "유리병", False),
)


def make_users(st: Stack, count: int, spare_refresh: int) -> Users:
    """``count`` users through auth's dev login (in-process), their profiles
    created (my), and 18 scans each with their rewards (as scan will award them)."""
    import psycopg

    from eco2 import rewards
    from eco2.testing import Client

    env = st.env(ECO2_LOG_LEVEL="WARNING")
    auth = Client(ROOT / "functions" / "auth" / "main.py", env=env)
    my = Client(ROOT / "functions" / "my" / "main.py", env=env)
    users: list[User] = []
    spare: list[str] = []
    try:
        for i in range(count + spare_refresh):
            nickname = f"bench{i:05d}"
            reply = auth.post("/api/v1/auth/dev/login", json={"nickname": nickname})
            if reply.status != 200:
                raise RuntimeError(f"dev login failed: {reply.status} {reply.body[:200]!r}")
            doc = reply.json
            if i < count:
                users.append(User(doc["user_id"], doc["access_token"], doc["refresh_token"]))
            else:
                spare.append(doc["refresh_token"])
        for user in users:
            profile = my.get("/api/v1/user/me", headers={"Authorization": f"Bearer {user.access_token}"})
            if profile.status != 200:
                raise RuntimeError(f"profile failed: {profile.status} {profile.body[:200]!r}")
        with psycopg.connect(st.database_url) as conn:
            for user in users:
                for n in range(18):
                    major, middle, correct = SCAN_MIX[n % len(SCAN_MIX)]
                    with conn.transaction():
                        (scan_id,) = conn.execute(
                            """INSERT INTO scan.scans (user_id, major_category, middle_category, recyclable,
                                                      correct, missing_steps)
                               VALUES (%s, %s, %s, %s, %s, %s) RETURNING id""",
                            (user.user_id, major, middle, major == "재활용폐기물", correct,
                             [] if correct else ["rinse"]),
                        ).fetchone()
                        rewards.award_scan(conn, user.user_id, str(scan_id), major=major, middle=middle,
                                           correct=correct)
    finally:
        auth.close()
        my.close()
    return Users(users, spare)


def route_exists(name: str, method: str, path: str) -> bool:
    """Whether function ``name`` declares a route for ``method path`` (checked
    in-process, without serving it)."""
    from urllib.parse import urlsplit

    from eco2.testing import Client

    if name == "hello":
        return True
    client = Client(function_source(name), env={"ECO2_ENV": "test", "ECO2_LOG_LEVEL": "ERROR",
                                                "PYTHONPATH": str(PLATFORM)})
    match = client.function.router.match(method, urlsplit(path).path)
    return bool(match and match.route)


def emit(figures: dict) -> None:
    """A domain benchmark's figures for bench/domain.py: to ECO2_BENCH_JSON, else as the last line."""
    text = json.dumps(figures, ensure_ascii=False)
    target = os.environ.get("ECO2_BENCH_JSON")
    if target:
        Path(target).write_text(text, encoding="utf-8")
    else:
        print(text)
