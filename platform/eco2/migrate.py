"""SQL migrations: the files in ``eco2/migrations`` applied in order, once.

``apply`` takes a transaction-level advisory lock, so concurrent runs (two
pods of the migration Job, or ``eco2 migrate`` beside ``eco2 dev``) queue up
and the second finds nothing left to do. All pending files are applied in
that one transaction: a failing migration leaves the database as it was. A
transaction-level lock (not a session lock) also works through PgBouncer in
transaction mode. Files that need to run outside a transaction
(``CREATE INDEX CONCURRENTLY``) are not supported on purpose.

An applied file must not change: its checksum is recorded, and a different
one is refused. A file whose comments alone were edited lists its earlier
checksum in :data:`REWORDED`, and a database that applied the earlier text
records the new one instead.

Run it in an image with ``python -m eco2.migrate``; developers use ``eco2 migrate``.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

DEFAULT_DIR = Path(__file__).parent / "migrations"
LOCK_KEY = int.from_bytes(b"eco2mig", "big")  # any constant shared by every runner
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
# version -> earlier checksums of a project migration whose statements did not change.
REWORDED: dict[str, frozenset[str]] = {
    # 0001's comment cited a design document outside the repository.
    "0001": frozenset({"75131db331c5ad2960006c36f64507defd34c796f823f856fbd41ed7478616e2"}),
}


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


def apply(conninfo: str, directory: Path = DEFAULT_DIR, *, seed: bool | None = None,
          reworded: Mapping[str, frozenset[str]] | None = None) -> list[str]:
    """Apply pending migrations; return the versions applied by this call.

    With ``seed`` (the default for the project's own migrations) the reference
    data of :mod:`eco2.seeds` is loaded too, in the same transaction.
    ``reworded`` (:data:`REWORDED` for the project's own) lists earlier
    checksums that are taken for the current one.
    """
    import psycopg

    own = directory == DEFAULT_DIR
    reworded = (REWORDED if own else {}) if reworded is None else reworded
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
                    recorded = applied[migration.version]
                    if recorded in reworded.get(migration.version, ()):
                        conn.execute(
                            "UPDATE eco2_meta.schema_migrations SET checksum = %s WHERE version = %s",
                            (migration.checksum, migration.version),
                        )
                    elif recorded != migration.checksum:
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
            if seed if seed is not None else own:
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
