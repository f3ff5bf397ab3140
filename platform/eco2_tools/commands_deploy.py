"""The `eco2` commands that render, build and deploy (registered by cli.py).

The kubernetes client and the build tools are imported inside the commands:
`eco2 dev` never loads them.
"""

from __future__ import annotations

import functools
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import click


@click.command()
@click.option("--check", is_flag=True, help="Change nothing; exit 1 if a rendered file is stale.")
@click.option(
    "--digest",
    "digests",
    multiple=True,
    metavar="NAME=sha256:HEX",
    help="Pin NAME's image to this digest in knative/images.yaml first (repeatable).",
)
def render(check: bool, digests: tuple[str, ...]) -> None:
    """Write knative/services/ (Knative Services, migration Job) and terraform/api_routes.tf.json from every function.yaml."""
    from eco2_tools import render as rendering
    from eco2_tools.functions import repo_root

    root = repo_root()
    try:
        for item in digests:
            name, _, digest = item.partition("=")
            rendering.record_digest(root, name, digest)
        changed = rendering.stale(root) if check else rendering.write(root)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    for path in changed:
        click.echo(f"{'stale' if check else 'wrote'} {path.relative_to(root)}")
    if check and changed:
        raise SystemExit(1)


@click.command()
@click.argument("name")
def image(name: str) -> None:
    """Where NAME's image goes, from knative/images.yaml, as KEY=VALUE lines:
    repository, tag (the one to push besides the commit's) and ref (what
    `eco2 render` writes into the Service). CD appends them to $GITHUB_OUTPUT."""
    from eco2_tools import render as rendering
    from eco2_tools.functions import repo_root

    root = repo_root()
    try:
        images = rendering.read_images(root)
        known = rendering.known_images(root)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    if name not in known:
        raise click.ClickException(f"no image {name!r} (known: {', '.join(sorted(known))})")
    click.echo(f"repository={rendering.repository_for(name, images)}")
    click.echo(f"tag={images['tag']}")
    click.echo(f"ref={rendering.image_for(name, images)}")


@click.command()
@click.argument("name", required=False)
@click.option(
    "--all", "build_all", is_flag=True, help="Every function, and the migration Job's image."
)
@click.option(
    "--image", is_flag=True, help="Also build the OCI image with buildah (tag eco2-<name>:dev)."
)
@click.option(
    "--base",
    default=None,
    metavar="IMAGE",
    help="With --image: the base image instead of python:3.11-slim.",
)
@click.option(
    "--wheels",
    is_flag=True,
    help="Put the wheels in the context: the image build needs no package index.",
)
def build(name: str | None, build_all: bool, image: bool, base: str | None, wheels: bool) -> None:
    """Write build/<name>/: a self-contained context (Containerfile, locked
    requirements, the vendored runtime, the function's code)."""
    from eco2_tools import build as building

    if bool(name) == build_all:
        raise click.UsageError("give a function name or --all")
    try:
        contexts = (
            building.build_all(wheels=wheels)
            if build_all
            else [building.build_context(name, wheels=wheels)]
        )
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    for context in contexts:
        click.echo(f"{context.directory}: {len(context.packages)} packages")
        if image:
            try:
                building.build_image(context, f"eco2-{context.name}:dev", base)
            except (RuntimeError, subprocess.CalledProcessError) as exc:
                raise click.ClickException(f"{context.name}: image build failed: {exc}") from None


@dataclass(frozen=True)
class Kube:
    """Where a command talks to: the deploy module, a CustomObjectsApi, the namespace."""

    deploying: Any
    custom: Any
    namespace: str
    timeout: float


def kube_command(command: Callable[..., None]) -> Callable[..., None]:
    """The cluster options as one ``kube`` argument; a DeployError is a clean exit 1."""

    @click.option("--context", default=None, help="kubeconfig context (default: the current one).")
    @click.option(
        "--kubeconfig", default=None, envvar="KUBECONFIG", help="kubeconfig file (env KUBECONFIG)."
    )
    @click.option("--namespace", "-n", default="eco2", show_default=True)
    @click.option("--timeout", default=300.0, show_default=True, help="Seconds to wait for Ready.")
    @functools.wraps(command)
    def wrapper(
        context: str | None, kubeconfig: str | None, namespace: str, timeout: float, **kwargs: Any
    ) -> None:
        from kubernetes.config import ConfigException

        from eco2_tools import deploy as deploying

        try:
            custom = deploying.api(context, kubeconfig)
        except ConfigException as exc:
            raise click.ClickException(f"no cluster to talk to: {exc}") from None
        try:
            command(kube=Kube(deploying, custom, namespace, timeout), **kwargs)
        except deploying.DeployError as exc:
            raise click.ClickException(str(exc)) from None

    return wrapper


@click.command()
@click.argument("name", required=False)
@click.option("--all", "deploy_all", is_flag=True, help="Every function.")
@kube_command
def deploy(name: str | None, deploy_all: bool, kube: Kube) -> None:
    """Create or update Knative Services from function.yaml, wait until Ready, print URLs."""
    import yaml

    from eco2_tools import render as rendering

    if bool(name) == deploy_all:
        raise click.UsageError("give a function name or --all")
    root = rendering.repo_root()
    services = {
        path.stem: yaml.safe_load(text)
        for path, text in rendering.render(root).items()
        if yaml.safe_load(text).get("kind") == "Service"
    }
    if name and name not in services:
        raise click.ClickException(f"no function {name!r} (known: {', '.join(sorted(services))})")
    bodies = [services[n] for n in sorted(services) if deploy_all or n == name]
    kube.deploying.deploy(kube.custom, kube.namespace, bodies, kube.timeout, click.echo)


@click.command()
@kube_command
def status(kube: Kube) -> None:
    """Each function's URL, latest ready revision, traffic and readiness."""
    from eco2_tools.functions import discover

    for st in kube.deploying.status(kube.custom, kube.namespace, [fn.name for fn in discover()]):
        if not st.deployed:
            click.echo(f"{st.name:<10} not deployed")
            continue
        line = f"{st.name:<10} ready={st.ready:<7} {st.url}  latest={st.latest_ready}"
        line += f"  traffic: {st.traffic}"
        click.echo(line + (f"  ({st.reason})" if st.reason else ""))


@click.command()
@click.argument("name")
@click.option(
    "--to",
    "to",
    default=None,
    metavar="REVISION",
    help="Default: the one before the serving revision.",
)
@kube_command
def rollback(name: str, to: str | None, kube: Kube) -> None:
    """Pin 100% of NAME's traffic to the previous (or a named) ready revision."""
    kube.deploying.rollback(kube.custom, kube.namespace, name, to, kube.timeout, click.echo)


@click.command()
@click.argument("name")
@click.argument("split", nargs=-1, required=True, metavar="REVISION=PERCENT...")
@kube_command
def traffic(name: str, split: tuple[str, ...], kube: Kube) -> None:
    """Split NAME's traffic between revisions (a canary): e.g. auth-00003=90 latest=10."""
    split_map = kube.deploying.parse_split(split)
    kube.deploying.set_traffic(
        kube.custom, kube.namespace, name, split_map, kube.timeout, click.echo
    )


COMMANDS = [render, image, build, deploy, status, rollback, traffic]
