"""A running stack for the contract tests: every function behind the dev
gateway (real processes), on the test PostgreSQL and Redis, signing in
through the auth tests' fake OAuth provider, with the app's origin allowed.

The app's origin is a real server on loopback serving an empty page (the
app's shell, for the browser run): a page a browser got from loopback may call
the API on loopback, as one from a public origin may call a public API
(Chromium's local network access checks refuse a public page calling loopback).
The gateway listens on a port chosen before it starts, because the callback
URL the app sends (``{API base URL}/api/v1/auth/{provider}/callback``) must be
under the auth function's public URL.
"""

from __future__ import annotations

import json
import socket
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from eco2_tools.embedded import EmbeddedS3

from ..auth.fake_oauth import CLIENTS, FakeProvider
from ..conftest import TEST_REDIS_DB, flushed_redis, scratch_database, with_database
from ..gateway.harness import RunningGateway
from .app import App

CONTRACT_REDIS_DB = TEST_REDIS_DB + 2  # kept for the package; the reliability tier has + 1
SHELL = b"<!doctype html><meta charset=utf-8><title>Eco2</title>"

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Shell(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(SHELL)))
        self.end_headers()
        self.wfile.write(SHELL)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="package")
def app_origin() -> Iterator[str]:
    """Where the app runs: its origin, as the browser and ECO2_APP_ORIGINS name it."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Shell)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="package")
def fake_provider() -> Iterator[FakeProvider]:
    with FakeProvider() as fake:
        yield fake


@pytest.fixture(scope="package")
def contract_database(pg_server: str, template_database: str) -> Iterator[str]:
    """A fresh, migrated database for the whole package (one stack for all its modules)."""
    with scratch_database(pg_server, "eco2_contract", template_database) as name:
        yield with_database(pg_server, name)


@pytest.fixture(scope="package")
def stack(contract_database: str, redis_server: str, key_env: dict[str, str], fake_provider: FakeProvider,
          app_origin: str, s3_server: EmbeddedS3) -> Iterator[RunningGateway]:
    port = free_port()
    # The upload bucket on the embedded store, for image (presigns into it), scan
    # and chat (fetch the app's image_url from it), as eco2 dev hands it to them.
    bucket = f"eco2-contract-{uuid.uuid4().hex[:8]}"
    s3_server.create_bucket(bucket, [app_origin])
    uploads = s3_server.env(bucket)
    env = {
        **key_env,
        "ECO2_LOG_LEVEL": "WARNING",
        "ECO2_APP_ORIGINS": app_origin,
        "ECO2_CORS_ORIGINS": app_origin,
        "ECO2_AUTH_PUBLIC_URL": f"http://localhost:{port}",
        "ECO2_OAUTH_ENDPOINTS": json.dumps(fake_provider.endpoints()),
        "ECO2_OAUTH_ALLOWED_HOSTS": "127.0.0.1",
        "ECO2_RATE_LIMIT_PER_MINUTE": "10000",
    }
    for provider, (client_id, secret) in CLIENTS.items():
        env[f"ECO2_OAUTH_{provider.upper()}_CLIENT_ID"] = client_id
        env[f"ECO2_OAUTH_{provider.upper()}_CLIENT_SECRET"] = secret
    gateway = RunningGateway(port=port, database_url=contract_database,
                             redis_url=flushed_redis(redis_server, CONTRACT_REDIS_DB), env=env,
                             function_env={"image": uploads, "scan": uploads, "chat": uploads})
    try:
        yield gateway
    finally:
        gateway.stop()


@pytest.fixture
def base(stack: RunningGateway) -> str:
    """The API base URL the app is built with (VITE_API_BASE_URL)."""
    return f"http://localhost:{stack.port}"


@pytest.fixture
def app(base: str, app_origin: str) -> Iterator[App]:
    client = App(base, app_origin)
    yield client
    client.http.close()


@pytest.fixture
def signed_in(app: App, fake_provider: FakeProvider) -> App:
    """The app after a Google sign-in, holding both cookies."""
    fake_provider.next_user["google"] = {"id": f"g-{uuid.uuid4()}", "name": "홍길동", "verified": True,
                                         "email": f"{uuid.uuid4().hex[:12]}@example.com"}
    back = app.login("google")
    assert back.status_code == 302 and back.headers["Location"] == f"{app.origin}/#/home", back.text
    assert app.cookie("s_access") and app.cookie("s_refresh")
    return app
