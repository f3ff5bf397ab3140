"""SQL migrations: the files in ``eco2/migrations`` applied in order, once.

``apply`` takes a transaction-level advisory lock, so concurrent runs (two
pods of the migration Job, or ``eco2 migrate`` beside ``eco2 dev``) queue up
and the second finds nothing left to do. All pending files are applied in
that one transaction: a failing migration leaves the database as it was. A
transaction-level lock (not a session lock) also works through PgBouncer in
transaction mode. Files that need to run outside a transaction
(``CREATE INDEX CONCURRENTLY``) are not supported on purpose.

Run it in an image with ``python -m eco2.migrate``; developers use ``eco2 migrate``.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DIR = Path(__file__).parent / "migrations"
LOCK_KEY = int.from_bytes(b"eco2mig", "big")  # any constant shared by every runner
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


class MigrationError(RuntimeError):
    pass


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def discover(directory: Path = DEFAULT_DIR) -> list[Migration]:
    found = []
    for path in sorted(directory.glob("*.sql")):
        m = _NAME.match(path.name)
        if not m:
            raise MigrationError(f"migration file name must be NNNN_name.sql: {path.name}")
        found.append(Migration(m.group(1), m.group(2), path.read_text(encoding="utf-8")))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"duplicate migration versions in {directory}")
    return found


def apply(conninfo: str, directory: Path = DEFAULT_DIR, *, seed: bool | None = None) -> list[str]:
    """Apply pending migrations; return the versions applied by this call.

    With ``seed`` (the default for the project's own migrations) the reference
    data of :mod:`eco2.seeds` is loaded too, in the same transaction.
    """
    import psycopg

    migrations = discover(directory)
    with psycopg.connect(conninfo, prepare_threshold=None, application_name="eco2-migrate") as conn:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
            conn.execute("CREATE SCHEMA IF NOT EXISTS eco2_meta")
            conn.execute(
                """CREATE TABLE IF NOT EXISTS eco2_meta.schema_migrations (
                       version text PRIMARY KEY,
                       name text NOT NULL,
                       checksum text NOT NULL,
                       applied_at timestamptz NOT NULL DEFAULT now())"""
            )
            applied = dict(
                conn.execute("SELECT version, checksum FROM eco2_meta.schema_migrations").fetchall()
            )
            done = []
            for migration in migrations:
                if migration.version in applied:
                    if applied[migration.version] != migration.checksum:
                        raise MigrationError(
                            f"migration {migration.version}_{migration.name} changed after it was applied"
                        )
                    continue
                conn.execute(migration.sql.encode())
                conn.execute(
                    "INSERT INTO eco2_meta.schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                    (migration.version, migration.name, migration.checksum),
                )
                done.append(migration.version)
            if seed if seed is not None else directory == DEFAULT_DIR:
                from eco2 import seeds

                seeds.apply(conn)
    return done


def main() -> None:
    url = os.environ.get("DATABASE_URL")
    if not url:
        sys.exit("DATABASE_URL is not set")
    done = apply(url)
    print(f"applied {len(done)} migration(s): {' '.join(done) or '-'}")


if __name__ == "__main__":
    main()
