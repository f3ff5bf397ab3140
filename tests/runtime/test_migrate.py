"""Migrations: applied once, in order, under an advisory lock; all or nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from eco2 import migrate

FIXTURES = Path(__file__).parent / "fixtures"


def rows(url: str, sql: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchall()


def test_applies_in_order_then_nothing(empty_database_url: str) -> None:
    assert migrate.apply(empty_database_url, FIXTURES / "migrations_ok") == ["0001", "0002"]
    assert migrate.apply(empty_database_url, FIXTURES / "migrations_ok") == []
    assert rows(empty_database_url, "SELECT n FROM public.migration_probe") == [(1,)]
    recorded = rows(empty_database_url, "SELECT version, name FROM eco2_meta.schema_migrations ORDER BY 1")
    assert recorded == [("0001", "table"), ("0002", "insert")]


def test_concurrent_runs_apply_each_migration_once(empty_database_url: str) -> None:
    """Two `eco2 migrate` processes at once: both succeed, each file runs once."""
    eco2 = Path(sys.executable).parent / "eco2"
    env = {**os.environ, "DATABASE_URL": empty_database_url}
    procs = [
        subprocess.Popen([str(eco2), "migrate", "--dir", str(FIXTURES / "migrations_ok")],
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    assert sorted(out for out, _ in outputs) == [
        "applied 0 migration(s): -\n",
        "applied 2 migration(s): 0001 0002\n",
    ]
    assert rows(empty_database_url, "SELECT count(*) FROM public.migration_probe") == [(1,)]


def test_failing_migration_leaves_nothing(empty_database_url: str) -> None:
    with pytest.raises(psycopg.errors.UndefinedTable):
        migrate.apply(empty_database_url, FIXTURES / "migrations_bad")
    tables = rows(
        empty_database_url,
        "SELECT table_name FROM information_schema.tables WHERE table_name = 'half_applied'",
    )
    assert tables == []


def test_edited_migration_is_refused(empty_database_url: str, tmp_path: Path) -> None:
    (tmp_path / "0001_one.sql").write_text("CREATE TABLE public.edited (n int);")
    migrate.apply(empty_database_url, tmp_path)
    (tmp_path / "0001_one.sql").write_text("CREATE TABLE public.edited (n bigint);")
    with pytest.raises(migrate.MigrationError, match="changed after it was applied"):
        migrate.apply(empty_database_url, tmp_path)


def test_a_reworded_migration_is_taken_for_the_one_applied(empty_database_url: str, tmp_path: Path) -> None:
    """A database that applied a file before its comment was edited records the
    edited file's checksum instead of refusing it; a changed statement is still refused."""
    first = "-- old comment\nCREATE TABLE public.reworded (n int);"
    (tmp_path / "0001_one.sql").write_text(first)
    migrate.apply(empty_database_url, tmp_path)
    earlier = {"0001": frozenset({migrate.Migration("0001", "one", first).checksum})}
    (tmp_path / "0001_one.sql").write_text("-- new comment\nCREATE TABLE public.reworded (n int);")
    assert migrate.apply(empty_database_url, tmp_path, reworded=earlier) == []
    current = migrate.discover(tmp_path)[0].checksum
    assert rows(empty_database_url, "SELECT checksum FROM eco2_meta.schema_migrations") == [(current,)]
    (tmp_path / "0001_one.sql").write_text("-- new comment\nCREATE TABLE public.reworded (n bigint);")
    with pytest.raises(migrate.MigrationError, match="changed after it was applied"):
        migrate.apply(empty_database_url, tmp_path, reworded=earlier)


def test_bad_file_name_is_refused(tmp_path: Path) -> None:
    (tmp_path / "1_oops.sql").write_text("SELECT 1;")
    with pytest.raises(migrate.MigrationError, match="NNNN_name.sql"):
        migrate.discover(tmp_path)


def test_project_migrations_apply_on_a_fresh_database(empty_database_url: str) -> None:
    applied = migrate.apply(empty_database_url)
    assert applied == [m.version for m in migrate.discover()]
    schemas = {name for (name,) in rows(empty_database_url, "SELECT nspname FROM pg_namespace")}
    assert {"auth", "my", "scan", "character", "location", "info", "chat"} <= schemas
