"""The gateway's pages for people: the status page at /_eco2/ and Swagger UI for
every function at /_eco2/docs/<function>, opened in a real headless Chromium
(Debian's chromium, driven by Playwright for Python; `playwright install` is
never used). Where Chromium cannot run, the browser tests skip and say why;
the checks that need no browser run everywhere."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest

from eco2_tools.dev import pages

from .harness import RunningGateway

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        pytest.skip("Playwright for Python is not installed (make install)")
    if not CHROMIUM.exists():
        pytest.skip(f"no {CHROMIUM}: Debian's chromium is not installed (.ci/run installs it as root)")
    with sync_playwright() as playwright:
        try:
            launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        except Error as exc:
            pytest.skip(f"{CHROMIUM} did not start: {str(exc).splitlines()[0]}")
        yield launched
        launched.close()


@pytest.fixture
def gateway(start_gateway) -> RunningGateway:  # noqa: ANN001
    return start_gateway()


class Visit:
    """A page with every request it made and every script error it raised."""

    def __init__(self, browser: Any, base: str) -> None:
        self.base = base
        self.page = browser.new_page()
        self.requests: list[str] = []
        self.failed: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("requestfailed", lambda r: self.failed.append(f"{r.url}: {r.failure}"))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def open(self, path: str) -> Any:
        response = self.page.goto(self.base + path)
        assert response is not None and response.status == 200, path
        return self.page

    def offline(self) -> list[str]:
        """Requests that left the gateway (a CDN, say): there must be none."""
        return [url for url in self.requests if not url.startswith(self.base + "/")]


def test_status_page_renders(browser: Any, gateway: RunningGateway) -> None:
    assert gateway.get("/api/v1/info/categories").status == 200  # info is warm, the rest cold
    visit = Visit(browser, f"http://127.0.0.1:{gateway.port}")
    page = visit.open("/_eco2/")
    assert page.title() == "eco2 dev"
    rows = page.locator("tr[id^='fn-']")
    assert rows.count() == len(gateway.gateway.functions)
    assert page.locator("#fn-info .state").inner_text() == "warm"
    assert page.locator("#fn-auth .state").inner_text() == "cold"
    cells = page.locator("#fn-info td").all_inner_texts()
    assert any(text.endswith(" ms") for text in cells), cells  # the last cold start
    assert page.locator("#fn-info a.docs").get_attribute("href") == "/_eco2/docs/info"
    assert page.locator("#fn-info a", has_text="OpenAPI").get_attribute("href") == "/api/v1/info/openapi.json"
    assert visit.offline() == [] and visit.failed == [] and visit.errors == []


def test_docs_page_of_every_function_renders(browser: Any, gateway: RunningGateway) -> None:
    visit = Visit(browser, f"http://127.0.0.1:{gateway.port}")
    for name, fn in gateway.gateway.functions.items():
        page = visit.open(f"/_eco2/docs/{name}")
        title = page.locator(".swagger-ui .info .title")
        title.wait_for(timeout=60_000)  # the function cold-starts for its openapi.json
        assert f"eco2 {name}" in title.inner_text()
        operations = page.locator(".swagger-ui .opblock")
        document = gateway.get(f"{fn.prefix}/openapi.json").json()
        expected = sum(len(item) for item in document["paths"].values())
        assert operations.count() == expected, name
    assert visit.offline() == [], visit.offline()
    assert visit.failed == [] and visit.errors == []
    assert any(url.endswith(pages.ASSETS + "swagger-ui-bundle.js") for url in visit.requests)


def test_pages_and_assets_without_a_browser(gateway: RunningGateway) -> None:
    docs = gateway.get("/_eco2/docs/info")
    assert docs.status == 200 and docs.headers["Content-Type"].startswith("text/html")
    assert 'data-spec="/api/v1/info/openapi.json"' in docs.body.decode()
    css = gateway.get(pages.ASSETS + "swagger-ui.css")
    assert css.status == 200 and css.headers["Content-Type"].startswith("text/css") and len(css.body) > 10_000
    for path in ("/_eco2/docs/nope", pages.ASSETS + "index.html", pages.ASSETS + "..%2F__init__.py",
                 "/_eco2/anything"):
        reply = gateway.get(path)
        assert reply.status == 404 and reply.headers["Content-Type"] == "application/problem+json", path
    assert gateway.get("/_eco2/status").json()["functions"]
