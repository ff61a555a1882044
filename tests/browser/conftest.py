"""Browser fixtures: Debian's chromium driven by Playwright (never `playwright install`), and a real
uvicorn server over a private copy of the demo business.

Every test in tests/browser is marked `browser`; all are skipped, with the reason, when
/usr/bin/chromium is absent (install it with `apt-get install -y chromium`).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    skip = pytest.mark.skip(reason=f"{CHROMIUM} is absent (apt-get install -y chromium)")
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)
            if not CHROMIUM.exists():
                item.add_marker(skip)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context()
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))

    def on_console(message: Any) -> None:
        if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico"):
            errors.append(message.text)

    opened.on("console", on_console)
    opened.js_errors = errors  # tests assert the page ran without script errors or CSP violations
    try:
        yield opened
    finally:
        context.close()


@pytest.fixture(scope="module")
def live_desk(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from safedesk.desk import Desk

    root = tmp_path_factory.mktemp("browser") / "shop"
    shutil.copytree(demo_dir, root, ignore=shutil.ignore_patterns("*.db*"))
    desk = Desk.open(root)
    yield desk
    desk.close()


@pytest.fixture(scope="module")
def base_url(live_desk: Any, app_server: Any) -> Iterator[str]:
    from safedesk.web.app import create_app

    with app_server(create_app(live_desk)) as url:
        yield url
