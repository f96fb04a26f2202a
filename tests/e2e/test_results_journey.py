"""The end of an award in a real browser: the organizer closes the final round, allocates the
prizes, changes one with a reason, publishes; the public results page shows the decision, the
author's mail brings the outcome and a certificate that verifies."""

import os
from contextlib import contextmanager
import re
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from app.samples import pdf
from tests.e2e.conftest import ORGANIZER

SHOTS = Path(os.environ.get("GIAIBAO_SCREENSHOTS") or tempfile.mkdtemp(prefix="giaibao-shots-"))
PASSWORD = "mat-khau-ket-qua"
RUBRIC = [{"name": "Nội dung", "max_points": 40}, {"name": "Hình thức", "max_points": 30},
          {"name": "Tác động", "max_points": 30}]
# Each entry's points from both judges: totals 90, 80, 70, 60.
POINTS = [(36, 27, 27), (32, 24, 24), (28, 21, 21), (24, 18, 18)]
TITLES = ["Người giữ lửa ở bản Phước Hà", "Chi bộ bên dòng sông Cái",
          "Đảng viên trẻ nơi biên giới", "Mùa xuân trên đảo Sinh Tồn"]


def _ok(response: httpx.Response):
    assert response.status_code < 300, response.text
    return response.json() if response.content else {}


@contextmanager
def _client(live_server, email, password=PASSWORD):
    with httpx.Client(base_url=f"{live_server}/api/v1", timeout=60) as api:
        token = _ok(api.post("/auth/token", data={"username": email, "password": password}))
        api.headers["Authorization"] = f"Bearer {token['access_token']}"
        yield api


@pytest.fixture(scope="module")
def scene(organizer_api, live_server):
    """An award in judging whose final round has every score final but is still open."""
    now = datetime.now(UTC)
    stamp = now.strftime("%H%M%S%f")
    award = _ok(organizer_api.post("/awards", json={
        "title": f"Giải báo chí Xây dựng Đảng, công bố {stamp}", "year": 2026,
        "slug": f"cong-bo-{stamp}", "rules": "## Thể lệ",
        "submission_opens_at": (now - timedelta(days=1)).isoformat(),
        "submission_closes_at": (now + timedelta(days=30)).isoformat(),
        "published_from": "2025-11-01", "published_to": "2026-10-31",
        "max_entries_per_author": 5, "max_authors_per_entry": 5, "max_series_parts": 5}))
    category = _ok(organizer_api.post(f"/awards/{award['id']}/categories", json={
        "code": "BIN", "name": "Báo in", "accepted_kinds": ["pdf"], "max_file_mb": 10,
        "url_required": False, "prize_quota": {"A": 1, "B": 1, "C": 1, "KK": 1}}))
    _ok(organizer_api.patch(f"/awards/{award['id']}", json={"status": "open"}))

    def account(role, name, n):
        email = f"{role}{n}-{stamp}@example.vn"
        user = _ok(organizer_api.post("/users", json={"email": email, "password": PASSWORD,
                                                      "full_name": name, "role": role}))
        return {**user, "email": email}

    author = account("journalist", "Đỗ Thị Tác Giả", 1)
    judges = [account("judge", name, n) for n, name in enumerate(("Lê Văn Một", "Mai Thị Hai"))]
    entries = []
    with _client(live_server, author["email"]) as api:
        for n, title in enumerate(TITLES, start=1):
            entry = _ok(api.post(f"/awards/{award['id']}/entries", json={
                "category_id": category["id"], "title": title,
                "summary": f"Loạt bài số {n}.", "outlet": "Báo Khánh Hòa",
                "published_on": "2026-04-30", "co_authors": []}))
            _ok(api.post(f"/entries/{entry['id']}/files",
                         files={"file": (f"bai-{n}.pdf", pdf(f"Bai {n}"), "application/pdf")}))
            entries.append(_ok(api.post(f"/entries/{entry['id']}/submit")))
            _ok(organizer_api.post(f"/entries/{entry['id']}/screen", json={"decision": "accept"}))
    for status in ("closed", "judging"):
        _ok(organizer_api.patch(f"/awards/{award['id']}", json={"status": status}))
    round_ = _ok(organizer_api.post(f"/awards/{award['id']}/rounds", json={
        "name": "Vòng chung khảo", "judges_per_entry": 2, "blind": True, "aggregation": "mean",
        "criteria": RUBRIC}))
    for judge in judges:
        _ok(organizer_api.post(f"/rounds/{round_['id']}/panel", json={
            "judge_id": judge["id"], "category_ids": [category["id"]]}))
    _ok(organizer_api.post(f"/rounds/{round_['id']}/assign"))
    _ok(organizer_api.post(f"/rounds/{round_['id']}/start"))
    ids = [c["id"] for c in round_["criteria"]]
    for judge in judges:
        with _client(live_server, judge["email"]) as api:
            for entry, points in zip(entries, POINTS, strict=True):
                _ok(api.put(f"/rounds/{round_['id']}/entries/{entry['id']}/score", json={
                    "points": dict(zip(map(str, ids), points, strict=True)), "final": True}))
    return {"award": award, "round": round_, "entries": entries, "author": author}


def _log_in(page, email, password):
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Mật khẩu").fill(password)
    page.get_by_role("button", name="Đăng nhập").click()


def test_the_organizer_closes_allocates_overrides_and_publishes(page, browser, live_server,
                                                                 scene, mailbox):
    award, round_, entries = scene["award"], scene["round"], scene["entries"]
    page.set_viewport_size({"width": 1280, "height": 900})
    _log_in(page, ORGANIZER[0], ORGANIZER[1])

    # Close the final round: every score is final.
    page.goto(f"/admin/rounds/{round_['id']}")
    page.get_by_role("button", name="Kết thúc vòng…").click()
    expect(page.get_by_text("Đã chốt 8/8 phiếu điểm.")).to_be_visible()
    page.get_by_role("button", name="Kết thúc vòng", exact=True).click()
    expect(page.get_by_text("Vòng chấm đã kết thúc.")).to_be_visible()

    # Its ranking: 90, 80, 70, 60.
    page.goto(f"/admin/rounds/{round_['id']}/ranking")
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(4)
    expect(rows.nth(0)).to_contain_text(TITLES[0])
    expect(rows.nth(0)).to_contain_text("90,00")
    page.screenshot(path=SHOTS / "results-ranking.png", full_page=True)

    # Allocate from it: A, B, C, KK in rank order.
    page.goto(f"/admin/awards/{award['id']}/prizes")
    page.get_by_role("button", name="Phân bổ giải").click()
    expect(page.get_by_role("status").first).to_contain_text("Đã phân bổ giải")
    last = page.locator("tr", has_text=TITLES[3])
    expect(last).to_contain_text("Giải khuyến khích")

    # The fourth entry loses its prize: the reason is required, then recorded.
    last.get_by_text("Thay đổi").click()
    last.get_by_label("Giải", exact=True).select_option("")
    last.get_by_role("button", name="Lưu giải").click()
    last = page.locator("tr", has_text=TITLES[3])
    expect(last.get_by_role("alert")).to_have_text("Hãy nêu lý do thay đổi so với đề xuất.")
    last.get_by_label("Lý do (bắt buộc khi khác với đề xuất)").fill(
        "Tác phẩm đã đoạt giải ở một giải báo chí khác.")
    last.get_by_role("button", name="Lưu giải").click()
    last = page.locator("tr", has_text=TITLES[3])
    expect(last).to_contain_text("Tác phẩm đã đoạt giải ở một giải báo chí khác.")
    page.screenshot(path=SHOTS / "results-prizes.png", full_page=True)

    # Publish through the confirmation.
    page.get_by_role("link", name="Công bố kết quả").click()
    expect(page.locator("form.card")).to_contain_text("3 giấy chứng nhận")
    page.get_by_role("button", name="Công bố kết quả").click()
    expect(page.get_by_role("status").first).to_contain_text("Đã công bố kết quả")

    # Anyone now sees the results: three winners, the fourth entry not among them.
    public = browser.new_context(base_url=live_server, locale="vi-VN")
    visitor = public.new_page()
    visitor.goto(f"/awards/{award['slug']}/results")
    expect(visitor.locator("main")).to_contain_text(TITLES[0])
    expect(visitor.locator("main")).to_contain_text("Giải A")
    expect(visitor.locator("main")).to_contain_text("Đỗ Thị Tác Giả")
    expect(visitor.locator("main")).not_to_contain_text(TITLES[3])
    visitor.set_viewport_size({"width": 390, "height": 844})
    visitor.screenshot(path=SHOTS / "results-public-phone.png", full_page=True)

    # The author's mail: every outcome, and a certificate link that verifies.
    message = mailbox.mail_to(scene["author"]["email"], subject="Kết quả")
    assert f"{entries[3]['code']} “{TITLES[3]}”: không đạt giải" in message.text
    assert f"{entries[0]['code']} “{TITLES[0]}”: Giải A" in message.text
    link = re.search(r"https?://\S+/certificates/[\w-]+", message.text).group(0)
    visitor.goto(link)
    expect(visitor.locator("main")).to_contain_text("Giấy chứng nhận hợp lệ")
    expect(visitor.locator("main")).to_contain_text(TITLES[0])
    public.close()
