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
    """Apply pending SQL migrations under an advisory lock (safe to run concurrently),
    then load the shipped reference data (with the runtime's own migrations)."""
    from eco2 import migrate as migrations

    done = migrations.apply(database_url, directory or migrations.DEFAULT_DIR)
    click.echo(f"applied {len(done)} migration(s): {' '.join(done) or '-'}")


@main.group()
def keys() -> None:
    """Access-token signing keys."""


@keys.command("generate")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path),
              default=Path(".eco2/keys"), show_default=True, help="Key directory.")
@click.option("--keep", default=1, show_default=True, type=int,
              help="Retired keys whose public half stays in jwks.json.")
def keys_generate(directory: Path, keep: int) -> None:
    """Create a new P-256 signing key; the previous one is retired, not dropped.

    Point the auth function at DIR/signing.pem (ECO2_JWT_SIGNING_KEY_FILE) and
    every function at DIR/jwks.json (ECO2_JWKS_FILE).
    """
    from eco2_tools.keys import generate

    jwk = generate(directory, keep=keep)
    click.echo(f"new signing key {jwk['kid']} in {directory / 'signing.pem'}; public keys in {directory / 'jwks.json'}")


IMPORTERS = {
    "characters": "the character catalog (platform/eco2/data/characters.json)",
    "knowledge": "the knowledge base's prices, checked against the class list and rules "
                 "(platform/eco2/data/knowledge/)",
    "locations": "collection points and zero-waste shops (platform/eco2/data/locations/)",
    "scan-tags": "scan's situation-tag vocabulary (platform/eco2/data/scan/situation_tags.json)",
}


@main.command("import")
@click.argument("names", nargs=-1, type=click.Choice(sorted(IMPORTERS)))
@click.option("--source", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="The original app's reference data (default: the repository's data/sources/).")
def import_(names: tuple[str, ...], source: Path | None) -> None:
    """Write eco2's shipped data files from the original app's reference data.

    NAMES are characters, knowledge, locations, scan-tags (default: all). The output
    under platform/eco2/data/ is committed and is what the runtime reads; the
    runtime never reads the sources. (Loading the shipped data into a database
    is another step: `eco2 migrate`.)
    """
    import importlib

    from eco2_tools.functions import repo_root

    source = source or repo_root() / "data" / "sources"
    for name in names or sorted(IMPORTERS):
        click.echo(importlib.import_module(f"eco2_tools.importers.{name.replace('-', '_')}").run(source))


# render, build, deploy, status, rollback, traffic (platform/eco2_tools/commands_deploy.py)
from eco2_tools.commands_deploy import COMMANDS  # noqa: E402

for _command in COMMANDS:
    main.add_command(_command)
