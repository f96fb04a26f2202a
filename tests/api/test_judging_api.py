"""The judging API (shared/API.md, "Judging"): every route for every role, the codes and
messages of bad input, lists, the judge's view of entries and files, Range requests, and
journalists never seeing scores."""

from types import SimpleNamespace

import pytest
from fastapi.routing import APIRoute
from sqlmodel import select

from app.accounts.models import User
from app.judging import api as judging_api
from app.judging import queries
from app.judging.models import Assignment, Score, ScoreChange
from app.storage import get_storage
from tests.factories import api_headers, make_award, make_judging, make_round, make_user

ROLES = ["anonymous", "journalist", "outsider", "judge", "organizer"]


@pytest.fixture
def world(session, client):
    """A blind round scoring 3 entries, 3 judges, 2 per entry; ``judge`` holds ``entry``;
    ``outsider`` is a judge on no panel; ``author`` submitted ``entry``."""
    w = make_judging(session, entries=3, judges=3, judges_per_entry=2)
    judge = w.judges[0]
    queue = queries.judge_queue(session, w.round, judge)
    entry = next(e for e in w.entries if e.id == queue[0].entry_id)
    other_entry = next((e for e in w.entries if e.id not in {a.entry_id for a in queue}),
                       None)
    outsider = make_user(session, role="judge", full_name="Giám khảo ngoài")
    author = session.get(User, entry.submitter_id)
    criteria = queries.criteria_of(session, w.round.id)
    w = SimpleNamespace(**vars(w), judge=judge, entry=entry, other_entry=other_entry,
                        outsider=outsider, author=author, criteria=criteria)
    w.headers = {
        "anonymous": {},
        "journalist": api_headers(client, author),
        "outsider": api_headers(client, outsider),
        "judge": api_headers(client, judge),
        "organizer": api_headers(client, w.organizer),
    }
    return w


def _stored_bytes(row) -> bytes:
    return get_storage().path_of(row.stored_name).read_bytes()


def points(world, *values):
    return {str(c.id): v for c, v in zip(world.criteria, values, strict=False)}


ROUNDS_NEED = "Chỉ chuẩn bị vòng chấm được khi giải đã hết hạn nhận tác phẩm hoặc đang chấm."
RUBRIC_BODY = [{"name": "Nội dung", "description": "Chiều sâu", "max_points": 40},
               {"name": "Hình thức", "max_points": 30},
               {"name": "Tác động", "max_points": 30}]

# (method, path, body) → the code for anonymous, journalist, outsider, judge, organizer; the
# calls run in that order, each endpoint on a fresh world.
MATRIX = {
    ("POST", "/awards/{award_id}/rounds"): (
        lambda w: {"name": "Vòng chung khảo", "judges_per_entry": 1, "blind": False,
                   "aggregation": "mean", "criteria": RUBRIC_BODY},
        (401, 403, 403, 403, 201)),
    ("GET", "/awards/{award_id}/rounds"): (None, (401, 403, 403, 403, 200)),
    ("GET", "/rounds/{round_id}"): (None, (401, 403, 404, 200, 200)),
    ("PATCH", "/rounds/{round_id}"): (lambda w: {"name": "Đổi tên"},
                                      (401, 403, 403, 403, 409)),
    ("GET", "/rounds/{round_id}/panel"): (None, (401, 403, 403, 403, 200)),
    ("POST", "/rounds/{round_id}/panel"): (
        lambda w: {"judge_id": w.outsider.id, "category_ids": [w.category.id]},
        (401, 403, 403, 403, 201)),
    ("DELETE", "/rounds/{round_id}/panel/{judge_id}"): (None, (401, 403, 403, 403, 204)),
    ("POST", "/rounds/{round_id}/assign"): (None, (401, 403, 403, 403, 200)),
    ("POST", "/rounds/{round_id}/start"): (None, (401, 403, 403, 403, 409)),
    ("POST", "/rounds/{round_id}/close"): (lambda w: {}, (401, 403, 403, 403, 409)),
    ("GET", "/rounds/{round_id}/assignments"): (None, (401, 403, 404, 200, 200)),
    ("GET", "/rounds/{round_id}/entries/{entry_id}"): (None, (401, 403, 404, 200, 200)),
    ("PUT", "/rounds/{round_id}/entries/{entry_id}/score"): (
        lambda w: {"points": points(w, 30, 20, 25), "final": True},
        (401, 403, 404, 200, 403)),
    ("POST", "/rounds/{round_id}/entries/{entry_id}/conflict"): (
        lambda w: {"reason": "Tôi quen tác giả"}, (401, 403, 404, 200, 403)),
    ("GET", "/rounds/{round_id}/progress"): (None, (401, 403, 403, 403, 200)),
    ("POST", "/rounds/{round_id}/remind"): (None, (401, 403, 403, 403, 200)),
    ("GET", "/rounds/{round_id}/entries/{entry_id}/history"): (
        None, (401, 403, 403, 403, 200)),
    ("GET", "/me/rounds"): (None, (401, 403, 200, 200, 403)),
}


def _url(world, path):
    return "/api/v1" + path.format(award_id=world.award.id, round_id=world.round.id,
                                   entry_id=world.entry.id, judge_id=world.judge.id)


def test_the_matrix_covers_every_judging_route():
    routes = {(m, r.path) for r in judging_api.router.routes if isinstance(r, APIRoute)
              for m in r.methods}
    assert routes == set(MATRIX)


@pytest.mark.parametrize(("method", "path"), list(MATRIX), ids=[f"{m} {p}" for m, p in MATRIX])
def test_every_route_answers_each_role_as_the_contract_says(client, world, method, path):
    body, codes = MATRIX[(method, path)]
    got = []
    for role in ROLES:
        kwargs = {"headers": world.headers[role]}
        if body is not None:
            kwargs["json"] = body(world)
        response = client.request(method, _url(world, path), **kwargs)
        got.append(response.status_code)
        if response.status_code == 401:
            assert response.json() == {"detail": "Vui lòng đăng nhập."}
        elif response.status_code == 403 and role in ("journalist", "outsider"):
            assert response.json() == {"detail": "Bạn không có quyền thực hiện thao tác này."}
    assert tuple(got) == codes


# --- Rounds --------------------------------------------------------------------------------

def test_create_round_is_201_with_criteria_ids_in_priority_order(client, session):
    organizer = make_user(session, role="organizer")
    award = make_award(session, organizer=organizer, status="closed")
    headers = api_headers(client, organizer)
    response = client.post(f"/api/v1/awards/{award.id}/rounds", headers=headers, json={
        "name": "Vòng sơ khảo", "judges_per_entry": 3, "blind": True,
        "aggregation": "trimmed_mean", "criteria": RUBRIC_BODY})
    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["name"], body["judges_per_entry"], body["blind"],
            body["aggregation"], body["max_total"], body["source_round_id"]) == (
        "setup", "Vòng sơ khảo", 3, True, "trimmed_mean", 100.0, None)
    assert [(c["position"], c["name"], c["description"], c["max_points"])
            for c in body["criteria"]] == [(0, "Nội dung", "Chiều sâu", 40.0),
                                           (1, "Hình thức", "", 30.0),
                                           (2, "Tác động", "", 30.0)]
    ids = [c["id"] for c in body["criteria"]]
    assert ids == sorted(ids)
    listed = client.get(f"/api/v1/awards/{award.id}/rounds", headers=headers)
    assert ([r["id"] for r in listed.json()], listed.headers["X-Total-Count"]) == (
        [body["id"]], "1")
    assert client.get(f"/api/v1/rounds/{body['id']}", headers=headers).json() == body


@pytest.mark.parametrize(("over", "status", "detail"), [
    ({"name": "  "}, 422, "Vui lòng đặt tên cho vòng chấm."),
    ({"criteria": [{"name": "", "max_points": 10}]}, 422, "Vui lòng đặt tên cho mọi tiêu chí."),
    ({"source_round_id": 999_999}, 422, "Vòng trước phải là một vòng chấm của giải này."),
])
def test_create_round_bad_input_says_what(client, session, over, status, detail):
    organizer = make_user(session, role="organizer")
    award = make_award(session, organizer=organizer, status="judging")
    body = {"name": "Vòng sơ khảo", "judges_per_entry": 2, "criteria": RUBRIC_BODY, **over}
    response = client.post(f"/api/v1/awards/{award.id}/rounds",
                           headers=api_headers(client, organizer), json=body)
    assert (response.status_code, response.json()) == (status, {"detail": detail})


@pytest.mark.parametrize("over", [
    {"criteria": []}, {"judges_per_entry": 0}, {"aggregation": "median"},
    {"criteria": [{"name": "Nội dung", "max_points": 0}]},
    {"criteria": [{"name": "Nội dung", "max_points": 1001}]},
])
def test_create_round_schema_refusals_are_422(client, session, over):
    organizer = make_user(session, role="organizer")
    award = make_award(session, organizer=organizer, status="judging")
    body = {"name": "Vòng sơ khảo", "criteria": RUBRIC_BODY, **over}
    response = client.post(f"/api/v1/awards/{award.id}/rounds",
                           headers=api_headers(client, organizer), json=body)
    assert response.status_code == 422


def test_create_round_on_an_open_award_is_409_and_an_unknown_award_404(client, session):
    organizer = make_user(session, role="organizer")
    award = make_award(session, organizer=organizer, status="open")
    headers = api_headers(client, organizer)
    body = {"name": "Vòng sơ khảo", "criteria": RUBRIC_BODY}
    response = client.post(f"/api/v1/awards/{award.id}/rounds", headers=headers, json=body)
    assert response.status_code == 409
    assert response.json() == {"detail": ROUNDS_NEED}
    response = client.post("/api/v1/awards/999999/rounds", headers=headers, json=body)
    assert response.status_code == 404


def test_patch_in_setup_then_409_once_scoring(client, session):
    world = make_judging(session, entries=1, judges=2, start=False)
    headers = api_headers(client, world.organizer)
    url = f"/api/v1/rounds/{world.round.id}"
    response = client.patch(url, headers=headers, json={
        "judges_per_entry": 1, "criteria": [{"name": "Tổng thể", "max_points": 100}]})
    assert response.status_code == 200
    assert ([(c["name"], c["max_points"]) for c in response.json()["criteria"]],
            response.json()["judges_per_entry"]) == ([("Tổng thể", 100.0)], 1)
    assert client.post(f"{url}/start", headers=headers).status_code == 200
    response = client.patch(url, headers=headers, json={"name": "Khác"})
    assert (response.status_code, response.json()) == (409, {
        "detail": "Không thể thay đổi thiết lập và tiêu chí chấm khi vòng đã bắt đầu chấm."})


# --- Panel, assignment, start, close -------------------------------------------------------

def test_panel_seat_201_change_200_list_and_remove(client, session):
    world = make_judging(session, entries=2, judges=2, judges_per_entry=1, start=False)
    headers = api_headers(client, world.organizer)
    url = f"/api/v1/rounds/{world.round.id}/panel"
    newcomer = make_user(session, role="judge", full_name="Phạm Thị Mới",
                         organization="Đại học Báo chí")
    response = client.post(url, headers=headers, json={"judge_id": newcomer.id,
                                                       "category_ids": [world.category.id]})
    assert response.status_code == 201
    assert response.json() == {"judge_id": newcomer.id, "full_name": "Phạm Thị Mới",
                               "email": newcomer.email, "organization": "Đại học Báo chí",
                               "category_ids": [world.category.id]}
    again = client.post(url, headers=headers, json={"judge_id": newcomer.id,
                                                    "category_ids": [world.category.id]})
    assert again.status_code == 200
    listed = client.get(url, headers=headers, params={"limit": 2, "offset": 1})
    assert listed.headers["X-Total-Count"] == "3"
    assert len(listed.json()) == 2
    journalist = make_user(session)
    response = client.post(url, headers=headers, json={"judge_id": journalist.id,
                                                       "category_ids": [world.category.id]})
    assert (response.status_code, response.json()) == (
        422, {"detail": "Hãy chọn tài khoản giám khảo (mời giám khảo trước)."})
    foreign = make_award(session, status="open")
    from app.awards import service as awards

    response = client.post(url, headers=headers, json={
        "judge_id": newcomer.id, "category_ids": [awards.list_categories(session, foreign)[0].id]})
    assert (response.status_code, response.json()) == (
        422, {"detail": "Hãy chọn các thể loại của giải này."})
    assert client.delete(f"{url}/{newcomer.id}", headers=headers).status_code == 204
    response = client.delete(f"{url}/{newcomer.id}", headers=headers)
    assert (response.status_code, response.json()) == (
        404, {"detail": "Giám khảo này không có trong hội đồng của vòng."})


def test_assign_200_then_409_naming_the_uncovered_entries(client, session):
    world = make_judging(session, entries=2, judges=2, judges_per_entry=2, start=False)
    headers = api_headers(client, world.organizer)
    url = f"/api/v1/rounds/{world.round.id}"
    response = client.post(f"{url}/assign", headers=headers)
    assert (response.status_code, response.json()) == (
        200, {"assignments": 4, "added": 0, "removed": 0})
    response = client.patch(url, headers=headers, json={"judges_per_entry": 3})
    assert response.status_code == 200
    response = client.post(f"{url}/assign", headers=headers)
    codes = ", ".join(e.code for e in world.entries)
    assert (response.status_code, response.json()) == (409, {"detail": (
        f"Hội đồng không thể phân đủ 3 giám khảo không có xung đột lợi ích cho các tác phẩm: "
        f"{codes}. Hãy bổ sung giám khảo cho thể loại của các tác phẩm này.")})
    assert len(session.exec(select(Assignment)).all()) == 4
    response = client.post(f"{url}/start", headers=headers)
    assert (response.status_code, response.json()) == (409, {"detail": (
        f"Hãy phân công giám khảo trước: các tác phẩm sau chưa đủ giám khảo: {codes}.")})


def test_start_then_close_409_422_and_forced(client, session):
    world = make_judging(session, entries=1, judges=2, judges_per_entry=2, start=False)
    headers = api_headers(client, world.organizer)
    url = f"/api/v1/rounds/{world.round.id}"
    response = client.post(f"{url}/close", headers=headers)
    assert response.status_code == 409
    response = client.post(f"{url}/start", headers=headers)
    assert (response.status_code, response.json()["status"]) == (200, "scoring")
    response = client.post(f"{url}/close", headers=headers)
    assert (response.status_code, response.json()) == (409, {"detail": (
        "Còn 2 phiếu điểm chưa có hoặc chưa chốt. Hãy chờ giám khảo, hoặc buộc kết thúc kèm lý do.")})
    response = client.post(f"{url}/close", headers=headers, json={"force": True})
    assert (response.status_code, response.json()) == (422, {
        "detail": "Vui lòng nêu lý do kết thúc vòng chấm khi còn thiếu điểm."})
    response = client.post(f"{url}/close", headers=headers,
                           json={"force": True, "reason": "Hết thời hạn chấm"})
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["close_reason"]) == (
        "closed", "Hết thời hạn chấm")


# --- Scores: bad input ---------------------------------------------------------------------

def _put(client, world, body, *, entry=None, role="judge"):
    entry = entry or world.entry
    return client.put(f"/api/v1/rounds/{world.round.id}/entries/{entry.id}/score",
                      headers=world.headers[role], json=body)


def test_a_score_is_saved_and_read_back(client, world, session):
    response = _put(client, world, {"points": points(world, 35, 25.5, 20), "final": True,
                                    "comment": "Tốt"})
    assert response.status_code == 200
    body = response.json()
    assert (body["total"], body["final"], body["points"], body["comment"]) == (
        80.5, True, points(world, 35.0, 25.5, 20.0), "Tốt")
    seen = client.get(f"/api/v1/rounds/{world.round.id}/entries/{world.entry.id}",
                      headers=world.headers["judge"]).json()
    assert (seen["score"]["total"], seen["score"]["final"]) == (80.5, True)
    queue = client.get(f"/api/v1/rounds/{world.round.id}/assignments",
                       headers=world.headers["judge"]).json()
    assert [(a["entry_id"], a["state"], a["total"]) for a in queue if
            a["entry_id"] == world.entry.id] == [(world.entry.id, "final", 80.5)]


@pytest.mark.parametrize(("values", "final", "status", "detail"), [
    ((41,), False, 422, "Điểm “Nội dung” phải từ 0 đến 40."),
    ((-1,), False, 422, "Điểm “Nội dung” phải từ 0 đến 40."),
    ((10, 30.5), False, 422, "Điểm “Hình thức” phải từ 0 đến 30."),
    ((10, 10, 10.123), False, 422, "Điểm “Tác động” có nhiều nhất hai chữ số thập phân."),
    ((40,), True, 422, "Muốn chốt điểm, cần chấm đủ mọi tiêu chí. Còn thiếu: Hình thức, "
                       "Tác động."),
    ((40, None, 30), True, 422, "Muốn chốt điểm, cần chấm đủ mọi tiêu chí. Còn thiếu: "
                                "Hình thức."),
])
def test_score_bad_points_say_which_criterion(client, world, session, values, final, status,
                                              detail):
    response = _put(client, world, {"points": points(world, *values), "final": final})
    assert (response.status_code, response.json()) == (status, {"detail": detail})
    assert session.exec(select(Score)).all() == []


def test_score_for_criteria_of_another_round_names_the_key(client, world, session):
    other = make_round(session, world.award, organizer=world.organizer, name="Vòng khác")
    foreign = queries.criteria_of(session, other.id)[0].id
    response = _put(client, world, {"points": {str(foreign): 5}})
    assert (response.status_code, response.json()) == (
        422, {"detail": f"“{foreign}” không phải là tiêu chí của vòng chấm này."})


def test_score_not_a_number_is_422(client, world, session):
    for value in ("mười", [1], {"a": 1}):
        response = _put(client, world, {"points": {str(world.criteria[0].id): value}})
        assert response.status_code == 422
    # JSON true is not one point.
    response = _put(client, world, {"points": {str(world.criteria[0].id): True}})
    assert response.status_code == 422
    assert [e["loc"][:3] for e in response.json()["detail"]] == [
        ["body", "points", str(world.criteria[0].id)]]
    # NaN and infinities (which Python's JSON parser reads) name the criterion.
    for literal in ("NaN", "Infinity", "-Infinity"):
        response = client.put(
            f"/api/v1/rounds/{world.round.id}/entries/{world.entry.id}/score",
            headers={**world.headers["judge"], "Content-Type": "application/json"},
            content=f'{{"points": {{"{world.criteria[1].id}": {literal}}}}}')
        assert (response.status_code, response.json()) == (
            422, {"detail": "Điểm “Hình thức” phải là một con số."})
    assert session.exec(select(Score)).all() == []


def test_score_for_an_unassigned_entry_is_403(client, world):
    response = _put(client, world, {"points": points(world, 10)}, entry=world.other_entry)
    assert (response.status_code, response.json()) == (
        403, {"detail": "Tác phẩm này không được phân công cho bạn ở vòng này."})


def test_score_after_close_is_409(client, world, session):
    client.post(f"/api/v1/rounds/{world.round.id}/close", headers=world.headers["organizer"],
                json={"force": True, "reason": "Hết hạn"})
    response = _put(client, world, {"points": points(world, 10)})
    assert (response.status_code, response.json()) == (
        409, {"detail": "Vòng chấm đã kết thúc: không thể sửa điểm nữa."})
    assert session.exec(select(Score)).all() == []


def test_score_before_start_is_refused_for_any_entry(client, session):
    world = make_judging(session, entries=1, judges=2, start=False)
    criteria = queries.criteria_of(session, world.round.id)
    for entry_id in (world.entries[0].id, 999999):
        response = client.put(f"/api/v1/rounds/{world.round.id}/entries/{entry_id}/score",
                              headers=api_headers(client, world.judges[0]),
                              json={"points": {str(criteria[0].id): 10}})
        assert (response.status_code, response.json()) == (
            409, {"detail": "Vòng này chưa bắt đầu chấm điểm."})


def test_score_history_for_the_organizer(client, world):
    _put(client, world, {"points": points(world, 10)})
    _put(client, world, {"points": points(world, 10, 20, 30), "final": True})
    _put(client, world, {"points": points(world, 10, 20, 30), "final": True})
    url = f"/api/v1/rounds/{world.round.id}/entries/{world.entry.id}/history"
    response = client.get(url, headers=world.headers["organizer"])
    assert response.headers["X-Total-Count"] == "2"
    body = response.json()
    assert [(c["judge_id"], c["before"] and c["before"]["total"], c["after"]["total"])
            for c in body] == [(world.judge.id, None, 10.0), (world.judge.id, 10.0, 60.0)]
    page = client.get(url, headers=world.headers["organizer"], params={"limit": 1, "offset": 1})
    assert ([c["after"]["total"] for c in page.json()], page.headers["X-Total-Count"]) == (
        [60.0], "2")


# --- Conflicts -----------------------------------------------------------------------------

def test_conflict_reassigns_and_the_judge_loses_the_entry_and_its_files(client, world):
    url = f"/api/v1/rounds/{world.round.id}/entries/{world.entry.id}"
    file_id = world.entry.files[0].id
    assert client.get(f"/api/v1/files/{file_id}", headers=world.headers["judge"]) \
        .status_code == 200
    response = client.post(f"{url}/conflict", headers=world.headers["judge"],
                           json={"reason": "Tác giả là đồng nghiệp"})
    assert (response.status_code, response.json()) == (
        200, {"entry_id": world.entry.id, "reassigned": True})
    for path in (url, f"/api/v1/entries/{world.entry.id}", f"/api/v1/files/{file_id}"):
        assert client.get(path, headers=world.headers["judge"]).status_code == 404
    response = _put(client, world, {"points": points(world, 10)})
    assert response.status_code == 403
    again = client.post(f"{url}/conflict", headers=world.headers["judge"], json={"reason": "x"})
    assert (again.status_code, again.json()) == (
        404, {"detail": "Không có tác phẩm này trong danh sách chấm của bạn."})
    progress = client.get(f"/api/v1/rounds/{world.round.id}/progress",
                          headers=world.headers["organizer"]).json()
    assert [(c["entry_id"], c["judge_id"], c["reason"]) for c in progress["conflicts"]] == [
        (world.entry.id, world.judge.id, "Tác giả là đồng nghiệp")]


def test_conflict_without_a_reason_is_422(client, world):
    url = f"/api/v1/rounds/{world.round.id}/entries/{world.entry.id}/conflict"
    response = client.post(url, headers=world.headers["judge"], json={"reason": "   "})
    assert (response.status_code, response.json()) == (
        422, {"detail": "Vui lòng cho biết vì sao bạn không thể chấm tác phẩm này."})
    assert client.post(url, headers=world.headers["judge"], json={}).status_code == 422


# --- Progress and reminders ----------------------------------------------------------------

def test_progress_and_remind(client, world):
    _put(client, world, {"points": points(world, 10)})
    progress = client.get(f"/api/v1/rounds/{world.round.id}/progress",
                          headers=world.headers["organizer"])
    assert progress.status_code == 200
    body = progress.json()
    assert (body["assigned"], body["draft"], body["final"]) == (6, 1, 0)
    assert [c["short_of_judges"] for c in body["categories"]] == [0]
    response = client.post(f"/api/v1/rounds/{world.round.id}/remind",
                           headers=world.headers["organizer"])
    assert response.json() == {"reminded": 3}
    response = client.post(f"/api/v1/rounds/{world.round.id}/remind",
                           headers=world.headers["organizer"])
    assert response.json() == {"reminded": 0}


# --- Lists ---------------------------------------------------------------------------------

@pytest.mark.parametrize("path", [
    "/awards/{award_id}/rounds", "/rounds/{round_id}/panel", "/rounds/{round_id}/assignments",
    "/rounds/{round_id}/entries/{entry_id}/history", "/me/rounds"])
@pytest.mark.parametrize("query", ["limit=0", "limit=201", "offset=-1", "limit=abc"])
def test_list_paging_out_of_range_is_422(client, world, path, query):
    role = "judge" if path == "/me/rounds" else "organizer"
    response = client.get(_url(world, path) + "?" + query, headers=world.headers[role])
    assert response.status_code == 422


def test_assignment_lists_are_paged_with_their_total(client, world):
    url = f"/api/v1/rounds/{world.round.id}/assignments"
    everything = client.get(url, headers=world.headers["organizer"])
    assert everything.headers["X-Total-Count"] == "6"
    assert sorted({a["judge_id"] for a in everything.json()}) == sorted(
        j.id for j in world.judges)
    page = client.get(url, headers=world.headers["organizer"],
                      params={"limit": 4, "offset": 4})
    assert (len(page.json()), page.headers["X-Total-Count"]) == (2, "6")
    assert page.json() == everything.json()[4:]
    own = client.get(url, headers=world.headers["judge"])
    assert own.headers["X-Total-Count"] == "2"
    assert [a["judge_id"] for a in own.json()] == [None, None]
    assert all(a["state"] == "todo" for a in own.json())
    mine = client.get("/api/v1/me/rounds", headers=world.headers["judge"])
    assert (mine.headers["X-Total-Count"], [(r["id"], r["assigned"], r["final"])
                                            for r in mine.json()]) == (
        "1", [(world.round.id, 2, 0)])
    assert client.get("/api/v1/me/rounds", headers=world.headers["judge"],
                      params={"offset": 1}).json() == []


# --- The judge's view of entries and files -------------------------------------------------

JUDGE_VIEW_KEYS = {"id", "code", "title", "category_id", "category", "summary", "outlet",
                   "published_on", "url", "series_parts", "blind", "authors", "files"}


def test_a_judge_gets_the_blind_view_of_an_assigned_entry(client, world):
    response = client.get(f"/api/v1/entries/{world.entry.id}", headers=world.headers["judge"])
    assert response.status_code == 200
    body = response.json()
    assert set(body) == JUDGE_VIEW_KEYS
    assert (body["blind"], body["authors"], body["code"]) == (True, None, world.entry.code)
    assert [f["name"] for f in body["files"]] == [f"{world.entry.code}-1.pdf"]
    assert set(body["files"][0]) == {"id", "name", "size", "kind", "content_type"}
    in_round = client.get(f"/api/v1/rounds/{world.round.id}/entries/{world.entry.id}",
                          headers=world.headers["judge"]).json()
    assert set(in_round) == JUDGE_VIEW_KEYS | {"round_id", "score"}
    assert in_round["authors"] is None
    assert client.get(f"/api/v1/entries/{world.other_entry.id}",
                      headers=world.headers["judge"]).status_code == 404
    assert client.get(f"/api/v1/entries/{world.entry.id}",
                      headers=world.headers["outsider"]).status_code == 404


def test_a_judge_of_a_round_that_is_not_blind_sees_the_authors(client, session):
    world = make_judging(session, entries=1, judges=1, judges_per_entry=1, blind=False)
    entry = world.entries[0]
    headers = api_headers(client, world.judges[0])
    body = client.get(f"/api/v1/entries/{entry.id}", headers=headers).json()
    assert body["blind"] is False
    assert [a["full_name"] for a in body["authors"]] == ["Nguyễn Văn An"]
    assert [f["name"] for f in body["files"]] == ["tac-pham.pdf"]
    response = client.get(f"/api/v1/files/{entry.files[0].id}", headers=headers)
    assert response.headers["content-disposition"] == (
        "attachment; filename=\"tac-pham.pdf\"; filename*=UTF-8''tac-pham.pdf")


def test_a_judge_downloads_an_assigned_file_under_its_blind_name(client, world):
    file_id = world.entry.files[0].id
    response = client.get(f"/api/v1/files/{file_id}", headers=world.headers["judge"])
    name = f"{world.entry.code}-1.pdf"
    assert response.status_code == 200
    assert response.headers["content-disposition"] == (
        f"attachment; filename=\"{name}\"; filename*=UTF-8''{name}")
    assert response.content == _stored_bytes(world.entry.files[0])
    inline = client.get(f"/api/v1/files/{file_id}?inline=1", headers=world.headers["judge"])
    assert inline.headers["content-disposition"].startswith(f"inline; filename=\"{name}\"")
    other = world.other_entry.files[0].id
    for role in ("judge", "outsider"):
        response = client.get(f"/api/v1/files/{other}", headers=world.headers[role])
        assert (response.status_code, response.json()) == (404, {"detail": "Không tìm thấy tệp."})


def test_a_judge_sees_nothing_before_the_round_starts(client, session):
    world = make_judging(session, entries=1, judges=1, judges_per_entry=1, start=False)
    headers = api_headers(client, world.judges[0])
    entry = world.entries[0]
    assert client.get(f"/api/v1/rounds/{world.round.id}/assignments",
                      headers=headers).json() == []
    for path in (f"/api/v1/rounds/{world.round.id}/entries/{entry.id}",
                 f"/api/v1/entries/{entry.id}", f"/api/v1/files/{entry.files[0].id}"):
        assert client.get(path, headers=headers).status_code == 404


# --- Range requests ------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["journalist", "organizer", "judge"])
def test_range_requests(storage_backend, client, world, role):
    file_id = world.entry.files[0].id
    url = f"/api/v1/files/{file_id}"
    headers = world.headers[role]
    whole = client.get(url, headers=headers)
    assert whole.status_code == 200
    data = whole.content
    size = len(data)
    assert size > 200
    assert whole.headers["accept-ranges"] == "bytes"
    part = client.get(url, headers={**headers, "Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 100-199/{size}"
    assert part.headers["content-length"] == "100"
    assert part.content == data[100:200]
    tail = client.get(url, headers={**headers, "Range": "bytes=-50"})
    assert tail.status_code == 206
    assert tail.headers["content-range"] == f"bytes {size - 50}-{size - 1}/{size}"
    assert tail.content == data[-50:]
    rest = client.get(url, headers={**headers, "Range": f"bytes={size - 10}-"})
    assert (rest.status_code, rest.content) == (206, data[-10:])
    beyond = client.get(url, headers={**headers, "Range": f"bytes={size}-{size + 100}"})
    assert beyond.status_code == 416
    assert beyond.headers["content-range"] == f"bytes */{size}"
    # The same headers as a whole download: the blind name stays on a part.
    assert part.headers["content-disposition"] == whole.headers["content-disposition"]


def test_range_requests_give_nothing_to_those_who_may_not_see_the_file(client, world):
    file_id = world.entry.files[0].id
    for role, status in (("anonymous", 401), ("outsider", 404)):
        response = client.get(f"/api/v1/files/{file_id}",
                              headers={**world.headers[role], "Range": "bytes=0-99"})
        assert response.status_code == status


# --- Journalists never see scores ----------------------------------------------------------

SCORE_KEYS = {"score", "scores", "total", "points", "final", "round", "round_id", "rounds",
              "judge", "judge_id", "judges", "state", "shortlisted", "conflict"}


def _keys(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


def test_journalists_never_see_scores(client, world, session):
    for judge in world.judges:
        for a in queries.judge_queue(session, world.round, judge):
            client.put(f"/api/v1/rounds/{world.round.id}/entries/{a.entry_id}/score",
                       headers=api_headers(client, judge),
                       json={"points": points(world, 40, 30, 30), "final": True})
    assert len(session.exec(select(ScoreChange)).all()) == 6
    headers = world.headers["journalist"]
    answers = [client.get("/api/v1/me/entries", headers=headers),
               client.get(f"/api/v1/entries/{world.entry.id}", headers=headers),
               client.get("/api/v1/me", headers=headers)]
    for response in answers:
        assert response.status_code == 200
        assert _keys(response.json()) & SCORE_KEYS == set(), response.json()
    assert answers[1].json()["status"] == "accepted"
    for path in (f"/rounds/{world.round.id}", f"/rounds/{world.round.id}/assignments",
                 f"/rounds/{world.round.id}/entries/{world.entry.id}",
                 f"/rounds/{world.round.id}/progress",
                 f"/rounds/{world.round.id}/entries/{world.entry.id}/history",
                 f"/awards/{world.award.id}/rounds", "/me/rounds"):
        response = client.get(f"/api/v1{path}", headers=headers)
        assert response.status_code in (403, 404), path
        assert _keys(response.json()) == {"detail"}


def test_a_journalist_made_judge_still_reads_their_own_entry_and_files(client, session):
    world = make_judging(session, entries=1, judges=2, judges_per_entry=2)
    author = session.get(User, world.entries[0].submitter_id)
    author.role = "judge"
    session.add(author)
    session.commit()
    headers = api_headers(client, author)
    entry = client.get(f"/api/v1/entries/{world.entries[0].id}", headers=headers)
    assert (entry.status_code, entry.json()["viewer_role"]) == (200, "submitter")
    file_id = entry.json()["files"][0]["id"]
    download = client.get(f"/api/v1/files/{file_id}", headers=headers)
    assert (download.status_code, download.headers["content-disposition"]) == (
        200, "attachment; filename=\"tac-pham.pdf\"; filename*=UTF-8''tac-pham.pdf")
