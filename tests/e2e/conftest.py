"""Browser tests: a real server in a subprocess on its own database, driven by Chromium."""

import os
from pathlib import Path

import httpx
import pytest

from tests.live import live_server as live_server_process

CHROMIUM = os.environ.get("GIAIBAO_CHROMIUM", "/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
ORGANIZER = ("btc-e2e@example.vn", "mat-khau-e2e", "Ban Tổ Chức")
# The running test server (its database, for reading the outbox), by name.
SERVERS = {}


def pytest_collection_modifyitems(items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def live():
    with live_server_process("e2e") as server:
        SERVERS["e2e"] = server
        server.cli("create-user", "--email", ORGANIZER[0], "--password", ORGANIZER[1],
                   "--name", ORGANIZER[2], "--role", "organizer")
        yield server


@pytest.fixture(scope="session")
def live_server(live):
    return live.base


@pytest.fixture
def confirm_address(live):
    """Marks an address as proven in the server's database, as opening the mailed
    verification link does (that link's own journey is tested with the accounts)."""
    from datetime import UTC, datetime

    from sqlmodel import Session, select

    from app.accounts.models import User
    from app.db import make_engine
    from app.entries.service import link_co_author_accounts

    def confirm(email: str) -> None:
        engine = make_engine(live.database_url)
        with Session(engine) as session:
            user = session.exec(select(User).where(User.email == email)).one()
            user.email_verified_at = datetime.now(UTC)
            session.add(user)
            link_co_author_accounts(session, user)
            session.commit()
        engine.dispose()

    return confirm


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--disable-background-networking"],
        )
        yield browser
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
