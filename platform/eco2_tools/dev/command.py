"""`eco2 dev`: the backing services, migrations, dev keys and signals around a Gateway."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eco2 import migrate
from eco2_tools.dev.gateway import Gateway
from eco2_tools.dev.process import say
from eco2_tools.embedded import EmbeddedPostgres, EmbeddedRedis, EmbeddedS3
from eco2_tools.functions import repo_root


@dataclass
class Backing:
    """A backing service for the functions: its URL, and the server we started for it."""

    variable: str
    url: str
    server: EmbeddedPostgres | EmbeddedRedis | EmbeddedS3 | None = None

    def describe(self) -> str:
        if self.server is None:
            return f"${self.variable} (external)"
        if isinstance(self.server, EmbeddedS3):
            return f"{self.url} (embedded, objects in memory)"
        return f"{self.url} (embedded, data in {self.server.datadir})"


def _backing(variable: str, embedded: Callable[[], EmbeddedPostgres | EmbeddedRedis],
             started: list[Backing]) -> Backing:
    """``$variable`` when it is set; otherwise an embedded server, started here."""
    url = os.environ.get(variable)
    if url:
        return Backing(variable, url)
    server = embedded()
    backing = Backing(variable, server.url, server)
    started.append(backing)  # before start(): a half-started server is stopped too
    say("gateway", f"starting {type(server).__name__} in {server.datadir}")
    server.start()
    return backing


# The functions that read the upload bucket's settings (eco2.image.settings).
UPLOAD_FUNCTIONS = ("image", "scan", "chat")
DEV_BUCKET = "eco2-uploads"


def _uploads(started: list[Backing], origins: list[str]) -> tuple[Backing, dict[str, str]]:
    """$ECO2_IMAGE_BUCKET when it is set (a real bucket, with the developer's
    AWS variables); otherwise the embedded object store, started here, with the
    bucket made as Terraform makes it, and its variables for the functions."""
    bucket = os.environ.get("ECO2_IMAGE_BUCKET")
    if bucket:
        return Backing("ECO2_IMAGE_BUCKET", bucket), {}
    server = EmbeddedS3()
    backing = Backing("ECO2_IMAGE_BUCKET", server.url, server)
    started.append(backing)
    say("gateway", "starting EmbeddedS3 (moto's S3 server)")
    server.start()
    server.create_bucket(DEV_BUCKET, origins)
    return backing, server.env(DEV_BUCKET)


def _dev_env(directory: Path, port: int) -> dict[str, str]:
    """Settings for local development (the developer's ECO2_* variables still win):
    a token signing key for auth and the JWKS every function verifies with, made
    on first use; the local app origins; and the gateway as one trusted proxy
    (it appends the client to X-Forwarded-For, which the rate limits read)."""
    from eco2_tools.keys import ensure

    ensure(directory)
    say("gateway", f"dev token keys in {directory}")
    return {
        "ECO2_JWT_SIGNING_KEY_FILE": str(directory / "signing.pem"),
        "ECO2_JWKS_FILE": str(directory / "jwks.json"),
        "ECO2_APP_ORIGINS": f"http://localhost:5173,http://localhost:{port}",
        "ECO2_CORS_ORIGINS": "http://localhost:5173",
        "ECO2_AUTH_PUBLIC_URL": f"http://localhost:{port}",
        "ECO2_TRUSTED_PROXY_HOPS": "1",
    }


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def run(port: int, idle_seconds: float) -> None:
    """Serve every function on 127.0.0.1:``port`` until Ctrl-C or SIGTERM.

    Uses DATABASE_URL and REDIS_URL when set; otherwise starts an embedded
    PostgreSQL and Redis with their data under ``.eco2/``. Uses the bucket
    ECO2_IMAGE_BUCKET names when set; otherwise starts an embedded S3-compatible
    store (in memory). Everything started here is stopped on the way out.
    """
    root = repo_root()
    # Until the event loop takes over, SIGTERM unwinds like Ctrl-C, so that the
    # finally below stops the embedded servers.
    previous_handler = signal.signal(signal.SIGTERM, _interrupt)
    started: list[Backing] = []
    try:
        data = root / ".eco2"
        database = _backing("DATABASE_URL", lambda: EmbeddedPostgres(data / "postgres"), started)
        redis = _backing("REDIS_URL", lambda: EmbeddedRedis(data / "redis"), started)
        env = _dev_env(data / "keys", port)
        uploads, upload_env = _uploads(started, env["ECO2_APP_ORIGINS"].split(","))
        applied = migrate.apply(database.url)
        say("gateway", f"migrations applied: {' '.join(applied) or 'none pending'}")
        gateway = Gateway(
            root,
            database.url,
            redis.url,
            idle_seconds,
            database_embedded=database.server is not None,
            redis_embedded=redis.server is not None,
            env=env,
            function_env=dict.fromkeys(UPLOAD_FUNCTIONS, upload_env),
            # Host names besides localhost's to answer for (a LAN name, a tunnel's).
            allowed_hosts=[h for h in os.environ.get("ECO2_DEV_ALLOWED_HOSTS", "").split(",") if h.strip()],
        )
        asyncio.run(_serve(gateway, port, [database, redis, uploads]))
    except KeyboardInterrupt:
        pass
    finally:
        for backing in reversed(started):
            assert backing.server is not None
            say("gateway", f"stopping {type(backing.server).__name__}")
            backing.server.stop()
        signal.signal(signal.SIGTERM, previous_handler)


async def _serve(gateway: Gateway, port: int, backing: list[Backing]) -> None:
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    signals = (signal.SIGINT, signal.SIGTERM)
    for sig in signals:
        # Kept during the shutdown below: a second Ctrl-C must not cut it short.
        loop.add_signal_handler(sig, stopping.set)
    try:
        try:
            await gateway.start(port)
        except OSError as exc:
            message = f"eco2 dev: cannot listen on 127.0.0.1:{port}: {exc.strerror}"
            raise SystemExit(message) from None
        print(_banner(gateway, backing), flush=True)
        await stopping.wait()
        say("gateway", "stopping")
    finally:
        await gateway.stop()
        for sig in signals:
            loop.remove_signal_handler(sig)
        signal.signal(signal.SIGTERM, _interrupt)


def _banner(gateway: Gateway, backing: list[Backing]) -> str:
    lines = ["", f"eco2 dev on {gateway.url}   status: {gateway.url}/_eco2/", ""]
    for fn in gateway.functions.values():
        host = f"http://{fn.name}.localhost:{gateway.port}/"
        lines.append(f"  {fn.name:<10} {host:<36} {gateway.url}{fn.prefix}/")
    lines.append("")
    for service in backing:
        lines.append(f"  {service.variable:<17} {service.describe()}")
    lines += [
        "",
        f"A function starts on its first request and stops after {gateway.idle_seconds:g} s idle;",
        "a change under functions/<name>/ or platform/eco2/ restarts it. Ctrl-C stops everything.",
        "",
    ]
    return "\n".join(lines)
