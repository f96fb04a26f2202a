"""The journalist's entry forms keep what was typed, report every problem at once beside its
field, show the deadline and the per-author limit before a form is filled, ask before an
irreversible step, and let a draft be deleted."""

import re
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from app.accounts.models import User
from app.audit.models import AuditEntry
from app.awards.models import Award
from app.entries.models import Entry, EntryAuthor, EntryFile
from app.samples import pdf, png
from app.storage import get_storage
from tests.conftest import csrf_from
from tests.factories import make_award, make_entry, make_user, page_login


def _signed_in_draft(client, session, *, files=None, **award_fields):
    award = make_award(session, status="open", **award_fields)
    journalist = make_user(session)
    entry = make_entry(session, award, user=journalist, files=files)
    page_login(client, journalist)
    return entry


def _details(html: str, **over) -> dict:
    """The details form of an entry page as the browser would send it, with changes."""
    version = re.search(r'name="version" value="([^"]+)"', html).group(1)
    category = re.search(r'<option value="(\d+)" selected', html).group(1)
    values = {"csrf_token": csrf_from(html), "version": version, "category_id": category,
              "title": "Xây dựng Đảng từ cơ sở", "summary": "Tóm tắt", "outlet": "Báo Ninh Thuận",
              "published_on": "2026-03-15", "url": "", "series_parts": ""}
    values.update(over)
    return values


def _actions(session, entry) -> list[str]:
    return [a.action for a in session.exec(
        select(AuditEntry).where(AuditEntry.object_type == "entry",
                                 AuditEntry.object_id == entry.id).order_by(AuditEntry.id))]


# --- 1. Nothing typed is lost ---------------------------------------------------------------

def test_the_submit_button_belongs_to_the_details_form(client, session):
    entry = _signed_in_draft(client, session)
    html = client.get(f"/entries/{entry.id}").text
    assert (f'<form method="post" action="/entries/{entry.id}" class="card form" '
            'id="entry-form" novalidate data-warn-unsaved>') in html
    assert ('<button type="submit" form="entry-form" name="action" value="submit" '
            'class="btn">Gửi tác phẩm</button>') in html
    assert '<script src="/static/forms.js" defer></script>' in html


def test_submitting_saves_the_edits_first(client, session):
    entry = _signed_in_draft(client, session)
    html = client.get(f"/entries/{entry.id}").text
    response = client.post(f"/entries/{entry.id}",
                           data=_details(html, title="Tên mới trước khi gửi", action="submit"),
                           follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (
        303, f"/entries/{entry.id}?saved=2")
    session.refresh(entry)
    assert (entry.title, entry.status, entry.code) == ("Tên mới trước khi gửi", "submitted",
                                                       "C1-001")
    assert _actions(session, entry)[-2:] == ["entry.update", "entry.submit"]


def test_submitting_unchanged_details_leaves_no_empty_edit_in_the_log(client, session):
    entry = _signed_in_draft(client, session)
    before = _actions(session, entry)
    html = client.get(f"/entries/{entry.id}").text
    client.post(f"/entries/{entry.id}", data=_details(html, action="submit"))
    assert _actions(session, entry) == before + ["entry.submit"]


def test_a_refused_submission_keeps_the_save_and_says_why(client, session):
    entry = _signed_in_draft(client, session, files=[])
    html = client.get(f"/entries/{entry.id}").text
    response = client.post(f"/entries/{entry.id}",
                           data=_details(html, title="Tên vừa gõ", summary="Tóm tắt vừa gõ",
                                         action="submit"))
    assert response.status_code == 409
    assert ('<div class="alert alert-error" role="alert" id="not-submitted">Các thay đổi của bạn đã được lưu, '
            "nhưng tác phẩm chưa được gửi: Vui lòng tải lên ít nhất một tệp của tác phẩm "
            "trước khi gửi.</div>") in response.text
    assert 'value="Tên vừa gõ"' in response.text and ">Tóm tắt vừa gõ</textarea>" in response.text
    session.refresh(entry)
    assert (entry.title, entry.summary, entry.status) == ("Tên vừa gõ", "Tóm tắt vừa gõ", "draft")
    # The form carries the saved version: saving again is not refused as stale.
    again = client.post(f"/entries/{entry.id}", data=_details(response.text, title="Lần hai"),
                        follow_redirects=False)
    assert again.status_code == 303


def test_a_refused_save_submits_nothing_and_keeps_what_was_typed(client, session):
    entry = _signed_in_draft(client, session)
    html = client.get(f"/entries/{entry.id}").text
    response = client.post(f"/entries/{entry.id}",
                           data=_details(html, title="", summary="Tóm tắt chưa lưu",
                                         published_on="2019-01-01", action="submit"))
    assert response.status_code == 422
    assert '<p class="field-error" id="e-title">Vui lòng nhập tên tác phẩm.</p>' in response.text
    assert ('<p class="field-error" id="e-published_on">Tác phẩm phải được đăng, phát trong '
            "khoảng từ 01/11/2025 đến 31/10/2026.</p>") in response.text
    assert ">Tóm tắt chưa lưu</textarea>" in response.text
    assert 'value="2019-01-01"' in response.text
    # What is shown is not saved: leaving the page warns from the start (static/forms.js).
    assert 'id="entry-form" novalidate data-warn-unsaved data-unsaved>' in response.text
    session.refresh(entry)
    assert (entry.title, entry.summary, entry.status) == ("Xây dựng Đảng từ cơ sở", "Tóm tắt",
                                                          "draft")


def test_a_second_click_on_submit_in_the_form_shows_the_submitted_entry(client, session):
    entry = _signed_in_draft(client, session)
    data = _details(client.get(f"/entries/{entry.id}").text, action="submit")
    answers = [client.post(f"/entries/{entry.id}", data=data, follow_redirects=False)
               for _ in range(2)]
    assert [(a.status_code, a.headers["location"]) for a in answers] == [
        (303, f"/entries/{entry.id}?saved=2")] * 2


def test_a_stale_tab_submitting_other_edits_is_told_they_were_not_saved(client, session):
    entry = _signed_in_draft(client, session)
    page = client.get(f"/entries/{entry.id}").text
    first = _details(page, action="submit")
    second = {**_details(page, action="submit"), "title": "Tên sửa ở tab thứ hai"}
    assert client.post(f"/entries/{entry.id}", data=first,
                       follow_redirects=False).status_code == 303
    response = client.post(f"/entries/{entry.id}", data=second, follow_redirects=False)
    assert response.status_code == 409
    assert ("Tác phẩm đã được gửi hoặc thay đổi từ một trang khác trong lúc bạn nhập: nội dung "
            "bạn vừa nhập ở đây chưa được lưu.") in response.text
    assert '<dt>Tên tác phẩm</dt><dd class="pre">Tên sửa ở tab thứ hai</dd>' in response.text
    session.refresh(entry)
    assert (entry.status, entry.title) == ("submitted", first["title"])


# --- 4. Errors where the eye is --------------------------------------------------------------

def test_every_problem_is_reported_at_once_beside_its_field(client, session):
    award = make_award(session, status="open")
    journalist = make_user(session, email="an@example.vn")
    page_login(client, journalist)
    page = f"/awards/{award.slug}/entries/new"
    html = client.get(page).text
    response = client.post(page, data={
        "csrf_token": csrf_from(html), "category_id": "", "title": "  ", "outlet": "",
        "published_on": "31/02/2026", "url": "ftp://bao.vn", "series_parts": "hai",
        "summary": "Tóm tắt giữ lại",
        "co_full_name_0": "", "co_pen_name_0": "Bút danh", "co_email_0": "khong-phai-email",
        "co_full_name_1": "Lê Thị Hoa", "co_email_1": "AN@example.vn",
    })
    assert response.status_code == 422
    text = response.text
    expected = {
        "category_id": "Vui lòng chọn một thể loại của giải này.",
        "title": "Vui lòng nhập tên tác phẩm.",
        "outlet": "Vui lòng nhập cơ quan báo chí đã đăng, phát tác phẩm.",
        "published_on": "Không có ngày 31/02/2026.",
        "url": "Đường dẫn phải bắt đầu bằng http:// hoặc https://.",
        "series_parts": "Vui lòng nhập số kỳ bằng một số nguyên, hoặc để trống nếu là tác phẩm "
                        "đơn lẻ.",
        "co_authors-0-full_name": "Vui lòng nhập họ và tên của đồng tác giả này.",
        "co_authors-0-email": "Địa chỉ e-mail không hợp lệ. Vui lòng sửa lại, hoặc để trống nếu "
                              "không biết.",
        "co_authors-1-email": "Địa chỉ e-mail của mỗi đồng tác giả phải là của riêng người đó: "
                              "không trùng với địa chỉ của bạn hay của đồng tác giả khác.",
    }
    for field, message in expected.items():
        assert f'<p class="field-error" id="e-{field}">{message}</p>' in text, field
        assert f'<a href="#f-{field}">' in text, field  # the summary links to the field
    assert text.count('aria-invalid="true"') == len(expected)
    assert 'aria-invalid="true" aria-describedby="e-series_parts h-series_parts"' in text
    assert 'name="co_pen_name_0" type="text" value="Bút danh"' in text
    assert ">Tóm tắt giữ lại</textarea>" in text and 'value="ftp://bao.vn"' in text
    assert session.exec(select(Entry).where(Entry.summary == "Tóm tắt giữ lại")).first() is None


def test_required_fields_are_marked_and_hints_tied_to_their_fields(client, session):
    award = make_award(session, status="open")
    page_login(client, make_user(session))
    html = client.get(f"/awards/{award.slug}/entries/new").text
    assert '<p class="hint required-legend"><span class="req" aria-hidden="true">*</span> bắt buộc</p>' in html
    assert re.search(r'<label for="f-title">Tên tác phẩm <span class="req" aria-hidden="true">\*</span>'
                     r'</label>', html)
    assert 'id="f-outlet" name="outlet" type="text" value=""\n    required  \n     aria-describedby="h-outlet">' in html
    assert '<p class="hint" id="h-outlet">' in html
    assert "novalidate data-warn-unsaved" in html


def test_the_api_keeps_its_sentence_and_lists_every_field(client, session):
    from tests.factories import api_headers

    award = make_award(session, status="open")
    from app.awards import service as awards

    category = awards.list_categories(session, award)[0]
    headers = api_headers(client, make_user(session))
    response = client.post(f"/api/v1/awards/{award.id}/entries", headers=headers, json={
        "category_id": category.id, "title": "", "outlet": "", "published_on": "2019-01-01",
        "co_authors": [{"full_name": "", "email": "hoa@example.vn"}]})
    assert response.status_code == 422
    assert response.json() == {"detail": "Vui lòng nhập tên tác phẩm.", "errors": [
        {"field": "title", "detail": "Vui lòng nhập tên tác phẩm."},
        {"field": "outlet", "detail": "Vui lòng nhập cơ quan báo chí đã đăng, phát tác phẩm."},
        {"field": "published_on", "detail": "Tác phẩm phải được đăng, phát trong khoảng từ "
                                            "01/11/2025 đến 31/10/2026."},
        {"field": "co_authors.0.full_name",
         "detail": "Vui lòng nhập họ và tên của đồng tác giả này."}]}


# --- 3. Honest states ------------------------------------------------------------------------

def test_the_deadline_and_its_zone_are_on_every_page_that_edits_an_entry(client, session):
    entry = _signed_in_draft(client, session, submission_closes_at=datetime(2026, 12, 31, 10, 0,
                                                                             tzinfo=UTC))
    award_slug = re.search(r'href="/awards/([^"]+)"', client.get(f"/entries/{entry.id}").text).group(1)
    deadline = ('<strong>Hạn gửi tác phẩm:</strong> <time datetime="2026-12-31T10:00:00+00:00">'
                "17:00 31/12/2026, giờ Việt Nam (GMT+7)</time>")
    assert deadline in client.get(f"/entries/{entry.id}").text
    assert deadline in client.get(f"/awards/{award_slug}/entries/new").text


def test_an_award_not_open_yet_says_when_it_opens_and_does_not_offer_to_submit(client, session):
    opens = datetime.now(UTC) + timedelta(days=10)
    entry = _signed_in_draft(client, session, files=[pdf()], submission_opens_at=opens)
    html = client.get(f"/entries/{entry.id}").text
    assert '<p class="alert alert-warn" id="opens-at">Sắp mở: nhận tác phẩm từ ' in html
    assert ('name="action" value="submit" class="btn" disabled '
            'aria-describedby="opens-at">') in html
    mine = client.get("/me/entries").text
    assert '<span class="badge badge-upcoming">Sắp mở</span>' in mine
    assert "Gửi tác phẩm mới:" not in mine


def test_the_per_author_limit_shows_before_any_form(client, session):
    award = make_award(session, status="open", max_entries_per_author=2)
    journalist = make_user(session)
    page_login(client, journalist)
    make_entry(session, award, user=journalist, status="submitted")
    make_entry(session, award, user=journalist, status="withdrawn")  # does not count
    award_page = client.get(f"/awards/{award.slug}").text
    assert ('<p class="cta"><a class="btn" href="/awards/' + award.slug + '/entries/new">Gửi tác '
            'phẩm dự giải</a>') in award_page
    assert "Bạn đã gửi 1/2 tác phẩm trong giải này." in award_page
    new_page = client.get(f"/awards/{award.slug}/entries/new").text
    assert "Bạn đã gửi 1/2 tác phẩm trong giải này." in new_page and "entry-form" not in new_page
    assert 'action="/awards/' + award.slug + '/entries/new"' in new_page
    make_entry(session, award, user=journalist)  # a draft counts
    full = ("Bạn đã gửi 2/2 tác phẩm, đủ số lượng tối đa của giải: không thể thêm tác phẩm "
            "mới.")
    award_page = client.get(f"/awards/{award.slug}").text
    assert full in award_page
    assert f'href="/awards/{award.slug}/entries/new"' not in award_page
    assert '<span class="btn btn-disabled" aria-disabled="true">Gửi tác phẩm dự giải</span>' in award_page
    new_page = client.get(f"/awards/{award.slug}/entries/new").text
    assert full in new_page and 'action="/awards/' + award.slug + '/entries/new"' not in new_page
    mine = client.get("/me/entries").text
    assert full in mine and f'href="/awards/{award.slug}/entries/new"' not in mine


def test_a_resubmitted_entry_no_longer_shows_the_old_reason(client, session):
    award = make_award(session, status="open")
    journalist = make_user(session)
    entry = make_entry(session, award, user=journalist, status="returned")
    page_login(client, journalist)
    html = client.get(f"/entries/{entry.id}").text
    assert "<strong>Lý do của Ban tổ chức:</strong> Lý do của Ban tổ chức" in html
    response = client.post(f"/entries/{entry.id}", data=_details(html, action="submit"),
                           follow_redirects=False)
    assert response.headers["location"] == f"/entries/{entry.id}?saved=2"
    html = client.get(f"/entries/{entry.id}").text
    assert "<strong>Lý do của Ban tổ chức:</strong>" not in html
    assert "Trả lại để bổ sung — Lý do của Ban tổ chức</li>" in html  # kept in the history
    mine = client.get("/me/entries").text
    assert "Lý do của Ban tổ chức" not in mine
    session.refresh(entry)
    assert (entry.status, entry.screening_reason) == ("submitted", None)


def test_the_file_picker_accepts_the_categorys_kinds(client, session):
    entry = _signed_in_draft(client, session, files=[])
    html = client.get(f"/entries/{entry.id}").text
    assert ('<input id="f-file" name="file" type="file" required accept=".pdf,.jpg,.jpeg,.jpe,'
            '.png,.tif,.tiff,application/pdf,image/jpeg,image/png,image/tiff" '
            'aria-describedby="upload-rules">') in html
    assert '<button type="button" class="btn btn-secondary" id="upload-cancel" hidden>Hủy tải lên</button>' in html


# --- Drafts deleted, withdrawals confirmed ----------------------------------------------------

def test_the_author_deletes_a_draft_after_confirming(client, session):
    entry = _signed_in_draft(client, session, files=[pdf("xoa"), png()])
    stored = [f.stored_name for f in entry.files]
    entry_id, award_id, author_id = entry.id, entry.award_id, entry.submitter_id
    page = client.get(f"/entries/{entry_id}").text
    assert "Xóa bản nháp này</button>" in page
    asked = client.post(f"/entries/{entry_id}/delete", data={"csrf_token": csrf_from(page)})
    assert asked.status_code == 200
    assert "<h1>Xóa bản nháp</h1>" in asked.text
    assert "<p><strong>Xóa bản nháp “Xây dựng Đảng từ cơ sở”?</strong></p>" in asked.text
    assert "<li>Bản nháp và toàn bộ tệp kèm theo sẽ bị xóa.</li>" in asked.text
    assert "<li>Không thể hoàn tác thao tác này.</li>" in asked.text
    assert '<button type="submit" class="btn btn-danger">Xóa bản nháp</button>' in asked.text
    assert session.get(Entry, entry_id) is not None
    done = client.post(f"/entries/{entry_id}/delete",
                       data={"csrf_token": csrf_from(asked.text), "confirmed": "1"},
                       follow_redirects=False)
    assert (done.status_code, done.headers["location"]) == (303, "/me/entries?deleted=1")
    session.expire_all()
    assert session.get(Entry, entry_id) is None
    assert session.exec(select(EntryFile).where(EntryFile.entry_id == entry_id)).all() == []
    assert session.exec(select(EntryAuthor).where(EntryAuthor.entry_id == entry_id)).all() == []
    assert [get_storage().exists(name) for name in stored] == [False, False]
    record = session.exec(select(AuditEntry).where(AuditEntry.action == "entry.delete",
                                                   AuditEntry.object_id == entry_id)).one()
    assert record.changes["title"] == "Xây dựng Đảng từ cơ sở"
    assert "Đã xóa bản nháp." in client.get("/me/entries?deleted=1").text
    # A new entry (SQLite may give it the deleted draft's id) has a history of its own.
    newer = make_entry(session, session.get(Award, award_id), user=session.get(User, author_id),
                       title="Bài mới sau khi xóa")
    html = client.get(f"/entries/{newer.id}").text
    assert html.count('<li><time datetime="') == 1  # its own creation only


def test_a_submitted_entry_cannot_be_deleted_from_the_page(client, session):
    award = make_award(session, status="open")
    journalist = make_user(session)
    entry = make_entry(session, award, user=journalist, status="submitted")
    page_login(client, journalist)
    page = client.get(f"/entries/{entry.id}").text
    assert "Xóa bản nháp này" not in page
    response = client.post(f"/entries/{entry.id}/delete",
                           data={"csrf_token": csrf_from(page), "confirmed": "1"})
    assert response.status_code == 409
    assert "Chỉ có thể xóa bản nháp; tác phẩm đã gửi thì có thể rút lại." in response.text
    session.refresh(entry)
    assert entry.status == "submitted"


def test_withdrawing_asks_first_and_states_the_consequence(client, session):
    award = make_award(session, status="open")
    journalist = make_user(session)
    entry = make_entry(session, award, user=journalist, status="submitted")
    page_login(client, journalist)
    page = client.get(f"/entries/{entry.id}").text
    asked = client.post(f"/entries/{entry.id}/withdraw",
                        data={"csrf_token": csrf_from(page), "reason": "Gửi nhầm bản"})
    assert asked.status_code == 200
    assert "<p><strong>Rút tác phẩm “Xây dựng Đảng từ cơ sở”?</strong></p>" in asked.text
    assert ("<li>Tác phẩm sẽ rời khỏi giải: không được sơ khảo và chấm giải.</li>"
            "<li>Tác phẩm không thể gửi lại và không thể hoàn tác thao tác này.</li>") in asked.text
    assert '<input type="hidden" name="reason" value="Gửi nhầm bản">' in asked.text
    assert f'<a class="btn btn-secondary" href="/entries/{entry.id}">Hủy</a>' in asked.text
    session.refresh(entry)
    assert entry.status == "submitted"
    done = client.post(f"/entries/{entry.id}/withdraw",
                       data={"csrf_token": csrf_from(asked.text), "reason": "Gửi nhầm bản",
                             "confirmed": "1"}, follow_redirects=False)
    assert done.headers["location"] == f"/entries/{entry.id}?saved=3"
    session.refresh(entry)
    assert entry.status == "withdrawn"
    assert "Đã rút tác phẩm." in client.get(done.headers["location"]).text
