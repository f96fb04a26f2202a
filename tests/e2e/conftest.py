"""Browser tests: a real server in a subprocess on its own database, driven by Chromium."""

import os
from pathlib import Path

import httpx
import pytest

from tests.live import live_server as live_server_process

CHROMIUM = os.environ.get("GIAIBAO_CHROMIUM", "/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
ORGANIZER = ("btc-e2e@example.vn", "mat-khau-e2e", "Ban Tổ Chức")


def pytest_collection_modifyitems(items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def mailbox():
    """The SMTP server the test server's sender delivers to: the journeys read their mails
    (verification, reset, receipt) from what really arrived here."""
    from tests.smtp_sink import SmtpSink

    with SmtpSink() as sink:
        yield sink


@pytest.fixture(scope="session")
def live(mailbox):
    with live_server_process("e2e", smtp_host="127.0.0.1", smtp_port=mailbox.port,
                             mail_poll_seconds=1) as server:
        server.cli("create-user", "--email", ORGANIZER[0], "--password", ORGANIZER[1],
                   "--name", ORGANIZER[2], "--role", "organizer")
        yield server


@pytest.fixture(scope="session")
def live_server(live):
    return live.base


def link_in(text: str) -> str:
    """The path and query of the secret link in a mail's text (the server's own address)."""
    import re
    from urllib.parse import urlsplit

    url = urlsplit(re.search(r"https?://\S+token=\S+", text).group(0))
    return f"{url.path}?{url.query}"


@pytest.fixture(scope="session")
def axe_watch():
    from tests.e2e.axe import AxeWatch

    return AxeWatch()


@pytest.fixture(autouse=True)
def accessible_pages(request, axe_watch):
    """Fails a journey in which any page loaded had a WCAG 2.2 A/AA violation: every load of
    every page of every context made from ``browser`` is copied, and axe-core checks the
    copies once the test is done (tests/e2e/axe.py). Set up before ``page``, so it runs after
    the journey's pages are closed."""
    axe_watch.reset()
    yield axe_watch
    if "/e2e/" not in str(request.node.fspath) or "browser" not in request.fixturenames:
        return
    axe_watch.check_pending(request.getfixturevalue("browser").unwatched)
    assert axe_watch.violations == [], axe_watch.report()


@pytest.fixture(scope="session")
def browser(axe_watch):
    from playwright.sync_api import sync_playwright

    from tests.e2e.axe import WatchedBrowser

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--disable-background-networking"],
        )
        yield WatchedBrowser(browser, axe_watch)
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server, locale="vi-VN")
    page = context.new_page()
    page.set_default_timeout(15000)
    blocked = []  # what the Content-Security-Policy refused (app.headers)
    page.on("console", lambda message: blocked.append(message.text)
            if "Content Security Policy" in message.text else None)
    yield page
    context.close()
    assert blocked == []


@pytest.fixture(scope="session")
def organizer_api(live_server):
    """An httpx client signed in as the organizer, for setting the scene quickly."""
    with httpx.Client(base_url=f"{live_server}/api/v1") as api:
        token = api.post("/auth/token", data={"username": ORGANIZER[0],
                                              "password": ORGANIZER[1]}).json()["access_token"]
        api.headers["Authorization"] = f"Bearer {token}"
        yield api


@pytest.fixture
def open_award(organizer_api):
    from datetime import UTC, datetime, timedelta

    import itertools

    n = next(_award_numbers)
    now = datetime.now(UTC)
    award = organizer_api.post("/awards", json={
        "title": f"Giải báo chí Xây dựng Đảng E2E {n}", "year": 2026, "slug": f"e2e-{n}",
        "rules": "## Thể lệ", "submission_opens_at": (now - timedelta(days=1)).isoformat(),
        "submission_closes_at": (now + timedelta(days=30)).isoformat(),
        "published_from": "2025-11-01", "published_to": "2026-10-31",
        "max_entries_per_author": 3, "max_authors_per_entry": 5, "max_series_parts": 5,
    }).json()
    organizer_api.post(f"/awards/{award['id']}/categories", json={
        "code": "BDT", "name": "Báo điện tử", "accepted_kinds": ["pdf", "image"],
        "max_file_mb": 50, "url_required": False, "prize_quota": {"A": 1, "B": 2, "C": 3, "KK": 4}})
    organizer_api.patch(f"/awards/{award['id']}", json={"status": "open"})
    del itertools
    return award


_award_numbers = iter(range(1, 10_000))
