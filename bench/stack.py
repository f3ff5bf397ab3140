"""The backing services of a run: an embedded PostgreSQL (migrated, with the
shipped reference data) and Redis, a signing key, and the functions' environment.

Nothing here touches the developer's `.eco2/`: the benchmarks start their own
servers in a temporary directory and stop them after.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator

from bench import PLATFORM

MAX_RATE = "10000"  # ECO2_RATE_LIMIT_PER_MINUTE's upper bound: one client IP makes every request


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
