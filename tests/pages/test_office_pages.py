"""The secretariat's pages: screening that moves on, asks before rejecting and keeps what
was typed; duplicates by code; the audit log in plain words, in Vietnamese and English."""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from app.audit import service as audit
from app.awards import service as awards
from app.awards.models import CategoryUpdate
from app.entries.models import Entry
from app.samples import pdf
from tests.conftest import csrf_from
from tests.factories import make_award, make_entry, make_user, page_login


def _post(client, path, data, page):
    token = csrf_from(client.get(page).text)
    return client.post(path, data={**data, "csrf_token": token}, follow_redirects=False)


def _screening(client, session, n=3):
    award = make_award(session, status="open", max_entries_per_author=5)
    journalist = make_user(session)
    entries = [make_entry(session, award, user=journalist, title=f"Bài {i}", status="submitted",
                          files=[pdf(f"bai {i}")]) for i in range(n)]
    organizer = make_user(session, role="organizer")
    page_login(client, organizer)
    return award, entries, organizer


def test_a_decision_moves_on_to_the_next_entry_waiting_with_the_count(client, session):
    award, entries, _ = _screening(client, session)
    first = f"/admin/entries/{entries[0].id}"
    page = client.get(first).text
    assert "Còn 3 bài chờ sơ duyệt." in page
    response = _post(client, f"{first}/screen", {"decision": "accept", "then": "next"}, first)
    assert response.headers["location"] == f"/admin/entries/{entries[1].id}?saved=1&done={entries[0].id}"
    page = client.get(response.headers["location"]).text
    assert "Đã ghi nhận kết quả sơ duyệt tác phẩm C1-001." in page
    assert "Còn 2 bài chờ sơ duyệt." in page
    assert '<button type="submit" name="then" value="next" class="btn">' \
           'Lưu và sang bài tiếp theo</button>' in page


def test_after_the_last_entry_the_organizer_is_back_on_the_list_with_a_message(client, session):
    award, entries, _ = _screening(client, session, n=1)
    page = f"/admin/entries/{entries[0].id}"
    response = _post(client, f"{page}/screen",
                     {"decision": "return", "reason": "Thiếu bản chụp trang báo"}, page)
    assert response.headers["location"] == f"/admin/awards/{award.id}/entries?screened={entries[0].id}"
    listing = client.get(response.headers["location"]).text
    assert ("Đã ghi nhận kết quả sơ duyệt tác phẩm C1-001. Không còn tác phẩm nào của giải "
            "chờ sơ duyệt.") in listing


def test_rejecting_asks_first_and_states_the_consequences(client, session):
    award, entries, _ = _screening(client, session, n=2)
    page = f"/admin/entries/{entries[0].id}"
    asked = _post(client, f"{page}/screen",
                  {"decision": "reject", "reason": "Không đúng thể lệ", "then": "next"}, page)
    assert asked.status_code == 200
    assert "Không tiếp nhận tác phẩm C1-001?" in asked.text
    assert ("Tác giả sẽ nhận email báo tác phẩm không được tiếp nhận, kèm lý do: "
            "“Không đúng thể lệ”") \
        in asked.text
    assert ("Tác phẩm không được tiếp nhận thì không thể gửi lại và không được đưa vào chấm "
            "giải.") in asked.text
    assert ('<button type="submit" class="btn btn-danger">Không tiếp nhận tác phẩm'
            '</button>') in asked.text
    assert session.get(Entry, entries[0].id).status == "submitted"  # nothing done yet
    token = csrf_from(asked.text)
    done = client.post(f"{page}/screen", data={
        "csrf_token": token, "confirmed": "1", "decision": "reject",
        "reason": "Không đúng thể lệ", "then": "next"}, follow_redirects=False)
    assert done.headers["location"] == f"/admin/entries/{entries[1].id}?saved=1&done={entries[0].id}"
    session.expire_all()
    assert session.get(Entry, entries[0].id).status == "rejected"


def test_a_missing_reason_is_shown_beside_the_box_with_the_decision_kept(client, session):
    award, entries, _ = _screening(client, session, n=1)
    page = f"/admin/entries/{entries[0].id}"
    refused = _post(client, f"{page}/screen", {"decision": "reject", "reason": "  "}, page)
    assert refused.status_code == 422
    html = refused.text
    assert '<p class="field-error" id="e-reason">Vui lòng nêu lý do; tác giả sẽ thấy lý do ' \
           'này.</p>' in html
    assert re.search(r'<textarea id="reason" name="reason" rows="3" '
                     r'aria-describedby="e-reason h-reason" aria-invalid="true">', html)
    assert '<input type="radio" name="decision" value="reject" required checked>' in html
    assert "Không tiếp nhận tác phẩm C1-001?" not in html  # no confirmation before the reason
    none = _post(client, f"{page}/screen", {"reason": "Ghi chú"}, page)
    assert '<p class="field-error" id="e-decision">Vui lòng chọn quyết định sơ duyệt.</p>' \
        in none.text
    assert ">Ghi chú</textarea>" in none.text


def test_duplicates_name_the_other_entry_by_code_among_competing_entries_only(client, session):
    award = make_award(session, status="open", max_entries_per_author=5)
    same = pdf("trung")
    mine = make_entry(session, award, title="Bài gốc", files=[same], status="submitted")
    other = make_entry(session, award, title="Bài trùng", files=[same], status="accepted")
    make_entry(session, award, title="Bản nháp trùng", files=[same])  # a draft: not counted
    page_login(client, make_user(session, role="organizer"))
    html = client.get(f"/admin/entries/{mine.id}").text
    assert (f'Tệp tac-pham.pdf giống hệt (cùng mã SHA-256) một tệp của tác phẩm '
            f'<a href="/admin/entries/{other.id}">{other.code}</a> — Bài trùng') in html
    assert html.count("giống hệt (cùng mã SHA-256)") == 1
    listing = client.get(f"/admin/awards/{award.id}/entries").text
    assert f'<a class="badge badge-warn" href="/admin/entries/{other.id}">' in listing


def _audit_world(session):
    organizer = make_user(session, role="organizer", full_name="Trần Thị Tổ Chức")
    award = make_award(session, organizer=organizer, status="open")
    category = awards.list_categories(session, award)[0]
    awards.update_category(session, category, CategoryUpdate(accepted_kinds=["pdf", "video"]),
                           actor=organizer)
    entry = make_entry(session, award, title="Làng chài", status="submitted")
    audit.record(session, actor=organizer, action="award.update", obj=award, changes={
        "submission_closes_at": [datetime(2026, 11, 30, 10, 0, tzinfo=ZoneInfo("UTC")),
                                 datetime(2026, 12, 5, 16, 59, tzinfo=ZoneInfo("UTC"))],
        "year": [2026, 2026]}, reason="Gia hạn theo đề nghị của các cơ quan báo chí")
    return organizer, award, category, entry


def test_the_audit_log_reads_in_plain_vietnamese(client, session):
    organizer, award, category, entry = _audit_world(session)
    page_login(client, organizer)
    html = client.get("/admin/audit").text
    assert '<td data-label="Thao tác">Sửa thể loại</td>' in html
    assert (f'<td data-label="Đối tượng"><span class="muted">Thể loại</span><br><a href="/admin/categories/{category.id}">'
            f'C1 — Thể loại 1</a>') in html
    assert ("<div><strong>Loại tệp được nhận</strong>: thêm: Video (MP4, MOV) · "
            "bỏ: Ảnh (JPEG, PNG, TIFF)</div>") in html
    assert ("<div><strong>Hạn nhận tác phẩm</strong>: 30/11/2026 17:00 giờ Việt Nam (GMT+7) → "
            "05/12/2026 23:59 giờ Việt Nam (GMT+7)</div>") in html
    extended = next(row for row in html.split("<tr>") if "Gia hạn theo đề nghị" in row)
    assert "Năm" not in extended  # the year did not change: not shown
    assert '<td data-label="Thao tác">Gửi tác phẩm dự giải</td>' in html
    assert (f'<a href="/admin/entries/{entry.id}">C1-001 · Làng chài</a>') in html
    assert 'class="table-wrap" tabindex="0" role="region" aria-label="Nhật ký thao tác"' in html
    assert "entry.submit" not in re.sub(r"<select.*?</select>", "", html, flags=re.S)


def _table(html: str) -> str:
    """The page without its filter form (whose options name every action)."""
    return re.sub(r"<select.*?</select>", "", html, flags=re.S)


def test_the_audit_log_reads_in_plain_english_and_filters(client, session):
    organizer, award, category, entry = _audit_world(session)
    page_login(client, organizer)
    html = _table(client.get("/admin/audit?lang=en&action=entry").text)
    assert '<td data-label="Action">Submitted an entry</td>' in html
    assert "<div><strong>Status</strong>: Draft → Submitted</div>" in html
    assert "Changed a category" not in html
    one = _table(client.get(
        f"/admin/audit?lang=en&object_type=category&object_id={category.id}").text)
    assert '<td data-label="Action">Changed a category</td>' in one
    assert ("<div><strong>Accepted kinds of file</strong>: added: Video (MP4, MOV) · "
            "removed: Photos (JPEG, PNG, TIFF)</div>") in one
    assert "Submitted an entry" not in one
    by_actor = client.get(f"/admin/audit?lang=en&actor={entry.id}nobody").text
    assert "No record matches." in by_actor


def test_the_award_page_history_is_in_plain_words(client, session):
    organizer, award, _, _ = _audit_world(session)
    page_login(client, organizer)
    html = client.get(f"/admin/awards/{award.id}").text
    assert ("Sửa thiết lập của giải — Hạn nhận tác phẩm: 30/11/2026 17:00 giờ Việt Nam (GMT+7) "
            "→ 05/12/2026 23:59 giờ Việt Nam (GMT+7) · Lý do: Gia hạn theo đề nghị của các cơ "
            "quan báo chí") in html


def test_the_moved_on_message_names_only_a_real_entry_of_the_award(client, session):
    award, entries, _ = _screening(client, session, n=2)
    elsewhere = make_entry(session, make_award(session, status="open"), title="Giải khác",
                           status="submitted")
    for done in ("Trúng thưởng liên hệ 0900", str(elsewhere.id), "999999"):
        html = client.get(f"/admin/entries/{entries[1].id}?saved=1&done={done}").text
        assert "Đã ghi nhận kết quả sơ duyệt." in html
        assert "Đã ghi nhận kết quả sơ duyệt tác phẩm" not in html
