"""The organizer's award steps ask first and name what they do; submissions reopen with a
new deadline; the public sees "Sắp mở" before the window; dates typed dd/mm/yyyy."""

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from app.audit.models import AuditEntry
from app.awards.models import Award
from tests.conftest import csrf_from
from tests.pages.test_awards_pages import _organizer, _post
from tests.factories import make_award, make_category, make_entry, make_user, page_login

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def _status_moves(session, award):
    return session.exec(select(AuditEntry.changes).where(
        AuditEntry.action == "award.status", AuditEntry.object_id == award.id)
        .order_by(AuditEntry.id)).all()


def _buttons(html):
    return re.findall(r'<button type="submit" class="([^"]+)">([^<]+)</button>', html)


# --- Buttons name the action ---------------------------------------------------------------

def test_status_buttons_name_the_action_and_the_irreversible_one_is_an_outline(client, session):
    organizer = _organizer(client, session)
    draft = make_award(session, organizer=organizer)
    opened = make_award(session, organizer=organizer, status="open")
    closed = make_award(session, organizer=organizer, status="closed")
    judging = make_award(session, organizer=organizer, status="judging")
    assert ("btn", "Mở nhận tác phẩm") in _buttons(client.get(f"/admin/awards/{draft.id}").text)
    assert ("btn btn-danger", "Đóng nhận tác phẩm…") in _buttons(
        client.get(f"/admin/awards/{opened.id}").text)
    html = client.get(f"/admin/awards/{closed.id}").text
    assert [b for b in _buttons(html) if "nhận tác phẩm" in b[1] or "chấm" in b[1]] == [
        ("btn btn-secondary", "Mở lại nhận tác phẩm"), ("btn btn-danger", "Bắt đầu chấm giải…")]
    html = client.get(f"/admin/awards/{judging.id}").text
    assert (f'<a class="btn btn-danger" href="/admin/awards/{judging.id}/publish">'
            "Công bố kết quả…</a>") in html
    assert "Chuyển sang:" not in html


# --- Closing submissions asks first ---------------------------------------------------------

def test_closing_submissions_asks_first_with_the_counts(client, session):
    organizer = _organizer(client, session)
    award = make_award(session, organizer=organizer, status="open")
    for status in ("draft", "draft", "returned", "submitted"):
        make_entry(session, award, status=status)
    page = f"/admin/awards/{award.id}"
    asked = _post(client, f"{page}/status", {"status": "closed", "from": "open",
                                             "reason": "Theo kế hoạch"}, page)
    assert asked.status_code == 200
    deadline = award.submission_closes_at.astimezone(VN).strftime("%H:%M %d/%m/%Y")
    for line in ("Đóng nhận tác phẩm của “%s”?" % award.title,
                 "<li>2 bài nháp sẽ không thể gửi nữa.</li>",
                 "<li>1 tác phẩm đang được trả lại để bổ sung sẽ không thể gửi lại nữa.</li>",
                 f"<li>Hạn nhận tác phẩm là {deadline} giờ Việt Nam (GMT+7), vẫn chưa đến: "
                 "tác giả sẽ mất phần thời gian còn lại.</li>",
                 '<input type="hidden" name="confirmed" value="1">',
                 '<input type="hidden" name="from" value="open">',
                 '<input type="hidden" name="reason" value="Theo kế hoạch">',
                 '<button type="submit" class="btn btn-danger">Đóng nhận tác phẩm</button>',
                 f'<a class="btn btn-secondary" href="/admin/awards/{award.id}">Hủy</a>'):
        assert line in asked.text
    session.refresh(award)
    assert (award.status, _status_moves(session, award)) == ("open", [
        {"status": ["draft", "open"]}])
    done = _post(client, f"{page}/status", {"status": "closed", "from": "open",
                                            "reason": "Theo kế hoạch", "confirmed": "1"}, page)
    assert (done.status_code, done.headers["location"]) == (303, f"{page}?saved=2")
    session.refresh(award)
    assert award.status == "closed"


def test_starting_judging_asks_first(client, session):
    organizer = _organizer(client, session)
    award = make_award(session, organizer=organizer, status="open")
    make_entry(session, award, status="accepted")
    make_entry(session, award, status="submitted")
    from app.awards import service

    service.change_status(session, award, "closed", actor=organizer)
    page = f"/admin/awards/{award.id}"
    asked = _post(client, f"{page}/status", {"status": "judging", "from": "closed"}, page)
    assert asked.status_code == 200
    for line in ("Bắt đầu chấm “%s”?" % award.title,
                 "<li>Sẽ không thể mở lại nhận tác phẩm nữa.</li>",
                 "<li>Tác giả sẽ không thể rút tác phẩm nữa.</li>",
                 "<li>1 tác phẩm đang chờ sơ duyệt; 1 tác phẩm đã được tiếp nhận.</li>",
                 '<button type="submit" class="btn btn-danger">Bắt đầu chấm giải</button>'):
        assert line in asked.text
    session.refresh(award)
    assert award.status == "closed"
    done = _post(client, f"{page}/status", {"status": "judging", "from": "closed",
                                            "confirmed": "1"}, page)
    assert done.status_code == 303
    session.refresh(award)
    assert award.status == "judging"


def test_a_stale_confirmation_says_so_and_moves_nothing(client, session):
    organizer = _organizer(client, session)
    award = make_award(session, organizer=organizer, status="open")
    page = f"/admin/awards/{award.id}"
    token = csrf_from(client.get(page).text)
    form = {"status": "closed", "from": "open", "confirmed": "1", "csrf_token": token}
    first = client.post(f"{page}/status", data=form, follow_redirects=False)
    second = client.post(f"{page}/status", data=form, follow_redirects=False)  # second tab
    assert (first.status_code, second.status_code) == (303, 409)
    assert ("Giải hiện ở trạng thái “Đã đóng nhận tác phẩm”: trạng thái đã thay đổi sau khi "
            "bạn mở trang này") in second.text
    assert _status_moves(session, award) == [{"status": ["draft", "open"]},
                                             {"status": ["open", "closed"]}]


def test_a_stale_judging_confirmation_after_a_reopen_does_not_start_judging(client, session):
    organizer = _organizer(client, session)
    award = make_award(session, organizer=organizer, status="closed")
    page = f"/admin/awards/{award.id}"
    from app.awards import service

    service.change_status(session, award, "open", actor=organizer,
                          closes_at=datetime.now(UTC) + timedelta(days=3))
    response = _post(client, f"{page}/status", {"status": "judging", "from": "closed",
                                                "confirmed": "1"}, page)
    assert response.status_code == 409
    session.refresh(award)
    assert award.status == "open"


def test_opening_still_goes_straight(client, session):
    organizer = _organizer(client, session)
    award = make_award(session, organizer=organizer)
    page = f"/admin/awards/{award.id}"
    response = _post(client, f"{page}/status", {"status": "open", "from": "draft"}, page)
    assert response.headers["location"] == f"{page}?saved=2"


# --- Reopening -----------------------------------------------------------------------------

def test_organizer_reopens_submissions_with_a_new_deadline(client, session):
    organizer = _organizer(client, session)
    award = make_award(session, organizer=organizer, status="closed")
    old = award.submission_closes_at
    page = f"/admin/awards/{award.id}"
    day = (datetime.now(VN) + timedelta(days=10)).date()
    response = _post(client, f"{page}/status", {
        "status": "open", "from": "closed", "reopen_closes_date": day.strftime("%d/%m/%Y"),
        "reopen_closes_time": "17:00", "reason": "Gia hạn theo đề nghị"}, page)
    assert (response.status_code, response.headers["location"]) == (303, f"{page}?saved=4")
    session.refresh(award)
    new = datetime(day.year, day.month, day.day, 17, 0, tzinfo=VN)
    assert (award.status, award.submission_closes_at) == ("open", new)
    assert _status_moves(session, award)[-1] == {
        "status": ["closed", "open"],
        "submission_closes_at": [old.isoformat(), new.astimezone(UTC).isoformat()]}
    html = client.get(response.headers["location"]).text
    assert (f"Đã mở lại nhận tác phẩm đến 17:00 {day.strftime('%d/%m/%Y')} "
            "giờ Việt Nam (GMT+7).") in html


def test_reopening_towards_the_past_is_refused_beside_the_date(client, session):
    organizer = _organizer(client, session)
    award = make_award(session, organizer=organizer, status="closed",
                       submission_opens_at=datetime.now(UTC) - timedelta(days=20))
    page = f"/admin/awards/{award.id}"
    day = (datetime.now(VN) - timedelta(days=2)).strftime("%d/%m/%Y")
    response = _post(client, f"{page}/status", {
        "status": "open", "from": "closed", "reopen_closes_date": day,
        "reopen_closes_time": "17:00"}, page)
    assert response.status_code == 422
    assert ('<p class="field-error" id="e-reopen_closes_date">Để mở lại nhận tác phẩm, hãy đặt '
            "hạn mới ở thời điểm sau hiện tại.</p>") in response.text
    assert f'value="{day}"' in response.text
    session.refresh(award)
    assert award.status == "closed"


def test_reopening_with_a_badly_written_date_says_how_to_write_it(client, session):
    organizer = _organizer(client, session)
    award = make_award(session, organizer=organizer, status="closed")
    page = f"/admin/awards/{award.id}"
    response = _post(client, f"{page}/status", {
        "status": "open", "from": "closed", "reopen_closes_date": "2027/01/31"}, page)
    assert response.status_code == 422
    assert ('<p class="field-error" id="e-reopen_closes_date">Ngày phải có dạng dd/mm/yyyy.</p>'
            in response.text)
    empty = _post(client, f"{page}/status", {"status": "open", "from": "closed"}, page)
    assert empty.status_code == 422
    assert "Để mở lại nhận tác phẩm, hãy đặt hạn mới" in empty.text


# --- Honest states: "Sắp mở" ---------------------------------------------------------------

def _upcoming(session):
    opens = datetime(2027, 1, 5, 1, 0, tzinfo=UTC)  # 08:00 05/01/2027 in Vietnam
    return make_award(session, status="open", title="Giải sắp mở",
                      submission_opens_at=opens, submission_closes_at=opens + timedelta(days=60))


def test_home_shows_an_award_not_yet_open_as_opening_soon(client, session):
    award = _upcoming(session)
    html = client.get("/").text
    assert "<h2>Sắp mở</h2>" in html
    assert ('<span class="badge badge-upcoming">Sắp mở</span> Nhận tác phẩm từ '
            "<strong>08:00 05/01/2027</strong> giờ Việt Nam (GMT+7)") in html
    opening = html.index("<h2>Đang nhận tác phẩm</h2>")
    assert html.index(f'href="/awards/{award.slug}"') > html.index("<h2>Sắp mở</h2>") > opening


def test_award_page_before_the_window_says_when_and_offers_no_submit_link(client, session):
    award = _upcoming(session)
    page_login(client, make_user(session))
    html = client.get(f"/awards/{award.slug}").text
    assert '<span class="badge badge-upcoming">Sắp mở</span>' in html
    assert ("Sắp mở: nhận tác phẩm từ 08:00 05/01/2027 giờ Việt Nam (GMT+7).") in html
    assert f'href="/awards/{award.slug}/entries/new"' not in html
    assert ('<button type="button" class="btn" disabled aria-describedby="why-not-open">'
            "Gửi tác phẩm dự giải</button>") in html
    assert "Đang nhận tác phẩm" not in html


def test_award_page_after_the_deadline_says_submissions_ended(client, session):
    now = datetime.now(UTC)
    award = make_award(session, status="open", submission_opens_at=now - timedelta(days=30),
                       submission_closes_at=now - timedelta(days=1))
    html = client.get(f"/awards/{award.slug}").text
    when = award.submission_closes_at.astimezone(VN).strftime("%H:%M %d/%m/%Y")
    assert f"Đã hết hạn nhận tác phẩm lúc {when} giờ Việt Nam (GMT+7)." in html
    assert f'href="/awards/{award.slug}/entries/new"' not in html
    assert '<span class="badge badge-ended">' in client.get("/").text


def test_admin_list_shows_opening_soon_with_the_date(client, session):
    _organizer(client, session)
    _upcoming(session)
    html = client.get("/admin/").text
    assert ('<span class="badge badge-upcoming">Sắp mở</span><br><small>mở nhận từ '
            "08:00 05/01/2027</small>") in html


def test_award_console_says_when_an_open_award_will_open(client, session):
    organizer = _organizer(client, session)
    award = _upcoming(session)
    assert organizer
    html = client.get(f"/admin/awards/{award.id}").text
    assert "Mở nhận tác phẩm lúc 08:00 05/01/2027 giờ Việt Nam (GMT+7)." in html


# --- Dates, time zone, sizes ---------------------------------------------------------------

def test_settings_round_trip_dates_as_dd_mm_yyyy(client, session):
    organizer = _organizer(client, session)
    award = make_award(session, organizer=organizer)
    page = f"/admin/awards/{award.id}"
    form = {"title": award.title, "year": "2026", "slug": award.slug, "timezone": "Asia/Bangkok",
            "submission_opens_at_date": "1/12/2026", "submission_opens_at_time": "7h30",
            "submission_closes_at_date": "15.01.2027", "submission_closes_at_time": "",
            "published_from": "01/12/2025", "published_to": "30112026",
            "max_entries_per_author": "3", "max_authors_per_entry": "5", "max_series_parts": "5"}
    assert _post(client, page, form, page).status_code == 303
    session.refresh(award)
    bangkok = ZoneInfo("Asia/Bangkok")
    assert (award.timezone, award.submission_opens_at, award.submission_closes_at,
            award.published_from.isoformat(), award.published_to.isoformat()) == (
        "Asia/Bangkok", datetime(2026, 12, 1, 7, 30, tzinfo=bangkok),
        datetime(2027, 1, 15, 23, 59, tzinfo=bangkok), "2025-12-01", "2026-11-30")
    html = client.get(page).text
    for value in ('id="f-submission_opens_at_date" name="submission_opens_at_date" type="text" '
                  'value="01/12/2026"', 'value="07:30"', 'value="15/01/2027"', 'value="23:59"',
                  'value="01/12/2025"', 'value="30/11/2026"', 'placeholder="dd/mm/yyyy"',
                  'inputmode="numeric"', 'placeholder="HH:MM"',
                  '<option value="Asia/Bangkok" selected>Bangkok (GMT+7)</option>'):
        assert value in html
    assert 'type="datetime-local"' not in html and 'type="date"' not in html


def test_a_badly_written_date_is_shown_beside_its_field_with_the_input_kept(client, session):
    organizer = _organizer(client, session)
    award = make_award(session, organizer=organizer)
    page = f"/admin/awards/{award.id}"
    form = {"title": award.title, "year": "2026", "slug": award.slug,
            "timezone": "Asia/Ho_Chi_Minh", "submission_opens_at_date": "32/12/2026",
            "max_entries_per_author": "3", "max_authors_per_entry": "5",
            "max_series_parts": "5"}
    response = _post(client, page, form, page)
    assert response.status_code == 422
    assert ('<p class="field-error" id="e-submission_opens_at_date">Không có ngày 32/12/2026.</p>'
            in response.text)
    assert 'value="32/12/2026"' in response.text


def test_closing_before_opening_is_shown_beside_the_closing_date(client, session):
    _organizer(client, session)
    response = _post(client, "/admin/awards/new", {
        "title": "Giải thử", "year": "2026", "timezone": "Asia/Ho_Chi_Minh",
        "submission_opens_at_date": "01/12/2026", "submission_closes_at_date": "01/11/2026",
        "max_entries_per_author": "3", "max_authors_per_entry": "5", "max_series_parts": "5"},
        "/admin/awards/new")
    assert response.status_code == 422
    assert ('<p class="field-error" id="e-submission_closes_at_date">Thời điểm kết thúc nhận tác '
            "phẩm phải sau thời điểm bắt đầu.</p>") in response.text


def test_the_time_zone_is_chosen_from_a_list(client, session):
    _organizer(client, session)
    html = client.get("/admin/awards/new").text
    assert '<select id="f-timezone" name="timezone"' in html
    assert ('<option value="Asia/Ho_Chi_Minh" selected>Giờ Việt Nam (GMT+7)</option>' in html)
    assert "Asia/Ho_Chi_Minh" not in html.replace('value="Asia/Ho_Chi_Minh"', "")


@pytest.mark.parametrize("zone", ["Mars/Olympus", "../../etc/passwd", "/etc/localtime",
                                  "Asia/Ho_Chi_Minh\x00", "x" * 500])
def test_a_forged_time_zone_is_refused_beside_its_field(client, session, zone):
    _organizer(client, session)
    response = _post(client, "/admin/awards/new", {
        "title": "Giải thử múi giờ", "year": "2026", "slug": "", "timezone": zone,
        "max_entries_per_author": "3", "max_authors_per_entry": "5",
        "max_series_parts": "5"}, "/admin/awards/new")
    assert response.status_code == 422
    assert '<p class="field-error" id="e-timezone">' in response.text
    assert 'value="Giải thử múi giờ"' in response.text
    assert session.exec(select(Award).where(Award.title == "Giải thử múi giờ")).first() is None


def test_a_new_award_slug_has_the_year_once(client, session):
    _organizer(client, session)
    response = _post(client, "/admin/awards/new", {
        "title": "Giải báo chí tỉnh Ninh Thuận năm 2026", "year": "2026", "slug": "",
        "timezone": "Asia/Ho_Chi_Minh", "max_entries_per_author": "3",
        "max_authors_per_entry": "5", "max_series_parts": "5"}, "/admin/awards/new")
    assert response.status_code == 303
    award = session.exec(select(Award).where(
        Award.title == "Giải báo chí tỉnh Ninh Thuận năm 2026")).one()
    assert award.slug == "giai-bao-chi-tinh-ninh-thuan-nam-2026"


def test_size_limits_past_1024_mb_show_in_gb(client, session):
    organizer = _organizer(client, session)
    award = make_award(session, organizer=organizer, categories=0)
    make_category(session, award, organizer=organizer, code="TH", name="Truyền hình",
                  accepted_kinds=["video"], max_file_mb=2048)
    make_category(session, award, organizer=organizer, code="PT", name="Phát thanh",
                  accepted_kinds=["audio"], max_file_mb=1536)
    from app.awards import service

    service.change_status(session, award, "open", actor=organizer)
    for page in (f"/awards/{award.slug}", f"/admin/awards/{award.id}"):
        html = client.get(page).text
        assert ("<td>2 GB</td>", "<td>1,5 GB</td>") == tuple(
            v for v in ("<td>2 GB</td>", "<td>1,5 GB</td>") if v in html)
    form = client.get(f"/admin/awards/{award.id}/categories/new").text
    assert "Tính bằng MB: 1024 MB = 1 GB; tối đa 4096 MB (4 GB)." in form


def test_every_unreadable_date_of_the_award_form_is_reported_at_once(client, session):
    _organizer(client, session)
    response = _post(client, "/admin/awards/new", {
        "title": "Giải nhiều lỗi ngày", "year": "2026", "slug": "",
        "timezone": "Asia/Ho_Chi_Minh", "max_entries_per_author": "3",
        "max_authors_per_entry": "5", "max_series_parts": "5",
        "submission_opens_at_date": "31/02/2026", "submission_opens_at_time": "08:00",
        "submission_closes_at_date": "15/03/2026", "submission_closes_at_time": "25:00",
        "published_from": "", "published_to": "32/13/2026"}, "/admin/awards/new")
    assert response.status_code == 422
    errors = dict(re.findall(r'<p class="field-error" id="e-([a-z_]+)">([^<]+)</p>',
                             response.text))
    assert sorted(errors) == ["published_to", "submission_closes_at_time",
                              "submission_opens_at_date"]
    assert errors["submission_opens_at_date"] == "Không có ngày 31/02/2026."
    assert session.exec(select(Award).where(Award.title == "Giải nhiều lỗi ngày")).first() is None
