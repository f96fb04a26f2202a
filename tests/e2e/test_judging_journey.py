"""The judge's side in a real browser: a judge signs in, opens the queue, watches a video
from its middle (a Range request answered 206) beside a PDF shown inline, scores an entry
with the keyboard alone, finalises it and moves on with "finalise and next"; another declares
a conflict of interest; a third scores on a phone."""

import os
import re
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from app.samples import mp4, pdf, png

SHOTS = Path(os.environ.get("GIAIBAO_SCREENSHOTS") or tempfile.mkdtemp(prefix="giaibao-shots-"))
PASSWORD = "mat-khau-giam-khao"
RUBRIC = [
    {"name": "Nội dung", "description": "Tính chính xác, chiều sâu, giá trị thông tin",
     "max_points": 40},
    {"name": "Hình thức", "description": "Cách thể hiện, ngôn ngữ, kỹ thuật", "max_points": 30},
    {"name": "Tác động", "description": "Hiệu quả xã hội, sức lan tỏa", "max_points": 30},
]


def _ok(response: httpx.Response) -> dict:
    assert response.status_code < 300, response.text
    return response.json() if response.content else {}


@pytest.fixture(scope="module")
def scene(organizer_api, live_server):
    """A blind round scoring three accepted entries (each a PDF, a picture and an MP4 of
    several megabytes, so that the player must seek with Range requests), two judges per
    entry from a panel of three."""
    now = datetime.now(UTC)
    stamp = now.strftime("%H%M%S%f")
    award = _ok(organizer_api.post("/awards", json={
        "title": f"Giải báo chí Xây dựng Đảng, chấm giải {stamp}", "year": 2026,
        "slug": f"cham-giai-{stamp}", "rules": "## Thể lệ",
        "submission_opens_at": (now - timedelta(days=1)).isoformat(),
        "submission_closes_at": (now + timedelta(days=30)).isoformat(),
        "published_from": "2025-11-01", "published_to": "2026-10-31",
        "max_entries_per_author": 5, "max_authors_per_entry": 5, "max_series_parts": 5}))
    category = _ok(organizer_api.post(f"/awards/{award['id']}/categories", json={
        "code": "DPT", "name": "Báo chí đa phương tiện",
        "accepted_kinds": ["pdf", "image", "audio", "video"], "max_file_mb": 50,
        "url_required": False, "prize_quota": {"A": 1, "B": 2, "C": 3, "KK": 4}}))
    _ok(organizer_api.patch(f"/awards/{award['id']}", json={"status": "open"}))

    names = iter(range(1, 100))

    def account(role, name):
        email = f"{role}{next(names)}-{stamp}@example.vn"
        user = _ok(organizer_api.post("/users", json={"email": email, "password": PASSWORD,
                                                      "full_name": name, "role": role}))
        return {**user, "email": email}

    author = account("journalist", "Phan Văn Tác Giả")
    judges = [account("judge", name) for name in ("Lê Thị Một", "Trần Văn Hai", "Vũ Thị Ba")]
    with httpx.Client(base_url=f"{live_server}/api/v1", timeout=60) as api:
        token = _ok(api.post("/auth/token", data={"username": author["email"],
                                                  "password": PASSWORD}))["access_token"]
        api.headers["Authorization"] = f"Bearer {token}"
        for n, title in enumerate(("Người giữ lửa ở bản Phước Hà", "Chi bộ bên dòng sông Cái",
                                   "Đảng viên trẻ nơi biên giới"), start=1):
            entry = _ok(api.post(f"/awards/{award['id']}/entries", json={
                "category_id": category["id"], "title": title,
                "summary": f"Phóng sự số {n} về công tác xây dựng Đảng ở cơ sở.",
                "outlet": "Báo Ninh Thuận", "published_on": "2026-04-30",
                "url": f"https://baoninhthuan.vn/phong-su-{n}", "co_authors": []}))
            for name, data, kind in (
                    (f"phong-su-{n}.pdf", pdf(f"Phong su so {n}"), "application/pdf"),
                    (f"anh-{n}.png", png(320, 180, (20 * n, 90, 140)), "image/png"),
                    (f"video-{n}.mp4", mp4(seconds=16 + n, fps=5, width=320, height=192),
                     "video/mp4")):
                _ok(api.post(f"/entries/{entry['id']}/files", files={"file": (name, data, kind)}))
            _ok(api.post(f"/entries/{entry['id']}/submit"))
            _ok(organizer_api.post(f"/entries/{entry['id']}/screen", json={"decision": "accept"}))
    for status in ("closed", "judging"):
        _ok(organizer_api.patch(f"/awards/{award['id']}", json={"status": status}))
    round_ = _ok(organizer_api.post(f"/awards/{award['id']}/rounds", json={
        "name": "Vòng sơ khảo", "judges_per_entry": 2, "blind": True, "aggregation": "mean",
        "criteria": RUBRIC}))
    for judge in judges:
        _ok(organizer_api.post(f"/rounds/{round_['id']}/panel", json={
            "judge_id": judge["id"], "category_ids": [category["id"]]}))
    _ok(organizer_api.post(f"/rounds/{round_['id']}/assign"))
    _ok(organizer_api.post(f"/rounds/{round_['id']}/start"))
    return {"award": award, "round": round_, "judges": judges}


def _log_in(page, email):
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()


def _wait(page, expression: str, seconds: float = 15) -> None:
    """Polls ``expression`` from the test (the page's CSP forbids the in-page polling of
    ``wait_for_function``, which evaluates strings)."""
    import time

    deadline = time.monotonic() + seconds
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {seconds} s: {expression}")
        page.wait_for_timeout(100)


def _tab_to(page, predicate: str, limit: int = 60) -> None:
    """Presses Tab until ``predicate`` (JS on document.activeElement, as ``el``) holds."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"(() => {{ const el = document.activeElement; return {predicate}; }})()"):
            return
    raise AssertionError(f"never reached by Tab: {predicate}")


def _to_rubric(page) -> None:
    """By keyboard, to just before the first criterion: a page that comes back after a save
    opens at the scoring form already; otherwise Tab to the "go to the scoring form" link
    and follow it."""
    if page.url.endswith("#rubric-title"):
        return
    _tab_to(page, "el.classList.contains('jump')")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "rubric-title"


def test_a_judge_scores_with_the_keyboard_watches_the_video_and_moves_on(page, scene):
    refused_frames = []
    page.on("console", lambda m: refused_frames.append(m.text)
            if "Refused to display" in m.text or "X-Frame-Options" in m.text else None)
    page.set_viewport_size({"width": 1366, "height": 900})
    judge = scene["judges"][0]
    _log_in(page, judge["email"])
    expect(page).to_have_url(re.compile(r"/judge$"))
    expect(page.get_by_role("heading", name="Các vòng chấm của bạn")).to_be_visible()
    expect(page.get_by_role("navigation").get_by_role("link", name="Chấm điểm")).to_be_visible()
    row = page.get_by_role("row", name=re.compile(scene["award"]["title"]))
    expect(row).to_contain_text("Chấm kín: ẩn tác giả")
    expect(row).to_contain_text("0 / 2")
    row.get_by_role("link", name="Vòng sơ khảo").click()

    expect(page.get_by_text("Đã chốt điểm 0 trên 2 tác phẩm.")).to_be_visible()
    page.screenshot(path=str(SHOTS / "1-queue.png"), full_page=True)
    page.get_by_role("link", name="Bắt đầu chấm").click()
    expect(page.get_by_role("heading", name="Phiếu chấm của bạn")).to_be_visible()
    scoring_url = page.url
    code = page.locator("h1 .entry-code").inner_text()
    assert re.fullmatch(r"DPT-00\d", code)
    expect(page).to_have_title(re.compile(rf"^{code} · "))

    # The PDF is shown inline in its frame, served from this site and allowed to be framed.
    frame = page.locator("iframe.pdf-frame")
    expect(frame).to_have_attribute("title", f"{code}-1.pdf")
    pdf_response = page.request.get(frame.get_attribute("src"))
    assert pdf_response.headers["content-type"] == "application/pdf"
    assert pdf_response.headers["content-disposition"].startswith(f'inline; filename="{code}-1.pdf"')
    assert pdf_response.headers["x-frame-options"] == "SAMEORIGIN"
    frames = [f.url for f in page.frames]
    assert page.url.split("/judge/")[0] + frame.get_attribute("src") in frames
    assert not [u for u in frames if u.startswith("chrome-error:")]  # not refused
    expect(page.locator("img.file-image")).to_have_attribute("alt", f"{code}-2.png")
    assert page.evaluate("document.querySelector('img.file-image').naturalWidth") == 320

    # The video: jump to its middle and play; the player asks for that part with a Range.
    media = []
    page.on("response", lambda r: media.append(r) if "/files/" in r.url
            and r.request.resource_type == "media" else None)
    video = page.locator("video.file-video")
    _wait(page, "document.querySelector('video.file-video').readyState >= 1")
    duration = video.evaluate("v => v.duration")
    assert duration == pytest.approx(17, abs=0.01)
    video.evaluate("""v => new Promise(resolve => {
        v.muted = true;
        v.addEventListener('seeked', resolve, {once: true});
        v.currentTime = v.duration / 2;
    })""")
    video.evaluate("v => v.play()")
    _wait(page, "(() => { const v = document.querySelector('video.file-video');"
                " return !v.paused && v.currentTime > v.duration / 2 + 0.5; })()")
    assert video.evaluate("v => v.error") is None
    ranges = [(r.request.all_headers().get("range", ""), r.status) for r in media]
    starts = [int(m.group(1)) for header, status in ranges if status == 206
              for m in [re.match(r"bytes=(\d+)-", header)] if m]
    probe = page.request.get(video.get_attribute("src"), headers={"Range": "bytes=0-0"})
    size = int(probe.headers["content-range"].split("/")[1])
    assert size > 5_000_000
    assert any(start > size // 4 for start in starts), ranges
    video.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "2-scoring-video.png"))
    page.evaluate("window.scrollTo(0, 0)")

    # Keyboard alone: the jump link, then the criteria, the comment, and Enter saves a draft.
    _to_rubric(page)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "points." + \
        page.locator("input.points").first.get_attribute("name").split(".")[1]
    page.keyboard.type("35")
    page.keyboard.press("Tab")
    page.keyboard.type("25.5")
    page.keyboard.press("Tab")
    page.keyboard.type("20")
    expect(page.locator("#score-total")).to_have_text("80.5")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "f-comment"
    page.keyboard.type("Phóng sự có chiều sâu")
    # The autosave (a second after the last keystroke) says when it saved.
    expect(page.locator("#save-status")).to_have_text(re.compile(r"^Đã lưu lúc \d\d:\d\d:\d\d$"))
    expect(page.locator("#score-state")).to_have_text("Bản nháp")
    page.screenshot(path=str(SHOTS / "3-autosaved.png"))
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")  # in a number field: the draft button, never the final one
    expect(page.get_by_text("Đã lưu nháp.")).to_be_visible()
    expect(page.locator("#score-state")).to_have_text("Bản nháp")
    expect(page.locator("input.points").nth(1)).to_have_value("25.5")

    _to_rubric(page)
    for _ in range(4):  # three criteria and the comment
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "f-comment"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Lưu nháp"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Chốt điểm"
    page.keyboard.press("Enter")
    expect(page.get_by_text("Đã chốt điểm. Bạn vẫn có thể sửa điểm cho đến khi vòng chấm kết "
                            "thúc.")).to_be_visible()
    expect(page.locator("#score-state")).to_have_text("Đã chốt")
    expect(page.locator("#score-total")).to_have_text("80.5")
    page.screenshot(path=str(SHOTS / "4-final.png"))

    # Finalise and next: the next entry without a final score opens.
    _to_rubric(page)
    _tab_to(page, "el.textContent === 'Chốt điểm và chấm tác phẩm tiếp'", limit=6)
    page.keyboard.press("Enter")
    expect(page.get_by_text(f"Điểm tác phẩm {code} đã được chốt. Đây là tác phẩm tiếp theo "
                            "chưa chốt điểm.")).to_be_visible()
    assert page.url.split("?")[0] != scoring_url.split("?")[0]
    expect(page.locator("#score-state")).to_have_text("Chưa chấm")
    page.get_by_role("link", name=re.compile("^← Danh sách chấm")).click()
    expect(page.get_by_text("Đã chốt điểm 1 trên 2 tác phẩm.")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile(code))).to_contain_text("80.5 / 100")
    assert refused_frames == []


def test_another_judge_declares_a_conflict(page, scene):
    judge = scene["judges"][1]
    _log_in(page, judge["email"])
    page.get_by_role("link", name="Vòng sơ khảo").click()
    expect(page.get_by_text("Đã chốt điểm 0 trên 2 tác phẩm.")).to_be_visible()
    page.locator("table.queue tbody tr").first.get_by_role("link").click()
    code = page.locator("h1 .entry-code").inner_text()
    page.get_by_text("Khai báo xung đột lợi ích").click()
    page.get_by_label("Lý do").fill("Tôi từng biên tập tác phẩm này")
    page.screenshot(path=str(SHOTS / "5-conflict.png"))
    page.get_by_role("button", name="Tôi không chấm tác phẩm này: giao cho giám khảo khác").click()
    expect(page.get_by_text("Đã ghi nhận khai báo xung đột lợi ích của bạn. Tác phẩm đã được "
                            "giao cho giám khảo khác.")).to_be_visible()
    expect(page.get_by_text("Đã chốt điểm 0 trên 1 tác phẩm.")).to_be_visible()
    expect(page.locator("table.queue")).not_to_contain_text(code)


def test_a_judge_scores_on_a_phone(browser, live_server, scene):
    context = browser.new_context(base_url=live_server, locale="vi-VN",
                                  viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True, device_scale_factor=2)
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        _log_in(page, scene["judges"][2]["email"])
        page.get_by_role("link", name="Vòng sơ khảo").click()
        no_sideways = "document.documentElement.scrollWidth <= window.innerWidth"
        assert page.evaluate(no_sideways)
        page.screenshot(path=str(SHOTS / "6-phone-queue.png"), full_page=True)
        page.get_by_role("link", name=re.compile("^(Bắt đầu chấm|Chấm tiếp)$")).click()
        expect(page.get_by_role("heading", name="Phiếu chấm của bạn")).to_be_visible()
        _wait(page, "document.querySelector('video.file-video').readyState >= 1")
        assert page.evaluate(no_sideways)
        work = page.locator("section.work").bounding_box()
        rubric = page.locator("aside.score-panel").bounding_box()
        assert rubric["y"] >= work["y"] + work["height"]  # the rubric below the files
        first = page.locator("input.points").first
        first.scroll_into_view_if_needed()
        assert first.bounding_box()["height"] >= 44
        assert first.bounding_box()["width"] >= 300
        total = page.locator(".total-bar")
        # A point out of bounds: the autosave's refusal appears beside its criterion.
        first.tap()
        first.fill("45")
        expect(page.locator(".criterion .field-error").first).to_have_text(
            "Điểm “Nội dung” phải từ 0 đến 40.")
        expect(first).to_have_attribute("aria-invalid", "true")
        for box, value in zip(page.locator("input.points").all(), ("30", "20", "25"),
                              strict=True):
            box.tap()
            box.fill(value)
        page.locator("input.points").first.scroll_into_view_if_needed()
        expect(page.locator("#score-total")).to_have_text("75")
        bar = total.bounding_box()
        assert 0 <= bar["y"] and bar["y"] + bar["height"] <= 844  # the total stays in view
        expect(page.locator("#save-status")).to_have_text(re.compile(r"^Đã lưu lúc "))
        expect(page.locator(".criterion .field-error").first).to_be_hidden()
        page.screenshot(path=str(SHOTS / "7-phone-scoring.png"))
        page.get_by_role("button", name="Chốt điểm", exact=True).tap()
        expect(page.locator("#score-state")).to_have_text("Đã chốt")
        assert page.evaluate(no_sideways)
        page.screenshot(path=str(SHOTS / "8-phone-final.png"), full_page=True)
    finally:
        context.close()
