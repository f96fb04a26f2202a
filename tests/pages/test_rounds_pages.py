"""The organizer's judging console: rounds and rubrics, the panel, assignment, the round's
moves, progress and reminders, assignments and score history."""

import re
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from app.awards import service as award_service
from app.judging import queries, service
from app.judging.models import Criterion, PanelMember, Round, ScoreIn
from app.mail.models import Mail
from tests.conftest import csrf_from
from tests.factories import (
    make_award,
    make_entry,
    make_judging,
    make_round,
    make_user,
    page_login,
    seat,
)


def now():
    return datetime.now(UTC)


def _post(client, path, data=None, page="/admin/"):
    token = csrf_from(client.get(page).text)
    return client.post(path, data={**(data or {}), "csrf_token": token},
                       follow_redirects=False)


def _login_organizer(client, session, organizer=None):
    organizer = organizer or make_user(session, role="organizer")
    page_login(client, organizer)
    return organizer


def _closed_award(session, organizer, categories=1):
    return make_award(session, organizer=organizer, status="closed", categories=categories)


def _round_form(**overrides):
    form = {"name": "Vòng sơ khảo", "judges_per_entry": "2", "aggregation": "mean",
            "blind": "on", "exclude_same_outlet": "on", "source_round_id": "", "rows": "5",
            "c0_name": "Nội dung", "c0_description": "Chiều sâu", "c0_max_points": "40",
            "c1_name": "Hình thức", "c1_description": "", "c1_max_points": "30",
            "c2_name": "", "c2_description": "", "c2_max_points": "",
            "c3_name": "Tác động", "c3_description": "Lan tỏa", "c3_max_points": "30,5",
            "c4_name": "", "c4_description": "", "c4_max_points": ""}
    form.update(overrides)
    return {k: v for k, v in form.items() if v is not None}


def _rounds(session, award):
    return session.exec(select(Round).where(Round.award_id == award.id)).all()


def _points(session, round_, values):
    criteria = queries.criteria_of(session, round_.id)
    return {str(c.id): v for c, v in zip(criteria, values, strict=False)}


def _score(session, world, judge, entry, values, final=True):
    service.save_score(session, world.round.id, entry.id,
                       ScoreIn(points=_points(session, world.round, values), final=final),
                       judge=judge, now=now())


def _queue_of(session, world, judge):
    return [a.entry_id for a in queries.judge_queue(session, world.round, judge)]


# --- The award page ------------------------------------------------------------------------

def test_award_page_lists_rounds_with_progress_and_offers_to_create_one(client, session):
    world = make_judging(session, entries=2, judges=2, judges_per_entry=2)
    _score(session, world, world.judges[0], world.entries[0], [40, 30, 30])
    _login_organizer(client, session, world.organizer)
    html = client.get(f"/admin/awards/{world.award.id}").text
    assert "Vòng chấm" in html
    assert f'<a href="/admin/rounds/{world.round.id}">Vòng sơ khảo</a>' in html
    assert '<span class="badge badge-round-scoring">Đang chấm</span>' in html
    assert f'<a href="/admin/rounds/{world.round.id}/progress">1/4</a>' in html
    assert f'href="/admin/awards/{world.award.id}/rounds/new">Tạo vòng chấm</a>' in html


def test_award_page_says_why_no_round_can_be_created_while_open(client, session):
    organizer = _login_organizer(client, session)
    award = make_award(session, organizer=organizer, status="open")
    html = client.get(f"/admin/awards/{award.id}").text
    assert "Chưa có vòng chấm nào." in html
    assert "/rounds/new" not in html
    assert ("Chỉ chuẩn bị vòng chấm được khi giải đã hết hạn nhận tác phẩm hoặc đang chấm."
            in html)


# --- Creating and editing a round -----------------------------------------------------------

def test_new_round_form_starts_from_the_usual_100_point_scale(client, session):
    organizer = _login_organizer(client, session)
    award = _closed_award(session, organizer)
    html = client.get(f"/admin/awards/{award.id}/rounds/new").text
    assert 'name="name" type="text" value="Vòng sơ khảo"' in html
    assert re.findall(r'name="c\d_name" type="text" maxlength="200" value="([^"]*)"', html) == [
        "Nội dung", "Hình thức", "Tác động", "", "", ""]
    assert re.findall(r'name="c\d_max_points" [^>]*value="([^"]*)"', html) == [
        "40", "30", "30", "", "", ""]
    assert '<input type="checkbox" name="blind" checked>' in html
    assert '<input type="checkbox" name="exclude_same_outlet" checked>' in html
    assert "Tổng điểm tối đa: <strong>100</strong>" in html
    assert 'value="mean" selected' in html
    assert ('<option value="trimmed_mean">Trung bình cắt (bỏ điểm cao nhất và thấp nhất khi '
            'có từ 5 giám khảo)</option>') in html


def test_organizer_creates_a_round_blank_rows_ignored(client, session):
    organizer = _login_organizer(client, session)
    award = _closed_award(session, organizer)
    response = _post(client, f"/admin/awards/{award.id}/rounds/new",
                     _round_form(exclude_same_outlet=None, aggregation="zscore"))
    assert response.status_code == 303
    [round_] = _rounds(session, award)
    assert response.headers["location"] == f"/admin/rounds/{round_.id}?done=created"
    assert (round_.name, round_.judges_per_entry, round_.blind, round_.exclude_same_outlet,
            round_.aggregation, round_.status) == ("Vòng sơ khảo", 2, True, False, "zscore",
                                                   "setup")
    criteria = queries.criteria_of(session, round_.id)
    assert [(c.position, c.name, c.description, c.max_points) for c in criteria] == [
        (0, "Nội dung", "Chiều sâu", 40.0), (1, "Hình thức", "", 30.0),
        (2, "Tác động", "Lan tỏa", 30.5)]
    html = client.get(response.headers["location"]).text
    assert "Đã tạo vòng chấm." in html
    assert "<strong>100.5</strong>" in html


def test_bad_max_points_shows_the_form_again_with_values_kept_and_nothing_stored(client,
                                                                                 session):
    organizer = _login_organizer(client, session)
    award = _closed_award(session, organizer)
    response = _post(client, f"/admin/awards/{award.id}/rounds/new",
                     _round_form(name="Vòng đầu", c1_max_points="ba mươi"))
    assert response.status_code == 422
    html = response.text
    assert "Vui lòng kiểm tra các trường được đánh dấu." in html
    assert 'id="e-c1-max">Vui lòng kiểm tra giá trị này.</p>' in html
    assert 'value="Vòng đầu"' in html
    assert 'value="ba mươi"' in html
    assert 'value="Lan tỏa"' in html
    assert _rounds(session, award) == []


def test_judges_per_entry_out_of_bounds_is_marked_on_its_field(client, session):
    organizer = _login_organizer(client, session)
    award = _closed_award(session, organizer)
    response = _post(client, f"/admin/awards/{award.id}/rounds/new",
                     _round_form(judges_per_entry="0"))
    assert response.status_code == 422
    assert 'id="e-judges_per_entry">Vui lòng kiểm tra giá trị này.</p>' in response.text
    assert _rounds(session, award) == []


def test_a_second_criterion_with_the_same_name_is_refused_on_its_row(client, session):
    organizer = _login_organizer(client, session)
    award = _closed_award(session, organizer)
    response = _post(client, f"/admin/awards/{award.id}/rounds/new",
                     _round_form(c3_name="nội dung"))
    assert response.status_code == 422
    # Blank rows are dropped first: "nội dung" is the third criterion, row c2.
    assert 'id="e-c2-name">Có hai tiêu chí cùng tên “nội dung”.</p>' in response.text
    assert _rounds(session, award) == []
    assert session.exec(select(Criterion)).all() == []


def test_a_rubric_without_criteria_is_refused(client, session):
    organizer = _login_organizer(client, session)
    award = _closed_award(session, organizer)
    blank = {f"c{i}_{k}": "" for i in range(5) for k in ("name", "description", "max_points")}
    response = _post(client, f"/admin/awards/{award.id}/rounds/new", _round_form(**blank))
    assert response.status_code == 422
    assert "Thang điểm cần ít nhất một tiêu chí." in response.text
    assert _rounds(session, award) == []


def test_a_round_cannot_be_created_while_the_award_is_open(client, session):
    organizer = _login_organizer(client, session)
    award = make_award(session, organizer=organizer, status="open")
    page = client.get(f"/admin/awards/{award.id}/rounds/new").text
    assert "Chỉ chuẩn bị vòng chấm được khi giải đã hết hạn" in page
    response = _post(client, f"/admin/awards/{award.id}/rounds/new", _round_form())
    assert response.status_code == 409
    assert 'value="Vòng sơ khảo"' in response.text
    assert _rounds(session, award) == []


def test_criteria_move_and_are_removed_without_javascript_nothing_stored(client, session):
    organizer = _login_organizer(client, session)
    award = _closed_award(session, organizer)
    path = f"/admin/awards/{award.id}/rounds/new"
    names = r'name="c\d_name" type="text" maxlength="200" value="([^"]*)"'
    moved = _post(client, path, {**_round_form(), "move": "up-3"})
    assert moved.status_code == 200
    assert re.findall(names, moved.text) == ["Nội dung", "Hình thức", "Tác động", "", "", ""]
    moved = _post(client, path, {**_round_form(), "move": "down-0"})
    assert re.findall(names, moved.text)[:3] == ["Hình thức", "Nội dung", "Tác động"]
    removed = _post(client, path, {**_round_form(), "move": "remove-1"})
    assert re.findall(names, removed.text) == ["Nội dung", "Tác động", "", "", ""]
    assert "Tổng điểm tối đa: <strong>70.5</strong>" in removed.text
    added = _post(client, path, {**_round_form(), "move": "add"})
    assert len(re.findall(names, added.text)) == 9
    assert _rounds(session, award) == []


def test_edit_in_setup_changes_settings_and_rubric(client, session):
    organizer = _login_organizer(client, session)
    award = _closed_award(session, organizer)
    round_ = make_round(session, award, organizer=organizer)
    html = client.get(f"/admin/rounds/{round_.id}/edit").text
    assert 'value="Nội dung"' in html and 'value="40"' in html
    response = _post(client, f"/admin/rounds/{round_.id}/edit",
                     _round_form(name="Vòng chung khảo", judges_per_entry="3", blind=None,
                                 c0_max_points="50", c3_max_points="20"))
    assert response.status_code == 303
    assert response.headers["location"] == f"/admin/rounds/{round_.id}?done=saved"
    session.refresh(round_)
    assert (round_.name, round_.judges_per_entry, round_.blind) == ("Vòng chung khảo", 3, False)
    assert [(c.name, c.max_points) for c in queries.criteria_of(session, round_.id)] == [
        ("Nội dung", 50.0), ("Hình thức", 30.0), ("Tác động", 20.0)]


def test_edit_is_refused_once_scoring_started_and_the_rubric_shown_read_only(client, session):
    world = make_judging(session, entries=1, judges=2)
    _login_organizer(client, session, world.organizer)
    html = client.get(f"/admin/rounds/{world.round.id}/edit").text
    assert "Không thể thay đổi thiết lập và tiêu chí chấm khi vòng đã bắt đầu chấm." in html
    assert 'name="c0_name"' not in html
    assert "<td>Nội dung</td>" in html
    response = _post(client, f"/admin/rounds/{world.round.id}/edit",
                     _round_form(name="Đổi tên"), page=f"/admin/rounds/{world.round.id}")
    assert response.status_code == 409
    session.refresh(world.round)
    assert world.round.name == "Vòng sơ khảo"
    assert [c.max_points for c in queries.criteria_of(session, world.round.id)] == [
        40.0, 30.0, 30.0]


# --- The panel -----------------------------------------------------------------------------

def _setup_round(session, organizer, categories=1):
    award = _closed_award(session, organizer, categories=categories)
    round_ = make_round(session, award, organizer=organizer)
    return award, round_, award_service.list_categories(session, award)


def _panel(session, round_):
    return {m.judge_id: m.category_ids for m in queries.panel_of(session, round_)}


def test_seat_change_and_remove_a_judge(client, session):
    organizer = _login_organizer(client, session)
    award, round_, (c1, c2) = _setup_round(session, organizer, categories=2)
    judge = make_user(session, role="judge", full_name="Lê Văn Giám", organization="Báo Nhân Dân")
    page = f"/admin/rounds/{round_.id}"
    html = client.get(page).text
    assert f'<option value="{judge.id}">Lê Văn Giám — {judge.email} (Báo Nhân Dân)</option>' in html
    assert 'href="/admin/users">Mời giám khảo mới</a>' in html

    seated = _post(client, f"{page}/panel", {"judge_id": str(judge.id),
                                            "category_ids": [str(c1.id)]}, page)
    assert (seated.status_code, seated.headers["location"]) == (303, f"{page}?done=seated#panel")
    assert _panel(session, round_) == {judge.id: [c1.id]}
    again = _post(client, f"{page}/panel", {"judge_id": str(judge.id),
                                           "category_ids": [str(c1.id)]}, page)
    assert again.headers["location"] == f"{page}?done=panel#panel"

    changed = _post(client, f"{page}/panel", {"judge_id": str(judge.id),
                                             "category_ids": [str(c1.id), str(c2.id)]}, page)
    assert changed.status_code == 303
    assert _panel(session, round_) == {judge.id: sorted([c1.id, c2.id])}
    assert "Đã thay đổi thể loại của giám khảo." in client.get(changed.headers["location"]).text

    confirm = client.get(f"{page}/panel/{judge.id}/remove")
    assert confirm.status_code == 200
    assert f'action="{page}/panel/{judge.id}/remove"' in confirm.text
    assert "Rút Lê Văn Giám khỏi hội đồng" in confirm.text
    assert _panel(session, round_) == {judge.id: sorted([c1.id, c2.id])}
    removed = _post(client, f"{page}/panel/{judge.id}/remove", {}, page)
    assert removed.headers["location"] == f"{page}?done=removed#panel"
    assert _panel(session, round_) == {}
    twice = _post(client, f"{page}/panel/{judge.id}/remove", {}, page)
    assert twice.status_code == 303


def test_seating_a_non_judge_or_a_category_of_another_award_is_refused(client, session):
    organizer = _login_organizer(client, session)
    award, round_, (category,) = _setup_round(session, organizer)
    _other, _round2, (foreign,) = _setup_round(session, organizer)
    journalist = make_user(session, role="journalist")
    judge = make_user(session, role="judge")
    page = f"/admin/rounds/{round_.id}"
    response = _post(client, f"{page}/panel", {"judge_id": str(journalist.id),
                                              "category_ids": [str(category.id)]}, page)
    assert response.status_code == 422
    assert "Hãy chọn tài khoản giám khảo (mời giám khảo trước)." in response.text
    response = _post(client, f"{page}/panel", {"judge_id": str(judge.id),
                                              "category_ids": [str(foreign.id)]}, page)
    assert response.status_code == 422
    assert "Hãy chọn các thể loại của giải này." in response.text
    response = _post(client, f"{page}/panel", {"judge_id": str(judge.id)}, page)
    assert response.status_code == 422
    assert "Hãy chọn ít nhất một thể loại cho giám khảo." in response.text
    assert _panel(session, round_) == {}


# --- Assignment, start, close --------------------------------------------------------------

def _award_with_entries(session, organizer, entries=3):
    award = make_award(session, organizer=organizer, status="open")
    made = [make_entry(session, award, status="accepted", title=f"Tác phẩm {i}")
            for i in range(entries)]
    for target in ("closed", "judging"):
        award_service.change_status(session, award, target, actor=organizer)
    return award, made


def test_assign_reports_the_counts_then_start_mails_the_judges(client, session):
    organizer = _login_organizer(client, session)
    award, entries = _award_with_entries(session, organizer)
    round_ = make_round(session, award, organizer=organizer, judges_per_entry=2)
    category = award_service.list_categories(session, award)[0]
    judges = [make_user(session, role="judge") for _ in range(3)]
    for judge in judges:
        seat(session, round_, judge, [category], organizer=organizer)
    page = f"/admin/rounds/{round_.id}"
    response = _post(client, f"{page}/assign", {}, page)
    assert response.headers["location"] == (
        f"{page}?done=assigned&assignments=6&added=6&removed=0#assign")
    assert "Đã phân công: 6 lượt (thêm 6, bỏ 0)." in client.get(response.headers["location"]).text
    again = _post(client, f"{page}/assign", {}, page)
    assert again.headers["location"] == f"{page}?done=assigned&assignments=6&added=0&removed=0#assign"

    asked = _post(client, f"{page}/start", {}, page)
    assert asked.status_code == 200
    assert "3 giám khảo sẽ nhận thư kèm đường dẫn tới các tác phẩm được giao." in asked.text
    assert 'name="confirmed" value="1"' in asked.text
    session.refresh(round_)
    assert round_.status == "setup"
    started = _post(client, f"{page}/start", {"confirmed": "1"}, page)
    assert started.headers["location"] == f"{page}?done=start"
    session.refresh(round_)
    assert round_.status == "scoring"
    mails = session.exec(select(Mail).where(Mail.template == "judge_queue")).all()
    assert sorted(m.to for m in mails) == sorted(j.email for j in judges)
    twice = _post(client, f"{page}/start", {"confirmed": "1"}, page)  # a double click
    assert twice.headers["location"] == f"{page}?done=already_start"
    assert "đã bắt đầu chấm từ trước" in client.get(twice.headers["location"]).text
    assert len(session.exec(select(Mail).where(Mail.template == "judge_queue")).all()) == 3


def test_assign_409_names_the_entries_the_panel_cannot_cover(client, session):
    organizer = _login_organizer(client, session)
    award, entries = _award_with_entries(session, organizer, entries=2)
    round_ = make_round(session, award, organizer=organizer, judges_per_entry=2)
    category = award_service.list_categories(session, award)[0]
    seat(session, round_, make_user(session, role="judge"), [category], organizer=organizer)
    page = f"/admin/rounds/{round_.id}"
    response = _post(client, f"{page}/assign", {}, page)
    assert response.status_code == 409
    codes = ", ".join(e.code for e in sorted(entries, key=lambda e: e.code))
    assert codes in response.text
    assert "Phân công tự động" in response.text
    assert queries.assignments_of(session, round_, judge=None) == []


def test_start_refused_before_assignment_says_which_entries(client, session):
    organizer = _login_organizer(client, session)
    award, entries = _award_with_entries(session, organizer, entries=1)
    round_ = make_round(session, award, organizer=organizer)
    page = f"/admin/rounds/{round_.id}"
    response = _post(client, f"{page}/start", {}, page)
    assert response.status_code == 409
    assert entries[0].code in response.text
    session.refresh(round_)
    assert round_.status == "setup"


def test_close_is_refused_while_scores_are_missing_then_forced_with_a_reason(client, session):
    world = make_judging(session, entries=2, judges=2, judges_per_entry=2)
    _score(session, world, world.judges[0], world.entries[0], [40, 30, 30])
    _login_organizer(client, session, world.organizer)
    page = f"/admin/rounds/{world.round.id}"
    html = client.get(page).text
    assert "Còn 3 phiếu điểm chưa chốt." in html
    refused = _post(client, f"{page}/close", {}, page)
    assert refused.status_code == 409
    assert "Còn 3 phiếu điểm chưa có hoặc chưa chốt. Hãy chờ giám khảo, hoặc buộc kết thúc kèm lý do." in refused.text
    no_reason = _post(client, f"{page}/close", {"force": "on", "reason": "  "}, page)
    assert no_reason.status_code == 422
    assert 'id="e-reason">' in no_reason.text
    session.refresh(world.round)
    assert world.round.status == "scoring"
    asked = _post(client, f"{page}/close",
                  {"force": "on", "reason": "Giám khảo 2 ốm, Ban tổ chức quyết định"}, page)
    assert asked.status_code == 200
    assert ("3 phiếu điểm chưa có hoặc chưa chốt sẽ không được tính vào xếp hạng."
            in asked.text)
    assert 'name="reason" value="Giám khảo 2 ốm, Ban tổ chức quyết định"' in asked.text
    forced = _post(client, f"{page}/close",
                   {"force": "on", "reason": "Giám khảo 2 ốm, Ban tổ chức quyết định",
                    "confirmed": "1"}, page)
    assert forced.headers["location"] == f"{page}?done=close"
    session.refresh(world.round)
    assert (world.round.status, world.round.close_reason) == (
        "closed", "Giám khảo 2 ốm, Ban tổ chức quyết định")
    html = client.get(forced.headers["location"]).text
    assert "Vòng chấm đã kết thúc." in html
    assert "Giám khảo 2 ốm, Ban tổ chức quyết định" in html
    assert 'action="/admin/rounds/%d/panel"' % world.round.id not in html


def test_close_without_force_succeeds_when_every_score_is_final(client, session):
    world = make_judging(session, entries=1, judges=2, judges_per_entry=2)
    for judge in world.judges:
        _score(session, world, judge, world.entries[0], [40, 30, 30])
    _login_organizer(client, session, world.organizer)
    page = f"/admin/rounds/{world.round.id}"
    assert "Mọi phiếu điểm đã chốt." in client.get(page).text
    asked = _post(client, f"{page}/close", {}, page)
    assert asked.status_code == 200 and "Đã chốt 2/2 phiếu điểm." in asked.text
    assert _post(client, f"{page}/close", {"confirmed": "1"}, page).status_code == 303
    session.refresh(world.round)
    assert (world.round.status, world.round.close_reason) == ("closed", None)


# --- Progress and reminders ----------------------------------------------------------------

def test_progress_shows_numbers_laggards_first_and_conflicts(client, session):
    world = make_judging(session, entries=3, judges=3, judges_per_entry=2)
    first, second, third = world.judges
    for entry_id in _queue_of(session, world, first):
        _score(session, world, first, next(e for e in world.entries if e.id == entry_id),
               [40, 30, 30])
    draft_entry = _queue_of(session, world, second)[0]
    _score(session, world, second,
           next(e for e in world.entries if e.id == draft_entry), [10], final=False)
    conflicted = _queue_of(session, world, third)[0]
    service.declare_conflict(session, world.round.id, conflicted, judge=third,
                             reason="Tác giả là em họ tôi", now=now())
    _login_organizer(client, session, world.organizer)
    html = client.get(f"/admin/rounds/{world.round.id}/progress").text
    progress = queries.progress(session, world.round)
    assert [j.full_name for j in progress.judges][-1] == "Giám khảo 1"
    order = [html.index(f"<th scope=\"row\">{j.full_name}</th>") for j in progress.judges]
    assert order == sorted(order)
    rows = re.findall(r'<th scope="row">(Giám khảo \d)</th>\s*<td><progress[^>]*></progress>\s*'
                      r'<span class="nums">([^<]*)</span>', html)
    expected = [(j.full_name, f"{j.final}/{j.assigned}"
                 + (f" · {j.draft} bản nháp" if j.draft else "")) for j in progress.judges]
    assert rows == expected
    assert ("Giám khảo 1", "2/2") in rows
    assert f"{progress.final}/{progress.assigned} phiếu điểm đã chốt" in html
    entry = next(e for e in world.entries if e.id == conflicted)
    assert f"<strong>{entry.code}</strong> · Giám khảo 3" in html
    assert "Tác giả là em họ tôi" in html
    short = progress.categories[0].short_of_judges
    assert re.search(r"Thiếu giám khảo", html)
    assert (f'<span class="badge badge-warn">{short}</span>' in html) == (short > 0)


def test_remind_mails_judges_behind_and_a_second_click_reminds_nobody(client, session):
    world = make_judging(session, entries=2, judges=2, judges_per_entry=1)
    done = world.judges[0]
    for entry_id in _queue_of(session, world, done):
        _score(session, world, done, next(e for e in world.entries if e.id == entry_id),
               [40, 30, 30])
    behind = [j for j in world.judges if j.id != done.id]
    _login_organizer(client, session, world.organizer)
    progress_page = f"/admin/rounds/{world.round.id}/progress"
    html = client.get(progress_page).text
    assert "Nhắc giám khảo chậm" in html
    response = _post(client, f"/admin/rounds/{world.round.id}/remind", {}, progress_page)
    assert response.headers["location"] == f"{progress_page}?reminded={len(behind)}"
    assert f"Đã nhắc {len(behind)} giám khảo." in client.get(response.headers["location"]).text
    mails = session.exec(select(Mail).where(Mail.template == "judge_reminder")).all()
    assert sorted(m.to for m in mails) == sorted(j.email for j in behind)
    again = _post(client, f"/admin/rounds/{world.round.id}/remind", {}, progress_page)
    assert again.headers["location"] == f"{progress_page}?reminded=0"
    assert "Không nhắc thêm giám khảo nào" in client.get(again.headers["location"]).text
    assert len(session.exec(select(Mail).where(Mail.template == "judge_reminder")).all()) == len(
        behind)
    member = session.exec(select(PanelMember).where(PanelMember.judge_id == behind[0].id)).one()
    assert member.reminded_at is not None


def test_remind_before_scoring_is_refused_on_the_progress_page(client, session):
    world = make_judging(session, entries=1, judges=2, start=False)
    _login_organizer(client, session, world.organizer)
    page = f"/admin/rounds/{world.round.id}/progress"
    response = _post(client, f"/admin/rounds/{world.round.id}/remind", {}, page)
    assert response.status_code == 409
    assert "Vòng này chưa bắt đầu chấm điểm." in response.text


# --- Assignments and score history ---------------------------------------------------------

def test_assignments_list_names_judges_and_history_shows_every_save(client, session):
    world = make_judging(session, entries=1, judges=2, judges_per_entry=2)
    entry = world.entries[0]
    judge = world.judges[0]
    _score(session, world, judge, entry, [20], final=False)
    _score(session, world, judge, entry, [35, 25, 20])
    _login_organizer(client, session, world.organizer)
    html = client.get(f"/admin/rounds/{world.round.id}/assignments").text
    assert "2 lượt phân công." in html
    assert "<td>Giám khảo 1</td>" in html and "<td>Giám khảo 2</td>" in html
    assert '<td class="num">80</td>' in html
    assert "Đã chốt" in html and "Chưa chấm" in html
    history_url = f"/admin/rounds/{world.round.id}/entries/{entry.id}/history"
    assert f'href="{history_url}"' in html
    history = client.get(history_url).text
    rows = re.findall(r"<tr><td>(Giám khảo \d)</td>", history)
    assert rows == ["Giám khảo 1", "Giám khảo 1"]
    assert "<strong>20</strong> (bản nháp)" in history
    assert "<strong>80</strong> (đã chốt)" in history
    assert "Nội dung: 35; Hình thức: 25; Tác động: 20" in history


# --- Access --------------------------------------------------------------------------------

def _pages(world):
    r = world.round.id
    e = world.entries[0].id
    j = world.judges[0].id
    return [
        ("get", f"/admin/awards/{world.award.id}/rounds/new"),
        ("post", f"/admin/awards/{world.award.id}/rounds/new"),
        ("get", f"/admin/rounds/{r}"), ("get", f"/admin/rounds/{r}/edit"),
        ("post", f"/admin/rounds/{r}/edit"), ("post", f"/admin/rounds/{r}/panel"),
        ("get", f"/admin/rounds/{r}/panel/{j}/remove"),
        ("post", f"/admin/rounds/{r}/panel/{j}/remove"),
        ("post", f"/admin/rounds/{r}/assign"), ("post", f"/admin/rounds/{r}/start"),
        ("post", f"/admin/rounds/{r}/close"), ("get", f"/admin/rounds/{r}/progress"),
        ("post", f"/admin/rounds/{r}/remind"), ("get", f"/admin/rounds/{r}/assignments"),
        ("get", f"/admin/rounds/{r}/entries/{e}/history"),
    ]


@pytest.mark.parametrize("role", ["journalist", "judge"])
def test_every_page_refuses_journalists_and_judges(client, session, role):
    world = make_judging(session, entries=1, judges=2)
    user = world.judges[0] if role == "judge" else make_user(session, role="journalist")
    page_login(client, user)
    token = csrf_from(client.get("/me").text)
    for method, path in _pages(world):
        if method == "get":
            response = client.get(path)
        else:
            response = client.post(path, data={"csrf_token": token}, follow_redirects=False)
        assert (path, response.status_code) == (path, 403)
    session.refresh(world.round)
    assert world.round.status == "scoring"


def test_anonymous_visitors_are_sent_to_log_in(client, session):
    world = make_judging(session, entries=1, judges=2)
    response = client.get(f"/admin/rounds/{world.round.id}", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


def test_missing_ids_answer_404(client, session):
    world = make_judging(session, entries=1, judges=2)
    _login_organizer(client, session, world.organizer)
    token = csrf_from(client.get("/admin/").text)
    missing = 999999
    paths = [("get", f"/admin/awards/{missing}/rounds/new"),
             ("post", f"/admin/awards/{missing}/rounds/new")]
    for method, path in _pages(world)[2:]:
        paths.append((method, path.replace(f"/rounds/{world.round.id}", f"/rounds/{missing}")))
    paths.append(("get", f"/admin/rounds/{world.round.id}/entries/{missing}/history"))
    paths.append(("post", f"/admin/rounds/{world.round.id}/panel/{missing}/remove"))
    for method, path in paths:
        if method == "get":
            response = client.get(path)
        else:
            response = client.post(path, data={"csrf_token": token}, follow_redirects=False)
        assert (path, response.status_code) == (path, 404)


def test_every_state_change_needs_the_csrf_token(client, session):
    world = make_judging(session, entries=1, judges=2, start=False)
    _login_organizer(client, session, world.organizer)
    for method, path in _pages(world):
        if method == "post":
            response = client.post(path, data={"force": "on", "reason": "x"},
                                   follow_redirects=False)
            assert (path, response.status_code) == (path, 403)
    session.refresh(world.round)
    assert world.round.status == "setup"
    assert len(queries.panel_of(session, world.round)) == 2


def test_pages_speak_english_on_request(client, session):
    world = make_judging(session, entries=1, judges=2)
    _login_organizer(client, session, world.organizer)
    html = client.get(f"/admin/rounds/{world.round.id}?lang=en").text
    assert "Close the round" in html and "Panel" in html
    html = client.get(f"/admin/rounds/{world.round.id}/progress?lang=en").text
    assert "Remind judges who are behind" in html
    html = client.get(f"/admin/awards/{world.award.id}/rounds/new?lang=en").text
    assert 'value="Content"' in html and 'value="Preliminary round"' not in html


def test_audit_log_links_round_changes_to_the_round(client, session):
    world = make_judging(session, entries=1, judges=2)
    _login_organizer(client, session, world.organizer)
    html = client.get("/admin/audit").text
    assert "<td data-label=\"Thao tác\">Bắt đầu chấm điểm vòng chấm</td>" in html
    link = (f'<td data-label="Đối tượng"><span class="muted">Vòng chấm</span><br>'
            f'<a href="/admin/rounds/{world.round.id}">{world.round.name}</a>')
    assert link in html


def test_no_page_answers_5xx_to_odd_addresses_or_queries(client, session):
    world = make_judging(session, entries=1, judges=2)
    _login_organizer(client, session, world.organizer)
    junk = "?reminded=abc&done=%00x&assignments=-1&lang=xx&offset=-1"
    failures = []
    for method, path in _pages(world):
        if method != "get":
            continue
        for odd in (path, path.replace(f"/rounds/{world.round.id}", "/rounds/abc"),
                    path.replace(f"/rounds/{world.round.id}", "/rounds/99999999999")):
            for query in ("", junk):
                response = client.get(odd + query)
                if response.status_code >= 500:
                    failures.append((odd + query, response.status_code))
    assert failures == []
    token = csrf_from(client.get("/admin/").text)
    response = client.post(f"/admin/rounds/{world.round.id}/panel",
                           data={"csrf_token": token, "judge_id": "99999999999999",
                                 "category_ids": ["99999999999999999999", "x"]},
                           follow_redirects=False)
    assert response.status_code == 422


def test_a_judge_who_has_scored_stays_on_the_panel(client, session):
    world = make_judging(session, entries=1, judges=2, judges_per_entry=2)
    judge = world.judges[0]
    _score(session, world, judge, world.entries[0], [10], final=False)
    _login_organizer(client, session, world.organizer)
    page = f"/admin/rounds/{world.round.id}"
    response = _post(client, f"{page}/panel/{judge.id}/remove", {}, page)
    assert response.status_code == 409
    assert ('<div class="alert alert-error" role="alert">Giám khảo này đã chấm điểm ở vòng này '
            'nên vẫn ở lại hội đồng.</div>') in response.text
    assert judge.id in _panel(session, world.round)
