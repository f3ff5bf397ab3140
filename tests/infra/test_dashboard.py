"""The eco2 Grafana dashboard queries only metrics that the PodMonitors scrape.

What each Knative component exports, at the pinned Knative Serving (<= 1.18,
whose metrics go through OpenCensus's Prometheus exporter), per the "Knative
Serving metrics" and "Service metrics" reference pages of that release:
queue-proxy serves revision_* on its http-usermetric port (9091), the activator
activator_* and the autoscaler autoscaler_* on their metrics port (9090).
Knative 1.19 moved to OpenTelemetry and renamed them (kn_*, http_server_*):
test_knative_version_matches_the_catalogue fails on that bump, so the
dashboard moves with it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import promql_parser
import yaml

from tests.infra.test_ansible import ROLES, group_vars, render

HISTOGRAM = ("_bucket", "_sum", "_count")
CATALOGUE: dict[str, dict[str, str]] = {
    "queue-proxy": {
        "revision_request_count": "counter",
        "revision_request_latencies": "histogram",
        "revision_app_request_count": "counter",
        "revision_app_request_latencies": "histogram",
        "revision_queue_depth": "gauge",
    },
    "activator": {
        "activator_request_concurrency": "gauge",
        "activator_request_count": "counter",
        "activator_request_latencies": "histogram",
    },
    "autoscaler": {
        "autoscaler_desired_pods": "gauge",
        "autoscaler_requested_pods": "gauge",
        "autoscaler_actual_pods": "gauge",
        "autoscaler_not_ready_pods": "gauge",
        "autoscaler_pending_pods": "gauge",
        "autoscaler_terminating_pods": "gauge",
        "autoscaler_excess_burst_capacity": "gauge",
        "autoscaler_stable_request_concurrency": "gauge",
        "autoscaler_panic_request_concurrency": "gauge",
        "autoscaler_target_concurrency_per_pod": "gauge",
        "autoscaler_stable_requests_per_second": "gauge",
        "autoscaler_panic_requests_per_second": "gauge",
        "autoscaler_target_requests_per_second": "gauge",
        "autoscaler_panic_mode": "gauge",
    },
}
DASHBOARD = ROLES / "monitoring/files/eco2-dashboard.json"
# Grafana's own macros and the dashboard's variable, replaced before parsing.
MACROS = {"$__rate_interval": "5m", "$__interval": "1m", "$function": ".*"}


def series(component: str) -> set[str]:
    names = set()
    for name, kind in CATALOGUE[component].items():
        names |= {name + suffix for suffix in HISTOGRAM} if kind == "histogram" else {name}
    return names


def component_of(monitor: dict[str, Any]) -> str:
    """Which Knative component a PodMonitor scrapes, from its selector, namespace and port."""
    spec = monitor["spec"]
    (endpoint,) = spec["podMetricsEndpoints"]
    namespaces = spec["namespaceSelector"]["matchNames"]
    labels = spec["selector"].get("matchLabels", {})
    expressions = spec["selector"].get("matchExpressions", [])
    if namespaces == [group_vars()["eco2_namespace"]] and endpoint["port"] == "http-usermetric":
        assert expressions == [{"key": "serving.knative.dev/revision", "operator": "Exists"}]
        return "queue-proxy"
    assert namespaces == ["knative-serving"] and endpoint["port"] == "metrics", monitor["metadata"]["name"]
    return {"activator": "activator", "autoscaler": "autoscaler"}[labels["app"]]


def scraped() -> dict[str, str]:
    """Series name -> component, for every PodMonitor the monitoring role applies."""
    out = {}
    for monitor in render(ROLES / "monitoring/templates/podmonitors.yaml.j2"):
        assert monitor["kind"] == "PodMonitor"
        component = component_of(monitor)
        out.update(dict.fromkeys(series(component), component))
    return out


def walk(node: Any) -> Iterator[str]:
    """Metric names of every vector selector in a parsed PromQL expression."""
    if isinstance(node, promql_parser.VectorSelector):
        yield node.name
        return
    for attr in ("expr", "lhs", "rhs", "vector_selector", "param"):
        child = getattr(node, attr, None)
        if child is not None:
            yield from walk(child)
    for arg in getattr(node, "args", None) or []:
        yield from walk(arg)


def queries() -> Iterator[tuple[str, str]]:
    dashboard = json.loads(DASHBOARD.read_text())
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            yield panel["title"], target["expr"]
    for variable in dashboard["templating"]["list"]:
        # label_values(<selector>, <label>) is Grafana's, not PromQL: its selector is.
        match = re.fullmatch(r"label_values\((.+),\s*[a-z_]+\)", variable["query"]["query"])
        assert match, variable["query"]
        yield f"variable {variable['name']}", match.group(1)


def metrics_of(expr: str) -> set[str]:
    for macro, value in MACROS.items():
        expr = expr.replace(macro, value)
    return set(walk(promql_parser.parse(expr)))


def test_dashboard_queries_only_metrics_the_monitors_scrape() -> None:
    available = scraped()
    used: dict[str, set[str]] = {}
    for title, expr in queries():
        metrics = metrics_of(expr)
        assert metrics, f"{title}: no metric in {expr}"
        missing = metrics - set(available)
        assert not missing, f"{title}: {sorted(missing)} are not scraped by any PodMonitor"
        for metric in metrics:
            used.setdefault(available[metric], set()).add(metric)
    # Each monitor earns its place: the dashboard shows something of every one.
    assert set(used) == {"queue-proxy", "activator", "autoscaler"}, used


def test_dashboard_shows_rate_latency_concurrency_and_cold_starts_per_function() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    titles = " ".join(panel["title"].lower() for panel in dashboard["panels"])
    for topic in ("requests per second", "latency", "concurrency", "cold starts", "pods"):
        assert topic in titles, topic
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            assert 'namespace_name="eco2"' in target["expr"] and "service_name" in target["expr"], panel["title"]


def test_the_checker_rejects_an_unscraped_metric() -> None:
    assert metrics_of('sum(rate(kn_serving_invocation_duration_seconds_bucket{x="y"}[$__rate_interval]))') == {
        "kn_serving_invocation_duration_seconds_bucket"
    }
    assert "kn_serving_invocation_duration_seconds_bucket" not in scraped()


def test_knative_version_matches_the_catalogue() -> None:
    major, minor, _ = (int(p) for p in group_vars()["knative_serving_version"].split("."))
    assert (major, minor) <= (1, 18), "Knative >= 1.19 renamed its metrics: update CATALOGUE and the dashboard"


def test_prometheus_may_reach_queue_proxy_through_the_network_policy() -> None:
    (policy,) = render(ROLES / "monitoring/templates/networkpolicy.yaml.j2")
    defaults = yaml.safe_load((ROLES / "monitoring/defaults/main.yml").read_text())
    (rule,) = policy["spec"]["ingress"]
    assert rule["ports"] == [{"protocol": "TCP", "port": defaults["monitoring_queue_proxy_port_number"]}]
    assert rule["from"][0]["namespaceSelector"]["matchLabels"] == {
        "kubernetes.io/metadata.name": defaults["monitoring_namespace"]
    }
