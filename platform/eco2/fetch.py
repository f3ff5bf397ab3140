"""Fetching a photo by URL without letting the URL reach anything else (SSRF).

scan and chat accept an ``image_url`` (what the image function hands out) and
fetch it themselves. A URL a client chose must not make the function read its
own network: the cloud's metadata service, the database, a peer's pod. So::

    policy = fetch.policy(settings, max_bytes=10 << 20)   # settings: ImageSettings
    photo = fetch.get(url, policy)                         # -> Fetched(data, content_type, url)

- the URL's origin (``scheme://host[:port]``) must be on the allow-list (the
  upload bucket's or CDN's, :func:`eco2.image.settings.allowed_origins`);
- the host is resolved once, every address it resolves to must be public
  (not private, loopback, link-local, shared, reserved or multicast; an IPv4
  address inside IPv6, mapped, NAT64, 6to4 or Teredo, judged as IPv4) unless
  the origin may be private (outside production, the allow-listed embedded
  store on 127.0.0.1), and the connection goes to those addresses (each in
  turn until one connects), so a DNS answer that changes between the check
  and the connection (rebinding) cannot move it;
  TLS still verifies the certificate against the host name;
- a URL with credentials (``user:pass@``) is refused;
- redirects are followed by hand, at most ``max_redirects``, each hop checked
  like the first;
- the body is streamed and the fetch stops at ``max_bytes`` (413); the
  connection has its own timeout and the whole fetch, DNS lookups and every
  hop included, a deadline (504) that no trickle of bytes extends;
- content is never decoded (``Accept-Encoding: identity``): a gzip bomb stays
  a byte count.

Every refusal is an :class:`eco2.Problem`: 422 for a URL that is not allowed or
names nothing (4xx upstream), 413 too large, 502 an upstream that fails or
cannot be reached, 504 too slow.

Why urllib3: it lets a connection go to one IP address while TLS checks the
host name (``server_hostname``/``assert_hostname``), and it imports in a fifth
of httpx's time (about 0.1 s against 0.5 s here), which a cold start pays on
the first photo. It is imported only when a URL is fetched.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from eco2.problems import Problem

if TYPE_CHECKING:
    from eco2.image.settings import ImageSettings

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CHUNK = 64 << 10


@dataclass(frozen=True)
class Policy:
    """What may be fetched, and how much and for how long."""

    allowed: frozenset[str]  # origins, as eco2.image.settings.origin() writes them
    max_bytes: int
    private_ok: frozenset[str] = frozenset()  # allowed origins that may resolve to non-public addresses
    max_redirects: int = 3
    connect_timeout: float = 3.0
    total_timeout: float = 10.0


@dataclass(frozen=True)
class Fetched:
    data: bytes
    content_type: str | None
    url: str  # after redirects


def policy(settings: "ImageSettings", *, max_bytes: int, total_timeout: float = 10.0) -> Policy:
    """The policy of a function whose settings include the upload bucket's.

    Outside production (``ECO2_ENV`` dev or test) the allow-listed origins may
    resolve to private addresses: the embedded store listens on 127.0.0.1.
    """
    from eco2.image.settings import allowed_origins

    allowed = frozenset(allowed_origins(settings))
    return Policy(
        allowed=allowed,
        max_bytes=max_bytes,
        private_ok=allowed if settings.env != "prod" else frozenset(),
        total_timeout=total_timeout,
    )


def not_allowed(detail: str) -> Problem:
    return Problem(422, detail, slug="url-not-allowed")


def upload(url: str, settings: "ImageSettings") -> Fetched:
    """An object of the upload bucket by its public URL (scan's and chat's
    ``image_url``): a 422 unless ``url`` names one
    (:func:`eco2.image.settings.is_upload_url`), else fetched under
    :func:`policy`, at most the upload limit."""
    from eco2.image.settings import is_upload_url

    if not is_upload_url(settings, url):
        raise not_allowed("The image_url must be an uploaded photo's URL (the image function's cdn_url).")
    return get(url, policy(settings, max_bytes=settings.max_bytes))


def get(url: str, rules: Policy) -> Fetched:
    """GET ``url`` under ``rules``; see the module's docstring."""
    from eco2.image.settings import has_credentials, origin

    deadline = time.monotonic() + rules.total_timeout
    for _ in range(rules.max_redirects + 1):
        found = origin(url)
        if found is None or found not in rules.allowed:
            raise not_allowed("The image_url is not on an allowed host.")
        parts = urlsplit(url)
        if has_credentials(parts.netloc):  # on the first URL and on every redirect's
            raise not_allowed("The image_url must not carry credentials.")
        addresses = _resolve(parts.hostname or "", _port(parts), found in rules.private_ok, deadline)
        status, location, content_type, data = _first_reachable(url, addresses, rules, deadline)
        if status in _REDIRECTS:
            if not location:
                raise Problem(502, "The image host redirected nowhere.", slug="upstream-failed")
            url = urljoin(url, location)
            continue
        if 200 <= status < 300:
            return Fetched(data, content_type, url)
        if 400 <= status < 500:
            raise Problem(422, f"The image_url could not be fetched (status {status}).", slug="image-unavailable")
        raise Problem(502, f"The image host answered {status}.", slug="upstream-failed")
    raise Problem(502, "The image host redirected too many times.", slug="upstream-failed")


def _port(parts) -> int:  # noqa: ANN001 - a SplitResult
    try:
        port = parts.port
    except ValueError:
        raise not_allowed("The image_url has an invalid port.") from None
    return port or (443 if parts.scheme == "https" else 80)


def _resolve(host: str, port: int, private_ok: bool, deadline: float) -> list[str]:
    """The addresses to connect to: ``host``'s, in the resolver's order, once all are checked."""
    addresses = list(dict.fromkeys(info[4][0] for info in _lookup(host, port, deadline)))
    if not private_ok:
        for text in addresses:
            if not _public(ipaddress.ip_address(text.split("%", 1)[0])):
                raise not_allowed("The image_url resolves to a non-public address.")
    return addresses


def _first_reachable(url: str, addresses: list[str], rules: Policy,
                     deadline: float) -> tuple[int, str | None, str | None, bytes]:
    """:func:`_request` to each address in turn until one connects: a CDN answers
    with A and AAAA records, and a pod may have no IPv6 route out."""
    timed_out = False
    for address in addresses:
        try:
            return _request(url, address, rules, deadline)
        except _Unreachable as exc:
            timed_out = timed_out or exc.timed_out
    if timed_out:
        raise _timeout()
    raise Problem(502, "The image host could not be reached.", slug="upstream-failed")


class _Unreachable(Exception):
    """No connection to one address (refused, no route, or not within the
    connect timeout: ``timed_out``): try the next."""

    def __init__(self, timed_out: bool) -> None:
        super().__init__()
        self.timed_out = timed_out


def _lookup(host: str, port: int, deadline: float) -> list[tuple]:
    """``getaddrinfo`` within the deadline. It takes no timeout (the resolver's
    own, retries included, can be tens of seconds), so it runs on a thread
    this one stops waiting for when the deadline passes; the thread ends when
    the resolver gives up."""
    found: dict[str, object] = {}

    def lookup() -> None:
        try:
            found["infos"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError):  # socket.gaierror is an OSError
            found["error"] = True

    thread = threading.Thread(target=lookup, name="eco2-fetch-resolve", daemon=True)
    thread.start()
    thread.join(_left(deadline))
    if thread.is_alive():
        raise _timeout()
    if "infos" not in found:
        raise Problem(502, "The image host could not be resolved.", slug="upstream-failed")
    return found["infos"]  # type: ignore[return-value]


def _left(deadline: float) -> float:
    """Seconds left before ``deadline``; a 504 when none are."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise _timeout()
    return left


# IPv6 forms that carry an IPv4 address: NAT64's well-known prefix (RFC 6052),
# whose last 32 bits are the address; its local-use prefix (RFC 8215), whose
# embedding depends on the operator's prefix length; IPv4-compatible (::a.b.c.d,
# deprecated) and IPv4-translated (::ffff:0:a.b.c.d, SIIT). A CDN answers with
# none of the last three.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_REFUSED6 = (
    ipaddress.IPv6Network("64:ff9b:1::/48"),
    ipaddress.IPv6Network("::/96"),
    ipaddress.IPv6Network("::ffff:0:0:0/96"),  # ::ffff:0:a.b.c.d; mapped (::ffff:a.b.c.d) is unwrapped above
)


def _public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Routable on the internet: not private, loopback, link-local (the metadata
    service), shared (100.64/10), reserved or multicast; an IPv4 address inside
    IPv6 (mapped, NAT64, 6to4, Teredo's server and client) is judged as IPv4,
    and the forms with no such rule are refused."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return _public(ip.ipv4_mapped)
        if any(ip in net for net in _REFUSED6):
            return False
        if ip in _NAT64:
            return _public(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        if ip.sixtofour is not None:
            return _public(ip.sixtofour)
        if ip.teredo is not None:
            return all(_public(part) for part in ip.teredo)
    return ip.is_global and not ip.is_multicast


def _request(url: str, address: str, rules: Policy, deadline: float) -> tuple[int, str | None, str | None, bytes]:
    """One GET to ``address``, read up to the limit: (status, Location, Content-Type, body).

    A socket's timeout bounds each read, and a server sending one byte just
    before it expires would reset it forever (in the status line, a header, a
    chunk's size as much as in the body). So once connected, a timer shuts the
    socket when the deadline passes: whatever read is waiting ends then, and
    the clock says it was the deadline (504), not the server (502).
    """
    import http.client

    import urllib3.connection
    from urllib3.exceptions import ConnectTimeoutError, HTTPError, NewConnectionError, ReadTimeoutError
    from urllib3.util.ssl_match_hostname import CertificateError  # a ValueError: a name the certificate lacks

    parts = urlsplit(url)
    host = parts.hostname or ""
    port = _port(parts)
    timeout = min(rules.connect_timeout, _left(deadline))
    if parts.scheme == "https":
        conn: urllib3.connection.HTTPConnection = urllib3.connection.HTTPSConnection(
            address, port, timeout=timeout, server_hostname=host, assert_hostname=host, cert_reqs="CERT_REQUIRED",
        )
    else:
        conn = urllib3.connection.HTTPConnection(address, port, timeout=timeout)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = {"Host": parts.netloc, "Accept": "image/*", "Accept-Encoding": "identity", "User-Agent": "eco2-fetch"}
    watchdog: threading.Timer | None = None
    try:
        conn.connect()
        sock = conn.sock
        watchdog = threading.Timer(_left(deadline), _shut, (sock,))
        watchdog.daemon = True
        watchdog.start()
        # Each read's own timeout: what is left (urllib3 sets the socket's to this
        # when sending the request and again before reading the answer).
        conn.timeout = _left(deadline)
        conn.request("GET", path, headers=headers, preload_content=False, decode_content=False)
        response = conn.getresponse()
        status = response.status
        if status in _REDIRECTS or not 200 <= status < 300:
            return status, response.headers.get("Location"), None, b""
        length = response.headers.get("Content-Length", "")
        if length.isdigit() and int(length) > rules.max_bytes:
            raise too_large(rules.max_bytes)
        chunks: list[bytes] = []
        size = 0
        # read1: what has arrived (up to a chunk), not a wait for the chunk to fill.
        while chunk := response.read1(_CHUNK, decode_content=False):
            size += len(chunk)
            if size > rules.max_bytes:
                raise too_large(rules.max_bytes)
            chunks.append(chunk)
        _left(deadline)  # an end the timer forced is not the body's end
        return status, None, response.headers.get("Content-Type"), b"".join(chunks)
    except NewConnectionError:  # before ConnectTimeoutError: it subclasses it
        raise _Unreachable(timed_out=False) from None
    except ConnectTimeoutError:
        raise _Unreachable(timed_out=True) from None
    except (ReadTimeoutError, TimeoutError):
        raise _timeout() from None
    except (HTTPError, OSError, http.client.HTTPException, CertificateError):
        _left(deadline)  # the timer's doing, past the deadline: 504
        raise Problem(502, "The image host's answer was broken.", slug="upstream-failed") from None
    finally:
        if watchdog is not None:
            watchdog.cancel()
        conn.close()


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def too_large(limit: int) -> Problem:
    """An image over ``limit`` bytes: fetched, or sent (scan's photo in the body)."""
    return Problem(413, f"The image is larger than {limit} bytes.", slug="image-too-large")


def _timeout() -> Problem:
    return Problem(504, "The image host did not answer in time.", slug="upstream-timeout")
