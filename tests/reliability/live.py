"""A function served by a real process (python -m eco2.serve, gunicorn inside), for
what the in-process client cannot send: raw bytes on a socket, chunked bodies,
header lines it refuses to build."""

from __future__ import annotations

import contextlib
import http.client
import os
import socket
import subprocess
import time
from pathlib import Path
from typing import IO, Iterator

from eco2_tools import serve as process
from eco2_tools.embedded import free_port

from ..support import ROOT


@contextlib.contextmanager
def serve(name: str | Path, env: dict[str, str], *, log: IO[bytes] | None = None) -> Iterator[int]:
    """``functions/<name>`` (or a fixture's main.py) on a free port, as the gateway
    starts it; yields the port. ``log``, a file, receives the server's stderr."""
    port = free_port()
    source = name if isinstance(name, Path) else ROOT / "functions" / name / "main.py"
    argv, variables = process.command(source, port)
    proc = subprocess.Popen(
        argv,
        env={**os.environ, "PYTHONPATH": str(ROOT / "platform"), **env, **variables},
        cwd=source.parent, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=log if log is not None else subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/readyz")
                if conn.getresponse().status == 200:
                    conn.close()
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)
        yield port
    finally:
        process.stop(proc)


def raw(port: int, data: bytes, timeout: float = 10.0) -> bytes:
    """Send ``data`` as is and read until the server closes or goes quiet."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        chunks = []
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
                if b"\r\n\r\n" in b"".join(chunks) and _complete(b"".join(chunks)):
                    break
        except TimeoutError:
            pass
        return b"".join(chunks)


def _complete(data: bytes) -> bool:
    head, _, body = data.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value.strip())
    return False


def head_of(response: bytes) -> tuple[int, list[tuple[str, str]]]:
    """Status and header lines of a raw response."""
    head = response.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    status = int(head[0].split()[1])
    headers = []
    for line in head[1:]:
        name, _, value = line.partition(":")
        headers.append((name.strip(), value.strip()))
    return status, headers
