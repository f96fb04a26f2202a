"""The organizer's results console: ranking, calibration, shortlist, prizes, publishing.

The hand-made round (rubric 40/30/30, two judges on every entry; J1 and J2 are the first and
second judge, shown as G1/G2 in an order keyed by the server's secret — ``_names``):

    entry   J1 points   total   J2 points   total   raw mean   spread
    E1      30 20 20      70    35 25 25      85      77.50      15
    E2      38 28 28      94    20 10 10      40      67.00      54   (both totals far: 54 > 20)
    E3      25 20 15      60    30 20 20      70      65.00      10

Ranking by mean: E1 1st, E2 2nd, E3 3rd. Calibration: J1 totals 70, 94, 60 → mean 74.67,
SD 14.27 (population), offset ((70-85) + (94-40) + (60-70)) / 3 = +9.67; J2 totals 85, 40,
70 → mean 65.00, SD 18.71, offset -9.67. Panel: mean 419 / 6 = 69.83, SD 17.32.
Prizes with the default quota (A 1, B 2, C 3, KK 4): E1 A, E2 B, E3 B.
"""

import re
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from app.awards import service as award_service
from app.awards.models import Award, AwardUpdate
from app.judging.models import ShortlistEntry
from app.mail.models import Mail
from app.results import service as results_service
from app.results.models import AllocateIn, Certificate, Prize
from tests.conftest import csrf_from
from tests.factories import (
    make_award,
    make_judging,
    make_round,
    make_user,
    page_login,
    score_round,
)

def now():
    return datetime.now(UTC)


POINTS = {0: {0: (30, 20, 20), 1: (35, 25, 25)},
          1: {0: (38, 28, 28), 1: (20, 10, 10)},
          2: {0: (25, 20, 15), 1: (30, 20, 20)}}


def _world(session, *, close=True, entries=3, points=POINTS):
    world = make_judging(session, entries=entries, judges=2, judges_per_entry=2)
    entry_index = {e.id: i for i, e in enumerate(world.entries)}
    judge_index = {j.id: i for i, j in enumerate(world.judges)}
    score_round(session, world.round,
                lambda entry, judge: points.get(entry_index[entry.id], {}).get(
                    judge_index[judge.id]),
                close=close, organizer=world.organizer)
    return world


def _login(client, user):
    page_login(client, user)
    return user


def _post(client, path, data=None, page="/admin/"):
    token = csrf_from(client.get(page).text)
    return client.post(path, data={**(data or {}), "csrf_token": token},
                       follow_redirects=False)


def _text(html: str) -> str:
    """The page's text, tags dropped and spaces collapsed (for sentences spanning tags)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def _row(html: str, code: str) -> str:
    """The table row of the entry with this code."""
    match = re.search(r"<tr[^>]*>(?:(?!</tr>).)*?>" + re.escape(code) + r"<.*?</tr>", html,
                      re.DOTALL)
    assert match, code
    return _text(match.group(0))


def _allocate(session, world, **min_score):
    results_service.allocate(session, world.award, AllocateIn(round_id=world.round.id,
                                                              min_score=min_score),
                             actor=world.organizer, now=world.round.closed_at)


# --- Ranking -------------------------------------------------------------------------------

def _names(session, world) -> tuple[str, str]:
    """The pseudonyms of the first and the second judge in the round."""
    from app.results.queries import round_scores

    names = round_scores(session, world.round).judge_names
    return names[world.judges[0].id], names[world.judges[1].id]


def _judges_text(names, totals, mark: str = "") -> str:
    """The judges' totals as the row shows them: in the order G1, G2."""
    pairs = sorted(zip(names, totals, strict=True), key=lambda p: int(p[0][1:]))
    return " ".join(f"{g}: {t}{mark}" for g, t in pairs)


def test_ranking_page_shows_the_hand_made_round(client, session):
    world = _world(session)
    _login(client, world.organizer)
    e = world.entries
    response = client.get(f"/admin/rounds/{world.round.id}/ranking")
    assert response.status_code == 200
    html = response.text
    assert "Cách tính điểm: Trung bình tổng điểm của các giám khảo." in _text(html)
    assert "Tạm thời — vòng chưa kết thúc" not in html
    names = _names(session, world)
    assert _row(html, e[0].code) == (f"1 {e[0].code} Tác phẩm số 1 77,50 77,50 "
                                     f"{_judges_text(names, ('70,00', '85,00'))} 15,00")
    far = " ▲ (lệch xa các điểm khác)"
    assert _row(html, e[1].code) == (
        f"2 {e[1].code} Tác phẩm số 2 67,00 67,00 "
        f"{_judges_text(names, ('94,00', '40,00'), far)} 54,00")
    assert _row(html, e[2].code) == (f"3 {e[2].code} Tác phẩm số 3 65,00 65,00 "
                                     f"{_judges_text(names, ('60,00', '70,00'))} 10,00")
    assert f'<a href="/admin/entries/{e[0].id}">Tác phẩm số 1</a>' in html
    assert ('<span class="far-mark" aria-hidden="true">▲</span> Tổng điểm của một giám khảo '
            'lệch xa tổng điểm của các giám khảo khác cho cùng tác phẩm') in html
    assert "Hiện có 0 tác phẩm vào vòng sau." in html
    assert 'action="/admin/rounds/%d/shortlist"' % world.round.id in html
    assert (f'href="/admin/awards/{world.award.id}/rounds/new?source_round_id='
            f'{world.round.id}"') in html
    # The round's tabs lead to it, and the award page to each round's ranking.
    assert f'href="/admin/rounds/{world.round.id}/ranking" aria-current="page">Xếp hạng</a>' \
        in html
    award_page = client.get(f"/admin/awards/{world.award.id}").text
    assert (f'<a href="/admin/rounds/{world.round.id}/ranking">Xếp hạng<span class="sr-only">: '
            'Vòng sơ khảo</span></a>') in award_page
    assert f'<a href="/admin/awards/{world.award.id}/prizes">Xếp hạng & giải thưởng</a>' \
        in award_page


def test_ranking_says_which_criterion_parted_equal_scores(client, session):
    # Entries 1 and 2 both total 70 (means 70); the first criterion puts 2 (36) above 1 (35).
    points = {0: {0: (35, 20, 15), 1: (35, 20, 15)}, 1: {0: (36, 19, 15), 1: (36, 19, 15)},
              2: {0: (30, 20, 10), 1: (30, 20, 10)}}
    world = _world(session, points=points)
    _login(client, world.organizer)
    html = client.get(f"/admin/rounds/{world.round.id}/ranking").text
    from app.judging.queries import criteria_of

    criterion = criteria_of(session, world.round.id)[0].name
    e = world.entries
    note = "Bằng điểm: xếp theo tiêu chí 1"
    assert _row(html, e[1].code).startswith(f"1 {e[1].code} Tác phẩm số 2 70,00 {note}")
    assert _row(html, e[0].code).startswith(f"2 {e[0].code} Tác phẩm số 1 70,00 {note}")
    assert note not in _row(html, e[2].code)
    assert f"{note} ({criterion})." in _text(html)


def test_ranking_in_english_uses_english_numbers(client, session):
    world = _world(session)
    _login(client, world.organizer)
    html = client.get(f"/admin/rounds/{world.round.id}/ranking?lang=en").text
    totals = _judges_text(_names(session, world), ("70.00", "85.00"))
    assert _row(html, world.entries[0].code) == (
        f"1 {world.entries[0].code} Tác phẩm số 1 77.50 77.50 {totals} 15.00")
    assert "Score: Mean of the judges' totals." in html


def test_open_round_shows_a_provisional_ranking_incomplete_entries_last(client, session):
    points = {0: {0: (30, 20, 20), 1: (35, 25, 25)}, 1: {0: (38, 28, 28)}}
    world = _world(session, close=False, entries=2, points=points)
    _login(client, world.organizer)
    html = client.get(f"/admin/rounds/{world.round.id}/ranking").text
    e = world.entries
    assert ('<strong>Tạm thời — vòng chưa kết thúc</strong>: xếp hạng còn thay đổi khi giám '
            'khảo chốt điểm.') in html
    first = _names(session, world)[0]
    assert _row(html, e[1].code) == (f"— {e[1].code} Tác phẩm số 2 Chưa đủ điểm 1/2 điểm "
                                     f"chính thức 94,00 {first}: 94,00 0,00")
    assert html.index(e[0].code) < html.index(e[1].code)
    assert "Danh sách vào vòng sau được lập khi vòng chấm đã kết thúc" in html
    assert "/shortlist\"" not in html


def test_category_switcher_shows_one_category(client, session):
    from app.judging import service as judging
    from tests.factories import make_entry, seat

    organizer = make_user(session, role="organizer")
    award = make_award(session, organizer=organizer, status="open", categories=2)
    categories = award_service.list_categories(session, award)
    for category, title in zip(categories, ("Phóng sự miền núi", "Tọa đàm biển đảo"),
                               strict=True):
        make_entry(session, award, status="accepted", category=category, title=title)
    for target in ("closed", "judging"):
        award_service.change_status(session, award, target, actor=organizer)
    round_ = make_round(session, award, organizer=organizer, judges_per_entry=1)
    seat(session, round_, make_user(session, role="judge"), categories, organizer=organizer)
    judging.assign_round(session, round_, actor=organizer, now=now())
    judging.move_round(session, round_, "start", actor=organizer, now=now())
    score_round(session, round_, lambda entry, judge: (30, 20, 20), organizer=organizer)
    _login(client, organizer)
    page = f"/admin/rounds/{round_.id}/ranking"
    html = client.get(page).text
    assert f'<a href="{page}" aria-current="page">Tất cả thể loại</a>' in html
    assert "<h2>C1 — Thể loại 1</h2>" in html and "<h2>C2 — Thể loại 2</h2>" in html
    html = client.get(f"{page}?category_id={categories[1].id}").text
    assert (f'<a href="{page}?category_id={categories[1].id}" aria-current="page">'
            'Thể loại 2</a>') in html
    assert "<h2>C1 — Thể loại 1</h2>" not in html
    assert "<h2>C2 — Thể loại 2</h2>" in html
    assert "Tọa đàm biển đảo" in html and "Phóng sự miền núi" not in html


# --- Shortlist -----------------------------------------------------------------------------

def test_shortlist_top_n_then_min_score(client, session):
    world = _world(session)
    _login(client, world.organizer)
    page = f"/admin/rounds/{world.round.id}/ranking"
    response = _post(client, f"/admin/rounds/{world.round.id}/shortlist",
                     {"mode": "top", "top_n": "2", "min_score": "", "category_id": ""}, page)
    assert response.status_code == 303
    assert response.headers["location"] == f"{page}?done=shortlisted&n=2#shortlist"
    html = client.get(response.headers["location"]).text
    assert "Đã lưu danh sách: 2 tác phẩm vào vòng sau." in html
    assert "Hiện có 2 tác phẩm vào vòng sau." in html
    assert html.count('<span class="badge badge-shortlisted">Vào chung khảo</span>') == 2
    response = _post(client, f"/admin/rounds/{world.round.id}/shortlist",
                     {"mode": "score", "top_n": "", "min_score": "70,5",
                      "category_id": str(world.category.id)}, page)
    assert response.headers["location"] == f"{page}?done=shortlisted&n=1#shortlist"
    assert set(session.exec(select(ShortlistEntry.entry_id)).all()) == {world.entries[0].id}


@pytest.mark.parametrize(("form", "message", "field"), [
    ({"mode": "top", "top_n": "mười"},
     "Hãy nhập số tác phẩm của mỗi thể loại được vào vòng sau, ví dụ 10.", "top_n"),
    ({"mode": "top", "top_n": "0"}, "Số tác phẩm mỗi thể loại phải từ 1 trở lên.", "top_n"),
    ({"mode": "score", "min_score": "cao"},
     "Hãy nhập điểm tối thiểu dưới dạng số, ví dụ 75,5.", "min_score"),
    ({"mode": "top", "top_n": "2", "category_id": "999999"},
     "Thể loại này không có tác phẩm nào trong vòng chấm.", "category_id"),
])
def test_shortlist_refusals_shown_on_the_page(client, session, form, message, field):
    world = _world(session)
    _login(client, world.organizer)
    response = _post(client, f"/admin/rounds/{world.round.id}/shortlist", form)
    assert response.status_code == 422
    assert f'<div class="alert alert-error" role="alert">{message}</div>' in response.text
    assert f'<p class="field-error" id="e-{field}">{message}</p>' in response.text
    assert f'aria-invalid="true" aria-describedby="e-{field}"' in response.text
    assert session.exec(select(ShortlistEntry)).all() == []


def test_shortlist_refused_once_the_next_round_started(client, session):
    world = _world(session)
    _login(client, world.organizer)
    _post(client, f"/admin/rounds/{world.round.id}/shortlist", {"mode": "top", "top_n": "2"})
    final = make_round(session, world.award, organizer=world.organizer,
                       name="Vòng chung khảo", source_round_id=world.round.id)
    html = client.get(f"/admin/rounds/{world.round.id}/ranking").text
    assert f'Được chấm tiếp ở: <a href="/admin/rounds/{final.id}">Vòng chung khảo</a>' in html
    from app.judging import service as judging
    from tests.factories import seat

    for judge in world.judges:
        seat(session, final, judge, [world.category], organizer=world.organizer)
    judging.assign_round(session, final, actor=world.organizer, now=world.round.closed_at)
    judging.move_round(session, final, "start", actor=world.organizer,
                       now=world.round.closed_at)
    response = _post(client, f"/admin/rounds/{world.round.id}/shortlist",
                     {"mode": "top", "top_n": "1"})
    assert response.status_code == 409
    assert ("Vòng “Vòng chung khảo” đã bắt đầu chấm danh sách này: không thể thay đổi nữa."
            in response.text)


def test_shortlist_refused_while_the_round_is_open(client, session):
    world = _world(session, close=False)
    _login(client, world.organizer)
    response = _post(client, f"/admin/rounds/{world.round.id}/shortlist",
                     {"mode": "top", "top_n": "1"})
    assert response.status_code == 409
    assert ('<div class="alert alert-error" role="alert">Hãy kết thúc vòng chấm trước: chỉ '
            'khi đó bảng xếp hạng mới là chính thức.</div>') in response.text
    assert session.exec(select(ShortlistEntry)).all() == []


# --- Calibration ---------------------------------------------------------------------------

def test_calibration_page_names_judges_and_draws_offsets(client, session):
    world = _world(session)
    _login(client, world.organizer)
    html = client.get(f"/admin/rounds/{world.round.id}/calibration").text
    text = _text(html)
    assert "Cả hội đồng: tổng điểm trung bình 69,83, độ lệch chuẩn 17,32." in text
    one, two = _names(session, world)
    assert f"{one} · Giám khảo 1 3 74,67 14,27 +9,67" in text
    assert f"{two} · Giám khảo 2 3 65,00 18,71 −9,67" in text
    offsets = sorted([(one, "+9,67"), (two, "−9,67")], key=lambda p: int(p[0][1:]))
    assert (f'<desc id="chart-desc">{offsets[0][0]}: {offsets[0][1]}; '
            f'{offsets[1][0]}: {offsets[1][1]}</desc>') in html
    assert ('<title id="chart-title">Độ lệch của từng giám khảo so với các giám khảo cùng '
            'chấm, tính bằng điểm</title>') in html
    # Scale ±10 points over 245 units each side of the zero line at x = 305.
    # The bars in the order G1, G2 (30 units apart).
    y = {name: 12 + 30 * n for n, (name, _o) in enumerate(offsets)}
    assert (f'<rect x="305.0" y="{y[one]}" width="236.8" height="18" class="lenient"/>'
            in html)
    assert f'<rect x="68.2" y="{y[two]}" width="236.8" height="18" class="severe"/>' in html


def test_calibration_without_scores(client, session):
    world = make_judging(session, entries=1, judges=2)
    _login(client, world.organizer)
    html = client.get(f"/admin/rounds/{world.round.id}/calibration").text
    assert "Chưa có điểm chính thức nào." in html
    assert "<svg" not in html


# --- Prizes --------------------------------------------------------------------------------

def test_allocate_from_the_page_then_quota_usage(client, session):
    world = _world(session)
    _login(client, world.organizer)
    page = f"/admin/awards/{world.award.id}/prizes"
    html = client.get(page).text
    assert "Chưa phân bổ giải." in html
    assert f'<option value="{world.round.id}" selected>Vòng sơ khảo</option>' in html
    response = _post(client, f"{page}/allocate", {"round_id": str(world.round.id),
                                                  "min_A": "", "min_C": "50"}, page)
    assert response.status_code == 303
    assert response.headers["location"] == f"{page}?done=allocated"
    html = client.get(response.headers["location"]).text
    text = _text(html)
    e = world.entries
    assert "Đã phân bổ giải theo xếp hạng của vòng chấm." in text
    assert ("Cơ cấu giải đã dùng: A: 1/1, B: 2/2, C: 0/3 (3 để trống), KK: 0/4 (4 để trống)"
            in text)
    assert "Giải Đặc biệt (toàn giải): không có" in text
    assert "Điểm tối thiểu: Giải C 50,00." in text
    assert _row(html, e[0].code).startswith(f"1 {e[0].code} Tác phẩm số 1 77,50 Giải A Giải A")
    assert _row(html, e[2].code).startswith(f"3 {e[2].code} Tác phẩm số 3 65,00 Giải B Giải B")
    assert "Phân bổ lại sẽ thay thế đề xuất hiện tại và mọi quyết định đã đưa ra" in html
    assert f'<a class="btn" href="/admin/awards/{world.award.id}/publish">Công bố kết quả</a>' \
        in html


@pytest.mark.parametrize(("form", "status", "message"), [
    ({"round_id": ""}, 422, "Hãy chọn một vòng chấm đã kết thúc để phân bổ giải."),
    ({"round_id": "1", "min_B": "-3"}, 422,
     "Điểm tối thiểu của một mức giải phải là số từ 0 trở lên."),
])
def test_allocate_refusals(client, session, form, status, message):
    world = _world(session)
    _login(client, world.organizer)
    form = {**form, "round_id": str(world.round.id) if form["round_id"] else ""}
    response = _post(client, f"/admin/awards/{world.award.id}/prizes/allocate", form)
    assert response.status_code == status
    assert message in response.text
    assert session.exec(select(Prize)).all() == []


def test_allocate_refused_from_an_open_round(client, session):
    world = _world(session, close=False)
    _login(client, world.organizer)
    response = _post(client, f"/admin/awards/{world.award.id}/prizes/allocate",
                     {"round_id": str(world.round.id)})
    assert response.status_code == 409
    assert ('<div class="alert alert-error" role="alert">Hãy kết thúc vòng chấm trước: chỉ '
            'khi đó bảng xếp hạng mới là chính thức.</div>') in response.text
    assert session.exec(select(Prize)).all() == []


def test_change_a_prize_with_a_reason_then_over_quota_refused(client, session):
    world = _world(session)
    _allocate(session, world)
    _login(client, world.organizer)
    e = world.entries
    page = f"/admin/awards/{world.award.id}/prizes"
    # Departing from the proposal without a reason: refused, the form shown open again.
    response = _post(client, f"/admin/entries/{e[2].id}/prize", {"level": "C", "reason": " "},
                     page)
    assert response.status_code == 422
    assert ('<div class="alert alert-error" role="alert">'
            'Hãy nêu lý do thay đổi so với đề xuất.</div>') in response.text
    assert '<details class="prize-change" open>' in response.text
    assert '<option value="C" selected>Giải C</option>' in response.text
    response = _post(client, f"/admin/entries/{e[2].id}/prize",
                     {"level": "C", "reason": "Đồng hạng cần tách"}, page)
    assert response.status_code == 303
    assert response.headers["location"] == f"{page}?done=prize#entry-{e[2].id}"
    html = client.get(response.headers["location"]).text
    assert "Đã thay đổi giải của tác phẩm." in html
    assert _row(html, e[2].code).startswith(
        f"3 {e[2].code} Tác phẩm số 3 65,00 Giải B Giải C Đã thay đổi Lý do: Đồng hạng cần tách "
        "Thay đổi")
    assert f'<tr id="entry-{e[2].id}" class="departed">' in html
    assert "C: 1/3 (2 để trống)" in _text(html)
    # A is full (E1 holds it): refused with the quota message, the choice kept.
    response = _post(client, f"/admin/entries/{e[1].id}/prize",
                     {"level": "A", "reason": "Xuất sắc"}, page)
    assert response.status_code == 409
    assert "Cơ cấu “Giải A” là 1 giải: đã đủ." in response.text
    assert "Xuất sắc</textarea>" in response.text
    assert session.get(Prize, e[1].id).level == "B"


def test_special_prize_offered_when_the_award_has_one(client, session):
    world = _world(session)
    award_service.update_award(session, world.award, AwardUpdate(special_prize_quota=1),
                               actor=world.organizer)
    _allocate(session, world)
    _login(client, world.organizer)
    html = client.get(f"/admin/awards/{world.award.id}/prizes").text
    assert "Giải Đặc biệt (toàn giải): 1/1" in _text(html)
    assert _row(html, world.entries[0].code).startswith(
        f"1 {world.entries[0].code} Tác phẩm số 1 77,50 Giải Đặc biệt Giải Đặc biệt")


# --- Publishing ----------------------------------------------------------------------------

def test_publish_through_the_confirmation_page(client, session):
    world = _world(session)
    _allocate(session, world)
    _login(client, world.organizer)
    award_page = client.get(f"/admin/awards/{world.award.id}").text
    assert f'<a class="btn btn-danger" href="/admin/awards/{world.award.id}/publish">' in award_page
    confirm = f"/admin/awards/{world.award.id}/publish"
    html = client.get(confirm).text
    text = _text(html)
    assert "Công bố kết quả “%s”? Việc này không thể hoàn tác:" % world.award.title in text
    assert "3 giấy chứng nhận được cấp, mỗi tác phẩm đoạt giải một giấy;" in text
    assert "3 tác giả nhận thư báo kết quả tác phẩm của mình." in text
    assert f"/awards/{world.award.slug}/results" in text
    response = _post(client, confirm, {"reason": "Hội đồng đã duyệt"}, confirm)
    assert response.status_code == 303
    assert response.headers["location"] == f"/admin/awards/{world.award.id}/prizes?done=published"
    assert session.get(Award, world.award.id).status == "published"
    mails = session.exec(select(Mail).where(Mail.template == "results_published")).all()
    assert len(mails) == 3
    assert len(session.exec(select(Certificate)).all()) == 3
    html = client.get(response.headers["location"]).text
    assert "Đã công bố kết quả: trang công khai đã mở" in html
    assert "Kết quả đã công bố: không thể thay đổi giải nữa." in html
    assert "<form" not in html.split("</header>")[1]
    assert "/prize\"" not in html and "/allocate\"" not in html
    # A second click, and the page after: back to the prizes, nothing sent twice.
    again = _post(client, confirm, {}, f"/admin/awards/{world.award.id}/prizes")
    assert again.headers["location"] == f"/admin/awards/{world.award.id}/prizes?done=published"
    assert client.get(confirm, follow_redirects=False).status_code == 303
    assert len(session.exec(select(Mail).where(Mail.template == "results_published")).all()) \
        == 3
    # Changing a prize after publishing: refused with the message.
    response = _post(client, f"/admin/entries/{world.entries[2].id}/prize",
                     {"level": "", "reason": "Muộn"}, f"/admin/awards/{world.award.id}/prizes")
    assert response.status_code == 409
    assert "Kết quả đã công bố: không thể thay đổi giải nữa." in response.text


def test_publish_names_the_entries_a_forced_close_left_unranked(client, session):
    points = {0: {0: (30, 20, 20), 1: (35, 25, 25)}, 1: {0: (38, 28, 28)}}
    world = _world(session, entries=2, points=points)
    _allocate(session, world)
    _login(client, world.organizer)
    confirm = f"/admin/awards/{world.award.id}/publish"
    html = client.get(confirm).text
    assert ("<li>Các tác phẩm không được xếp hạng do vòng chấm kết thúc khi chưa đủ điểm sẽ được "
            f"công bố là không đạt giải: {world.entries[1].code}.</li>") in html
    assert f'action="{confirm}"' in html


def test_publish_refused_without_allocation(client, session):
    world = _world(session)
    _login(client, world.organizer)
    html = client.get(f"/admin/awards/{world.award.id}/publish").text
    assert "Hãy phân bổ giải trước khi công bố kết quả." in html


def test_award_status_form_publishing_goes_to_the_confirmation(client, session):
    world = _world(session)
    _allocate(session, world)
    _login(client, world.organizer)
    response = _post(client, f"/admin/awards/{world.award.id}/status",
                     {"status": "published"})
    assert response.status_code == 303
    assert response.headers["location"] == f"/admin/awards/{world.award.id}/publish"
    assert session.get(Award, world.award.id).status == "judging"


# --- The award form's special prizes -------------------------------------------------------

def test_award_form_sets_the_special_prize_quota(client, session):
    organizer = _login(client, make_user(session, role="organizer"))
    award = make_award(session, organizer=organizer, status="open")
    html = client.get(f"/admin/awards/{award.id}").text
    assert '<label for="f-special_prize_quota">Số giải Đặc biệt</label>' in html
    form = {"title": award.title, "year": "2026", "slug": award.slug, "timezone":
            "Asia/Ho_Chi_Minh", "max_entries_per_author": "3", "max_authors_per_entry": "5",
            "max_series_parts": "5", "special_prize_quota": "2"}
    response = _post(client, f"/admin/awards/{award.id}", form, f"/admin/awards/{award.id}")
    assert response.status_code == 303
    assert session.get(Award, award.id).special_prize_quota == 2
    response = _post(client, f"/admin/awards/{award.id}", {**form, "special_prize_quota": "hai"},
                     f"/admin/awards/{award.id}")
    assert response.status_code == 422
    assert ('<p class="field-error" id="e-special_prize_quota">Số giải Đặc biệt phải là số '
            'nguyên từ 0 đến 1000.</p>') in response.text
    assert session.get(Award, award.id).special_prize_quota == 2


def test_new_award_form_refuses_a_negative_special_prize_quota(client, session):
    _login(client, make_user(session, role="organizer"))
    form = {"title": "Giải thử", "year": "2026", "timezone": "Asia/Ho_Chi_Minh",
            "max_entries_per_author": "3", "max_authors_per_entry": "5",
            "max_series_parts": "5", "special_prize_quota": "-1"}
    response = _post(client, "/admin/awards/new", form, "/admin/awards/new")
    assert response.status_code == 422
    assert "Số giải Đặc biệt phải là số nguyên từ 0 đến 1000." in response.text
    assert session.exec(select(Award).where(Award.title == "Giải thử")).all() == []


# --- Who may see these pages ---------------------------------------------------------------

def _pages(world):
    r, a = world.round.id, world.award.id
    return [f"/admin/rounds/{r}/ranking", f"/admin/rounds/{r}/calibration",
            f"/admin/awards/{a}/prizes", f"/admin/awards/{a}/publish"]


def _posts(world):
    r, a, e = world.round.id, world.award.id, world.entries[0].id
    return [(f"/admin/rounds/{r}/shortlist", {"mode": "top", "top_n": "1"}),
            (f"/admin/awards/{a}/prizes/allocate", {"round_id": str(r)}),
            (f"/admin/entries/{e}/prize", {"level": "", "reason": "x"}),
            (f"/admin/awards/{a}/publish", {})]


@pytest.mark.parametrize("role", ["journalist", "judge"])
def test_other_roles_are_refused(client, session, role):
    world = _world(session)
    _allocate(session, world)
    user = world.judges[0] if role == "judge" else make_user(session)
    _login(client, user)
    for path in _pages(world):
        assert client.get(path).status_code == 403, path
    for path, data in _posts(world):
        assert _post(client, path, data, "/").status_code == 403, path
    assert session.get(Award, world.award.id).status == "judging"
    assert session.exec(select(ShortlistEntry)).all() == []


def test_anonymous_is_sent_to_log_in(client, session):
    world = _world(session)
    for path in _pages(world):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login?next=")


def test_missing_ids_are_404(client, session):
    _login(client, make_user(session, role="organizer"))
    for path in ("/admin/rounds/999999/ranking", "/admin/rounds/999999/calibration",
                 "/admin/awards/999999/prizes", "/admin/awards/999999/publish"):
        assert client.get(path).status_code == 404, path
    assert _post(client, "/admin/entries/999999/prize", {"level": ""}).status_code == 404


def test_forms_need_the_csrf_token(client, session):
    world = _world(session)
    _allocate(session, world)
    _login(client, world.organizer)
    for path, data in _posts(world):
        response = client.post(path, data=data, follow_redirects=False)
        assert response.status_code == 403, path
    assert session.get(Award, world.award.id).status == "judging"
    assert session.get(Prize, world.entries[0].id).level == "A"


def test_a_second_tab_with_an_old_level_is_refused_and_shows_the_new_one(client, session):
    world = _world(session)
    _allocate(session, world)
    _login(client, world.organizer)
    e = world.entries
    page = f"/admin/awards/{world.award.id}/prizes"
    first = _post(client, f"/admin/entries/{e[2].id}/prize",
                  {"level": "C", "reason": "Tab một", "expected_level": "B"}, page)
    assert first.status_code == 303
    stale = _post(client, f"/admin/entries/{e[2].id}/prize",
                  {"level": "KK", "reason": "Tab hai", "expected_level": "B"}, page)
    assert stale.status_code == 409
    assert ("Giải của tác phẩm này vừa được thay đổi: hiện là “Giải C”. Hãy kiểm tra rồi lưu "
            "lại.") in stale.text
    assert 'name="expected_level" value="C"' in stale.text
