"""eco2.fetch against real HTTP servers on loopback: allow-list, addresses, redirects, size, time."""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from eco2 import config, fetch
from eco2.image.settings import ImageSettings
from eco2.problems import Problem

PHOTO = bytes(range(256)) * 8  # 2 KiB
LIMIT = 4096
TRICKLE = 100  # bytes, one per 0.05 s: 5 s in all
TRICKLED = threading.Event()  # the whole of /trickle was sent
HEAD_TRICKLED = threading.Event()  # the whole of /trickle-head's slow header was sent


class Handler(BaseHTTPRequestHandler):
    release: threading.Event

    def log_message(self, *args: object) -> None:  # quiet
        pass

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        path = self.path
        if path == "/photo.jpg":
            self._send(200, PHOTO, {"Content-Type": "image/jpeg"})
        elif path == "/host":
            self._send(200, self.headers["Host"].encode())
        elif path.startswith("/hop/"):
            left = int(path.rsplit("/", 1)[1])
            self._send(302, headers={"Location": f"/hop/{left - 1}" if left else "/photo.jpg"})
        elif path == "/with-credentials":  # the allowed origin, with a user and password
            host = self.headers["Host"]
            self._send(302, headers={"Location": f"http://user:secret@{host}/photo.jpg"})
        elif path == "/away":
            self._send(302, headers={"Location": self.server.away})  # type: ignore[attr-defined]
        elif path == "/big":  # declares its size
            self._send(200, b"x" * (LIMIT + 1))
        elif path == "/big-chunked":  # does not: counted while read
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for _ in range(4):
                self.wfile.write(b"%x\r\n%s\r\n" % (LIMIT // 2, b"y" * (LIMIT // 2)))
            self.wfile.write(b"0\r\n\r\n")
        elif path == "/stall":  # headers, then nothing until the test ends
            self.send_response(200)
            self.send_header("Content-Length", "10")
            self.end_headers()
            self.wfile.flush()
            self.server.release.wait(10)  # type: ignore[attr-defined]
        elif path == "/trickle":  # one byte at a time, each well inside a socket timeout
            self.send_response(200)
            self.send_header("Content-Length", str(TRICKLE))
            self.end_headers()
            try:
                for sent in range(TRICKLE):
                    if sent == TRICKLE - 1:
                        TRICKLED.set()  # before the last byte: a client that has it has seen this
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    if self.server.release.wait(0.05):  # type: ignore[attr-defined]
                        return
            except OSError:  # the client left: what the deadline should do
                pass
        elif path == "/trickle-head":  # a header line one byte at a time: no body read to check a clock between
            try:
                self.wfile.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
                for _ in range(TRICKLE):
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    if self.server.release.wait(0.05):  # type: ignore[attr-defined]
                        return
                HEAD_TRICKLED.set()
                self.wfile.write(b"\r\nContent-Length: 0\r\n\r\n")
            except OSError:
                pass
        elif path == "/late":  # answers after a pause longer than the connect timeout below
            self.server.release.wait(0.4)  # type: ignore[attr-defined]
            self._send(200, PHOTO)
        elif path == "/missing":
            self._send(404, b"no")
        else:
            self._send(500, b"broken")


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[str, str]]:
    """Two servers: the allowed one and another (not allowed) one."""
    started = []
    release = threading.Event()
    for _ in range(2):
        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        server.release = release  # type: ignore[attr-defined]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        started.append(server)
    allowed, other = (f"http://127.0.0.1:{s.server_address[1]}" for s in started)
    started[0].away = other + "/photo.jpg"  # type: ignore[attr-defined]
    yield allowed, other
    release.set()
    for server in started:
        server.shutdown()
        server.server_close()


def rules(origin: str, *, private: bool = True, **kw: object) -> fetch.Policy:
    allowed = frozenset({origin})
    return fetch.Policy(allowed=allowed, max_bytes=LIMIT, private_ok=allowed if private else frozenset(), **kw)


def refusal(url: str, policy: fetch.Policy) -> tuple[int, str | None]:
    with pytest.raises(Problem) as caught:
        fetch.get(url, policy)
    return caught.value.status, caught.value.slug


def test_fetches_an_allowed_photo(servers: tuple[str, str]) -> None:
    allowed, _ = servers
    got = fetch.get(allowed + "/photo.jpg", rules(allowed))
    assert (got.data, got.content_type, got.url) == (PHOTO, "image/jpeg", allowed + "/photo.jpg")


def test_origin_not_on_the_list(servers: tuple[str, str]) -> None:
    allowed, other = servers
    for url in (other + "/photo.jpg", "file:///etc/passwd", "ftp://127.0.0.1/x", "not a url",
                allowed.replace("http:", "https:") + "/photo.jpg", allowed + ":99999/x"):
        assert refusal(url, rules(allowed)) == (422, "url-not-allowed"), url


def test_loopback_refused_unless_the_origin_may_be_private(servers: tuple[str, str]) -> None:
    allowed, _ = servers
    assert refusal(allowed + "/photo.jpg", rules(allowed, private=False)) == (422, "url-not-allowed")
    # A name that resolves to loopback is the same refusal.
    named = allowed.replace("127.0.0.1", "localhost")
    assert refusal(named + "/photo.jpg", rules(named, private=False)) == (422, "url-not-allowed")


@pytest.mark.parametrize("address,public", [
    ("8.8.8.8", True), ("2606:4700:4700::1111", True),
    ("127.0.0.1", False), ("10.1.2.3", False), ("172.16.0.1", False), ("192.168.1.1", False),
    ("169.254.169.254", False), ("100.64.0.1", False), ("0.0.0.0", False), ("240.0.0.1", False),
    ("224.0.0.1", False), ("::1", False), ("fe80::1", False), ("fd00::1", False),
    ("::ffff:127.0.0.1", False), ("::ffff:169.254.169.254", False),
    # IPv4 inside IPv6 other than mapped: NAT64, 6to4, Teredo, compatible, translated.
    ("64:ff9b::a9fe:a9fe", False), ("64:ff9b::7f00:1", False), ("64:ff9b::808:808", True),
    ("64:ff9b:1::a9fe:a9fe", False),
    ("2002:7f00:1::", False), ("2002:a9fe:a9fe::1", False), ("2002:808:808::1", True),
    ("2001:0:a9fe:a9fe::ffff:ffff", False),  # Teredo, server 169.254.169.254
    ("2001:0:808:808::80ff:fffe", False),  # Teredo, client (obfuscated) 127.0.0.1
    ("::127.0.0.1", False), ("::8.8.8.8", False), ("::ffff:0:a9fe:a9fe", False), ("::ffff:0:808:808", False),
])
def test_public_addresses(address: str, public: bool) -> None:
    assert fetch._public(ipaddress.ip_address(address)) is public


def test_connects_to_the_address_it_checked(servers: tuple[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """One lookup per hop, and the connection goes to its answer: the Host header keeps the
    name. photos.invalid resolves nowhere, so a second lookup (urllib3's own) would fail."""
    allowed, _ = servers
    port = int(allowed.rsplit(":", 1)[1])
    lookups = []
    real = socket.getaddrinfo

    def resolver(host: str, *args: object, **kw: object) -> list:
        lookups.append(host)
        return real("127.0.0.1" if host == "photos.invalid" else host, *args, **kw)

    monkeypatch.setattr(fetch.socket, "getaddrinfo", resolver)
    origin = f"http://photos.invalid:{port}"
    got = fetch.get(origin + "/host", rules(origin))
    assert got.data == f"photos.invalid:{port}".encode()
    assert lookups.count("photos.invalid") == 1  # then urllib3 "resolves" the address literal
    # The same name, not allowed to be private: refused before any connection.
    assert refusal(origin + "/host", rules(origin, private=False)) == (422, "url-not-allowed")


def test_each_address_is_tried_in_turn(servers: tuple[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """A name with two addresses, the first refusing connections (an AAAA record
    without an IPv6 route out, say): the second serves. Before: 502."""
    allowed, _ = servers
    port = int(allowed.rsplit(":", 1)[1])
    real = socket.getaddrinfo

    def two(host: str, *args: object, **kw: object) -> list:
        if host != "photos.invalid":
            return real(host, *args, **kw)
        return real("127.0.0.2", *args, **kw) + real("127.0.0.1", *args, **kw)  # nothing listens on .2

    monkeypatch.setattr(fetch.socket, "getaddrinfo", two)
    origin = f"http://photos.invalid:{port}"
    assert fetch.get(origin + "/photo.jpg", rules(origin)).data == PHOTO


def test_redirects_are_bounded_and_rechecked(servers: tuple[str, str]) -> None:
    allowed, _ = servers
    assert fetch.get(allowed + "/hop/2", rules(allowed)).url == allowed + "/photo.jpg"
    assert refusal(allowed + "/hop/3", rules(allowed, max_redirects=3)) == (502, "upstream-failed")
    # A hop to an origin that is not allowed.
    assert refusal(allowed + "/away", rules(allowed)) == (422, "url-not-allowed")


def test_credentials_in_a_url_are_refused_on_every_hop(servers: tuple[str, str]) -> None:
    allowed, _ = servers
    for userinfo in ("user:secret@", "user@", "@"):
        url = allowed.replace("http://", f"http://{userinfo}") + "/photo.jpg"
        assert refusal(url, rules(allowed)) == (422, "url-not-allowed"), url
    assert refusal(allowed + "/with-credentials", rules(allowed)) == (422, "url-not-allowed")


def test_size_is_capped(servers: tuple[str, str]) -> None:
    allowed, _ = servers
    assert refusal(allowed + "/big", rules(allowed)) == (413, "image-too-large")
    assert refusal(allowed + "/big-chunked", rules(allowed)) == (413, "image-too-large")


def test_upstream_errors(servers: tuple[str, str]) -> None:
    allowed, _ = servers
    assert refusal(allowed + "/missing", rules(allowed)) == (422, "image-unavailable")
    assert refusal(allowed + "/broken", rules(allowed)) == (502, "upstream-failed")
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    nobody = f"http://127.0.0.1:{port}"
    assert refusal(nobody + "/photo.jpg", rules(nobody)) == (502, "upstream-failed")


def test_a_stalled_upstream_is_a_504(servers: tuple[str, str]) -> None:
    allowed, _ = servers
    assert refusal(allowed + "/stall", rules(allowed, total_timeout=0.3)) == (504, "upstream-timeout")


def test_a_trickling_upstream_is_cut_off_at_the_deadline(servers: tuple[str, str]) -> None:
    """Each byte arrives long before a read would time out: only a deadline over
    the whole fetch stops it. Before, reads went on until 64 KiB or the body's
    end (5 s here) and the deadline was looked at only between them."""
    allowed, _ = servers
    assert refusal(allowed + "/trickle", rules(allowed, total_timeout=0.5)) == (504, "upstream-timeout")
    assert not TRICKLED.is_set()  # gave up before the body ended
    # The same in the head, where only the timer can stop it.
    assert refusal(allowed + "/trickle-head", rules(allowed, total_timeout=0.5)) == (504, "upstream-timeout")
    assert not HEAD_TRICKLED.is_set()


def test_a_pause_within_the_deadline_is_waited_out(servers: tuple[str, str]) -> None:
    """Reads wait as long as the deadline allows, not the connect timeout."""
    allowed, _ = servers
    assert fetch.get(allowed + "/late", rules(allowed, connect_timeout=0.1, total_timeout=5)).data == PHOTO


def test_a_slow_lookup_is_within_the_deadline(servers: tuple[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """getaddrinfo takes no timeout; a resolver that hangs must not hold the fetch."""
    allowed, _ = servers
    port = int(allowed.rsplit(":", 1)[1])
    answered, returned = threading.Event(), threading.Event()
    real = socket.getaddrinfo

    def hanging(host: str, *args: object, **kw: object) -> list:
        answered.wait(5)
        returned.set()
        return real("127.0.0.1", *args, **kw)

    monkeypatch.setattr(fetch.socket, "getaddrinfo", hanging)
    origin = f"http://slow-dns.invalid:{port}"
    try:
        assert refusal(origin + "/photo.jpg", rules(origin, total_timeout=0.3)) == (504, "upstream-timeout")
        assert not returned.is_set()  # the fetch gave up while the lookup still hung
    finally:
        answered.set()


def test_policy_from_the_image_settings() -> None:
    env = {"ECO2_IMAGE_BUCKET": "eco2-uploads", "ECO2_IMAGE_ENDPOINT_URL": "http://127.0.0.1:9000"}
    dev = fetch.policy(config.load(ImageSettings, {**env, "ECO2_ENV": "dev"}), max_bytes=LIMIT)
    assert dev.allowed == dev.private_ok == {"http://127.0.0.1:9000"}
    prod = fetch.policy(config.load(ImageSettings, env), max_bytes=LIMIT)
    assert prod.allowed == {"http://127.0.0.1:9000"} and prod.private_ok == frozenset()
    assert fetch.policy(config.load(ImageSettings, {"ECO2_ENV": "dev"}), max_bytes=LIMIT).allowed == frozenset()
