"""The review UI in a real browser (Playwright driving Debian's Chromium) against a server on
loopback: log in, filter the queue, open an item, accept the suggestion, see its voucher.
Screenshots go to tmp/out/screenshots (or $YECAI_SCREENSHOT_DIR)."""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.review.seed import PASSWORD, SCRIPT, seed

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
SHOTS = Path(os.environ.get("YECAI_SCREENSHOT_DIR", ROOT / "tmp" / "out" / "screenshots"))

playwright_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
if not CHROMIUM.exists():
    pytest.skip(f"no browser: {CHROMIUM} is not installed (apt-get install chromium)", allow_module_level=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    import uvicorn

    from ledger.storage import migrate
    from ledger.storage.engine import make_engine
    from review.web.app import create_app

    engine = make_engine(f"sqlite:///{tmp_path / 'ui.db'}")
    migrate.upgrade(engine)
    app = create_app(engine, seed(engine))
    port = free_port()
    uv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not uv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert uv.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    uv.should_exit = True
    thread.join(timeout=10)
    engine.dispose()


@pytest.fixture
def page():
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
        yield context.new_page()
        browser.close()


def test_log_in_filter_open_accept_and_see_the_voucher(server, page) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.goto(f"{server}/queue")
    assert page.url.endswith("/login")
    page.fill('input[name="username"]', "reviewer1")
    page.fill('input[name="password"]', PASSWORD)
    page.click("#login")
    page.wait_for_url(f"{server}/queue")
    assert page.locator("table.queue tbody tr").count() == 4
    assert page.locator("td.party", has_text=SCRIPT).count() >= 1      # shown as text, not run
    page.screenshot(path=str(SHOTS / "queue.png"), full_page=True)

    page.select_option('select[name="code"]', "LOW_CONFIDENCE_MATCH")
    page.click("#apply-filters")
    page.wait_for_url("**code=LOW_CONFIDENCE_MATCH**")
    assert page.locator("table.queue tbody tr").count() == 1
    page.screenshot(path=str(SHOTS / "queue-filtered.png"), full_page=True)

    page.click("a.item-link")
    page.wait_for_selector("table.candidates")
    assert page.locator(".side-by-side .document").count() == 2
    assert page.locator("tr.candidate").count() == 2
    page.screenshot(path=str(SHOTS / "item.png"), full_page=True)

    page.locator("button.accept").first.click()
    page.wait_for_selector("p.done")
    assert page.locator("#item-status").inner_text() == "已解决"
    page.screenshot(path=str(SHOTS / "item-accepted.png"), full_page=True)

    item_url = page.url.split("?")[0]
    page.click("a.voucher-link")
    page.wait_for_selector("table.voucher-lines")
    lines = page.locator("table.voucher-lines").inner_text()
    assert "2241" in lines and "1122" in lines and "1130.00" in lines
    page.screenshot(path=str(SHOTS / "voucher.png"), full_page=True)

    page.goto(f"{server}/dashboard")
    assert page.locator("svg.chart").count() == 4
    page.screenshot(path=str(SHOTS / "dashboard.png"), full_page=True)
    page.goto(f"{item_url}?lang=en")      # Latin text reads even where no CJK font is installed
    assert page.locator("h2", has_text="Candidates").count() == 1
    page.screenshot(path=str(SHOTS / "item-en.png"), full_page=True)
