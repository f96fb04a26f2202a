from sqlmodel import select

from app.awards.models import Award, Category
from tests.conftest import csrf_from
from tests.factories import make_award, make_user, page_login

AWARD_FORM = {
    "title": "Giải báo chí tỉnh Ninh Thuận", "year": "2026", "slug": "",
    "submission_opens_at_date": "01/11/2026", "submission_opens_at_time": "08:00",
    "submission_closes_at_date": "31/12/2026", "submission_closes_at_time": "17:00",
    "timezone": "Asia/Ho_Chi_Minh", "published_from": "01/11/2025", "published_to": "31/10/2026",
    "max_entries_per_author": "3", "max_authors_per_entry": "5", "max_series_parts": "5",
    "rules": "## Thể lệ\n\nGửi **bản PDF**.",
}


def _organizer(client, session):
    organizer = make_user(session, role="organizer")
    page_login(client, organizer)
    return organizer


def _post(client, path, data, page):
    token = csrf_from(client.get(page).text)
    return client.post(path, data={**data, "csrf_token": token}, follow_redirects=False)


def test_home_lists_open_awards_but_not_drafts(client, session):
    opened = make_award(session, status="open", title="Giải đang mở")
    make_award(session, title="Giải nháp bí mật")
    html = client.get("/").text
    assert f'href="/awards/{opened.slug}"' in html
    assert "Giải nháp bí mật" not in html


def test_public_award_page_shows_rules_and_categories(client, session):
    award = make_award(session, status="open", categories=2,
                       rules="## Đối tượng\n\n<script>alert('x')</script>")
    html = client.get(f"/awards/{award.slug}").text
    assert "<h2>Đối tượng</h2>" in html
    assert "<script>alert" not in html
    assert "Thể loại 1" in html and "Thể loại 2" in html
    assert "1 Giải A" in html


def test_draft_award_page_is_404_for_the_public(client, session):
    award = make_award(session)
    assert client.get(f"/awards/{award.slug}").status_code == 404


def test_organizer_creates_an_award_through_the_form(client, session):
    _organizer(client, session)
    response = _post(client, "/admin/awards/new", AWARD_FORM, "/admin/awards/new")
    assert response.status_code == 303
    award = session.exec(select(Award).where(Award.title == "Giải báo chí tỉnh Ninh Thuận")).one()
    assert (award.slug, award.status, award.submission_closes_at.isoformat()) == (
        "giai-bao-chi-tinh-ninh-thuan-2026", "draft", "2026-12-31T10:00:00+00:00")
    assert response.headers["location"] == f"/admin/awards/{award.id}?saved=1"
    html = client.get(response.headers["location"]).text
    assert ('value="31/12/2026"', 'value="17:00"', 'value="01/11/2025"') == tuple(
        v for v in ('value="31/12/2026"', 'value="17:00"', 'value="01/11/2025"') if v in html)


def test_award_form_errors_keep_the_input(client, session):
    _organizer(client, session)
    response = _post(client, "/admin/awards/new",
                     {**AWARD_FORM, "submission_closes_at_date": "01/10/2026"},
                     "/admin/awards/new")
    assert response.status_code == 422
    assert "Thời điểm kết thúc nhận tác phẩm phải sau thời điểm bắt đầu." in response.text
    assert 'value="Giải báo chí tỉnh Ninh Thuận"' in response.text
    assert session.exec(select(Award).where(Award.title == AWARD_FORM["title"])).first() is None


def test_award_form_with_a_non_number_is_refused_politely(client, session):
    _organizer(client, session)
    response = _post(client, "/admin/awards/new", {**AWARD_FORM, "year": "hai nghìn"},
                     "/admin/awards/new")
    assert response.status_code == 422
    assert "Vui lòng kiểm tra các trường được đánh dấu." in response.text


def test_organizer_adds_categories_and_opens_the_award(client, session):
    organizer = _organizer(client, session)
    award = make_award(session, organizer=organizer, categories=0)
    page = f"/admin/awards/{award.id}/categories/new"
    response = _post(client, page, {"code": "bdt", "name": "Báo điện tử",
                                    "accepted_kinds": ["pdf", "image"], "max_file_mb": "50",
                                    "url_required": "on", "quota_A": "1", "quota_B": "2",
                                    "quota_C": "3", "quota_KK": "4"}, page)
    assert response.status_code == 303
    category = session.exec(select(Category).where(Category.award_id == award.id)).one()
    assert (category.code, category.accepted_kinds, category.url_required, category.prize_quota) == (
        "BDT", ["image", "pdf"], True, {"A": 1, "B": 2, "C": 3, "KK": 4})
    response = _post(client, f"/admin/awards/{award.id}/status", {"status": "open"},
                     f"/admin/awards/{award.id}")
    assert response.status_code == 303
    session.refresh(award)
    assert award.status == "open"


def test_opening_without_categories_shows_why(client, session):
    organizer = _organizer(client, session)
    award = make_award(session, organizer=organizer, categories=0)
    response = _post(client, f"/admin/awards/{award.id}/status", {"status": "open"},
                     f"/admin/awards/{award.id}")
    assert response.status_code == 409
    assert "Cần thêm ít nhất một thể loại trước khi mở nhận tác phẩm." in response.text


def test_category_form_errors_are_shown(client, session):
    organizer = _organizer(client, session)
    award = make_award(session, organizer=organizer, categories=0)
    page = f"/admin/awards/{award.id}/categories/new"
    response = _post(client, page, {"code": "BDT", "name": "Báo điện tử", "max_file_mb": "50"},
                     page)
    assert response.status_code == 422
    assert "Vui lòng chọn ít nhất một loại tệp được chấp nhận." in response.text


def test_organizer_edits_a_category(client, session):
    organizer = _organizer(client, session)
    award = make_award(session, organizer=organizer, categories=1)
    category = session.exec(select(Category).where(Category.award_id == award.id)).one()
    page = f"/admin/categories/{category.id}"
    response = _post(client, page, {"code": "PT", "name": "Phát thanh",
                                    "accepted_kinds": ["audio"], "max_file_mb": "300",
                                    "quota_A": "1", "quota_B": "1", "quota_C": "1",
                                    "quota_KK": "2"}, page)
    assert response.status_code == 303
    session.refresh(category)
    assert (category.code, category.max_file_mb, category.prize_quota) == (
        "PT", 300, {"A": 1, "B": 1, "C": 1, "KK": 2})


def test_organizer_invites_a_judge_instead_of_setting_a_password(client, session):
    _organizer(client, session)
    response = _post(client, "/admin/users/invitations",
                     {"email": "gk@example.vn", "full_name": "Giám Khảo", "role": "judge"},
                     "/admin/users")
    assert response.headers["location"] == "/admin/users?done=invited"
    page = client.get("/admin/users?done=invited").text
    assert "Đã gửi lời mời." in page and "gk@example.vn" in page


def test_audit_page_shows_the_status_change_with_its_reason(client, session):
    organizer = _organizer(client, session)
    award = make_award(session, organizer=organizer, categories=1)
    _post(client, f"/admin/awards/{award.id}/status",
          {"status": "open", "reason": "Theo kế hoạch số 12"}, f"/admin/awards/{award.id}")
    html = client.get("/admin/audit").text
    assert '<td data-label="Thao tác">Chuyển giải sang giai đoạn khác</td>' in html
    assert "<div><strong>Trạng thái</strong>: Bản nháp → Đang nhận tác phẩm</div>" in html
    assert '<td data-label="Lý do">Theo kế hoạch số 12</td>' in html


def test_journalist_is_refused_the_console(client, session):
    page_login(client, make_user(session))
    response = client.get("/admin/")
    assert response.status_code == 403
    assert "Bạn không có quyền thực hiện thao tác này." in response.text


def test_anonymous_is_sent_to_login_from_the_console(client):
    response = client.get("/admin/awards/new", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (
        303, "/login?next=/admin/awards/new")


def test_audit_log_pages_by_hundred(client, session):
    organizer = _organizer(client, session)
    award = make_award(session, organizer=organizer)
    from app.audit import service as audit

    for i in range(120):
        audit.record(session, actor=organizer, action="award.update", obj=award,
                     changes={"title": [str(i), str(i + 1)]})
    first = client.get("/admin/audit").text
    assert 'href="?offset=100"' in first and "offset=0" not in first
    second = client.get("/admin/audit?offset=100").text
    assert 'href="?offset=0"' in second
