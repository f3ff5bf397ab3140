"""The single API host: the released app's one base URL, routed by path on the ALB.

The ingress module's listener rules are read with python-hcl2, filled in for
every prefix of terraform/api_routes.tf.json (rendered from function.yaml), and
evaluated the way the ALB evaluates them, so a pattern that catches a
neighbour's path (``/api/v1/user*`` would take ``/api/v1/users``) fails here.
"""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
from pathlib import Path
from dataclasses import dataclass
from typing import Any

import pytest
from eco2_tools import render as rendering
from eco2_tools.functions import discover

from tests.infra import hcl
from tests.infra.tools import ROOT, terraform

API = "api.example.org"
Table = dict[str, dict[str, Any]]  # prefix -> {function, priority}


def table(text: str) -> Table:
    return json.loads(text)["locals"]["api_routes"]


ROUTES = table((ROOT / "terraform" / "api_routes.tf.json").read_text())


@dataclass
class Rule:
    priority: int
    hosts: list[str]
    patterns: list[str] | None  # None: any path
    rewrite: tuple[str, str] | None  # (regex, replacement) of the Host
    action: dict[str, Any]


def fill(value: Any, prefix: str = "", function: str = "") -> Any:
    """A rule's value with each.key, each.value.function and var.api_domain filled in."""
    if isinstance(value, list):
        return [fill(v, prefix, function) for v in value]
    if isinstance(value, dict):
        return {k: fill(v, prefix, function) for k, v in value.items()}
    if isinstance(value, str):
        return (
            value.replace("${each.key}", prefix)
            .replace("${each.value.function}", function)
            .replace("${var.api_domain}", API)
        )
    return value


def rule(body: dict[str, Any], priority: int) -> Rule:
    conditions = {kind: block[0]["values"] for c in body["condition"] for kind, block in c.items()}
    rewrite = None
    for transform in body.get("transform", []):
        assert transform["type"] == "host-header-rewrite", transform
        (config,) = transform["host_header_rewrite_config"][0]["rewrite"]
        rewrite = (config["regex"], config["replace"])
    return Rule(priority, conditions["host_header"], conditions.get("path_pattern"), rewrite, body["action"][0])


def rules(routes: Table) -> list[Rule]:
    """The HTTPS listener's rules for the API host, in priority order."""
    bodies = hcl.module("ingress").resources("aws_lb_listener_rule")
    path_rule = bodies["api_path"]
    assert path_rule["for_each"] == "${var.api_routes}"
    assert path_rule["priority"] == "${each.value.priority}"
    out = [
        rule(fill(path_rule, prefix, entry["function"]), entry["priority"])
        for prefix, entry in routes.items()
    ]
    out.append(rule(fill(bodies["api_unrouted"]), int(bodies["api_unrouted"]["priority"])))
    return sorted(out, key=lambda r: r.priority)


def path_matches(pattern: str, path: str) -> bool:
    """An ALB path pattern: case-sensitive, ``*`` any run of characters (``/`` too), ``?`` one."""
    regex = re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".")
    return re.fullmatch(regex, path) is not None


def route(host: str, path: str, routes: Table = ROUTES) -> tuple[Rule, str] | None:
    """The first rule that takes the request, and the Host the target then sees."""
    matching = [
        r for r in rules(routes)
        if host in r.hosts and (r.patterns is None or any(path_matches(p, path) for p in r.patterns))
    ]
    if not matching:
        return None  # the listener's default action: Kourier, Host unchanged
    first = matching[0]
    return first, re.sub(first.rewrite[0], first.rewrite[1], host) if first.rewrite else host


def test_the_rendered_table_holds_every_prefix_and_alias_and_reaches_the_module() -> None:
    expected = {prefix: fn.name for fn in discover(ROOT) for prefix in fn.prefixes}
    assert {prefix: entry["function"] for prefix, entry in ROUTES.items()} == expected
    priorities = [entry["priority"] for entry in ROUTES.values()]
    assert len(set(priorities)) == len(priorities) and min(priorities) >= 1
    assert max(priorities) < int(hcl.module("ingress").resources("aws_lb_listener_rule")["api_unrouted"]["priority"])
    assert hcl.root().named("module")["ingress"]["api_routes"] == "${local.api_routes}"


def test_a_nested_prefix_wins_over_its_parent_as_in_the_dev_gateway() -> None:
    specs = discover(ROOT)
    info = next(fn for fn in specs if fn.name == "info")
    nested = dataclasses.replace(info, spec={**info.spec, "aliases": ["/api/v1/user/guides"]})
    routes = table(rendering.api_routes([nested if fn is info else fn for fn in specs]))
    assert route(API, "/api/v1/user/guides/1", routes)[1] == f"info.{API}"
    assert route(API, "/api/v1/user/guides", routes)[1] == f"info.{API}"
    assert route(API, "/api/v1/user/guidesx", routes)[1] == f"my.{API}"
    assert route(API, "/api/v1/user/me", routes)[1] == f"my.{API}"


@pytest.mark.parametrize(("prefix", "function"), sorted((p, e["function"]) for p, e in ROUTES.items()))
@pytest.mark.parametrize("below", ["", "/", "/openapi.json", "/a/b"])
def test_each_prefix_reaches_its_function_host(prefix: str, function: str, below: str) -> None:
    taken = route(API, prefix + below)
    assert taken is not None
    matched, host = taken
    assert matched.action["type"] == "forward"
    assert matched.action["target_group_arn"] == "${aws_lb_target_group.kourier.arn}"
    assert host == f"{function}.{API}"


@pytest.mark.parametrize(
    ("path", "function"),
    [
        ("/api/v1/users/me", "my"),  # the released app's splash screen
        ("/api/v1/user/me", "my"),
        ("/api/v1/auth/refresh", "auth"),
        ("/api/v1/images/scan/callback", "image"),
        ("/api/v1/chat/messages", "chat"),
    ],
)
def test_the_released_apps_paths(path: str, function: str) -> None:
    assert route(API, path)[1] == f"{function}.{API}"


@pytest.mark.parametrize("path", ["/", "/healthz", "/api/v1", "/api/v1/userx", "/API/v1/auth/refresh"])
def test_any_other_path_on_the_api_host_is_a_json_404(path: str) -> None:
    matched, host = route(API, path)
    assert host == API
    assert matched.action["type"] == "fixed-response"
    response = matched.action["fixed_response"][0]
    assert response["status_code"] == "404" and response["content_type"] == "application/json"


def test_function_hosts_are_left_to_kourier_as_they_were() -> None:
    assert route(f"auth.{API}", "/api/v1/auth/refresh") is None
    assert route(f"auth.{API}", "/api/v1/user/me") is None  # no cross-routing on a function's host


def test_the_api_host_has_a_record_and_a_certificate_name() -> None:
    ingress = hcl.module("ingress")
    records = ingress.resources("aws_route53_record")
    assert {r["name"] for r in records.values()} == {"${var.api_domain}", "*.${var.api_domain}"}
    certificate = ingress.named("module")["certificate"]
    assert certificate["domain_name"] == "*.${var.api_domain}"
    assert certificate["subject_alternative_names"] == ["${var.api_domain}"]


def test_the_provider_has_listener_rule_transforms() -> None:
    """Host rewrites arrived in hashicorp/aws 6.19; an older provider rejects the block."""
    (required,) = hcl.root().blocks["terraform"][0]["required_providers"]
    major, minor = map(int, re.fullmatch(r"~> (\d+)\.(\d+)", required["aws"]["version"]).groups())
    assert (major, minor) >= (6, 19)


@pytest.mark.parametrize(
    ("names", "kept"),
    [
        (["*.api.x.org", "api.x.org"], ["*.api.x.org"]),  # the API's: one record, the wildcard's key as before
        (["images.x.org"], ["images.x.org"]),  # the CDN's
        (["*.api.x.org"], ["*.api.x.org"]),
    ],
)
def test_a_wildcard_and_its_bare_name_get_one_validation_record(tmp_path: Path, names: list[str], kept: list[str]) -> None:
    """The validation records' for_each, evaluated by terraform itself on ACM's options for these names."""
    binary, why = terraform()
    if binary is None:
        pytest.skip(why)
    expression = hcl.module("dns_certificate").resources("aws_route53_record")["validation"]["for_each"]
    expression = expression.removeprefix("${").removesuffix("}")
    options = [{"domain_name": n, "resource_record_name": f"_v.{n.removeprefix('*.')}"} for n in names]
    (tmp_path / "main.tf.json").write_text(json.dumps({
        "variable": {"domain_name": {"default": names[0]}, "subject_alternative_names": {"default": names[1:]}},
        "locals": {"options": options},
        "output": {"kept": {"value": "${keys(" + expression.replace(
            "aws_acm_certificate.this.domain_validation_options", "local.options") + ")}"}},
    }))
    env = {"TF_IN_AUTOMATION": "1", "TF_CLI_CONFIG_FILE": str(tmp_path / "none.tfrc"), "HOME": str(tmp_path),
           "PATH": "/usr/bin:/bin"}
    for argv in ([binary, "init", "-input=false", "-backend=false"], [binary, "apply", "-input=false", "-auto-approve"]):
        done = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=120, env=env)
        assert done.returncode == 0, done.stdout + done.stderr
    out = subprocess.run([binary, "output", "-json", "kept"], cwd=tmp_path, capture_output=True, text=True,
                         timeout=60, env=env)
    assert json.loads(out.stdout) == kept
