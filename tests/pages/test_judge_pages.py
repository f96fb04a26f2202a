"""The judge's pages (/judge, a round's queue, the scoring page): states and progress,
scoring by form and by autosave, conflicts, confidentiality, blind rounds."""

import re
from datetime import UTC, datetime

import pytest
from zoneinfo import ZoneInfo
from sqlmodel import select

from app.awards import service as award_service
from app.entries import files as entry_files
from app.entries import writes as entry_writes
from app.judging import queries, service
from app.judging.models import Assignment, Score, ScoreIn
from app.samples import mp4, pdf, png, wav
from tests.conftest import csrf_from
from tests.factories import (
    api_headers,
    make_award,
    make_entry,
    make_judging,
    make_category,
    make_round,
    make_user,
    page_login,
    seat,
    store,
)


def now():
    return datetime.now(UTC)


def _criteria(session, world):
    return queries.criteria_of(session, world.round.id)


def _queue(session, world, judge):
    return [a.entry_id for a in queries.judge_queue(session, world.round, judge)]


def _score(session, world, judge, entry_id, values, *, final=False):
    points = {str(c.id): v for c, v in zip(_criteria(session, world), values, strict=False)}
    service.save_score(session, world.round.id, entry_id, ScoreIn(points=points, final=final),
                       judge=judge, now=now())


def _page(world, entry_id):
    return f"/judge/rounds/{world.round.id}/entries/{entry_id}"


def _form(session, world, values, **extra):
    data = {f"points.{c.id}": v for c, v in zip(_criteria(session, world), values, strict=False)}
    data.update(extra)
    return data


def _post(client, path, data, *, page=None, **kwargs):
    token = csrf_from(client.get(page or path).text)
    return client.post(path, data={**data, "csrf_token": token}, follow_redirects=False,
                       **kwargs)


def _stored(session, world, judge, entry_id):
    return session.exec(select(Score).where(Score.round_id == world.round.id,
                                            Score.entry_id == entry_id,
                                            Score.judge_id == judge.id)).first()



# --- /judge and the queue --------------------------------------------------------------------

def test_a_judge_lands_on_their_rounds_after_signing_in(client, session):
    world = make_judging(session, entries=3, judges=3, judges_per_entry=2)
    judge = world.judges[0]
    assert page_login(client, judge).headers["location"] == "/judge"
    html = client.get("/judge").text
    assert '<li><a href="/judge">Chấm điểm</a></li>' in html
    row = re.search(r"<tbody>(.*?)</tbody>", html, re.S).group(1)
    cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td>(.*?)</td>", row, re.S)]
    assert cells == [world.award.title, "Vòng sơ khảo", "Đang chấm", "Chấm kín: ẩn tác giả",
                     "0 / 2"]
    assert f'<a href="/judge/rounds/{world.round.id}">Vòng sơ khảo</a>' in row


def test_a_judge_on_no_panel_gets_an_explanation(client, session):
    page_login(client, make_user(session, role="judge"))
    html = client.get("/judge").text
    assert "Bạn chưa có tên trong hội đồng giám khảo của vòng chấm nào." in html
    assert "<table" not in html


def test_the_queue_shows_states_totals_and_progress(client, session):
    world = make_judging(session, entries=3, judges=3, judges_per_entry=2)
    judge = world.judges[0]
    first, second = _queue(session, world, judge)
    _score(session, world, judge, first, [30, 20, 15.5], final=True)
    _score(session, world, judge, second, [10])
    page_login(client, judge)
    html = client.get(f"/judge/rounds/{world.round.id}").text
    assert '<progress id="queue-progress" max="2" value="1"' in html
    assert "Đã chốt điểm 1 trên 2 tác phẩm." in html
    rows = re.findall(r"<tr>\s*<td class=\"entry-code\">(.*?)</td>.*?<a href=\"([^\"]+)\">(.*?)"
                      r"</a></td>\s*<td>(.*?)</td>\s*<td><span class=\"badge badge-score-(\w+)\">"
                      r"(.*?)</span></td>\s*<td class=\"num\">(.*?)</td>", html, re.S)
    codes = {e.id: e.code for e in world.entries}
    titles = {e.id: e.title for e in world.entries}
    assert rows == [
        (codes[first], _page(world, first), titles[first], "Thể loại 1", "final", "Đã chốt",
         "65.5 / 100"),
        (codes[second], _page(world, second), titles[second], "Thể loại 1", "draft",
         "Bản nháp", "10 / 100"),
    ]
    # The button goes to the first entry without a final score.
    assert f'<a class="btn" href="{_page(world, second)}">Chấm tiếp</a>' in html


def test_the_queue_of_a_new_judge_offers_to_start(client, session):
    world = make_judging(session, entries=3, judges=3, judges_per_entry=2)
    judge = world.judges[1]
    page_login(client, judge)
    html = client.get(f"/judge/rounds/{world.round.id}").text
    first = _queue(session, world, judge)[0]
    assert f'<a class="btn" href="{_page(world, first)}">Bắt đầu chấm</a>' in html
    assert "Đã chốt điểm 0 trên 2 tác phẩm." in html


def test_a_round_in_setup_says_scoring_has_not_started(client, session):
    world = make_judging(session, entries=2, judges=2, judges_per_entry=2, start=False)
    page_login(client, world.judges[0])
    html = client.get(f"/judge/rounds/{world.round.id}").text
    assert "Vòng này chưa bắt đầu chấm điểm." in html
    assert "<progress" not in html and "Bắt đầu chấm</a>" not in html
    assert client.get(_page(world, world.entries[0].id)).status_code == 404
    assert "Chưa bắt đầu" in client.get("/judge").text


def test_a_closed_round_is_read_only(client, session):
    world = make_judging(session, entries=1, judges=2, judges_per_entry=2)
    judge = world.judges[0]
    entry_id = world.entries[0].id
    _score(session, world, judge, entry_id, [30, 20, 10], final=True)
    service.move_round(session, world.round, "close", actor=world.organizer, now=now(),
                       force=True, reason="Hết hạn chấm")
    page_login(client, judge)
    queue = client.get(f"/judge/rounds/{world.round.id}").text
    assert "Vòng chấm đã kết thúc: không thể sửa điểm nữa." in queue
    assert "Chấm tiếp</a>" not in queue and "Bắt đầu chấm</a>" not in queue
    html = client.get(_page(world, entry_id)).text
    assert html.count(" readonly") == 4  # three criteria and the comment
    assert 'name="action"' not in html and "/conflict" not in html
    # A form sent from a page opened before the close: refused, the saved score shown.
    response = _post(client, _page(world, entry_id),
                     _form(session, world, ["1", "1", "1"], action="draft"),
                     page=f"/judge/rounds/{world.round.id}")
    assert response.status_code == 409
    assert "Vòng chấm đã kết thúc: không thể sửa điểm nữa." in response.text
    assert 'value="30"' in response.text and 'value="1"' not in response.text
    assert _stored(session, world, judge, entry_id).total == 60


# --- The scoring page ----------------------------------------------------------------------

def test_the_scoring_page_shows_the_work_and_its_files_in_the_browser(client, session):
    round_, entry, (judge, _other) = _world_with_a_telling_author(
        session, blind=True, url="https://baoninhthuan.vn/bai-1",
        summary="Câu chuyện về chi bộ bản làng.",
        files=[(pdf(), "a.pdf"), (png(), "b.png"), (wav(), "c.wav"), (mp4(seconds=1), "d.mp4")])
    files = [f.id for f in entry.files]
    page_login(client, judge)
    html = client.get(f"/judge/rounds/{round_.id}/entries/{entry.id}").text
    assert f"<title>{entry.code} · Chuyện ở bản Phước Hà · Giải báo chí</title>" in html
    assert "<dt>Thể loại</dt><dd>Báo chí đa phương tiện</dd>" in html
    assert "<dt>Cơ quan báo chí</dt><dd>Báo Ninh Thuận</dd>" in html
    assert "<dt>Ngày đăng, phát</dt><dd>15/03/2026</dd>" in html
    assert '<p class="pre">Câu chuyện về chi bộ bản làng.</p>' in html
    assert ('<a href="https://baoninhthuan.vn/bai-1" target="_blank" rel="noopener noreferrer"'
            in html)
    base = f"/entries/{entry.id}/files"
    assert (f'<iframe class="pdf-frame" src="{base}/{files[0]}?inline=1" '
            f'title="{entry.code}-1.pdf"></iframe>') in html
    assert f'<img class="file-image" src="{base}/{files[1]}?inline=1" alt="{entry.code}-2.png">' \
        in html
    assert (f'<audio class="file-audio" controls preload="metadata" '
            f'src="{base}/{files[2]}?inline=1"></audio>') in html
    assert (f'<video class="file-video" controls playsinline preload="metadata" '
            f'src="{base}/{files[3]}?inline=1"></video>') in html
    for file_id in files:
        assert f'<a href="{base}/{file_id}">Tải về' in html
    # What the players ask for: the file inline, seekable (206 for a range).
    video = client.get(f"{base}/{files[3]}?inline=1", headers={"Range": "bytes=100-199"})
    assert video.status_code == 206
    assert video.headers["content-range"] == f"bytes 100-199/{entry.files[3].size}"
    assert video.headers["content-type"] == "video/mp4"
    assert video.headers["content-disposition"].startswith(
        f'inline; filename="{entry.code}-4.mp4"')
    assert video.content == mp4(seconds=1)[100:200]


def test_the_rubric_form_has_one_number_per_criterion_and_draft_is_the_default(client, session):
    world = make_judging(session, entries=1, judges=2, judges_per_entry=2)
    page_login(client, world.judges[0])
    html = client.get(_page(world, world.entries[0].id)).text
    c = _criteria(session, world)
    inputs = re.findall(r'<input type="number" id="p-(\d+)" name="points\.(\d+)" class="points" '
                        r'min="0" max="(\d+)" step="0\.01" inputmode="decimal"', html)
    assert inputs == [(str(x.id), str(x.id), m) for x, m in zip(c, ["40", "30", "30"],
                                                                 strict=True)]
    assert "Tính chính xác, chiều sâu, giá trị thông tin" in html
    form = html[html.index('id="score-form"'):html.index("</form>", html.index('id="score-form"'))]
    # Tab order: criteria, the comment, then the buttons; Enter sends the first (the draft).
    order = [form.index(f'id="p-{x.id}"') for x in c] + [form.index('id="f-comment"'),
                                                         form.index('name="action"')]
    assert order == sorted(order)
    assert re.findall(r'name="action" value="(\w+)"', form) == ["draft", "final", "next"]
    assert "novalidate" in html and "tabindex=\"-1\"" in html
    assert '<script src="/static/scoring.js" defer></script>' in html
    assert '<output id="score-total" for="' in html and "/ <span id=\"score-max\">100</span>" in html


def test_saving_a_draft_by_form(client, session):
    world = make_judging(session, entries=1, judges=2, judges_per_entry=2)
    judge = world.judges[0]
    entry_id = world.entries[0].id
    page_login(client, judge)
    response = _post(client, _page(world, entry_id),
                     _form(session, world, ["32,5", "20", ""], action="draft",
                           comment="Bài viết tốt"))
    assert response.status_code == 303
    assert response.headers["location"] == _page(world, entry_id) + "?saved=draft#rubric-title"
    score = _stored(session, world, judge, entry_id)
    c = _criteria(session, world)
    assert (score.points, score.total, score.final, score.comment) == (
        {str(c[0].id): 32.5, str(c[1].id): 20.0}, 52.5, False, "Bài viết tốt")
    html = client.get(response.headers["location"]).text
    assert "Đã lưu nháp." in html
    assert '<span id="score-state" class="badge badge-score-draft">Bản nháp</span>' in html
    assert 'value="32.5"' in html and 'value="20"' in html
    assert ">Bài viết tốt</textarea>" in html
    assert '<output id="score-total"' in html and ">52.5</output>" in html


def test_finalising_by_form_and_changing_a_final_score(client, session):
    world = make_judging(session, entries=1, judges=2, judges_per_entry=2)
    judge = world.judges[0]
    entry_id = world.entries[0].id
    page_login(client, judge)
    response = _post(client, _page(world, entry_id),
                     _form(session, world, ["35", "25", "20"], action="final"))
    assert response.headers["location"] == _page(world, entry_id) + "?saved=final#rubric-title"
    assert (_stored(session, world, judge, entry_id).total,
            _stored(session, world, judge, entry_id).final) == (80, True)
    html = client.get(response.headers["location"]).text
    assert "Đã chốt điểm. Bạn vẫn có thể sửa điểm cho đến khi vòng chấm kết thúc." in html
    assert '<span id="score-state" class="badge badge-score-final">Đã chốt</span>' in html
    assert 'data-final="1"' in html and " readonly" not in html
    # A final score's first button keeps it final: Enter never turns it back into a draft.
    assert re.findall(r'name="action" value="(\w+)"', html) == ["final", "next", "draft"]
    response = _post(client, _page(world, entry_id),
                     _form(session, world, ["36", "25", "20"], action="final"))
    assert response.status_code == 303
    assert (_stored(session, world, judge, entry_id).total,
            _stored(session, world, judge, entry_id).final) == (81, True)


def test_a_refused_point_is_named_beside_its_criterion_and_the_values_are_kept(client, session):
    world = make_judging(session, entries=1, judges=2, judges_per_entry=2)
    judge = world.judges[0]
    entry_id = world.entries[0].id
    c = _criteria(session, world)
    page_login(client, judge)
    response = _post(client, _page(world, entry_id),
                     _form(session, world, ["25", "45", "12"], action="final",
                           comment="Chưa xong"))
    assert response.status_code == 422
    html = response.text
    message = "Điểm “Hình thức” phải từ 0 đến 30."
    assert f'<p class="field-error" id="e-{c[1].id}" >{message}</p>' in html
    assert f'<p class="field-error" id="e-{c[0].id}" hidden></p>' in html
    assert 'value="25"' in html and 'value="45"' in html and 'value="12"' in html
    assert ">Chưa xong</textarea>" in html
    assert f'aria-describedby="d-{c[1].id} e-{c[1].id}"' in html
    assert _stored(session, world, judge, entry_id) is None


@pytest.mark.parametrize(("values", "message"), [
    (["25", "", "12"], "Muốn chốt điểm, cần chấm đủ mọi tiêu chí. Còn thiếu: Hình thức."),
    (["25", "1e999", "12"], "Điểm “Hình thức” phải là một con số."),
    (["25", "ba mươi", "12"], "Điểm “Hình thức” phải là một con số."),
    (["25", "20.555", "12"], "Điểm “Hình thức” có nhiều nhất hai chữ số thập phân."),
])
def test_final_refusals_say_which_criterion(client, session, values, message):
    world = make_judging(session, entries=1, judges=2, judges_per_entry=2)
    entry_id = world.entries[0].id
    page_login(client, world.judges[0])
    response = _post(client, _page(world, entry_id),
                     _form(session, world, values, action="final"))
    assert response.status_code == 422
    assert message in response.text
    assert _stored(session, world, world.judges[0], entry_id) is None


def test_finalise_and_next_opens_the_next_unfinished_entry(client, session):
    world = make_judging(session, entries=3, judges=3, judges_per_entry=2)
    judge = world.judges[0]
    first, second = _queue(session, world, judge)
    codes = {e.id: e.code for e in world.entries}
    page_login(client, judge)
    # A criterion missing: nothing moves on, the message names it.
    response = _post(client, _page(world, first),
                     _form(session, world, ["30", "20", ""], action="next"))
    assert response.status_code == 422
    assert "Còn thiếu: Tác động." in response.text
    response = _post(client, _page(world, first),
                     _form(session, world, ["30", "20", "10"], action="next"))
    assert response.headers["location"] == _page(world, second) + f"?prev={first}"
    assert _stored(session, world, judge, first).final is True
    html = client.get(response.headers["location"]).text
    assert f"Điểm tác phẩm {codes[first]} đã được chốt. Đây là tác phẩm tiếp theo chưa chốt " \
        "điểm." in html
    assert "Đã lưu nháp" not in html
    # The last unfinished one: back to the queue, which says everything is final.
    response = _post(client, _page(world, second),
                     _form(session, world, ["31", "20", "10"], action="next"))
    assert response.headers["location"] == f"/judge/rounds/{world.round.id}?notice=done"
    assert (_stored(session, world, judge, second).total,
            _stored(session, world, judge, second).final) == (61, True)
    assert "Mọi tác phẩm trong danh sách của bạn đã được chốt điểm." in \
        client.get(response.headers["location"]).text


def test_a_stale_tab_never_turns_a_final_score_back_into_a_draft(client, session):
    world = make_judging(session, entries=1, judges=2, judges_per_entry=2)
    judge, entry_id = world.judges[0], world.entries[0].id
    page_login(client, judge)
    stale = _form(session, world, ["31", "10", "10"], action="draft")  # opened as a draft
    stale["opened_state"] = "todo"
    _score(session, world, judge, entry_id, [30, 20, 20], final=True)  # the other tab
    response = _post(client, _page(world, entry_id), stale)
    assert response.status_code == 409
    assert "Điểm này vừa được chốt (ở một thẻ hoặc cửa sổ khác)." in response.text
    assert (_stored(session, world, judge, entry_id).total,
            _stored(session, world, judge, entry_id).final) == (70, True)
    # The final score's own page may make it a draft again, on purpose.
    stale["opened_state"] = "final"
    response = _post(client, _page(world, entry_id), stale)
    assert response.status_code == 303
    assert _stored(session, world, judge, entry_id).final is False


def test_unknown_criteria_and_actions_are_refused_and_nothing_changes(client, session):
    world = make_judging(session, entries=1, judges=2, judges_per_entry=2)
    judge, entry_id = world.judges[0], world.entries[0].id
    _score(session, world, judge, entry_id, [30, 20, 20], final=True)
    page_login(client, judge)
    form = _form(session, world, ["", "", ""], action="draft")
    form = {k: v for k, v in form.items() if not k.startswith("points.")}
    form["points.999999"] = "5"
    response = _post(client, _page(world, entry_id), form)
    assert response.status_code == 422
    assert "“999999” không phải là tiêu chí của vòng chấm này." in response.text
    form = _form(session, world, ["1", "1", "1"], action="bogus")
    response = _post(client, _page(world, entry_id), form)
    assert response.status_code == 422
    assert (_stored(session, world, judge, entry_id).total,
            _stored(session, world, judge, entry_id).final) == (70, True)


# --- Autosave (JSON) -----------------------------------------------------------------------

def _autosave(client, world, entry_id, data, token):
    return client.post(_page(world, entry_id), data={**data, "action": "draft"},
                       headers={"Accept": "application/json", "X-CSRF-Token": token})


def test_autosave_answers_json(client, session):
    world = make_judging(session, entries=1, judges=2, judges_per_entry=2)
    judge = world.judges[0]
    entry_id = world.entries[0].id
    c = _criteria(session, world)
    page_login(client, judge)
    token = csrf_from(client.get(_page(world, entry_id)).text)
    response = _autosave(client, world, entry_id, _form(session, world, ["12.5", "7"]), token)
    assert response.status_code == 200
    body = response.json()
    score = _stored(session, world, judge, entry_id)
    assert body == {"total": 19.5, "final": False, "state": "draft",
                    "saved_at": score.updated_at.isoformat(),
                    "saved_at_text": score.updated_at.astimezone(
                        ZoneInfo("Asia/Ho_Chi_Minh")).strftime("%H:%M:%S")}
    response = _autosave(client, world, entry_id, _form(session, world, ["12.5", "31"]), token)
    assert response.status_code == 422
    assert response.json() == {"detail": "Điểm “Hình thức” phải từ 0 đến 30.",
                               "field": f"points.{c[1].id}"}
    assert _stored(session, world, judge, entry_id).total == 19.5
    # Without the token in the header or the form: refused, nothing saved.
    response = client.post(_page(world, entry_id),
                           data={**_form(session, world, ["1"]), "action": "draft"},
                           headers={"Accept": "application/json"})
    assert response.status_code == 403
    assert response.json() == {"detail": "Biểu mẫu đã hết hạn hoặc không được gửi từ trang này. "
                               "Vui lòng tải lại trang và thử lại."}
    assert _stored(session, world, judge, entry_id).total == 19.5
    service.move_round(session, world.round, "close", actor=world.organizer, now=now(),
                       force=True, reason="Hết hạn")
    response = _autosave(client, world, entry_id, _form(session, world, ["1"]), token)
    assert response.status_code == 409
    assert response.json() == {"detail": "Vòng chấm đã kết thúc: không thể sửa điểm nữa.",
                               "field": None}


def test_autosave_of_an_entry_not_in_the_queue_is_404(client, session):
    world = make_judging(session, entries=3, judges=3, judges_per_entry=2)
    judge = world.judges[0]
    other = next(e.id for e in world.entries if e.id not in _queue(session, world, judge))
    page_login(client, judge)
    token = csrf_from(client.get("/judge").text)
    response = _autosave(client, world, other, _form(session, world, ["1"]), token)
    assert response.status_code == 404
    assert response.json() == {"detail": "Không có tác phẩm này trong danh sách chấm của bạn.",
                               "field": None}


# --- Conflicts -----------------------------------------------------------------------------

def test_declaring_a_conflict_gives_the_entry_to_another_judge(client, session):
    world = make_judging(session, entries=1, judges=3, judges_per_entry=2)
    entry_id = world.entries[0].id
    judge = next(j for j in world.judges if _queue(session, world, j))
    page_login(client, judge)
    response = _post(client, f"{_page(world, entry_id)}/conflict",
                     {"reason": "Tác giả là đồng nghiệp cũ của tôi"}, page=_page(world, entry_id))
    assert response.status_code == 303
    assert response.headers["location"] == f"/judge/rounds/{world.round.id}?notice=reassigned"
    html = client.get(response.headers["location"]).text
    assert "Đã ghi nhận khai báo xung đột lợi ích của bạn. Tác phẩm đã được giao cho giám khảo " \
           "khác." in html
    assert _queue(session, world, judge) == []
    assert client.get(_page(world, entry_id)).status_code == 404
    active = session.exec(select(Assignment.judge_id).where(
        Assignment.entry_id == entry_id, Assignment.conflict_at.is_(None))).all()
    assert judge.id not in active and len(active) == 2


def test_a_conflict_without_another_judge_waits_for_the_organizer(client, session):
    world = make_judging(session, entries=1, judges=2, judges_per_entry=2)
    entry_id = world.entries[0].id
    page_login(client, world.judges[0])
    response = _post(client, f"{_page(world, entry_id)}/conflict",
                     {"reason": "Tôi biên tập tác phẩm này"}, page=_page(world, entry_id))
    assert response.headers["location"] == f"/judge/rounds/{world.round.id}?notice=waiting"
    assert "Ban tổ chức sẽ phân công giám khảo khác chấm tác phẩm này." in \
        client.get(response.headers["location"]).text


def test_a_conflict_needs_a_reason(client, session):
    world = make_judging(session, entries=1, judges=3, judges_per_entry=2)
    entry_id = world.entries[0].id
    judge = next(j for j in world.judges if _queue(session, world, j))
    page_login(client, judge)
    response = _post(client, f"{_page(world, entry_id)}/conflict", {"reason": "   "},
                     page=_page(world, entry_id))
    assert response.status_code == 422
    assert '<details class="conflict card" open>' in response.text
    assert ('<p class="field-error" id="e-conflict-reason">Vui lòng cho biết vì sao bạn không '
            'thể chấm tác phẩm này.</p>') in response.text
    assert _queue(session, world, judge) == [entry_id]


# --- Who may see what ----------------------------------------------------------------------

def test_another_judges_entry_a_missing_entry_and_a_round_not_theirs_are_404(client, session):
    world = make_judging(session, entries=3, judges=3, judges_per_entry=2)
    other_world = make_judging(session, entries=1, judges=2, judges_per_entry=2)
    judge = world.judges[0]
    theirs = next(e for e in world.entries if e.id not in _queue(session, world, judge))
    page_login(client, judge)
    token = csrf_from(client.get("/judge").text)
    for path in (_page(world, theirs.id), _page(world, 2147483647),
                 f"/judge/rounds/{other_world.round.id}",
                 _page(other_world, other_world.entries[0].id),
                 "/judge/rounds/2147483647",
                 f"/entries/{theirs.id}/files/{theirs.files[0].id}",
                 f"/entries/{theirs.id}"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "<h1>Rất tiếc</h1>" in response.text
    for path in (_page(world, theirs.id), f"{_page(world, theirs.id)}/conflict"):
        response = client.post(path, data={**_form(session, world, ["1"]), "reason": "x",
                                           "csrf_token": token}, follow_redirects=False)
        assert response.status_code == 404, path
    assert session.exec(select(Score)).all() == []


def test_a_judge_never_sees_another_judges_score(client, session):
    world = make_judging(session, entries=1, judges=2, judges_per_entry=2)
    entry_id = world.entries[0].id
    first, second = world.judges
    _score(session, world, first, entry_id, [37.25, 28, 29], final=True)
    page_login(client, second)
    for path in (f"/judge/rounds/{world.round.id}", _page(world, entry_id), "/judge"):
        html = client.get(path).text
        assert "37.25" not in html and "94.25" not in html, path
    assert "Đã chốt điểm 0 trên 1 tác phẩm." in client.get(f"/judge/rounds/{world.round.id}").text


def test_a_judge_gets_404_on_the_authors_entry_page_even_when_assigned(client, session):
    world = make_judging(session, entries=1, judges=2, judges_per_entry=2)
    page_login(client, world.judges[0])
    assert client.get(f"/entries/{world.entries[0].id}").status_code == 404


@pytest.mark.parametrize("role", ["organizer", "journalist"])
def test_organizers_and_journalists_are_refused(client, session, role):
    world = make_judging(session, entries=1, judges=2, judges_per_entry=2)
    entry_id = world.entries[0].id
    page_login(client, make_user(session, role=role))
    token = csrf_from(client.get("/me").text)
    for path in ("/judge", f"/judge/rounds/{world.round.id}", _page(world, entry_id)):
        assert client.get(path).status_code == 403, path
    for path in (_page(world, entry_id), f"{_page(world, entry_id)}/conflict"):
        response = client.post(path, data={**_form(session, world, ["1"]), "reason": "x",
                                           "csrf_token": token}, follow_redirects=False)
        assert response.status_code == 403, path
    assert session.exec(select(Score)).all() == []


def test_signed_out_visitors_are_sent_to_log_in(client, session):
    world = make_judging(session, entries=1, judges=2, judges_per_entry=2)
    response = client.get(f"/judge/rounds/{world.round.id}", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next=/judge/rounds/{world.round.id}"


def test_forms_without_the_csrf_token_are_refused(client, session):
    world = make_judging(session, entries=1, judges=2, judges_per_entry=2)
    entry_id = world.entries[0].id
    page_login(client, world.judges[0])
    for path in (_page(world, entry_id), f"{_page(world, entry_id)}/conflict"):
        response = client.post(path, data={**_form(session, world, ["1"], action="final"),
                                           "reason": "x"}, follow_redirects=False)
        assert response.status_code == 403, path
        assert "Biểu mẫu đã hết hạn" in response.text
    assert session.exec(select(Score)).all() == []
    assert _queue(session, world, world.judges[0]) == [entry_id]


def test_the_pages_speak_english_on_request(client, session):
    world = make_judging(session, entries=1, judges=2, judges_per_entry=2)
    page_login(client, world.judges[0])
    client.get("/lang/en?next=/judge")
    assert "<h1>Your judging rounds</h1>" in client.get("/judge").text
    html = client.get(_page(world, world.entries[0].id)).text
    assert ">Save draft</button>" in html and ">Finalise score</button>" in html
    assert "Declare a conflict of interest" in html
    assert '<li><a href="/judge">Score entries</a></li>' in html


# --- Blind rounds --------------------------------------------------------------------------

LEAKS = ("Zyxwvu", "Trần Zyxwvu", "Qwerty", "Bút Danh Qwerty", "leak-zq", "leak-zq@example.vn",
         "zq-ho-so", "zq-ho-so-tac-gia.pdf", "Vwxyz Lê")


def _world_with_a_telling_author(session, *, blind: bool, files=None, **entry_fields):
    """One accepted entry (in a multimedia category) by authors with distinctive names, pen
    names, e-mails and file names, in a round scoring with two judges (and a third on the
    panel to take it after a conflict)."""
    organizer = make_user(session, role="organizer")
    award = make_award(session, organizer=organizer, categories=0)
    category = make_category(session, award, organizer=organizer, code="DPT",
                             name="Báo chí đa phương tiện",
                             accepted_kinds=["pdf", "image", "audio", "video"])
    award_service.change_status(session, award, "open", actor=organizer)
    author = make_user(session, full_name="Trần Zyxwvu", pen_name="Bút Danh Qwerty",
                       email="leak-zq@example.vn")
    entry = make_entry(session, award, user=author, files=[], title="Chuyện ở bản Phước Hà",
                       category=category,
                       co_authors=[{"full_name": "Vwxyz Lê", "pen_name": "Qwerty Hai",
                                    "email": "leak-zq2@example.vn"}], **entry_fields)
    files = files or [(pdf("Ho so"), "zq-ho-so-tac-gia.pdf"), (png(), "zq-ho-so-anh.png"),
                      (mp4(seconds=1), "zq-ho-so-video.mp4")]
    for data, name in files:
        entry_files.attach_file(session, entry.id, store(data), name, user=author, now=now())
    entry_writes.submit_entry(session, entry, user=author, now=now())
    entry_writes.screen_entry(session, entry, decision="accept", reason=None, actor=organizer,
                              now=now())
    for target in ("closed", "judging"):
        award_service.change_status(session, award, target, actor=organizer)
    judges = [make_user(session, role="judge", full_name=f"Giám khảo {i}") for i in range(3)]
    round_ = make_round(session, award, organizer=organizer, judges_per_entry=2, blind=blind)
    for judge in judges:
        seat(session, round_, judge, [category], organizer=organizer)
    service.assign_round(session, round_, actor=organizer, now=now())
    service.move_round(session, round_, "start", actor=organizer, now=now())
    session.refresh(entry)
    assigned = [j for j in judges if queries.judge_queue(session, round_, j)]
    return round_, entry, assigned


def test_nothing_a_judge_reaches_in_a_blind_round_names_an_author(client, session):
    round_, entry, (judge, other) = _world_with_a_telling_author(session, blind=True)
    page = f"/judge/rounds/{round_.id}/entries/{entry.id}"
    criteria = queries.criteria_of(session, round_.id)
    page_login(client, judge)
    seen = []
    for path in ("/judge", f"/judge/rounds/{round_.id}", page, f"{page}?saved=draft",
                 "/judge/rounds/2147483647", f"/judge/rounds/{round_.id}/entries/2147483647"):
        response = client.get(path)
        seen.append(response.text)
    token = csrf_from(seen[0])
    # Error pages: a refused point, a conflict without a reason, the autosave's answers.
    bad = {f"points.{criteria[0].id}": "99", "action": "final", "csrf_token": token}
    seen.append(client.post(page, data=bad).text)
    seen.append(client.post(f"{page}/conflict", data={"reason": "", "csrf_token": token}).text)
    json_headers = {"Accept": "application/json", "X-CSRF-Token": token}
    seen.append(client.post(page, data=bad, headers=json_headers).text)
    seen.append(client.post(page, data={**bad, f"points.{criteria[0].id}": "9"},
                            headers=json_headers).text)
    # Every file, downloaded and inline, through the page and the API addresses.
    names = []
    headers = api_headers(client, judge)
    for f in entry.files:
        for url, extra in ((f"/entries/{entry.id}/files/{f.id}", {}),
                           (f"/entries/{entry.id}/files/{f.id}?inline=1", {}),
                           (f"/api/v1/files/{f.id}", headers),
                           (f"/api/v1/files/{f.id}?inline=1", {**headers, "Range": "bytes=0-9"})):
            response = client.get(url, headers=extra)
            assert response.status_code in (200, 206), url
            names.append(response.headers["content-disposition"])
            seen.append("\n".join(f"{k}: {v}" for k, v in response.headers.items()))
    assert sorted(set(names)) == sorted(
        {f'{kind}; filename="{entry.code}-{n}.{ext}"; '
         f"filename*=UTF-8''{entry.code}-{n}.{ext}"
         for kind in ("attachment", "inline") for n, ext in ((1, "pdf"), (2, "png"),
                                                             (3, "mp4"))})
    # The conflict's outcome page.
    response = client.post(f"{page}/conflict", data={"reason": "Quen tác giả",
                                                     "csrf_token": token})
    assert response.status_code == 200 and "Đã ghi nhận khai báo" in response.text
    seen.append(response.text)
    seen.append(client.get(page).text)  # now a 404 page
    assert len(seen) == 24
    for text in seen:
        for needle in LEAKS:
            assert needle.casefold() not in text.casefold(), needle
    # The scoring page of the judge who still has it says it is blind.
    client.post("/logout", data={"csrf_token": token})
    page_login(client, other)
    html = client.get(page).text
    assert "Vòng chấm kín: không hiển thị tác giả" in html
    assert not any(n.casefold() in html.casefold() for n in LEAKS)


def test_a_round_that_is_not_blind_shows_the_authors(client, session):
    round_, entry, (judge, _other) = _world_with_a_telling_author(session, blind=False)
    page_login(client, judge)
    html = client.get(f"/judge/rounds/{round_.id}/entries/{entry.id}").text
    assert "<dt>Tác giả</dt>\n    <dd>Trần Zyxwvu (Bút Danh Qwerty), Vwxyz Lê (Qwerty Hai)</dd>" \
        in html
    assert "zq-ho-so-tac-gia.pdf" in html
    assert "Hiển thị tác giả" in client.get("/judge").text


def test_odd_addresses_get_a_page_never_a_server_error(client, session):
    world = make_judging(session, entries=1, judges=2, judges_per_entry=2)
    page_login(client, world.judges[0])
    entry_id = world.entries[0].id
    junk = "?notice=abc&saved=abc&prev=abc&lang=xx"
    for path, status in (("/judge" + junk, 200), (f"/judge/rounds/{world.round.id}{junk}", 200),
                         (_page(world, entry_id) + "?saved=abc&prev=2147483647", 200),
                         (_page(world, entry_id) + "?prev=abc", 422),
                         ("/judge/rounds/abc", 404), ("/judge/rounds/-1/entries/1", 404),
                         (f"/judge/rounds/{world.round.id}/entries/99999999999", 404)):
        response = client.get(path)
        assert response.status_code == status, path
        assert "<h1>" in response.text


def test_the_queue_and_the_rounds_cost_the_same_queries_for_one_entry_or_many(client, session,
                                                                               queries):
    counts = []
    for entries in (1, 8):
        world = make_judging(session, entries=entries, judges=2, judges_per_entry=2)
        judge = world.judges[0]
        for entry in world.entries:
            _score(session, world, judge, entry.id, [10, 10, 10])
        page_login(client, judge)
        with queries:
            assert client.get(f"/judge/rounds/{world.round.id}").status_code == 200
        queue = queries.count
        with queries:
            assert client.get("/judge").status_code == 200
        counts.append((queue, queries.count))
        client.cookies.clear()
    assert counts[0] == counts[1]
