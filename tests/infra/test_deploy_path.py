"""The joints between terraform/, ansible/ and knative/: what the Ansible roles
would apply (rendered by Ansible itself, tests/infra/render_roles.yml, with
Terraform's variables and stand-ins for the SSM parameters) against what the
manifests reference.

- every Secret and key a rendered Service, a knative/ manifest or a
  function.yaml references is created by the secrets role (an optional one
  when its parameter exists, and documented);
- PgBouncer, configured by knative/ and that Secret, really serves the
  functions' DATABASE_URL, keeps the statements they prepare (psycopg's
  automatic preparation, on by default) across the server connections it
  shares among them, and passes the migration Job through (a real PgBouncer
  >= 1.22, knative/'s 1.24.1 as .ci/pgbouncer builds it, when the machine has one);
- the overlay built with this deployment's patches carries Terraform's domain,
  VPC range and Kourier node ports, and the ArgoCD Application is
  knative/argocd/application.yaml with those same patches.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import pytest
import yaml

from tests.conftest import scratch_database
from tests.infra.tools import BIN, ROOT, venv_bin

if TYPE_CHECKING:
    from eco2.db import Database

ANSIBLE = ROOT / "ansible"
SECRETS_DEFAULTS = ANSIBLE / "roles/secrets/defaults/main.yml"
APPLICATION = ROOT / "knative/argocd/application.yaml"
# Terraform's outputs as `terraform output -raw ansible_vars` writes them; not
# its defaults, so that a value left in git cannot pass for one patched in.
TERRAFORM_VARS = {
    "eco2_region": "ap-northeast-2",
    "eco2_ssm_prefix": "/eco2/test",
    "eco2_domain": "recycle.example.org",
    "eco2_api_domain": "api.recycle.example.org",
    "eco2_app_origins": ["https://recycle.example.org", "https://m.recycle.example.org"],
    "eco2_vpc_cidr": "10.42.0.0/16",
    "eco2_kourier_http_node_port": 30480,
    "eco2_kourier_ready_node_port": 30490,
}
PASSWORD = 'pa"ss:w@rd/1%'  # every character a URL or the userlist must escape


def kustomize(directory: Path) -> list[dict[str, Any]]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed (its kustomize builds the overlays)")
    built = subprocess.run([kubectl, "kustomize", str(directory)], capture_output=True, text=True, timeout=120)
    assert built.returncode == 0, built.stderr
    return [doc for doc in yaml.safe_load_all(built.stdout) if doc]


@pytest.fixture(scope="module")
def postgres(pg_server: str) -> Iterator[dict[str, str]]:
    """The test server as the SSM parameters would name it, with an empty
    database of its own (the functions', which the migration Job fills)."""
    url = urlsplit(pg_server)
    with scratch_database(pg_server, "eco2_deploy") as database:
        yield {"host": url.hostname or "127.0.0.1", "port": str(url.port or 5432),
               "user": url.username or "postgres", "database": database}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory, postgres: dict[str, str]) -> dict[str, dict[str, Any]]:
    """The roles' output, rendered by ansible-playbook: ``full`` (every optional
    parameter present, a data node) and ``minimal`` (none, managed databases)."""
    defaults = yaml.safe_load(SECRETS_DEFAULTS.read_text())
    ssm = {name: f"value-of-{name}" for name in defaults["secrets_ssm_names"] + defaults["secrets_ssm_operator_names"]}
    ssm.update({f"postgres/{key}": value for key, value in postgres.items()})
    ssm["postgres/password"] = PASSWORD
    ssm["redis/tls"] = "true"
    optional = {name: f"value-of-{name}" for name in defaults["secrets_ssm_optional_names"]}
    out = tmp_path_factory.mktemp("rendered")
    (out / "kustomization").mkdir()
    home = tmp_path_factory.mktemp("ansible-home")
    extra = {
        **TERRAFORM_VARS,
        "rendered_dir": str(out),
        "secrets_ssm": ssm,
        "fake_ssm_optional": optional,
        # The roles find these beside site.yml (playbook_dir); this playbook is elsewhere.
        "argocd_application_file": str(APPLICATION),
        "knative_serving_overlay_dir": str(ROOT / "knative/overlays/prod"),
        "knative_serving_kustomization_dir": str(out / "kustomization"),
        "ansible_python_interpreter": sys.executable,  # the copy module runs on localhost
    }
    extra_file = out / "extra.json"
    extra_file.write_text(json.dumps(extra))
    done = subprocess.run(
        [str(venv_bin("ansible-playbook")), "-i", "localhost,", "-e", f"@{extra_file}", str(Path(__file__).parent / "render_roles.yml")],
        capture_output=True, text=True, timeout=300,
        env={**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "ANSIBLE_HOME": str(home),
             "ANSIBLE_LOCAL_TEMP": str(home / "tmp"), "ANSIBLE_NOCOLOR": "1"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    found = {name: json.loads((out / f"{name}.json").read_text()) for name in ("full", "minimal")}
    found["kustomization_dir"] = out / "kustomization"  # where the role would write it
    return found


def created(render: dict[str, Any]) -> dict[str, set[str]]:
    """Secret name -> keys, for the Secrets the role would create (one with no key is removed)."""
    return {secret["name"]: set(secret["data"]) for secret in render["secrets"] if secret["data"]}


def secret_data(render: dict[str, Any], name: str) -> dict[str, str]:
    return next(secret["data"] for secret in render["secrets"] if secret["name"] == name)


# -- what the manifests reference -------------------------------------------------


def pod_specs(doc: dict[str, Any]) -> list[dict[str, Any]]:
    kind = doc.get("kind")
    if kind == "Service" and doc.get("apiVersion", "").startswith("serving.knative.dev/"):
        return [doc["spec"]["template"]["spec"]]
    if kind in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
        return [doc["spec"]["template"]["spec"]]
    return []


def references(docs: list[dict[str, Any]]) -> set[tuple[str, str | None, bool]]:
    """(secret, key, optional) for every Secret the pods reference. A mounted
    Secret's keys are the file names under its mount path that the pod's
    variables, arguments or mounted ConfigMaps name (None: the Secret itself)."""
    config_maps = {doc["metadata"]["name"]: doc for doc in docs if doc.get("kind") == "ConfigMap"}
    found: set[tuple[str, str | None, bool]] = set()
    for doc in docs:
        for spec in pod_specs(doc):
            containers = spec.get("containers", []) + spec.get("initContainers", [])
            texts = []
            for container in containers:
                texts += [str(v) for v in container.get("command", []) + container.get("args", [])]
                for env in container.get("env", []):
                    ref = env.get("valueFrom", {}).get("secretKeyRef")
                    if ref:
                        found.add((ref["name"], ref["key"], bool(ref.get("optional"))))
                    texts.append(str(env.get("value", "")))
                for source in container.get("envFrom", []):
                    if "secretRef" in source:
                        found.add((source["secretRef"]["name"], None, bool(source["secretRef"].get("optional"))))
            volumes = {v["name"]: v for v in spec.get("volumes", [])}
            for volume in volumes.values():
                if "configMap" in volume and volume["configMap"]["name"] in config_maps:
                    texts += [str(v) for v in config_maps[volume["configMap"]["name"]].get("data", {}).values()]
            for container in containers:
                for mount in container.get("volumeMounts", []):
                    secret = volumes[mount["name"]].get("secret")
                    if not secret:
                        continue
                    optional = bool(secret.get("optional"))
                    prefix = re.escape(mount["mountPath"].rstrip("/") + "/")
                    keys = {m for text in texts for m in re.findall(prefix + r"([\w.-]+)", text)}
                    found |= {(secret["secretName"], key, optional) for key in keys or {None}}
    return found


def function_yaml_references() -> set[tuple[str, str, bool]]:
    found = set()
    for path in sorted((ROOT / "functions").glob("*/function.yaml")):
        spec = yaml.safe_load(path.read_text())
        for entry in spec.get("secrets", []) + spec.get("secretFiles", []):
            found.add((entry["secret"], entry["key"], bool(entry.get("optional"))))
    return found


@pytest.fixture(scope="module")
def prod() -> list[dict[str, Any]]:
    return kustomize(ROOT / "knative/overlays/prod")


@pytest.fixture(scope="module")
def referenced(prod: list[dict[str, Any]]) -> set[tuple[str, str | None, bool]]:
    services = [doc for path in sorted((ROOT / "knative/services").glob("*.yaml"))
                for doc in yaml.safe_load_all(path.read_text()) if doc]
    dev = kustomize(ROOT / "knative/overlays/dev")
    return references(prod) | references(dev) | references(services) | function_yaml_references()


def test_the_references_are_found(referenced: set[tuple[str, str | None, bool]]) -> None:
    """The collector sees what the manifests are known to need (else the next test proves nothing)."""
    assert {
        ("eco2-database", "url", False),
        ("eco2-redis", "url", False),
        ("eco2-jwks", "jwks.json", False),
        ("eco2-signing-key", "signing.pem", False),  # a mounted file (auth's secretFiles)
        ("eco2-pgbouncer", "userlist.txt", False),  # named in PgBouncer's ConfigMap
        ("eco2-pgbouncer", "upstream.ini", False),
        ("eco2-openai", "api-key", True),
        ("eco2-oauth", "kakao-client-id", True),
    } <= referenced


def test_every_referenced_secret_is_created_by_the_secrets_role(
    referenced: set[tuple[str, str | None, bool]], rendered: dict[str, dict[str, Any]]
) -> None:
    everything, required_only = created(rendered["full"]), created(rendered["minimal"])
    documented = (ROOT / "docs/deploy.md").read_text()
    problems = []
    for secret, key, optional in sorted(referenced, key=str):
        have = (everything if optional else required_only).get(secret)
        if have is None or (key is not None and key not in have):
            problems.append(f"{secret}/{key or '*'} ({'optional' if optional else 'required'}) is not created")
        if optional and f"`{secret}`" not in documented:
            problems.append(f"{secret} is optional but docs/deploy.md does not say so")
    assert not problems, "\n".join(sorted(set(problems)))
    # Without their parameters, the optional Secrets are not made at all (the role deletes them).
    assert {"eco2-oauth", "eco2-openai"} <= set(everything) and not {"eco2-oauth", "eco2-openai"} & set(required_only)
    # The image function's settings (it reads exactly these).
    assert {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "ECO2_IMAGE_BUCKET", "ECO2_IMAGE_CDN_BASE_URL"} <= required_only["eco2-image-s3"]


def test_the_optional_keys_come_from_their_own_parameters(rendered: dict[str, dict[str, Any]]) -> None:
    assert secret_data(rendered["full"], "eco2-oauth")["naver-client-secret"] == "value-of-oauth/naver-client-secret"
    assert secret_data(rendered["full"], "eco2-openai") == {"api-key": "value-of-openai/api-key"}
    assert secret_data(rendered["full"], "eco2-signing-key") == {"signing.pem": "value-of-auth/signing-key"}


def test_database_url_reaches_pgbouncer_as_knative_declares_it(
    rendered: dict[str, dict[str, Any]], prod: list[dict[str, Any]], postgres: dict[str, str]
) -> None:
    url = urlsplit(secret_data(rendered["minimal"], "eco2-database")["url"])
    assert url.scheme == "postgresql"
    assert (unquote(url.username or ""), unquote(url.password or "")) == (postgres["user"], PASSWORD)
    assert url.path == f"/{postgres['database']}"
    service = next(d for d in prod if d["kind"] == "Service" and d["metadata"]["name"] == "pgbouncer")
    assert url.hostname == f"pgbouncer.{service['metadata']['namespace']}.svc.cluster.local"
    assert url.port in {p["port"] for p in service["spec"]["ports"]}
    redis = urlsplit(secret_data(rendered["minimal"], "eco2-redis")["url"])
    assert redis.scheme == "rediss" and unquote(redis.password or "") == "value-of-redis/password"
    # upstream.ini holds [databases] only: a [pgbouncer] section there resets the main file's.
    upstream = secret_data(rendered["minimal"], "eco2-pgbouncer")["upstream.ini"]
    assert re.findall(r"(?m)^\[(\w+)\]", upstream) == ["databases"]
    assert f"host={postgres['host']} port={postgres['port']} dbname={postgres['database']}" in upstream


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# knative/'s pgbouncer.ini sets max_prepared_statements, which older ones refuse.
PGBOUNCER_AT_LEAST = (1, 22)


def pgbouncer_binary() -> str:
    """The newest pgbouncer on this machine, if it is recent enough (else skip)."""
    found = []
    for path in {shutil.which("pgbouncer"), "/usr/local/bin/pgbouncer", "/usr/sbin/pgbouncer"} - {None}:
        if path and os.access(path, os.X_OK):
            out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10).stdout
            if match := re.match(r"PgBouncer (\d+)\.(\d+)", out):
                found.append(((int(match.group(1)), int(match.group(2))), path))
    if not found:
        pytest.skip("pgbouncer is not installed (.ci/pgbouncer builds knative/'s 1.24.1; .ci/run does as root)")
    version, path = max(found)
    if version < PGBOUNCER_AT_LEAST:
        pytest.skip(f"{path} is PgBouncer {version[0]}.{version[1]}: knative/'s pgbouncer.ini sets "
                    "max_prepared_statements, which needs 1.22 (.ci/pgbouncer builds knative/'s 1.24.1)")
    return path


def pgbouncer_ini(prod: list[dict[str, Any]]) -> str:
    return next(d for d in prod if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "pgbouncer")["data"]["pgbouncer.ini"]


@pytest.fixture(scope="module")
def pgbouncer(rendered: dict[str, dict[str, Any]], prod: list[dict[str, Any]]) -> Iterator[int]:
    """A real pgbouncer with knative/'s pgbouncer.ini and the role's eco2-pgbouncer Secret."""
    binary = pgbouncer_binary()
    ini = pgbouncer_ini(prod)
    # Readable by the unprivileged user pgbouncer drops to when started as root.
    directory = Path(tempfile.mkdtemp(prefix="eco2-pgbouncer-", dir="/tmp"))
    try:
        (directory / "auth").mkdir()
        for key, value in secret_data(rendered["full"], "eco2-pgbouncer").items():
            (directory / "auth" / key).write_text(value)
        port = _free_port()
        ini = ini.replace("/etc/pgbouncer/", f"{directory}/")
        ini = re.sub(r"(?m)^listen_addr = .*$", "listen_addr = 127.0.0.1", ini)
        ini = re.sub(r"(?m)^listen_port = .*$", f"listen_port = {port}", ini)
        # The test server has no TLS; RDS and the data node do (require, as in knative/).
        ini = re.sub(r"(?m)^server_tls_sslmode = require$", "server_tls_sslmode = prefer", ini)
        # Fewer server connections than the tests' clients, so that their
        # prepared statements meet on shared server connections.
        ini, pools = re.subn(r"(?m)^default_pool_size = \d+$", "default_pool_size = 2", ini)
        # No reserve either: on a loaded machine a client waiting past
        # reserve_pool_timeout would get a third and more.
        ini, reserves = re.subn(r"(?m)^reserve_pool_size = \d+$", "reserve_pool_size = 0", ini)
        assert pools == 1 and reserves == 1
        (directory / "pgbouncer.ini").write_text(ini)
        for path in [directory, *directory.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        argv = [binary, *(["-u", "nobody"] if os.geteuid() == 0 else []), str(directory / "pgbouncer.ini")]
        log = directory / "log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline = time.monotonic() + 15
            while True:
                assert proc.poll() is None, f"pgbouncer exited {proc.returncode}: {log.read_text()}"
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    assert time.monotonic() < deadline, log.read_text()
                    time.sleep(0.05)
            yield port
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    finally:
        shutil.rmtree(directory, ignore_errors=True)


FUNCTIONS_ADDRESS = "pgbouncer.eco2.svc.cluster.local:5432"


@pytest.fixture(scope="module")
def bouncer_url(rendered: dict[str, dict[str, Any]], pgbouncer: int) -> str:
    """The functions' DATABASE_URL, pointed at the test's pgbouncer."""
    url = secret_data(rendered["full"], "eco2-database")["url"]
    assert FUNCTIONS_ADDRESS in url
    return url.replace(FUNCTIONS_ADDRESS, f"127.0.0.1:{pgbouncer}")


@pytest.fixture(scope="module")
def migrated(bouncer_url: str) -> list[str]:
    """What the migration Job applies through PgBouncer to the empty database."""
    from eco2 import migrate

    return migrate.apply(bouncer_url)


def test_pgbouncer_serves_the_functions_database_url(bouncer_url: str) -> None:
    import psycopg

    # SCRAM from the client with the password in the URL, against the userlist
    # the role wrote; then the server address and database from upstream.ini.
    with psycopg.connect(bouncer_url, connect_timeout=10) as conn:
        with conn.transaction():
            assert conn.execute("SELECT current_database(), 6 * 7").fetchone()[1] == 42
    with pytest.raises(psycopg.OperationalError):
        wrong = bouncer_url.replace("%25@", "x@")  # the password's last character changed
        assert wrong != bouncer_url
        psycopg.connect(wrong, connect_timeout=10).close()


def test_the_migration_job_runs_through_pgbouncer(bouncer_url: str, migrated: list[str]) -> None:
    """Its advisory lock is transaction-level and its DDL one transaction, so
    transaction pooling keeps them together; a second run finds nothing to do."""
    from eco2 import migrate

    assert migrated == [m.version for m in migrate.discover()]
    assert migrate.apply(bouncer_url) == []


def _pods(bouncer_url: str, count: int, **env: str) -> list["Database"]:
    """``count`` function instances' Database, with the functions' default settings."""
    from eco2.config import Settings, load
    from eco2.db import Database

    settings = load(Settings, {"DATABASE_URL": bouncer_url, **env})
    assert settings.db_prepare_threshold is not None  # on by default: what these tests prove
    return [Database(settings, f"eco2-pod-{n}") for n in range(count)]


def test_prepared_statements_through_pgbouncer(bouncer_url: str, prod: list[dict[str, Any]]) -> None:
    """16 client connections of 4 instances, on 2 server connections, each run
    16 statements of their own, prepared from their first run, concurrently,
    plus a failed transaction per round (psycopg then forgets its statements
    with DEALLOCATE ALL, which PgBouncer ≥ 1.22 tracks):
    every answer is the right one. 256 statements in all, more than the server
    connections keep, so PgBouncer also evicts and prepares again."""
    import psycopg

    kept = int(re.search(r"(?m)^max_prepared_statements = (\d+)$", pgbouncer_ini(prod)).group(1))
    pods = _pods(bouncer_url, 4)
    rounds, per_worker = 8, 16

    def work(worker: int) -> None:
        db = pods[worker % len(pods)]
        for round_ in range(rounds):
            for k in range(per_worker):
                n = worker * per_worker + k
                # Two result types, so that a statement run as another's could not pass.
                if k % 2:
                    query, expected = f"SELECT 's{n}-' || %s::text", (f"s{n}-{round_}",)
                else:
                    query, expected = f"SELECT %s::int * 1000 + {n}", (round_ * 1000 + n,)
                with db.read() as conn:
                    # prepare=True: past the threshold at once. Left to the
                    # threshold, a statement run 8 times over a pod's 4
                    # connections, whose counts each rollback resets, would
                    # hardly ever be prepared.
                    assert conn.execute(query, (round_,), prepare=True).fetchone() == expected
            with pytest.raises(psycopg.errors.DivisionByZero), db.transaction() as conn:
                conn.execute("SELECT 1 / %s", (0,))

    try:
        with ThreadPoolExecutor(16) as workers:
            list(workers.map(work, range(16)))
        # A failed transaction's DEALLOCATE ALL also empties its server
        # connection (PgBouncer prepares again on demand), so look inside one
        # transaction, on one server connection, past the threshold.
        with pods[0].transaction() as conn:
            for _ in range(pods[0].settings.db_prepare_threshold + 2):
                assert conn.execute("SELECT %s::int", (7,)).fetchone() == (7,)
            names = [name for (name,) in conn.execute("SELECT name FROM pg_prepared_statements").fetchall()]
    finally:
        for db in pods:
            db.close()
    # Prepared on the server under PgBouncer's names, not the clients' (psycopg's _pg3_N).
    assert names and all(name.startswith("PGBOUNCER_") for name in names), names
    assert len(names) <= kept


def test_a_statement_prepared_on_one_server_connection_runs_on_another(bouncer_url: str) -> None:
    """A client's statement, prepared on one server connection, runs on the
    other while the first is busy with another client's transaction."""
    import psycopg

    (db,) = _pods(bouncer_url, 1, ECO2_DB_POOL_MAX="1")
    query = "SELECT %s::int * 2, pg_backend_pid()"
    try:
        for n in range(db.settings.db_prepare_threshold + 2):
            with db.read() as conn:
                value, prepared_on = conn.execute(query, (n,)).fetchone()
            assert value == 2 * n
        # Two other clients hold both server connections; the one not on
        # prepared_on lets go of its own.
        with psycopg.connect(bouncer_url) as first, psycopg.connect(bouncer_url) as second:
            held = {conn.execute("SELECT pg_backend_pid()").fetchone()[0]: conn for conn in (first, second)}
            assert prepared_on in held and len(held) == 2
            next(conn for pid, conn in held.items() if pid != prepared_on).rollback()
            with db.read() as conn:
                value, ran_on = conn.execute(query, (21,)).fetchone()
        assert value == 42 and ran_on != prepared_on
    finally:
        db.close()


def test_a_prepared_statement_after_the_server_connection_is_recycled(
    bouncer_url: str, pg_server: str, postgres: dict[str, str]
) -> None:
    """PostgreSQL ends PgBouncer's server connections (a failover, a restart):
    the client's statement, prepared on the old one, runs on a new one."""
    import psycopg

    (db,) = _pods(bouncer_url, 1, ECO2_DB_POOL_MAX="1")
    query = "SELECT %s::int + 1, pg_backend_pid()"
    try:
        for n in range(10):
            with db.read() as conn:
                value, server = conn.execute(query, (n,)).fetchone()
            assert value == n + 1
        with psycopg.connect(pg_server, autocommit=True) as admin:
            ended = admin.execute(
                "SELECT pid, pg_terminate_backend(pid, 5000) FROM pg_stat_activity"
                " WHERE datname = %s AND pid <> pg_backend_pid()", (postgres["database"],)
            ).fetchall()
        assert server in {pid for pid, _ in ended} and all(done for _, done in ended)
        with db.read() as conn:
            value, new_server = conn.execute(query, (41,)).fetchone()
        assert value == 42 and new_server != server
    finally:
        db.close()


def test_no_statement_selects_every_column() -> None:
    """A prepared statement's result columns are fixed when it is prepared, and
    PgBouncer shares one among every client that sends its text: a ``SELECT *``
    or ``RETURNING *`` prepared before a migration adds a column fails after it
    ("cached plan must not change result type"). eco2 names its columns."""
    pattern = re.compile(r"(?i)\b(?:select|returning)\s+(?:distinct\s+)?(?:\w+\.)?\*")
    found = [
        f"{path.relative_to(ROOT)}:{path.read_text()[:match.start()].count(chr(10)) + 1}"
        for path in sorted([*(ROOT / "platform").rglob("*.py"), *(ROOT / "functions").rglob("*.py")])
        for match in pattern.finditer(path.read_text())
    ]
    assert not found, found


# -- this deployment's values in the overlay, and the one Application ----------------


def test_the_overlay_carries_terraforms_values(rendered: dict[str, Any], prod: list[dict[str, Any]]) -> None:
    directory = rendered["kustomization_dir"]
    (directory / "kustomization.yaml").write_text(yaml.safe_dump(rendered["full"]["kustomization"]))
    docs = kustomize(directory)

    def one(kind: str, name: str) -> dict[str, Any]:
        (doc,) = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
        return doc

    assert one("ConfigMap", "config-domain")["data"] == {TERRAFORM_VARS["eco2_api_domain"]: ""}
    blocks = [
        peer["ipBlock"]["cidr"]
        for name in ("eco2-to-data", "pgbouncer")
        for rule in one("NetworkPolicy", name)["spec"]["egress"]
        for peer in rule["to"]
        if "ipBlock" in peer
    ]
    assert blocks == [TERRAFORM_VARS["eco2_vpc_cidr"]] * 2
    ports = {p["targetPort"]: p["nodePort"] for p in one("Service", "kourier")["spec"]["ports"]}
    assert ports == {8080: TERRAFORM_VARS["eco2_kourier_http_node_port"], 9000: TERRAFORM_VARS["eco2_kourier_ready_node_port"]}
    origins = ",".join(TERRAFORM_VARS["eco2_app_origins"])
    settings = one("ConfigMap", "eco2-settings")["data"]
    assert settings == {
        "ECO2_CORS_ORIGINS": origins,
        "ECO2_APP_ORIGINS": origins,
        "ECO2_AUTH_PUBLIC_URL": "https://auth.api.recycle.example.org",
        "ECO2_AUTH_OTHER_PUBLIC_URLS": "https://api.recycle.example.org",
        "ECO2_COOKIE_DOMAIN": "api.recycle.example.org",
    }
    # Every setting a Service reads is there (a missing key would keep its pods from starting).
    read = {
        (ref["name"], ref["key"])
        for d in docs if d["kind"] == "Service" and d["apiVersion"].startswith("serving.knative.dev")
        for e in d["spec"]["template"]["spec"]["containers"][0]["env"]
        if (ref := e.get("valueFrom", {}).get("configMapKeyRef"))
    }
    assert read and read <= {("eco2-settings", key) for key in settings}
    # Nothing else moved: the same objects as the overlay in git.
    assert sorted((d["kind"], d["metadata"]["name"]) for d in docs) == sorted((d["kind"], d["metadata"]["name"]) for d in prod)


def test_argocd_applies_the_one_application_with_the_same_patches(rendered: dict[str, dict[str, Any]]) -> None:
    app = rendered["full"]["application"]
    source = app["spec"]["source"]
    assert source["kustomize"]["patches"] == rendered["full"]["kustomization"]["patches"]
    assert source["path"] == "knative/overlays/prod" and source["targetRevision"] == "main"
    # Everything else is knative/argocd/application.yaml as it is in git.
    in_git = yaml.safe_load(APPLICATION.read_text())
    del source["kustomize"]
    source["repoURL"] = in_git["spec"]["source"]["repoURL"]
    assert app == in_git
    assert not list((ANSIBLE / "roles/argocd").rglob("*.j2")), "a second Application template is back"
