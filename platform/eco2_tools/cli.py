"""The `eco2` command: developer tooling around the functions (never in an image)."""

from __future__ import annotations

from pathlib import Path

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """eco2: run, migrate and deploy the eco2 functions."""


@main.command()
@click.option("--port", envvar="ECO2_DEV_PORT", default=8080, show_default=True, type=int,
              help="Gateway port (env ECO2_DEV_PORT).")
@click.option("--idle-seconds", envvar="ECO2_DEV_IDLE_SECONDS", default=300.0, show_default=True,
              type=float, help="Stop a function after this long without requests (env ECO2_DEV_IDLE_SECONDS).")
def dev(port: int, idle_seconds: float) -> None:
    """Run every function behind one local gateway, scaling each from and to zero.

    Uses DATABASE_URL and REDIS_URL when set; otherwise starts an embedded
    PostgreSQL and Redis with their data under .eco2/.
    """
    from eco2_tools.dev import run

    run(port=port, idle_seconds=idle_seconds)


@main.command()
@click.option("--database-url", envvar="DATABASE_URL", required=True,
              help="PostgreSQL URL (env DATABASE_URL).")
@click.option("--dir", "directory", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=None, help="Migrations folder (default: the runtime's own).")
def migrate(database_url: str, directory: Path | None) -> None:
    """Apply pending SQL migrations under an advisory lock (safe to run concurrently)."""
    from eco2 import migrate as migrations

    done = migrations.apply(database_url, directory or migrations.DEFAULT_DIR)
    click.echo(f"applied {len(done)} migration(s): {' '.join(done) or '-'}")
