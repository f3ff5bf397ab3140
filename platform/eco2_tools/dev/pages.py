"""The dev gateway's pages for people: ``/_eco2/`` (each function's state,
cold start and requests, with links to its OpenAPI document and docs page) and
``/_eco2/docs/<function>`` (Swagger UI on the function's OpenAPI document, as
the original FastAPI app had at ``/docs``).

Swagger UI's files come from the ``swagger-ui-bundle-v2`` package and are served
by the gateway at ``/_eco2/assets/``: nothing is loaded from a CDN, so the
pages work offline. ``/_eco2/status`` stays JSON, for scripts.
"""

from __future__ import annotations

import html
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from eco2_tools.dev.gateway import Gateway
    from eco2_tools.dev.process import FunctionProcess

ASSETS = "/_eco2/assets/"
DOCS = "/_eco2/docs/"
# The files of Swagger UI the docs page loads; nothing else is served from the package.
ASSET_FILES = frozenset({"swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js",
                         "favicon-32x32.png", "favicon-16x16.png"})

_STYLE = """
body { font: 14px system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; }
th, td { padding: .35em .9em; border-bottom: 1px solid #ddd; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.state { font-weight: bold; }
.warm { color: #080; } .starting, .stopping { color: #b60; } .cold { color: #888; }
"""


@cache
def asset_dir() -> Path:
    """Swagger UI's folder inside the installed package."""
    from swagger_ui_bundle import swagger_ui_path

    return Path(str(swagger_ui_path))


def asset(name: str) -> Path | None:
    """The file behind ``/_eco2/assets/<name>``, or None for anything not on the list."""
    return asset_dir() / name if name in ASSET_FILES else None


def _cell(value: object, cls: str = "") -> str:
    text = "" if value is None else html.escape(str(value))
    return f'<td class="{cls}">{text}</td>' if cls else f"<td>{text}</td>"


def _row(fn: "FunctionProcess") -> str:
    s = fn.status()
    name = html.escape(fn.name)
    prefix = html.escape(fn.prefix)
    cold = f"{s['cold_start_ms']:.0f} ms" if s["cold_start_ms"] is not None else None
    links = (f'<a href="{prefix}/openapi.json">OpenAPI</a> · '
             f'<a class="docs" href="{DOCS}{name}">docs</a>')
    return (
        f'<tr id="fn-{name}"><td>{name}</td><td><code>{prefix}</code></td>'
        f'<td class="state {html.escape(fn.state)}">{html.escape(fn.state)}</td>'
        + _cell(s["pid"], "num") + _cell(cold, "num") + _cell(s["requests"], "num") + _cell(s["starts"], "num")
        + _cell(s["in_flight"], "num") + _cell(s["last_request_at"])
        + f"<td>{links}</td></tr>"
    )


def status_page(gateway: "Gateway") -> str:
    """Every function's state, last cold start and requests; refreshes itself."""
    backing = ", ".join(f"{html.escape(k)}: {html.escape(v)}" for k, v in gateway.backing.items())
    head = "".join(f"<th>{h}</th>" for h in (
        "function", "prefix", "state", "pid", "last cold start", "requests", "starts", "in flight",
        "last request", "API"))
    rows = "".join(_row(fn) for fn in gateway.functions.values())
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="2">
<title>eco2 dev</title><link rel="icon" href="{ASSETS}favicon-32x32.png"><style>{_STYLE}</style></head>
<body><h1>eco2 dev</h1>
<p>A function starts on its first request and stops after {gateway.idle_seconds:g} s idle.
{backing}. As JSON: <a href="/_eco2/status">/_eco2/status</a>.</p>
<table><tr>{head}</tr>{rows}</table>
</body></html>
"""


def docs_page(fn: "FunctionProcess") -> str:
    """Swagger UI on ``fn``'s OpenAPI document; "Try it out" goes through the gateway."""
    name = html.escape(fn.name)
    spec = html.escape(f"{fn.prefix}/openapi.json")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>eco2 {name}: API docs</title>
<link rel="icon" href="{ASSETS}favicon-32x32.png">
<link rel="stylesheet" href="{ASSETS}swagger-ui.css"></head>
<body><p style="font: 14px system-ui, sans-serif; margin: 1em 2em">
<a href="/_eco2/">eco2 dev</a> · {name} · <a href="{spec}">OpenAPI document</a></p>
<div id="swagger-ui" data-spec="{spec}"></div>
<script src="{ASSETS}swagger-ui-bundle.js"></script>
<script src="{ASSETS}swagger-ui-standalone-preset.js"></script>
<script>
window.ui = SwaggerUIBundle({{
  url: document.getElementById("swagger-ui").dataset.spec,
  dom_id: "#swagger-ui",
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: "BaseLayout",
  validatorUrl: null,
}});
</script>
</body></html>
"""
