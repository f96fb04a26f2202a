"""The results API (shared/API.md, "Prizes and results"; ranking and shortlist of "Judging"):
every route for every caller before and after publishing, exact answers for a small round
scored by hand, paging, and every bad input with its message (Vietnamese by default,
English when asked)."""

from types import SimpleNamespace

import pytest
from fastapi.routing import APIRoute
from sqlmodel import select

from app.accounts.models import User
from app.audit.models import AuditEntry
from app.awards import service as award_service
from app.config import get_settings
from app.judging import service as judging
from app.mail.models import Mail
from app.results import api as results_api
from app.results.models import Certificate, Prize
from tests.factories import (
    api_headers,
    make_award,
    make_judging,
    make_round,
    make_user,
    score_round,
    seat,
)

BASE = get_settings().base_url.rstrip("/")
ROLES = ["anonymous", "journalist", "judge", "other_judge", "organizer"]
CO_AUTHOR = {"full_name": "Lê Văn Cường", "pen_name": "Hoàng Sa", "email": "cuong@example.vn"}

# Points (rubric 40/30/30) given by G1 and G2 to each entry; None: left unscored.
#   entry 1: 50 and 80, each far (30 points) from the other; mean 65
#   entry 2: 90 and 86; mean 88: first
#   entry 3: 65 and 65; the same score and criterion means as entry 1: they share rank 2
#   entry 4: 30 and 30: fourth
#   entry 5: one final score of two: incomplete, unranked, last
HAND = [
    [(20, 15, 15), (34, 24, 22)],
    [(38, 28, 24), (36, 26, 24)],
    [(27, 19.5, 18.5), (27, 19.5, 18.5)],
    [(10, 10, 10), (10, 10, 10)],
    [(20, 10, 10), None],
]


def hand_round(session, *, entries=4, special=0) -> SimpleNamespace:
    """The first ``entries`` rows of HAND scored by two judges in a closed round (one
    category, quota A 1, B 2, C 3, KK 4; ``special`` special prizes): make_judging's
    namespace with ``e`` (the entries) and ``author`` (the first entry's submitter)."""
    w = make_judging(session, entries=entries, judges=2, judges_per_entry=2,
                     entry_fields={"co_authors": [CO_AUTHOR]})
    if special:
        w.award.special_prize_quota = special
        session.add(w.award)
    index = {e.id: i for i, e in enumerate(w.entries)}
    order = {j.id: i for i, j in enumerate(sorted(w.judges, key=lambda j: j.id))}
    score_round(session, w.round, lambda entry, judge: HAND[index[entry.id]][order[judge.id]],
                organizer=w.organizer)
    author = session.get(User, w.entries[0].submitter_id)
    # HAND's columns are the judges by id; the API names them in a keyed order of its own.
    from app.results.queries import round_scores

    names = round_scores(session, w.round).judge_names
    pseudo = {f"G{n}": names[j.id]
              for n, j in enumerate(sorted(w.judges, key=lambda j: j.id), start=1)}
    return SimpleNamespace(**vars(w), author=author, e=w.entries, pseudo=pseudo)


def _hand_world(session, client, *, entries=4, special=0):
    """hand_round with the callers' headers by role."""
    w = hand_round(session, entries=entries, special=special)
    w.headers = {
        "anonymous": {},
        "journalist": api_headers(client, w.author),
        "judge": api_headers(client, w.judges[0]),
        "other_judge": api_headers(client, w.judges[1]),
        "organizer": api_headers(client, w.organizer),
    }
    w.btc = w.headers["organizer"]
    w.en = {**w.btc, "Accept-Language": "en"}
    return w


@pytest.fixture
def hand(session, client):
    return _hand_world(session, client)


def _allocate(client, w, **body):
    response = client.post(f"/api/v1/awards/{w.award.id}/prizes/allocate", headers=w.btc,
                           json={"round_id": w.round.id, **body})
    assert response.status_code == 200, response.text
    return response.json()


def _publish(client, w, headers=None):
    return client.patch(f"/api/v1/awards/{w.award.id}", headers=headers or w.btc,
                        json={"status": "published"})


def _put_prize(client, w, entry, body, headers=None):
    return client.put(f"/api/v1/entries/{entry.id}/prize", headers=headers or w.btc,
                      json=body)


# --- Every route × every caller ------------------------------------------------------------

# (method, path, body) → codes for ROLES, before publishing (the round closed, prizes
# allocated) and once published. Each route runs on a fresh world, the callers in ROLES order.
MATRIX = {
    ("GET", "/rounds/{round_id}/ranking"): (
        None, (401, 403, 403, 403, 200), (401, 403, 403, 403, 200)),
    ("POST", "/rounds/{round_id}/shortlist"): (
        lambda w: {"top_n": 2}, (401, 403, 403, 403, 200), (401, 403, 403, 403, 409)),
    ("GET", "/rounds/{round_id}/shortlist"): (
        None, (401, 403, 403, 403, 200), (401, 403, 403, 403, 200)),
    ("POST", "/awards/{award_id}/prizes/allocate"): (
        lambda w: {"round_id": w.round.id}, (401, 403, 403, 403, 200),
        (401, 403, 403, 403, 409)),
    ("GET", "/awards/{award_id}/prizes"): (
        None, (401, 403, 403, 403, 200), (401, 403, 403, 403, 200)),
    ("PUT", "/entries/{entry_id}/prize"): (
        lambda w: {"level": "A"}, (401, 403, 403, 403, 200), (401, 403, 403, 403, 409)),
    ("GET", "/awards/{award_id}/results"): (
        None, (404, 404, 404, 404, 200), (200, 200, 200, 200, 200)),
    ("GET", "/certificates/{token}"): (
        None, (404, 404, 404, 404, 404), (200, 200, 200, 200, 200)),
    # The files: the organizer's alone before publishing, then everyone's.
    ("GET", "/awards/{award_id}/results.csv"): (
        None, (404, 404, 404, 404, 200), (200, 200, 200, 200, 200)),
    ("GET", "/awards/{award_id}/results.xlsx"): (
        None, (404, 404, 404, 404, 200), (200, 200, 200, 200, 200)),
    ("GET", "/awards/{award_id}/results.pdf"): (
        None, (404, 404, 404, 404, 200), (200, 200, 200, 200, 200)),
    ("GET", "/awards/{award_id}/scores.csv"): (
        None, (404, 404, 404, 404, 200), (200, 200, 200, 200, 200)),
    # An awarded entry's certificate: its authors and organizers, once published (the
    # journalist here is not among the authors of this entry).
    ("GET", "/entries/{entry_id}/certificate"): (
        None, (401, 404, 404, 404, 404), (401, 404, 404, 404, 200)),
}

NOT_SIGNED_IN = {"detail": "Vui lòng đăng nhập."}
NOT_ALLOWED = {"detail": "Bạn không có quyền thực hiện thao tác này."}
NOT_PUBLISHED = {"detail": "Kết quả của giải này chưa được công bố."}
PUBLISHED = {"detail": "Kết quả đã công bố: không thể thay đổi giải nữa."}
NO_CERTIFICATE = {"detail": "Không có giấy chứng nhận này."}


def matrix_world(session, client, *, published: bool):
    w = _hand_world(session, client, entries=4)
    _allocate(client, w)
    w.token = "khong-co-giay-chung-nhan"
    if published:
        assert _publish(client, w).status_code == 200
        session.expire_all()
        w.token = session.exec(select(Certificate.token)
                               .where(Certificate.entry_id == w.e[1].id)).one()
    return w


def matrix_url(w, path: str) -> str:
    # The prize goes to entry 2, proposed A: the same level again needs no reason.
    return "/api/v1" + path.format(award_id=w.award.id, round_id=w.round.id,
                                   entry_id=w.e[1].id, token=w.token)


def test_the_matrix_covers_every_results_route():
    routes = {(m, r.path) for r in results_api.router.routes if isinstance(r, APIRoute)
              for m in r.methods}
    assert routes == set(MATRIX)


@pytest.mark.parametrize("published", [False, True], ids=["before", "published"])
@pytest.mark.parametrize(("method", "path"), list(MATRIX), ids=[f"{m} {p}" for m, p in MATRIX])
def test_every_route_answers_each_caller_as_the_contract_says(client, session, method, path,
                                                              published):
    w = matrix_world(session, client, published=published)
    body, before, after = MATRIX[(method, path)]
    got = []
    for role in ROLES:
        kwargs = {"headers": w.headers[role]}
        if body is not None:
            kwargs["json"] = body(w)
        response = client.request(method, matrix_url(w, path), **kwargs)
        got.append(response.status_code)
        if response.status_code == 401:
            assert response.json() == NOT_SIGNED_IN
        elif response.status_code == 403:
            assert response.json() == NOT_ALLOWED
        elif response.status_code == 404:
            assert response.json() == (NO_CERTIFICATE if "certificate" in path
                                       else NOT_PUBLISHED)
        elif response.status_code == 409:
            assert response.json() == PUBLISHED
    assert tuple(got) == (after if published else before)


@pytest.mark.parametrize(("method", "path", "body", "detail"), [
    ("GET", "/rounds/999999/ranking", None, "Không có vòng chấm này."),
    ("POST", "/rounds/999999/shortlist", {"top_n": 1}, "Không có vòng chấm này."),
    ("GET", "/rounds/999999/shortlist", None, "Không có vòng chấm này."),
    ("POST", "/awards/999999/prizes/allocate", {"round_id": 1}, "Không tìm thấy giải."),
    ("GET", "/awards/999999/prizes", None, "Không tìm thấy giải."),
    ("PUT", "/entries/999999/prize", {"level": "A"}, "Không tìm thấy tác phẩm."),
    ("GET", "/awards/999999/results", None, "Không tìm thấy giải."),
    ("GET", "/certificates/999999", None, "Không có giấy chứng nhận này."),
    ("GET", "/certificates/" + "x" * 65, None, "Không có giấy chứng nhận này."),
])
def test_missing_ids_are_404(client, session, method, path, body, detail):
    headers = api_headers(client, make_user(session, role="organizer"))
    kwargs = {"json": body} if body is not None else {}
    response = client.request(method, "/api/v1" + path, headers=headers, **kwargs)
    assert (response.status_code, response.json()) == (404, {"detail": detail})


def test_ids_that_are_not_numbers_are_422(client, hand):
    for path in ("/rounds/abc/ranking", "/awards/0/prizes", "/entries/-1/prize"):
        method = "PUT" if path.endswith("prize") else "GET"
        response = client.request(method, "/api/v1" + path, headers=hand.btc,
                                  json={"level": "A"})
        assert response.status_code == 422, path


# --- Exact answers for the hand-scored round -----------------------------------------------

def _judges(w, *pairs):
    """The judges' totals of a row, HAND's column names turned into the API's pseudonyms
    (and in their order)."""
    return sorted(({"judge": w.pseudo[j], "total": t, "far": f} for j, t, f in pairs),
                  key=lambda d: d["judge"])


def _ranking_rows(w):
    e, c = w.e, w.category.id
    row = {"category_id": c, "finals": 2, "complete": True, "shortlisted": False,
           "tie_break_criterion": None}
    rows = [
        {**row, "rank": 1, "entry_id": e[1].id, "code": e[1].code, "title": "Tác phẩm số 2",
         "score": 88.0, "raw_mean": 88.0,
         "judges": _judges(w, ("G1", 90.0, False), ("G2", 86.0, False)), "spread": 4.0,
         "criterion_means": [37.0, 27.0, 24.0]},
        {**row, "rank": 2, "entry_id": e[0].id, "code": e[0].code, "title": "Tác phẩm số 1",
         "score": 65.0, "raw_mean": 65.0,
         "judges": _judges(w, ("G1", 50.0, True), ("G2", 80.0, True)), "spread": 30.0,
         "criterion_means": [27.0, 19.5, 18.5]},
        {**row, "rank": 2, "entry_id": e[2].id, "code": e[2].code, "title": "Tác phẩm số 3",
         "score": 65.0, "raw_mean": 65.0,
         "judges": _judges(w, ("G1", 65.0, False), ("G2", 65.0, False)), "spread": 0.0,
         "criterion_means": [27.0, 19.5, 18.5]},
        {**row, "rank": 4, "entry_id": e[3].id, "code": e[3].code, "title": "Tác phẩm số 4",
         "score": 30.0, "raw_mean": 30.0,
         "judges": _judges(w, ("G1", 30.0, False), ("G2", 30.0, False)), "spread": 0.0,
         "criterion_means": [10.0, 10.0, 10.0]},
    ]
    if len(e) == 5:
        rows.append({**row, "rank": None, "entry_id": e[4].id, "code": e[4].code,
                     "title": "Tác phẩm số 5", "score": None, "raw_mean": 40.0,
                     "judges": _judges(w, ("G1", 40.0, False)), "spread": 0.0,
                     "criterion_means": [20.0, 10.0, 10.0], "finals": 1,
                     "complete": False})
    return rows


def test_ranking_of_the_hand_scored_round(client, session):
    w = _hand_world(session, client, entries=5)
    response = client.get(f"/api/v1/rounds/{w.round.id}/ranking", headers=w.btc)
    assert response.status_code == 200
    assert response.headers["X-Total-Count"] == "5"
    assert response.json() == _ranking_rows(w)


def _foreign_category(session):
    """A category with no entry in the round: categories cannot be added to an award once
    submissions have closed, so it is another award's."""
    return award_service.list_categories(session, make_award(session))[0]


def test_ranking_is_paged_and_filtered_by_category(client, session):
    w = _hand_world(session, client, entries=5)
    url = f"/api/v1/rounds/{w.round.id}/ranking"
    page = client.get(url, headers=w.btc, params={"limit": 2, "offset": 1})
    assert (page.headers["X-Total-Count"], page.json()) == ("5", _ranking_rows(w)[1:3])
    last = client.get(url, headers=w.btc, params={"offset": 4})
    assert [r["entry_id"] for r in last.json()] == [w.e[4].id]
    other = _foreign_category(session)
    response = client.get(url, headers=w.btc, params={"category_id": other.id})
    assert (response.status_code, response.headers["X-Total-Count"], response.json()) == (
        200, "0", [])
    response = client.get(url, headers=w.btc, params={"category_id": w.category.id})
    assert response.headers["X-Total-Count"] == "5"
    for query in ("limit=0", "limit=201", "offset=-1", "category_id=abc", "category_id=0"):
        assert client.get(f"{url}?{query}", headers=w.btc).status_code == 422, query


def test_shortlist_top_n_then_min_score_replaces_it(client, hand):
    url = f"/api/v1/rounds/{hand.round.id}/shortlist"
    response = client.post(url, headers=hand.btc, json={"top_n": 2})
    # Ranks 1, 2, 2: the tie at the cut goes on.
    assert (response.status_code, response.json()) == (200, {"shortlisted": 3})
    listed = client.get(url, headers=hand.btc)
    expected = [{**r, "shortlisted": True} for r in _ranking_rows(hand)[:3]]
    assert (listed.headers["X-Total-Count"], listed.json()) == ("3", expected)
    page = client.get(url, headers=hand.btc, params={"limit": 1, "offset": 2})
    assert (page.headers["X-Total-Count"], page.json()) == ("3", expected[2:])
    response = client.post(url, headers=hand.btc, json={"min_score": 88})
    assert (response.status_code, response.json()) == (200, {"shortlisted": 1})
    ranking = client.get(f"/api/v1/rounds/{hand.round.id}/ranking", headers=hand.btc).json()
    assert [r["shortlisted"] for r in ranking] == [True, False, False, False]
    response = client.post(url, headers=hand.btc,
                           json={"min_score": 0, "category_id": hand.category.id})
    assert response.json() == {"shortlisted": 4}


def test_allocate_proposes_within_quota_and_minimum_scores(client, hand):
    e = hand.e
    assert _allocate(client, hand) == [
        {"entry_id": e[1].id, "level": "A"}, {"entry_id": e[0].id, "level": "B"},
        {"entry_id": e[2].id, "level": "B"}, {"entry_id": e[3].id, "level": "C"}]
    # B needs 70: the pair tied at 65 moves down to C with entry 4; B stays vacant.
    assert _allocate(client, hand, min_score={"B": 70}) == [
        {"entry_id": e[1].id, "level": "A"}, {"entry_id": e[0].id, "level": "C"},
        {"entry_id": e[2].id, "level": "C"}, {"entry_id": e[3].id, "level": "C"}]
    # Nobody reaches A's 95: A stays vacant and the best takes B; the tied pair does not
    # fit in B's one place left and moves down to C; entry 4 (30) reaches neither C's nor
    # KK's 40: no prize.
    assert _allocate(client, hand, min_score={"A": 95, "C": 40, "KK": 40}) == [
        {"entry_id": e[1].id, "level": "B"}, {"entry_id": e[0].id, "level": "C"},
        {"entry_id": e[2].id, "level": "C"}, {"entry_id": e[3].id, "level": None}]


def test_allocate_with_a_special_prize_and_an_incomplete_entry(client, session):
    w = _hand_world(session, client, entries=5, special=1)
    e = w.e
    # The special prize goes to the best of the award; two tied entries do not fit A's one
    # place: A stays vacant and both get B. The incomplete entry is not proposed.
    assert _allocate(client, w) == [
        {"entry_id": e[1].id, "level": "DB"}, {"entry_id": e[0].id, "level": "B"},
        {"entry_id": e[2].id, "level": "B"}, {"entry_id": e[3].id, "level": "C"}]


def test_prize_list_then_an_override_with_its_reason(client, hand):
    e = hand.e
    _allocate(client, hand)
    url = f"/api/v1/awards/{hand.award.id}/prizes"
    response = client.get(url, headers=hand.btc)
    assert response.headers["X-Total-Count"] == "4"
    body = response.json()
    stamp = body[0]["updated_at"]
    assert all(p["updated_at"] == stamp for p in body)

    def prize(i, rank, score, proposed, level=None, reason=None, updated_at=stamp):
        return {"entry_id": e[i].id, "code": e[i].code, "title": f"Tác phẩm số {i + 1}",
                "category_id": hand.category.id, "rank": rank, "score": score,
                "proposed_level": proposed, "level": level or proposed, "reason": reason,
                "updated_at": updated_at}

    assert body == [prize(1, 1, 88.0, "A"), prize(0, 2, 65.0, "B"), prize(2, 2, 65.0, "B"),
                    prize(3, 4, 30.0, "C")]
    response = _put_prize(client, hand, e[3], {"level": "KK", "reason": "  Trùng đề tài  "})
    assert response.status_code == 200
    changed = response.json()
    assert changed == prize(3, 4, 30.0, "C", level="KK", reason="Trùng đề tài",
                            updated_at=changed["updated_at"])
    page = client.get(url, headers=hand.btc, params={"limit": 2, "offset": 2})
    assert (page.headers["X-Total-Count"], page.json()) == (
        "4", [prize(2, 2, 65.0, "B"), changed])
    # Back to the proposal: no reason needed, and the old one is dropped.
    response = _put_prize(client, hand, e[3], {"level": "C"})
    assert (response.status_code, response.json()["level"], response.json()["reason"]) == (
        200, "C", None)
    response = _put_prize(client, hand, e[1], {"level": None, "reason": "Vi phạm bản quyền"})
    assert (response.status_code, response.json()["level"], response.json()["reason"]) == (
        200, None, "Vi phạm bản quyền")


def test_results_and_certificate_after_publishing(client, session):
    w = _hand_world(session, client, entries=4, special=1)
    e = w.e
    _allocate(client, w)
    assert _put_prize(client, w, e[3], {"level": "KK", "reason": "Hội đồng quyết định"}) \
        .status_code == 200
    response = _publish(client, w)
    assert (response.status_code, response.json()["status"]) == (200, "published")
    session.expire_all()
    tokens = dict(session.exec(select(Certificate.entry_id, Certificate.token)).all())
    assert set(tokens) == {x.id for x in e}
    authors = "Nguyễn Văn An, Lê Văn Cường (Hoàng Sa)"

    def won(i, level, score, links):
        return {"level": level, "entry_id": e[i].id, "code": e[i].code,
                "title": f"Tác phẩm số {i + 1}", "authors": authors, "outlet": "Báo Ninh Thuận",
                "score": score,
                "certificate_url": f"{BASE}/certificates/{tokens[e[i].id]}" if links else None}

    for role in ROLES:
        # The certificate links (their token is the secret) for the organizer only.
        links = role == "organizer"
        expected = [{"category_id": w.category.id, "category": "Thể loại 1", "prizes": [
            won(1, "DB", 88.0, links), won(0, "B", 65.0, links), won(2, "B", 65.0, links),
            won(3, "KK", 30.0, links)]}]
        response = client.get(f"/api/v1/awards/{w.award.id}/results", headers=w.headers[role])
        assert (response.status_code, response.headers["X-Total-Count"], response.json()) == (
            200, "1", expected), role
    empty = client.get(f"/api/v1/awards/{w.award.id}/results", params={"offset": 1})
    assert (empty.headers["X-Total-Count"], empty.json()) == ("1", [])

    certificate = client.get(f"/api/v1/certificates/{tokens[e[3].id]}")
    assert certificate.status_code == 200
    body = certificate.json()
    assert body == {
        "valid": True, "award": w.award.title, "level": "KK", "level_label": "Giải khuyến khích",
        "code": e[3].code, "title": "Tác phẩm số 4", "authors": authors,
        "category": "Thể loại 1", "outlet": "Báo Ninh Thuận", "issued_at": body["issued_at"],
        "url": f"{BASE}/certificates/{tokens[e[3].id]}"}
    english = client.get(f"/api/v1/certificates/{tokens[e[1].id]}",
                         headers={"Accept-Language": "en"})
    assert (english.json()["level"], english.json()["level_label"]) == ("DB", "Special prize")


def test_results_before_publishing_are_the_organizers_alone(client, hand):
    _allocate(client, hand)
    url = f"/api/v1/awards/{hand.award.id}/results"
    response = client.get(url, headers=hand.btc)
    assert response.status_code == 200
    assert [(p["level"], p["entry_id"], p["certificate_url"])
            for p in response.json()[0]["prizes"]] == [
        ("A", hand.e[1].id, None), ("B", hand.e[0].id, None), ("B", hand.e[2].id, None),
        ("C", hand.e[3].id, None)]
    for role in ("anonymous", "journalist", "judge", "other_judge"):
        response = client.get(url, headers=hand.headers[role])
        assert (response.status_code, response.json()) == (404, NOT_PUBLISHED), role
    english = client.get(url, headers={**hand.headers["journalist"], "Accept-Language": "en"})
    assert english.json() == {"detail": "The results of this award are not published."}


def test_a_second_publish_is_a_no_op(client, hand, session):
    _allocate(client, hand)
    assert _publish(client, hand).status_code == 200
    again = _publish(client, hand)
    assert (again.status_code, again.json()["status"]) == (200, "published")
    session.expire_all()
    assert len(session.exec(select(Certificate)).all()) == 4
    # One mail per address: the four submitters, and the co-author of all four entries once.
    mails = session.exec(select(Mail).where(Mail.template == "results_published")).all()
    assert sorted(m.to for m in mails) == sorted(
        [hand.author.email, *(session.get(User, e.submitter_id).email for e in hand.e[1:]),
         "cuong@example.vn"])
    moves = session.exec(select(AuditEntry).where(AuditEntry.action == "award.status",
                                                  AuditEntry.object_id == hand.award.id)
                         .order_by(AuditEntry.id)).all()
    assert [a.changes["status"] for a in moves][-2:] == [["closed", "judging"],
                                                         ["judging", "published"]]


# --- Bad input: shortlist ------------------------------------------------------------------

RULE = "Hãy nhập hoặc số tác phẩm mỗi thể loại, hoặc điểm tối thiểu."


@pytest.mark.parametrize(("body", "detail"), [
    ({"top_n": 2, "min_score": 50}, RULE),
    ({}, RULE),
    ({"category_id": 1}, RULE),
])
def test_shortlist_needs_exactly_one_rule(client, hand, body, detail):
    response = client.post(f"/api/v1/rounds/{hand.round.id}/shortlist", headers=hand.btc,
                           json=body)
    assert (response.status_code, response.json()) == (422, {"detail": detail})
    english = client.post(f"/api/v1/rounds/{hand.round.id}/shortlist", headers=hand.en,
                          json=body)
    assert english.json() == {
        "detail": "Give either the number of entries per category or a minimum score."}


@pytest.mark.parametrize(("body", "loc", "kind"), [
    ({"top_n": 0}, ["body", "top_n"], "greater_than_equal"),
    ({"top_n": -3}, ["body", "top_n"], "greater_than_equal"),
    ({"top_n": 100_001}, ["body", "top_n"], "less_than_equal"),
    ({"top_n": 1.5}, ["body", "top_n"], "int_from_float"),
    ({"top_n": True}, ["body", "top_n"], "value_error"),
    ({"min_score": -0.5}, ["body", "min_score"], "greater_than_equal"),
    ({"min_score": True}, ["body", "min_score"], "value_error"),
    ({"min_score": "mười"}, ["body", "min_score"], "float_parsing"),
    ({"min_score": 50, "category_id": 0}, ["body", "category_id"], "greater_than_equal"),
    ({"min_score": 50, "category_id": True}, ["body", "category_id"], "value_error"),
])
def test_shortlist_numbers_out_of_range_are_422_naming_the_field(client, hand, body, loc,
                                                                 kind):
    response = client.post(f"/api/v1/rounds/{hand.round.id}/shortlist", headers=hand.btc,
                           json=body)
    assert response.status_code == 422
    assert [(d["loc"], d["type"]) for d in response.json()["detail"]] == [(loc, kind)]


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e309"])
def test_shortlist_non_finite_min_score_is_422_json(client, hand, literal):
    response = client.post(f"/api/v1/rounds/{hand.round.id}/shortlist",
                           headers={**hand.btc, "Content-Type": "application/json"},
                           content=f'{{"min_score": {literal}}}')
    assert response.status_code == 422
    [detail] = response.json()["detail"]
    assert detail["loc"] == ["body", "min_score"]
    assert detail["input"] in ("nan", "inf", "-inf")


def test_shortlist_while_the_round_is_scoring_is_409(client, session):
    w = make_judging(session, entries=2, judges=2, judges_per_entry=2)
    headers = api_headers(client, w.organizer)
    response = client.post(f"/api/v1/rounds/{w.round.id}/shortlist", headers=headers,
                           json={"top_n": 1})
    assert (response.status_code, response.json()) == (409, {
        "detail": "Hãy kết thúc vòng chấm trước: chỉ khi đó bảng xếp hạng mới là chính thức."})
    response = client.post(f"/api/v1/rounds/{w.round.id}/shortlist",
                           headers={**headers, "Accept-Language": "en"}, json={"top_n": 1})
    assert response.json() == {"detail": "Close the round first: its ranking is final only then."}


def test_shortlist_of_a_category_not_in_the_round_is_422(client, session, hand):
    other = _foreign_category(session)
    for category_id in (other.id, 999_999):
        response = client.post(f"/api/v1/rounds/{hand.round.id}/shortlist", headers=hand.btc,
                               json={"top_n": 1, "category_id": category_id})
        assert (response.status_code, response.json()) == (
            422, {"detail": "Thể loại này không có tác phẩm nào trong vòng chấm."})
    assert client.get(f"/api/v1/rounds/{hand.round.id}/shortlist",
                      headers=hand.btc).json() == []


def _next_round(session, w, *, start=True):
    final = make_round(session, w.award, organizer=w.organizer, name="Vòng chung khảo",
                       judges_per_entry=1, source_round_id=w.round.id)
    seat(session, final, w.judges[0], [w.category], organizer=w.organizer)
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    judging.assign_round(session, final, actor=w.organizer, now=now)
    if start:
        judging.move_round(session, final, "start", actor=w.organizer, now=now)
    session.commit()
    return final


def test_shortlist_after_the_next_round_started_is_409(client, session, hand):
    url = f"/api/v1/rounds/{hand.round.id}/shortlist"
    assert client.post(url, headers=hand.btc, json={"top_n": 1}).json() == {"shortlisted": 1}
    _next_round(session, hand, start=False)
    # In setup, the next round still follows the shortlist.
    assert client.post(url, headers=hand.btc, json={"top_n": 2}).json() == {"shortlisted": 3}
    assert client.post(url, headers=hand.btc, json={"top_n": 1}).json() == {"shortlisted": 1}
    final = _next_round(session, hand)
    response = client.post(url, headers=hand.btc, json={"top_n": 2})
    assert (response.status_code, response.json()) == (409, {
        "detail": "Vòng “Vòng chung khảo” đã bắt đầu chấm danh sách này: không thể thay đổi "
                  "nữa."})
    response = client.post(url, headers=hand.en, json={"top_n": 2})
    assert response.json() == {
        "detail": "“Vòng chung khảo” has started judging this shortlist: it can no longer "
                  "change."}
    assert [r["entry_id"] for r in client.get(url, headers=hand.btc).json()] == [hand.e[1].id]
    assert final.status == "scoring"


def test_shortlist_once_published_is_409(client, hand):
    _allocate(client, hand)
    assert _publish(client, hand).status_code == 200
    response = client.post(f"/api/v1/rounds/{hand.round.id}/shortlist", headers=hand.btc,
                           json={"top_n": 1})
    assert (response.status_code, response.json()) == (409, PUBLISHED)


# --- Bad input: allocation -----------------------------------------------------------------

def test_allocate_a_round_of_another_award_or_no_round_is_422(client, session, hand):
    other = make_judging(session, entries=1, judges=1, judges_per_entry=1)
    url = f"/api/v1/awards/{hand.award.id}/prizes/allocate"
    for round_id in (other.round.id, 999_999):
        response = client.post(url, headers=hand.btc, json={"round_id": round_id})
        assert (response.status_code, response.json()) == (
            422, {"detail": "Hãy chọn một vòng chấm của giải này."})
    response = client.post(url, headers=hand.en, json={"round_id": other.round.id})
    assert response.json() == {"detail": "Choose a round of this award."}
    assert client.get(f"/api/v1/awards/{hand.award.id}/prizes", headers=hand.btc).json() == []


def test_allocate_from_a_round_not_closed_is_409(client, session, hand):
    open_round = make_round(session, hand.award, organizer=hand.organizer, name="Vòng hai")
    session.commit()
    response = client.post(f"/api/v1/awards/{hand.award.id}/prizes/allocate",
                           headers=hand.btc, json={"round_id": open_round.id})
    assert (response.status_code, response.json()) == (409, {
        "detail": "Hãy kết thúc vòng chấm trước: chỉ khi đó bảng xếp hạng mới là chính thức."})


@pytest.mark.parametrize(("min_score", "status", "detail"), [
    ({"Z": 10}, 422, "Không có mức giải “Z”."),
    ({"A": 10, "kk": 5}, 422, "Không có mức giải “kk”."),
    ({"": 10}, 422, "Không có mức giải “”."),
])
def test_allocate_unknown_level_in_min_score_is_422(client, hand, min_score, status, detail):
    response = client.post(f"/api/v1/awards/{hand.award.id}/prizes/allocate",
                           headers=hand.btc,
                           json={"round_id": hand.round.id, "min_score": min_score})
    assert (response.status_code, response.json()) == (status, {"detail": detail})


def test_allocate_unknown_level_in_english(client, hand):
    response = client.post(f"/api/v1/awards/{hand.award.id}/prizes/allocate", headers=hand.en,
                           json={"round_id": hand.round.id, "min_score": {"Z": 1}})
    assert (response.status_code, response.json()) == (
        422, {"detail": "Unknown prize level “Z”."})


@pytest.mark.parametrize(("body", "loc", "kind"), [
    ({"min_score": {"A": -1}}, ["body", "min_score", "A"], "greater_than_equal"),
    ({"min_score": {"A": 1_000_001}}, ["body", "min_score", "A"], "less_than_equal"),
    ({"min_score": {"A": True}}, ["body", "min_score", "A"], "value_error"),
    ({"min_score": {"ABCDE": 1}}, ["body", "min_score", "ABCDE", "[key]"], "string_too_long"),
    ({"min_score": [50]}, ["body", "min_score"], "dict_type"),
    ({"round_id": True}, ["body", "round_id"], "value_error"),
    ({"round_id": 0}, ["body", "round_id"], "greater_than_equal"),
    ({"round_id": 10**12}, ["body", "round_id"], "less_than_equal"),
    ({"round_id": None}, ["body", "round_id"], "int_type"),
])
def test_allocate_schema_refusals_are_422_naming_the_field(client, hand, body, loc, kind):
    response = client.post(f"/api/v1/awards/{hand.award.id}/prizes/allocate",
                           headers=hand.btc, json={"round_id": hand.round.id, **body})
    assert response.status_code == 422
    assert [(d["loc"], d["type"]) for d in response.json()["detail"]] == [(loc, kind)]


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e309"])
def test_allocate_non_finite_numbers_are_422_json(client, hand, literal):
    url = f"/api/v1/awards/{hand.award.id}/prizes/allocate"
    headers = {**hand.btc, "Content-Type": "application/json"}
    for content, loc in ((f'{{"round_id": {hand.round.id}, "min_score": {{"B": {literal}}}}}',
                          ["body", "min_score", "B"]),
                         (f'{{"round_id": {literal}}}', ["body", "round_id"])):
        response = client.post(url, headers=headers, content=content)
        assert response.status_code == 422, content
        assert [d["loc"] for d in response.json()["detail"]] == [loc]
    assert client.get(f"/api/v1/awards/{hand.award.id}/prizes", headers=hand.btc).json() == []


def test_allocate_while_the_award_is_not_judging_is_409(client, session):
    organizer = make_user(session, role="organizer")
    award = make_award(session, organizer=organizer, status="closed")
    round_ = make_round(session, award, organizer=organizer)
    session.commit()
    headers = api_headers(client, organizer)
    response = client.post(f"/api/v1/awards/{award.id}/prizes/allocate", headers=headers,
                           json={"round_id": round_.id})
    assert (response.status_code, response.json()) == (
        409, {"detail": "Chỉ phân bổ giải khi giải báo chí đang trong giai đoạn chấm."})
    response = client.post(f"/api/v1/awards/{award.id}/prizes/allocate",
                           headers={**headers, "Accept-Language": "en"},
                           json={"round_id": round_.id})
    assert response.json() == {"detail": "Prizes are allocated while the award is in judging."}


def test_allocate_after_publishing_is_409_and_changes_nothing(client, session, hand):
    _allocate(client, hand)
    assert _publish(client, hand).status_code == 200
    before = client.get(f"/api/v1/awards/{hand.award.id}/prizes", headers=hand.btc).json()
    response = client.post(f"/api/v1/awards/{hand.award.id}/prizes/allocate",
                           headers=hand.btc,
                           json={"round_id": hand.round.id, "min_score": {"A": 99}})
    assert (response.status_code, response.json()) == (409, PUBLISHED)
    response = client.post(f"/api/v1/awards/{hand.award.id}/prizes/allocate", headers=hand.en,
                           json={"round_id": hand.round.id})
    assert response.json() == {
        "detail": "The results are published: prizes can no longer change."}
    assert client.get(f"/api/v1/awards/{hand.award.id}/prizes",
                      headers=hand.btc).json() == before


# --- Bad input: one entry's prize ----------------------------------------------------------

@pytest.mark.parametrize(("level", "detail"), [
    ("Z", "Không có mức giải “Z”."),
    ("a", "Không có mức giải “a”."),
    ("", "Không có mức giải “”."),
])
def test_prize_of_an_unknown_level_is_422(client, hand, level, detail):
    _allocate(client, hand)
    response = _put_prize(client, hand, hand.e[3], {"level": level, "reason": "Lý do"})
    assert (response.status_code, response.json()) == (422, {"detail": detail})
    response = _put_prize(client, hand, hand.e[3], {"level": "Z", "reason": "Lý do"},
                          headers=hand.en)
    assert response.json() == {"detail": "Unknown prize level “Z”."}


@pytest.mark.parametrize(("entry", "level", "detail", "english"), [
    (3, "A", "Cơ cấu “Giải A” là 1 giải: đã đủ.", "The quota for “A prize” is 1: it is full."),
    (3, "B", "Cơ cấu “Giải B” là 2 giải: đã đủ.", "The quota for “B prize” is 2: it is full."),
    (3, "DB", "Cơ cấu “Giải Đặc biệt” là 0 giải: đã đủ.",
     "The quota for “Special prize” is 0: it is full."),
])
def test_prize_over_quota_is_409_naming_the_level(client, session, hand, entry, level, detail,
                                                  english):
    _allocate(client, hand)
    body = {"level": level, "reason": "Hội đồng đề nghị"}
    response = _put_prize(client, hand, hand.e[entry], body)
    assert (response.status_code, response.json()) == (409, {"detail": detail})
    response = _put_prize(client, hand, hand.e[entry], body, headers=hand.en)
    assert (response.status_code, response.json()) == (409, {"detail": english})
    session.expire_all()
    assert session.get(Prize, hand.e[entry].id).level == "C"


def test_prize_quota_counts_the_category_and_frees_a_place(client, hand):
    _allocate(client, hand)
    e = hand.e
    assert _put_prize(client, hand, e[1], {"level": None, "reason": "Đạo văn"}).status_code \
        == 200
    response = _put_prize(client, hand, e[3], {"level": "A", "reason": "Hội đồng đề nghị"})
    assert (response.status_code, response.json()["level"]) == (200, "A")
    response = _put_prize(client, hand, e[0], {"level": "A", "reason": "Hội đồng đề nghị"})
    assert (response.status_code, response.json()) == (
        409, {"detail": "Cơ cấu “Giải A” là 1 giải: đã đủ."})


@pytest.mark.parametrize("reason", [None, "", "   ", "\n\t"])
def test_prize_departing_from_the_proposal_needs_a_reason(client, session, hand, reason):
    _allocate(client, hand)
    for level in (None, "KK"):
        body = {"level": level} if reason is None else {"level": level, "reason": reason}
        response = _put_prize(client, hand, hand.e[3], body)
        assert (response.status_code, response.json()) == (
            422, {"detail": "Hãy nêu lý do thay đổi so với đề xuất."})
    response = _put_prize(client, hand, hand.e[3], {"level": None}, headers=hand.en)
    assert response.json() == {"detail": "Give the reason for departing from the proposal."}
    session.expire_all()
    assert (session.get(Prize, hand.e[3].id).level,
            session.get(Prize, hand.e[3].id).reason) == ("C", None)


def test_prize_before_any_allocation_is_409(client, hand):
    response = _put_prize(client, hand, hand.e[0], {"level": "A", "reason": "Lý do"})
    assert (response.status_code, response.json()) == (409, {
        "detail": "Hãy phân bổ giải từ một vòng chấm đã kết thúc trước."})
    response = _put_prize(client, hand, hand.e[0], {"level": "A"}, headers=hand.en)
    assert response.json() == {"detail": "Allocate the prizes from a closed round first."}


def test_prize_of_an_entry_not_ranked_is_409(client, session):
    w = _hand_world(session, client, entries=5)
    _allocate(client, w)
    response = _put_prize(client, w, w.e[4], {"level": "KK", "reason": "Lý do"})
    assert (response.status_code, response.json()) == (409, {
        "detail": "Tác phẩm này không được xếp hạng ở vòng chấm dùng để phân bổ giải."})
    # An entry of another award: not in this allocation either.
    other = make_judging(session, entries=1, judges=1, judges_per_entry=1)
    session.commit()
    response = _put_prize(client, w, other.entries[0], {"level": "KK", "reason": "Lý do"})
    assert (response.status_code, response.json()) == (409, {
        "detail": "Hãy phân bổ giải từ một vòng chấm đã kết thúc trước."})


def test_prize_after_publishing_is_409(client, session, hand):
    _allocate(client, hand)
    assert _publish(client, hand).status_code == 200
    for body in ({"level": None, "reason": "Muộn"}, {"level": "C"}, {"level": "Z"}):
        response = _put_prize(client, hand, hand.e[3], body)
        assert (response.status_code, response.json()) == (409, PUBLISHED), body
    session.expire_all()
    assert session.get(Prize, hand.e[3].id).level == "C"


@pytest.mark.parametrize("content", [
    '{"level": NaN}', '{"level": Infinity, "reason": "x"}', '{"level": -Infinity}',
    '{"level": true}', '{"level": 1}', '{"level": ["A"]}', '{"level": "A", "reason": NaN}',
    '{"level": "A", "reason": true}', '{"reason": "x"}', '{"level": "ABCDE"}', "[]", "NaN",
])
def test_prize_numbers_and_booleans_for_text_are_422_json(client, hand, content):
    _allocate(client, hand)
    response = client.put(f"/api/v1/entries/{hand.e[3].id}/prize",
                          headers={**hand.btc, "Content-Type": "application/json"},
                          content=content)
    assert response.status_code == 422
    assert isinstance(response.json()["detail"], list)


# --- Publishing ----------------------------------------------------------------------------

def test_publish_without_an_allocation_is_409(client, hand):
    response = _publish(client, hand)
    assert (response.status_code, response.json()) == (
        409, {"detail": "Hãy phân bổ giải trước khi công bố kết quả."})
    response = _publish(client, hand, headers=hand.en)
    assert response.json() == {"detail": "Allocate the prizes before publishing the results."}


def test_publish_with_a_round_still_open_is_409(client, session, hand):
    _allocate(client, hand)
    make_round(session, hand.award, organizer=hand.organizer, name="Vòng chung khảo",
               source_round_id=hand.round.id)
    session.commit()
    response = _publish(client, hand)
    assert (response.status_code, response.json()) == (
        409, {"detail": "Vòng “Vòng chung khảo” chưa kết thúc."})
    response = _publish(client, hand, headers=hand.en)
    assert response.json() == {"detail": "Round “Vòng chung khảo” is not closed."}


def test_publish_with_entries_a_forced_close_left_unranked_goes_ahead(client, session):
    w = _hand_world(session, client, entries=5)
    _allocate(client, w)
    response = _publish(client, w)
    assert response.status_code == 200, response.text
    session.expire_all()
    award = award_service.get_award(session, w.award.id, viewer=w.organizer)
    assert award.status == "published"
    # The unranked entry is published without a prize.
    assert session.exec(select(Prize).where(Prize.entry_id == w.e[4].id,
                                            Prize.level.is_not(None))).first() is None
